package demos

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/snappy"

	"tandem/sim"
)

// LeRobot dataset v3.0 layout (huggingface/lerobot src/lerobot/datasets/
// utils.py): data and episode metadata in chunk-NNN/file-NNN parquet files,
// meta/info.json, meta/stats.json, meta/tasks.parquet.
const (
	lerobotVersion    = "v3.0"
	lerobotDataPath   = "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
	lerobotVideoPath  = "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4"
	lerobotChunksSize = 1000 // DEFAULT_CHUNK_SIZE
	lerobotDataMB     = 100  // DEFAULT_DATA_FILE_SIZE_IN_MB
	lerobotVideoMB    = 500  // DEFAULT_VIDEO_FILE_SIZE_IN_MB
)

// lerobotFrame is one row of data/chunk-000/file-000.parquet.
type lerobotFrame struct {
	State          []float32 `parquet:"observation.state,list"`
	Action         []float32 `parquet:"action,list"`
	Timestamp      float32   `parquet:"timestamp"`
	FrameIndex     int64     `parquet:"frame_index"`
	EpisodeIndex   int64     `parquet:"episode_index"`
	Index          int64     `parquet:"index"`
	TaskIndex      int64     `parquet:"task_index"`
	Reward         float32   `parquet:"next.reward"`
	Done           bool      `parquet:"next.done"`
	Success        bool      `parquet:"next.success"`
	ActionSource   string    `parquet:"action_source"`
	IsIntervention bool      `parquet:"is_intervention"`
}

// lerobotEpisode is one row of meta/episodes/chunk-000/file-000.parquet.
type lerobotEpisode struct {
	EpisodeIndex int64    `parquet:"episode_index"`
	Tasks        []string `parquet:"tasks,list"`
	Length       int64    `parquet:"length"`
	DataChunk    int64    `parquet:"data/chunk_index"`
	DataFile     int64    `parquet:"data/file_index"`
	From         int64    `parquet:"dataset_from_index"`
	To           int64    `parquet:"dataset_to_index"`
	MetaChunk    int64    `parquet:"meta/episodes/chunk_index"`
	MetaFile     int64    `parquet:"meta/episodes/file_index"`

	StateMin   []float64 `parquet:"stats/observation.state/min,list"`
	StateMax   []float64 `parquet:"stats/observation.state/max,list"`
	StateMean  []float64 `parquet:"stats/observation.state/mean,list"`
	StateStd   []float64 `parquet:"stats/observation.state/std,list"`
	StateCount []int64   `parquet:"stats/observation.state/count,list"`
	ActMin     []float64 `parquet:"stats/action/min,list"`
	ActMax     []float64 `parquet:"stats/action/max,list"`
	ActMean    []float64 `parquet:"stats/action/mean,list"`
	ActStd     []float64 `parquet:"stats/action/std,list"`
	ActCount   []int64   `parquet:"stats/action/count,list"`

	// tandem's own columns
	TandemID      int64  `parquet:"tandem/episode_id"`
	Seed          int64  `parquet:"tandem/seed"` // uint64 bit pattern
	Outcome       string `parquet:"tandem/outcome"`
	Complete      bool   `parquet:"tandem/complete"`
	Interventions int64  `parquet:"tandem/interventions"`
}

// lerobotTask is one row of meta/tasks.parquet (pandas index "task").
type lerobotTask struct {
	TaskIndex int64  `parquet:"task_index"`
	Task      string `parquet:"task"`
}

type feature struct {
	Dtype string   `json:"dtype"`
	Shape []int    `json:"shape"`
	Names []string `json:"names"`
}

// featureStats accumulates per-dimension min/max/mean/std.
type featureStats struct {
	min, max, sum, sq []float64
	n                 int64
}

func newFeatureStats(dim int) *featureStats {
	s := &featureStats{min: make([]float64, dim), max: make([]float64, dim), sum: make([]float64, dim), sq: make([]float64, dim)}
	for i := range s.min {
		s.min[i], s.max[i] = math.Inf(1), math.Inf(-1)
	}
	return s
}

func (s *featureStats) add(v ...float64) {
	for i, x := range v {
		s.min[i] = math.Min(s.min[i], x)
		s.max[i] = math.Max(s.max[i], x)
		s.sum[i] += x
		s.sq[i] += x * x
	}
	s.n++
}

