package demos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"tandem/sim"
)

func TestExportLeRobotReadsBack(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	ids := addRollouts(t, s, 6, []uint64{1, 2}, "", sharedCtl)
	dir := filepath.Join(t.TempDir(), "ds")
	st, err := ExportLeRobot(ctx, s, Filter{}, dir, ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Episodes != 2 || st.Steps != 100 {
		t.Fatalf("stats %+v", st)
	}
	// Frames, read with parquet-go's reader.
	dataPath := filepath.Join(dir, "data", "chunk-000", "file-000.parquet")
	frames, err := parquet.ReadFile[lerobotFrame](dataPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(frames) != 100 {
		t.Fatalf("%d frames; want 100", len(frames))
	}
	for ei, id := range ids {
		steps, _ := s.Steps(ctx, id)
		for i, sp := range steps {
			fr := frames[ei*50+i]
			if fr.EpisodeIndex != int64(ei) || fr.FrameIndex != int64(i) || fr.Index != int64(ei*50+i) || fr.TaskIndex != 0 {
				t.Fatalf("frame %d/%d indices %+v", ei, i, fr)
			}
			if len(fr.State) != 6 || fr.State[3] != float32(sp.Obs[3]) || fr.Action[1] != float32(sp.Action[1]) {
				t.Fatalf("frame %d/%d values %v %v; want %v %v", ei, i, fr.State, fr.Action, sp.Obs, sp.Action)
			}
			if fr.Timestamp != float32(float64(i)/10) || fr.Reward != float32(sp.Reward) || fr.Success != sp.Success {
				t.Fatalf("frame %d/%d timestamp %v reward %v", ei, i, fr.Timestamp, fr.Reward)
			}
			if fr.ActionSource != string(sp.Source) || fr.IsIntervention != (sp.Source == sim.Human) {
				t.Fatalf("frame %d/%d source %q intervention %v; want %q", ei, i, fr.ActionSource, fr.IsIntervention, sp.Source)
			}
			if fr.Done != (i == 49) {
				t.Fatalf("frame %d/%d done %v", ei, i, fr.Done)
			}
		}
	}
	// Column types as LeRobot's features declare them.
	f, _ := os.Open(dataPath)
	defer f.Close()
	fi, _ := f.Stat()
	pf, err := parquet.OpenFile(f, fi.Size())
	if err != nil {
		t.Fatal(err)
	}
	wantTypes := map[string]string{
		"timestamp": "FLOAT", "frame_index": "INT64", "episode_index": "INT64", "index": "INT64",
		"task_index": "INT64", "next.reward": "FLOAT", "next.done": "BOOLEAN", "next.success": "BOOLEAN",
		"is_intervention": "BOOLEAN", "action_source": "BYTE_ARRAY",
	}
	for _, field := range pf.Schema().Fields() {
		if want, ok := wantTypes[field.Name()]; ok {
			if got := field.Type().Kind().String(); got != want {
				t.Fatalf("column %s is %s; want %s", field.Name(), got, want)
			}
		}
		if field.Name() == "observation.state" {
			if lt := field.Type().LogicalType(); lt == nil || !strings.Contains(strings.ToUpper(lt.String()), "LIST") {
				t.Fatalf("observation.state is not a LIST column")
			}
		}
	}
	// Episodes metadata.
	metas, err := parquet.ReadFile[lerobotEpisode](filepath.Join(dir, "meta", "episodes", "chunk-000", "file-000.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	if len(metas) != 2 || metas[1].From != 50 || metas[1].To != 100 || metas[1].Length != 50 || metas[1].Tasks[0] != "Push the dot onto the goal" {
		t.Fatalf("episodes meta %+v", metas)
	}
	// Tasks, with the pandas index metadata.
	tf, _ := os.Open(filepath.Join(dir, "meta", "tasks.parquet"))
	defer tf.Close()
	tfi, _ := tf.Stat()
	tp, err := parquet.OpenFile(tf, tfi.Size())
	if err != nil {
		t.Fatal(err)
	}
	if md, ok := tp.Lookup("pandas"); !ok || !strings.Contains(md, `"index_columns": ["task"]`) {
		t.Fatalf("tasks.parquet pandas metadata %q", md)
	}
	// info.json and stats.json.
	var info struct {
		CodebaseVersion string `json:"codebase_version"`
		FPS             int    `json:"fps"`
		TotalEpisodes   int    `json:"total_episodes"`
		TotalFrames     int    `json:"total_frames"`
		DataPath        string `json:"data_path"`
		Features        map[string]struct {
			Dtype string   `json:"dtype"`
			Shape []int    `json:"shape"`
			Names []string `json:"names"`
		} `json:"features"`
	}
	readJSON(t, filepath.Join(dir, "meta", "info.json"), &info)
	if info.CodebaseVersion != "v3.0" || info.FPS != 10 || info.TotalEpisodes != 2 || info.TotalFrames != 100 ||
		info.DataPath != "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet" {
		t.Fatalf("info %+v", info)
	}
	if ft := info.Features["observation.state"]; ft.Dtype != "float32" || ft.Shape[0] != 6 || ft.Names[4] != "goal_x" {
		t.Fatalf("observation.state feature %+v", ft)
	}
	var stats map[string]map[string][]float64
	readJSON(t, filepath.Join(dir, "meta", "stats.json"), &stats)
	if c := stats["action"]["count"]; len(c) != 1 || c[0] != 100 {
		t.Fatalf("action count %v; want [100]", c)
	}
	if mn, mx := stats["observation.state"]["min"], stats["observation.state"]["max"]; len(mn) != 6 || mn[0] > mx[0] {
		t.Fatalf("state min %v max %v", mn, mx)
	}
}

// hfFeatures reads the "huggingface" key-value metadata of a parquet file
// and returns its features in the order written, with the file.
func hfFeatures(t *testing.T, path string) ([]string, map[string]map[string]any, *parquet.File) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	fi, _ := f.Stat()
	pf, err := parquet.OpenFile(f, fi.Size())
	if err != nil {
		t.Fatal(err)
	}
	md, ok := pf.Lookup("huggingface")
	if !ok {
		t.Fatalf("%s has no huggingface metadata", path)
	}
	var meta struct {
		Info struct {
			Features json.RawMessage `json:"features"`
		} `json:"info"`
	}
	if err := json.Unmarshal([]byte(md), &meta); err != nil {
		t.Fatalf("huggingface metadata %q: %v", md, err)
	}
	var feats map[string]map[string]any
	if err := json.Unmarshal(meta.Info.Features, &feats); err != nil {
		t.Fatal(err)
	}
	// Key order, as datasets builds its Features dict in that order.
	dec := json.NewDecoder(strings.NewReader(string(meta.Info.Features)))
	dec.Token()
	var order []string
	for dec.More() {
		k, _ := dec.Token()
		order = append(order, k.(string))
		var skip json.RawMessage
		dec.Decode(&skip)
	}
	return order, feats, pf
}

// TestExportLeRobotFixedSizeLists checks the metadata that makes datasets
// (and so LeRobot) read vector columns as fixed-size lists: every column
// has a feature, in column order, vectors are Sequences whose length is
// the info.json shape, scalars Values of the info.json dtype; and every
// row's list has exactly that length.
func TestExportLeRobotFixedSizeLists(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	addRollouts(t, s, 6, []uint64{1, 2}, "", sharedCtl)
	dir := filepath.Join(t.TempDir(), "ds")
	if _, err := ExportLeRobot(ctx, s, Filter{}, dir, ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	value := func(dtype string) map[string]any { return map[string]any{"dtype": dtype, "_type": "Value"} }
	seq := func(dtype string, n int) map[string]any {
		return map[string]any{"feature": value(dtype), "length": float64(n), "_type": "Sequence"}
	}
	var info struct {
		Features map[string]struct {
			Dtype string `json:"dtype"`
			Shape []int  `json:"shape"`
		} `json:"features"`
	}
	readJSON(t, filepath.Join(dir, "meta", "info.json"), &info)

	dataPath := filepath.Join(dir, "data", "chunk-000", "file-000.parquet")
	order, feats, pf := hfFeatures(t, dataPath)
	var cols []string
	for _, f := range pf.Schema().Fields() {
		cols = append(cols, f.Name())
	}
	if !reflect.DeepEqual(order, cols) {
		t.Fatalf("features %v; want one per column in column order %v", order, cols)
	}
	for name, ft := range info.Features {
		want := value(ft.Dtype)
		if ft.Shape[0] != 1 {
			want = seq(ft.Dtype, ft.Shape[0])
		}
		if !reflect.DeepEqual(feats[name], want) {
			t.Fatalf("feature %s = %v; want %v (info.json dtype %s shape %v)", name, feats[name], want, ft.Dtype, ft.Shape)
		}
	}
	if len(feats) != len(info.Features) {
		t.Fatalf("%d parquet features, %d in info.json; want the same columns", len(feats), len(info.Features))
	}
	frames, err := parquet.ReadFile[lerobotFrame](dataPath)
	if err != nil {
		t.Fatal(err)
	}
	for i, fr := range frames {
		if len(fr.State) != 6 || len(fr.Action) != 2 {
			t.Fatalf("row %d: state %d values, action %d; want 6 and 2", i, len(fr.State), len(fr.Action))
		}
	}

	epsPath := filepath.Join(dir, "meta", "episodes", "chunk-000", "file-000.parquet")
	order, feats, pf = hfFeatures(t, epsPath)
	if len(order) != len(pf.Schema().Fields()) {
		t.Fatalf("%d episode features for %d columns", len(order), len(pf.Schema().Fields()))
	}
	wantEps := map[string]map[string]any{
		"episode_index":                 value("int64"),
		"tasks":                         seq("string", -1),
		"stats/observation.state/min":   seq("float64", 6),
		"stats/observation.state/count": seq("int64", 1),
		"stats/action/std":              seq("float64", 2),
		"tandem/outcome":                value("string"),
		"tandem/complete":               value("bool"),
	}
	for name, want := range wantEps {
		if !reflect.DeepEqual(feats[name], want) {
			t.Fatalf("episodes feature %s = %v; want %v", name, feats[name], want)
		}
	}
	metas, err := parquet.ReadFile[lerobotEpisode](epsPath)
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range metas {
		if len(m.StateMin) != 6 || len(m.StateStd) != 6 || len(m.ActMean) != 2 || len(m.StateCount) != 1 || len(m.ActCount) != 1 {
			t.Fatalf("episode row %d: stats lengths %d %d %d %d %d; want 6 6 2 1 1", i, len(m.StateMin), len(m.StateStd), len(m.ActMean), len(m.StateCount), len(m.ActCount))
		}
	}
}

func TestExportLeRobotOneDatasetPerTaskAndRate(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	addRollouts(t, s, 6, []uint64{1}, "", expertCtl)
	other := newDot(6, 10).Spec()
	other.Name = "other"
	eps := rollout(t, 6, []uint64{2}, expertCtl)
	if _, err := s.AddEpisode(ctx, Info{Spec: other, Seed: 2}, eps[0].Steps); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddEpisode(ctx, Info{Spec: other, Seed: 3, ControlHz: 20}, eps[0].Steps); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "out")
	st, err := ExportLeRobot(ctx, s, Filter{}, dir, ExportOptions{})
	if err != nil {
		t.Fatalf("whole-store export: %v", err)
	}
	var got []string
	for _, ds := range st.Datasets {
		got = append(got, fmt.Sprintf("%s %g %d %s", ds.Task, ds.ControlHz, ds.Episodes, filepath.Base(ds.Dir)))
		var info map[string]any
		readJSON(t, filepath.Join(ds.Dir, "meta", "info.json"), &info)
		if info["fps"] != float64(int(ds.ControlHz)) || info["total_episodes"] != float64(ds.Episodes) {
			t.Errorf("%s: info fps %v episodes %v; want %g, %d", ds.Dir, info["fps"], info["total_episodes"], ds.ControlHz, ds.Episodes)
		}
	}
	want := []string{"dot 10 1 dot", "other 10 1 other-10hz", "other 20 1 other-20hz"}
	if !reflect.DeepEqual(got, want) || st.Episodes != 3 {
		t.Fatalf("datasets %q (%d episodes); want %q (3)", got, st.Episodes, want)
	}
	// One task at one rate: the output directory is the dataset.
	one := filepath.Join(t.TempDir(), "one")
	st, err = ExportLeRobot(ctx, s, Filter{Task: "other", ControlHz: 20}, one, ExportOptions{})
	if err != nil || len(st.Datasets) != 1 || st.Datasets[0].Dir != one {
		t.Fatalf("filtered export: %+v, %v; want one dataset in %s", st.Datasets, err, one)
	}
	if _, err := os.Stat(filepath.Join(one, "meta", "info.json")); err != nil {
		t.Fatal(err)
	}
	if _, err := ExportLeRobot(ctx, s, Filter{}, one, ExportOptions{}); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("export into an existing dataset: %v; want refused", err)
	}
	if _, err := ExportLeRobot(ctx, s, Filter{Task: "none"}, filepath.Join(t.TempDir(), "x"), ExportOptions{}); !errors.Is(err, ErrNoEpisodes) {
		t.Errorf("empty selection: %v; want ErrNoEpisodes", err)
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
