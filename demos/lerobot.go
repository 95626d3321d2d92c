package demos

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path"
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
// rates (ExportStats.Datasets lists them). The export reads the store as
// ExportMCAP does (one episode at a time). A filter that selects nothing
// is ErrNoEpisodes, with nothing written.
func ExportLeRobot(ctx context.Context, s *Store, f Filter, dir string, opts ExportOptions) (ExportStats, error) {
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return ExportStats{}, fmt.Errorf("demos: %s already exists and is not empty", dir)
	}
	st, err := exportLeRobot(ctx, s, f, opts, dir, func(sub string) lerobotSink { return dirSink(filepath.Join(dir, sub)) })
	if err != nil {
		return st, err
	}
	st.Bytes = dirSize(dir)
	return st, nil
}

// WriteLeRobotTarGz writes what ExportLeRobot writes as a gzipped tar
// stream to w, every entry under root/, without building the datasets on
// disk first: each file is written to a temporary file in opts.TempDir
// (which must exist) and copied into the stream when it is complete (a tar
// entry states its size first), so the disk holds at most a dataset's
// open data file and episode-metadata file, each at most
// opts.DataFileMB (plus one episode) before it rolls over to the next file,
// as LeRobot's own writer does. A filter that selects nothing is
// ErrNoEpisodes, with nothing written to w.
func WriteLeRobotTarGz(ctx context.Context, s *Store, f Filter, w io.Writer, root string, opts ExportOptions) (ExportStats, error) {
	if opts.TempDir == "" {
		return ExportStats{}, errors.New("demos: a LeRobot stream needs ExportOptions.TempDir")
	}
	cw := &countingWriter{w: w}
	var gz *gzip.Writer
	var tw *tar.Writer
	var spills []*os.File
	defer func() {
		for _, f := range spills { // left by an error
			f.Close()
			os.Remove(f.Name())
		}
	}()
	st, err := exportLeRobot(ctx, s, f, opts, root, func(sub string) lerobotSink {
		if tw == nil { // after the selection: ErrNoEpisodes writes nothing
			gz = gzip.NewWriter(cw)
			tw = tar.NewWriter(gz)
		}
		return &tarSink{tw: tw, dir: opts.TempDir, prefix: path.Join(root, filepath.ToSlash(sub)), spills: &spills}
	})
	if err != nil {
		return st, err
	}
	if err := tw.Close(); err != nil {
		return st, err
	}
	if err := gz.Close(); err != nil {
		return st, err
	}
	st.Bytes = cw.n
	return st, nil
}