// stats returns min, max, mean, std (population) and count, as LeRobot's
// stats.json has them.
func (s *featureStats) stats() map[string]any {
	mean, std := make([]float64, len(s.sum)), make([]float64, len(s.sum))
	mn, mx := append([]float64(nil), s.min...), append([]float64(nil), s.max...)
	for i := range s.sum {
		if s.n == 0 {
			mn[i], mx[i] = 0, 0
			continue
		}
		mean[i] = s.sum[i] / float64(s.n)
		std[i] = math.Sqrt(math.Max(s.sq[i]/float64(s.n)-mean[i]*mean[i], 0))
	}
	return map[string]any{"min": mn, "max": mx, "mean": mean, "std": std, "count": []int64{s.n}}
}

// DatasetStats reports one LeRobot dataset an export wrote.
type DatasetStats struct {
	Task        string  `json:"task"`
	TaskVersion int     `json:"task_version"`
	ControlHz   float64 `json:"control_hz"`
	FPS         int     `json:"fps"`
	Dir         string  `json:"dir"`
	Episodes    int     `json:"episodes"`
	Steps       int     `json:"steps"`
}

// datasetKey is what one LeRobot dataset holds: one task (at one version:
// one feature shape) at one rate.
type datasetKey struct {
	task    string
	version int
	hz      float64
}

// ExportLeRobot writes the episodes f selects as LeRobot v3.0 datasets
// under dir, which must not exist or be empty. A dataset has one fps and
// one feature shape, so there is one dataset per task, task version and
// control rate: when the selection holds one, dir is that dataset; when it
// holds several, each is a subdirectory of dir named after its task, with
// "-vN" and "-HZhz" added where the task comes in several versions or
// rates (ExportStats.Datasets lists them). The export reads one snapshot of
// the store (see ExportMCAP). A filter that selects nothing is
// ErrNoEpisodes, with nothing written.
func ExportLeRobot(ctx context.Context, s *Store, f Filter, dir string, opts ExportOptions) (ExportStats, error) {
	var st ExportStats
	tx, err := s.snapshot(ctx)
	if err != nil {
		return st, err
	}
	defer tx.Rollback()
	eps, err := listEpisodes(ctx, tx, f)
	if err != nil {
		return st, err
	}
	if len(eps) == 0 {
		return st, ErrNoEpisodes
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return st, fmt.Errorf("demos: %s already exists and is not empty", dir)
	}
	var keys []datasetKey
	groups := map[datasetKey][]Episode{}
	for _, ep := range eps {
		k := datasetKey{ep.Task, ep.TaskVersion, ep.ControlHz}
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], ep)
	}
	names := datasetNames(keys)
	done := 0
	for _, k := range keys {
		sub := dir
		if len(keys) > 1 {
			sub = filepath.Join(dir, names[k])
		}
		ds, warnings, err := writeLeRobot(ctx, tx, groups[k], sub, func() {
			done++
			if opts.Progress != nil {
				opts.Progress(done, len(eps))
			}
		})
		if err != nil {
			return st, err
		}
		for _, w := range warnings {
			if len(keys) > 1 {
				w = names[k] + ": " + w
			}
			st.Warnings = append(st.Warnings, w)
		}
		st.Datasets = append(st.Datasets, ds)
		st.Episodes += ds.Episodes
		st.Steps += ds.Steps
	}
	st.Bytes = dirSize(dir)
	return st, nil
}

// datasetNames names each dataset's subdirectory: the task, with the
// version and rate added only where the task needs them to be told apart.
func datasetNames(keys []datasetKey) map[datasetKey]string {
	versions, rates := map[string]map[int]bool{}, map[string]map[float64]bool{}
	for _, k := range keys {
		if versions[k.task] == nil {
			versions[k.task], rates[k.task] = map[int]bool{}, map[float64]bool{}
		}
		versions[k.task][k.version] = true
		rates[k.task][k.hz] = true
	}
	out := map[datasetKey]string{}
	for _, k := range keys {
		name := k.task
		if len(versions[k.task]) > 1 {
			name += "-v" + strconv.Itoa(k.version)
		}
		if len(rates[k.task]) > 1 {
			name += "-" + strconv.FormatFloat(k.hz, 'f', -1, 64) + "hz"
		}
		out[k] = safeName(name)
	}
	return out
}

// safeName keeps a directory name to letters, digits, '-', '_' and '.'.
func safeName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			b[i] = '_'
		}
	}
	if len(b) == 0 || b[0] == '.' {
		b = append([]byte("d"), b...)
	}
	return string(b)
}