// exportLeRobot writes the datasets of the episodes f selects, each
// through the sink made for its subdirectory ("" when there is one).
func exportLeRobot(ctx context.Context, s *Store, f Filter, opts ExportOptions, dir string, sinkFor func(sub string) lerobotSink) (ExportStats, error) {
	var st ExportStats
	refs, err := s.selectForExport(ctx, f)
	if err != nil {
		return st, err
	}
	if len(refs) == 0 {
		return st, ErrNoEpisodes
	}
	var keys []datasetKey
	groups := map[datasetKey][]int64{}
	for _, r := range refs {
		k := datasetKey{r.Task, r.Version, r.Hz}
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], r.ID)
	}
	names := datasetNames(keys)
	fileMB := opts.DataFileMB
	if fileMB <= 0 {
		fileMB = lerobotDataMB
	}
	done := 0
	for _, k := range keys {
		sub := ""
		if len(keys) > 1 {
			sub = names[k]
		}
		dw := &datasetWriter{ctx: ctx, s: s, sink: sinkFor(sub), fileMB: fileMB, fileBytes: opts.fileBytes, step: func() {
			done++
			if opts.Progress != nil {
				opts.Progress(done, len(refs))
			}
		}}
		ds, warnings, err := dw.write(groups[k])
		if err != nil {
			return st, err
		}
		ds.Dir = filepath.Join(dir, sub)
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

// lerobotRowGroup is about how many frames a data file's writer holds
// before it writes them out as a row group (about 1 MB of 20-value frames;
// four concurrent downloads peaked at 97 MB of RSS with 32,768, 76 MB with
// this); an episode is never split across row groups.
const lerobotRowGroup = 8 << 10

// datasetWriter writes one dataset (one task, version and rate) through
// its sink: data and episode-metadata parquet files that roll over to the
// next file at fileMB, then tasks.parquet, stats.json and info.json.
type datasetWriter struct {
	ctx       context.Context
	s         *Store
	sink      lerobotSink
	fileMB    int
	fileBytes int64  // when set, the roll-over size in bytes (tests)
	step      func() // after each episode
}

// parquetFile is one data or episode-metadata file being written.
type parquetFile[T any] struct {
	out    lerobotFile
	w      *parquet.GenericWriter[T]
	chunk  int // chunk and file index in the dataset's layout
	file   int
	rows   int // rows since the last row group
	opened bool
}

// size estimates the file's size: what is written out, and the rows held
// for the next row group at rowBytes each (uncompressed).
func (p *parquetFile[T]) size(rowBytes int64) int64 {
	return p.out.Size() + int64(p.rows)*rowBytes
}

// open starts the file at path (a layout with chunk and file indexes).
func (p *parquetFile[T]) open(sink lerobotSink, layout string, meta string) error {
	out, err := sink.create(fmt.Sprintf(layout, p.chunk, p.file))
	if err != nil {
		return err
	}
	p.out, p.rows, p.opened = out, 0, true
	p.w = parquet.NewGenericWriter[T](out, parquet.Compression(&snappy.Codec{}), parquet.KeyValueMetadata(hfMetadataKey, meta))
	return nil
}

// ready makes the file ready for the next episode's rows: a file rolls
// over to the next between episodes once it reached limit (at rowBytes a
// row held), and one is opened when none is.
func (p *parquetFile[T]) ready(sink lerobotSink, layout, meta string, rowBytes, limit int64) error {
	if p.opened && p.size(rowBytes) >= limit {
		if err := p.close(); err != nil {
			return err
		}
	}
	if p.opened {
		return nil
	}
	return p.open(sink, layout, meta)
}

// write appends rows, ending a row group once it holds at least rowGroup.
func (p *parquetFile[T]) write(rows []T, rowGroup int) error {
	if _, err := p.w.Write(rows); err != nil {
		return err
	}
	p.rows += len(rows)
	if p.rows >= rowGroup {
		p.rows = 0
		return p.w.Flush()
	}
	return nil
}

// close finishes the file and advances the indexes to the next one
// (LeRobot's chunks hold chunks_size files).
func (p *parquetFile[T]) close() error {
	if !p.opened {
		return nil
	}
	p.opened = false
	if err := p.w.Close(); err != nil {
		return err
	}
	if err := p.out.Close(); err != nil {
		return err
	}
	p.file++
	if p.file == lerobotChunksSize {
		p.chunk, p.file = p.chunk+1, 0
	}
	return nil
}

const (
	lerobotDataLayout = "data/chunk-%03d/file-%03d.parquet"
	lerobotMetaLayout = "meta/episodes/chunk-%03d/file-%03d.parquet"
)

func (d *datasetWriter) write(ids []int64) (DatasetStats, []string, error) {
	var warnings []string
	first, err := d.s.Episode(d.ctx, ids[0]) // its summary: the dataset's spec and rate
	if err != nil {
		return DatasetStats{}, nil, err
	}
	spec, hz := first.Spec, first.ControlHz
	ds := DatasetStats{Task: spec.Name, TaskVersion: first.TaskVersion, ControlHz: hz}
	fps := int(math.Round(hz))
	if math.Abs(float64(fps)-hz) > 1e-9 {
		warnings = append(warnings, fmt.Sprintf("control rate %g Hz is not an integer; fps is %d and timestamps are frame_index/%g", hz, fps, hz))
	}
	obsDim, actDim := spec.ObsSize(), spec.ActionSize()
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
	limit := int64(d.fileMB) << 20
	if d.fileBytes > 0 {
		limit = d.fileBytes
	}
	// Uncompressed bytes of a frame and of an episode's metadata row.
	frameBytes, metaBytes := int64(4*(obsDim+actDim)+64), int64(8*5*(obsDim+actDim)+256)
	var data parquetFile[lerobotFrame]
	var metas parquetFile[lerobotEpisode]
	defer data.close()
	defer metas.close()
	stState, stAct := newFeatureStats(obsDim), newFeatureStats(actDim)
	stScalar := map[string]*featureStats{}
	for _, k := range []string{"timestamp", "frame_index", "episode_index", "index", "task_index", "next.reward"} {
		stScalar[k] = newFeatureStats(1)
	}
	var index int64
	frames := make([]lerobotFrame, 0, 1024)
	for ei, id := range ids {
		if err := d.ctx.Err(); err != nil {
			return ds, nil, err
		}
		ep, steps, err := d.s.readForExport(d.ctx, id)
		if err != nil {
			return ds, nil, err
		}
		if err := data.ready(d.sink, lerobotDataLayout, frameMeta, frameBytes, limit); err != nil {
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
		if err := data.write(frames, lerobotRowGroup); err != nil {
			return ds, nil, fmt.Errorf("demos: write %s: %w", fmt.Sprintf(lerobotDataLayout, data.chunk, data.file), err)
		}
		if err := metas.ready(d.sink, lerobotMetaLayout, epsMeta, metaBytes, limit); err != nil {
			return ds, nil, err
		}
		sState, sAct := es.stats(), ea.stats()
		meta := lerobotEpisode{
			EpisodeIndex: int64(ei), Tasks: []string{taskText(&spec)}, Length: int64(len(steps)),
			DataChunk: int64(data.chunk), DataFile: int64(data.file), From: from, To: index,
			MetaChunk: int64(metas.chunk), MetaFile: int64(metas.file),
			StateMin: sState["min"].([]float64), StateMax: sState["max"].([]float64), StateMean: sState["mean"].([]float64),
			StateStd: sState["std"].([]float64), StateCount: sState["count"].([]int64),
			ActMin: sAct["min"].([]float64), ActMax: sAct["max"].([]float64), ActMean: sAct["mean"].([]float64),
			ActStd: sAct["std"].([]float64), ActCount: sAct["count"].([]int64),
			TandemID: ep.ID, Seed: int64(ep.Seed), Outcome: string(ep.Outcome), Complete: ep.Complete,
			Interventions: int64(ep.Interventions),
		}
		if err := metas.write([]lerobotEpisode{meta}, lerobotRowGroup/32); err != nil {
			return ds, nil, err
		}
		ds.Episodes++
		ds.Steps += len(steps)
		d.step()
	}
	if err := data.close(); err != nil {
		return ds, nil, err
	}
	if err := metas.close(); err != nil {
		return ds, nil, err
	}
	if err := writeParquet(d.sink, "meta/tasks.parquet", []lerobotTask{{TaskIndex: 0, Task: taskText(&spec)}},
		parquet.KeyValueMetadata("pandas", pandasTasksMeta)); err != nil {
		return ds, nil, err
	}
	stats := map[string]any{"observation.state": stState.stats(), "action": stAct.stats()}
	for k, v := range stScalar {
		stats[k] = v.stats()
	}
	if err := writeJSON(d.sink, "meta/stats.json", stats); err != nil {
		return ds, nil, err
	}
	if err := writeJSON(d.sink, "meta/info.json", lerobotInfo(&spec, fps, ds.Episodes, ds.Steps, d.fileMB)); err != nil {
		return ds, nil, err
	}
	ds.FPS = fps
	return ds, warnings, nil
}

func lerobotInfo(spec *sim.Spec, fps, episodes, frames, fileMB int) map[string]any {
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
		"data_files_size_in_mb":  fileMB,
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

func writeJSON(sink lerobotSink, rel string, v any) error {
	js, err := json.MarshalIndent(v, "", "    ")
	if err != nil {
		return err
	}
	f, err := sink.create(rel)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(js, '\n')); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func writeParquet[T any](sink lerobotSink, rel string, rows []T, opts ...parquet.WriterOption) error {
	f, err := sink.create(rel)
	if err != nil {
		return err
	}
	w := parquet.NewGenericWriter[T](f, append([]parquet.WriterOption{parquet.Compression(&snappy.Codec{})}, opts...)...)
	if _, err := w.Write(rows); err != nil {
		f.Close()
		return err
	}
	if err := w.Close(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
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