// writeLeRobot writes one dataset of episodes of one task at one rate in
// dir; step is called after each episode.
func writeLeRobot(ctx context.Context, db querier, eps []Episode, dir string, step func()) (DatasetStats, []string, error) {
	var warnings []string
	spec, hz := eps[0].Spec, eps[0].ControlHz
	ds := DatasetStats{Task: spec.Name, TaskVersion: eps[0].TaskVersion, ControlHz: hz, Dir: dir}
	var st ExportStats
	dataPath := filepath.Join(dir, "data", "chunk-000", "file-000.parquet")
	epsPath := filepath.Join(dir, "meta", "episodes", "chunk-000", "file-000.parquet")
	for _, p := range []string{dataPath, epsPath} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return ds, nil, err
		}
	}
	fps := int(math.Round(hz))
	if math.Abs(float64(fps)-hz) > 1e-9 {
		warnings = append(warnings, fmt.Sprintf("control rate %g Hz is not an integer; fps is %d and timestamps are frame_index/%g", hz, fps, hz))
	}
	obsDim, actDim := spec.ObsSize(), spec.ActionSize()

	df, err := os.Create(dataPath)
	if err != nil {
		return ds, nil, err
	}
	defer df.Close()
	frameMeta, err := hfMetadata(parquet.SchemaOf(lerobotFrame{}), func(col string) (hfFeature, bool) {
		switch col {
		case "observation.state":
			return hfSequence("float32", obsDim), true
		case "action":
			return hfSequence("float32", actDim), true
		}
		return nil, false
	})
	if err != nil {
		return ds, nil, err
	}
	w := parquet.NewGenericWriter[lerobotFrame](df, parquet.Compression(&snappy.Codec{}), parquet.KeyValueMetadata(hfMetadataKey, frameMeta))
	stState, stAct := newFeatureStats(obsDim), newFeatureStats(actDim)
	stScalar := map[string]*featureStats{}
	for _, k := range []string{"timestamp", "frame_index", "episode_index", "index", "task_index", "next.reward"} {
		stScalar[k] = newFeatureStats(1)
	}
	var metas []lerobotEpisode
	var index int64
	frames := make([]lerobotFrame, 0, 1024)
	for ei := range eps {
		ep := &eps[ei]
		steps, err := stepsOf(ctx, db, ep)
		if err != nil {
			return ds, nil, err
		}
		es, ea := newFeatureStats(obsDim), newFeatureStats(actDim)
		frames = frames[:0]
		from := index
		for i := range steps {
			sp := &steps[i]
			if len(sp.Obs) != obsDim || len(sp.Action) != actDim {
				return ds, nil, fmt.Errorf("demos: episode %d step %d has %d/%d values; spec says %d/%d", ep.ID, i, len(sp.Obs), len(sp.Action), obsDim, actDim)
			}
			fr := lerobotFrame{
				State: f32(sp.Obs), Action: f32(sp.Action), Timestamp: float32(float64(i) / hz),
				FrameIndex: int64(i), EpisodeIndex: int64(ei), Index: index, TaskIndex: 0,
				Reward: float32(sp.Reward), Done: sp.Terminal || sp.Truncated, Success: sp.Success,
				ActionSource: string(sp.Source), IsIntervention: sp.Source == sim.Human,
			}
			frames = append(frames, fr)
			es.add(sp.Obs...)
			ea.add(sp.Action...)
			stState.add(sp.Obs...)
			stAct.add(sp.Action...)
			stScalar["timestamp"].add(float64(fr.Timestamp))
			stScalar["frame_index"].add(float64(i))
			stScalar["episode_index"].add(float64(ei))
			stScalar["index"].add(float64(index))
			stScalar["task_index"].add(0)
			stScalar["next.reward"].add(float64(fr.Reward))
			index++
		}
		if _, err := w.Write(frames); err != nil {
			return ds, nil, fmt.Errorf("demos: write %s: %w", dataPath, err)
		}
		sState, sAct := es.stats(), ea.stats()
		metas = append(metas, lerobotEpisode{
			EpisodeIndex: int64(ei), Tasks: []string{taskText(&spec)}, Length: int64(len(steps)),
			From: from, To: index,
			StateMin: sState["min"].([]float64), StateMax: sState["max"].([]float64), StateMean: sState["mean"].([]float64),
			StateStd: sState["std"].([]float64), StateCount: sState["count"].([]int64),
			ActMin: sAct["min"].([]float64), ActMax: sAct["max"].([]float64), ActMean: sAct["mean"].([]float64),
			ActStd: sAct["std"].([]float64), ActCount: sAct["count"].([]int64),
			TandemID: ep.ID, Seed: int64(ep.Seed), Outcome: string(ep.Outcome), Complete: ep.Complete,
			Interventions: int64(ep.Interventions),
		})
		st.Episodes++
		st.Steps += len(steps)
		step()
	}
	if err := w.Close(); err != nil {
		return ds, nil, err
	}
	if err := df.Close(); err != nil {
		return ds, nil, err
	}
	epsMeta, err := hfMetadata(parquet.SchemaOf(lerobotEpisode{}), func(col string) (hfFeature, bool) {
		switch {
		case col == "tasks":
			return hfSequence("string", -1), true
		case strings.HasPrefix(col, "stats/observation.state/"):
			return statsFeature(col, obsDim), true
		case strings.HasPrefix(col, "stats/action/"):
			return statsFeature(col, actDim), true
		}
		return nil, false
	})
	if err != nil {
		return ds, nil, err
	}
	if err := parquet.WriteFile(epsPath, metas, parquet.Compression(&snappy.Codec{}), parquet.KeyValueMetadata(hfMetadataKey, epsMeta)); err != nil {
		return ds, nil, err
	}
	if err := parquet.WriteFile(filepath.Join(dir, "meta", "tasks.parquet"),
		[]lerobotTask{{TaskIndex: 0, Task: taskText(&spec)}},
		parquet.KeyValueMetadata("pandas", pandasTasksMeta)); err != nil {
		return ds, nil, err
	}
	stats := map[string]any{"observation.state": stState.stats(), "action": stAct.stats()}
	for k, v := range stScalar {
		stats[k] = v.stats()
	}
	if err := writeJSON(filepath.Join(dir, "meta", "stats.json"), stats); err != nil {
		return ds, nil, err
	}
	if err := writeJSON(filepath.Join(dir, "meta", "info.json"), lerobotInfo(&spec, fps, st.Episodes, st.Steps)); err != nil {
		return ds, nil, err
	}
	ds.FPS, ds.Episodes, ds.Steps = fps, st.Episodes, st.Steps
	return ds, warnings, nil
}

func lerobotInfo(spec *sim.Spec, fps, episodes, frames int) map[string]any {
	scalar := func(dtype string) feature { return feature{Dtype: dtype, Shape: []int{1}} }
	features := map[string]feature{
		"observation.state": {Dtype: "float32", Shape: []int{spec.ObsSize()}, Names: spec.ObsNames},
		"action":            {Dtype: "float32", Shape: []int{spec.ActionSize()}, Names: spec.ActionNames},
		"timestamp":         scalar("float32"),
		"frame_index":       scalar("int64"),
		"episode_index":     scalar("int64"),
		"index":             scalar("int64"),
		"task_index":        scalar("int64"),
		"next.reward":       scalar("float32"),
		"next.done":         scalar("bool"),
		"next.success":      scalar("bool"),
		"action_source":     scalar("string"),
		"is_intervention":   scalar("bool"),
	}
	return map[string]any{
		"codebase_version":       lerobotVersion,
		"robot_type":             "tandem/" + spec.Name,
		"total_episodes":         episodes,
		"total_frames":           frames,
		"total_tasks":            1,
		"chunks_size":            lerobotChunksSize,
		"data_files_size_in_mb":  lerobotDataMB,
		"video_files_size_in_mb": lerobotVideoMB,
		"fps":                    fps,
		"splits":                 map[string]string{"train": "0:" + strconv.Itoa(episodes)},
		"data_path":              lerobotDataPath,
		"video_path":             nil,
		"features":               features,
	}
}

// taskText is the language description LeRobot keys tasks by.
func taskText(spec *sim.Spec) string {
	if spec.Description != "" {
		return spec.Description
	}
	return spec.Name
}

// pandasTasksMeta makes pandas read meta/tasks.parquet with "task" as the
// index, as LeRobot writes it (DataFrame indexed by task, column
// task_index).
const pandasTasksMeta = `{"index_columns": ["task"], "column_indexes": [{"name": null, "field_name": null, "pandas_type": "unicode", "numpy_type": "object", "metadata": {"encoding": "UTF-8"}}], "columns": [{"name": "task_index", "field_name": "task_index", "pandas_type": "int64", "numpy_type": "int64", "metadata": null}, {"name": "task", "field_name": "task", "pandas_type": "unicode", "numpy_type": "object", "metadata": null}], "creator": {"library": "tandem", "version": "1"}, "pandas_version": "2.2.0"}`

func f32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

func writeJSON(path string, v any) error {
	js, err := json.MarshalIndent(v, "", "    ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(js, '\n'), 0o644)
}

func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}
