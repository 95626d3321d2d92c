package demos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/foxglove/mcap/go/mcap"
	"github.com/klauspost/compress/zstd"

	"tandem/foxglove"
	"tandem/sim"
)

// MCAP topics written by ExportMCAP.
const (
	TopicStep   = "/tandem/step"   // full-precision step records; import reads these
	TopicState  = "/tandem/state"  // observation by name, reward, return (for plots)
	TopicAction = "/tandem/action" // executed and policy action by name, source
	TopicEvents = "/tandem/events" // resets, interventions, success, episode ends
	TopicScene  = "/scene"         // foxglove.SceneUpdate
)

// mcapFormat identifies tandem exports and their layout version.
const mcapFormat = "tandem-mcap-1"

// mcapChunkSize is the uncompressed size of an export's chunks: what the
// writer holds before it compresses and writes them out.
const mcapChunkSize = 1 << 20

// mcapStep is the /tandem/step message: a stored step at full precision
// (encoding/json writes float64 in the shortest form that reads back to
// the same bits).
type mcapStep struct {
	EpisodeID         int64     `json:"episode_id"`
	T                 int       `json:"t"`
	Obs               []float64 `json:"obs"`
	Action            []float64 `json:"action"`
	PolicyAction      []float64 `json:"policy_action,omitempty"`
	Source            string    `json:"source"`
	Reward            float64   `json:"reward"`
	Terminal          bool      `json:"terminal"`
	Truncated         bool      `json:"truncated"`
	Success           bool      `json:"success"`
	WallNs            int64     `json:"wall_ns"`
	Operator          string    `json:"operator"`
	PolicyVersion     string    `json:"policy_version"`
	InterventionStart bool      `json:"intervention_start"`
	InterventionEnd   bool      `json:"intervention_end"`
	// Subticks, Help and ExpertAction are absent where the step has none
	// (files written before they were exported lack them too).
	Subticks     []float64 `json:"subticks,omitempty"`
	Help         bool      `json:"help,omitempty"`
	ExpertAction []float64 `json:"expert_action,omitempty"`
}

type mcapState struct {
	EpisodeID   int64              `json:"episode_id"`
	T           int                `json:"t"`
	Observation map[string]float64 `json:"observation"`
	Reward      float64            `json:"reward"`
	Return      float64            `json:"return"`
	Success     bool               `json:"success"`
}

type mcapAction struct {
	EpisodeID     int64              `json:"episode_id"`
	T             int                `json:"t"`
	Action        map[string]float64 `json:"action"`
	PolicyAction  map[string]float64 `json:"policy_action,omitempty"`
	Source        string             `json:"source"`
	Operator      string             `json:"operator"`
	PolicyVersion string             `json:"policy_version"`
	Intervening   bool               `json:"intervening"`
}

type mcapEvent struct {
	EpisodeID int64  `json:"episode_id"`
	T         int    `json:"t"`
	Event     string `json:"event"` // reset, intervention_start, intervention_end, success, end
	Detail    string `json:"detail"`
}

// episodeRecord is an episode's summary with the fields Episode keeps out
// of its JSON, as stored in the "tandem.episode" MCAP metadata record.
type episodeRecord struct {
	Episode
	Spec       sim.Spec  `json:"spec"`
	InitialObs []float64 `json:"initial_obs"`
	FinalObs   []float64 `json:"final_obs"`
}

// ExportStats reports what an export wrote.
type ExportStats struct {
	Episodes int      `json:"episodes"`
	Steps    int      `json:"steps"`
	Bytes    int64    `json:"bytes"`
	Warnings []string `json:"warnings,omitempty"`
	// Datasets lists the LeRobot datasets written (one per task and rate).
	Datasets []DatasetStats `json:"datasets,omitempty"`
}

// ExportOptions adjusts an export. The zero value is valid.
type ExportOptions struct {
	// Lookup builds tasks for re-simulation (MCAP's scene); nil exports
	// without scenes.
	Lookup TaskLookup
	// Progress, if set, is called from the exporting goroutine after each
	// episode with the episodes done and the total.
	Progress func(done, total int)
	// DataFileMB is the size at which a LeRobot data or episode-metadata
	// file rolls over to the next (LeRobot's data_files_size_in_mb; 0:
	// LeRobot's default, 100).
	DataFileMB int
	// TempDir holds WriteLeRobotTarGz's files while each is written.
	TempDir string

	fileBytes int64 // tests: roll LeRobot files at this size instead
}

// ErrNoEpisodes is returned by an export whose filter selects nothing; it
// writes nothing.
var ErrNoEpisodes = errors.New("demos: no episodes match the filter")

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func jsonSchema(title string, props map[string]foxglove.Schema) []byte {
	return []byte(foxglove.Object(title, props).String())
}

// ExportMCAP writes the episodes f selects to w as one MCAP file: chunked,
// zstd-compressed, JSON messages with jsonschema schemas, log time = the
// recorded wall time. It streams: w receives the file as it is made, one
// chunk (1 MiB before compression) at a time, and memory holds one episode
// whatever the selection (exportread.go). The selection is fixed in one
// snapshot when the export starts and each episode is read whole, so a
// recorder writing meanwhile never makes it inconsistent (set f.Ended to
// leave running episodes out). The scene channel needs
// the task: opts.Lookup builds it and each episode is re-simulated for its
// body poses; an episode that cannot be (no lookup, other task version,
// divergence) is exported without scene messages and named in the
// warnings. A filter that selects nothing is ErrNoEpisodes, with nothing
// written to w.
func ExportMCAP(ctx context.Context, s *Store, f Filter, w io.Writer, opts ExportOptions) (ExportStats, error) {
	var st ExportStats
	refs, err := s.selectForExport(ctx, f)
	if err != nil {
		return st, err
	}
	if len(refs) == 0 {
		return st, ErrNoEpisodes
	}
	lookup := opts.Lookup
	cw := &countingWriter{w: w}
	// Each chunk is its own zstd frame, so a window beyond the chunk size
	// buys nothing; the library's default encoder (8 MiB window) held
	// several times the chunk per export. (One goroutine, without the
	// encoder's asynchronous blocks, cost 18% of export speed.)
	zw, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault),
		zstd.WithWindowSize(mcapChunkSize), zstd.WithLowerEncoderMem(true))
	if err != nil {
		return st, err
	}
	mw, err := mcap.NewWriter(cw, &mcap.WriterOptions{
		Chunked: true, ChunkSize: mcapChunkSize, Compressor: mcap.NewCustomCompressor(mcap.CompressionZSTD, zw), IncludeCRC: true,
	})
	if err != nil {
		return st, err
	}
	if err := mw.WriteHeader(&mcap.Header{Profile: "", Library: "tandem"}); err != nil {
		return st, err
	}
	str, boolean, integer, num, numMap := foxglove.String(), foxglove.Boolean(), foxglove.Integer(), foxglove.Number(), foxglove.NumberMap()
	vec := foxglove.Array(num)
	schemas := []struct {
		topic, name string
		data        []byte
	}{
		{TopicStep, "tandem.Step", jsonSchema("tandem.Step", map[string]foxglove.Schema{
			"episode_id": integer, "t": integer, "obs": vec, "action": vec, "policy_action": vec,
			"source": str, "reward": num, "terminal": boolean, "truncated": boolean, "success": boolean,
			"wall_ns": integer, "operator": str, "policy_version": str,
			"intervention_start": boolean, "intervention_end": boolean,
			"subticks": vec, "help": boolean, "expert_action": vec,
		})},
		{TopicState, "tandem.State", jsonSchema("tandem.State", map[string]foxglove.Schema{
			"episode_id": integer, "t": integer, "observation": numMap, "reward": num, "return": num, "success": boolean,
		})},
		{TopicAction, "tandem.Action", jsonSchema("tandem.Action", map[string]foxglove.Schema{
			"episode_id": integer, "t": integer, "action": numMap, "policy_action": numMap,
			"source": str, "operator": str, "policy_version": str, "intervening": boolean,
		})},
		{TopicEvents, "tandem.Event", jsonSchema("tandem.Event", map[string]foxglove.Schema{
			"episode_id": integer, "t": integer, "event": str, "detail": str,
		})},
		{TopicScene, foxglove.SchemaName, []byte(foxglove.SceneUpdateSchema())},
	}
	for i, sc := range schemas {
		id := uint16(i + 1)
		if err := mw.WriteSchema(&mcap.Schema{ID: id, Name: sc.name, Encoding: "jsonschema", Data: sc.data}); err != nil {
			return st, err
		}
		if err := mw.WriteChannel(&mcap.Channel{ID: id, SchemaID: id, Topic: sc.topic, MessageEncoding: "json"}); err != nil {
			return st, err
		}
	}
	if err := mw.WriteMetadata(&mcap.Metadata{Name: "tandem.export", Metadata: map[string]string{
		"format": mcapFormat, "schema_version": strconv.Itoa(SchemaVersion), "episodes": strconv.Itoa(len(refs)),
	}}); err != nil {
		return st, err
	}
	e := &mcapExporter{mw: mw, seq: make([]uint32, len(schemas)+1)}
	for _, ref := range refs {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		ep, steps, err := s.readForExport(ctx, ref.ID)
		if err != nil {
			return st, err
		}
		warn, err := e.episode(ctx, &ep, steps, lookup)
		if err != nil {
			return st, fmt.Errorf("demos: export episode %d: %w", ep.ID, err)
		}
		if warn != "" {
			st.Warnings = append(st.Warnings, warn)
		}
		st.Episodes++
		st.Steps += len(steps)
		if opts.Progress != nil {
			opts.Progress(st.Episodes, len(refs))
		}
	}
	if err := mw.Close(); err != nil {
		return st, err
	}
	st.Bytes = cw.n
	return st, nil
}

type mcapExporter struct {
	mw  *mcap.Writer
	seq []uint32
}

func (e *mcapExporter) write(ch uint16, at time.Time, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	e.seq[ch]++
	ns := uint64(max(at.UnixNano(), 0))
	return e.mw.WriteMessage(&mcap.Message{ChannelID: ch, Sequence: e.seq[ch], LogTime: ns, PublishTime: ns, Data: data})
}

func named(names []string, v []float64) map[string]float64 {
	if len(v) == 0 {
		return nil
	}
	m := make(map[string]float64, len(v))
	for i, x := range v {
		k := "v" + strconv.Itoa(i)
		if i < len(names) {
			k = names[i]
		}
		m[k] = x
	}
	return m
}

func (e *mcapExporter) episode(ctx context.Context, ep *Episode, steps []Step, lookup TaskLookup) (string, error) {
	rec := episodeRecord{Episode: *ep, Spec: ep.Spec, InitialObs: ep.InitialObs, FinalObs: ep.FinalObs}
	js, err := json.Marshal(rec)
	if err != nil {
		return "", err
	}
	if err := e.mw.WriteMetadata(&mcap.Metadata{Name: "tandem.episode", Metadata: map[string]string{
		"id": strconv.FormatInt(ep.ID, 10), "episode": string(js),
	}}); err != nil {
		return "", err
	}
	// Poses for the scene, by re-simulation.
	var poses [][]sim.Pose
	var sb *foxglove.Builder
	warn := ""
	if task, err := replayTask(ep, lookup); err != nil {
		warn = fmt.Sprintf("episode %d: no scene: %v", ep.ID, err)
	} else {
		scene := task.Scene()
		sb = foxglove.NewBuilder(scene, ep.Spec.Units)
		nb := len(scene.Bodies)
		poses = make([][]sim.Pose, 0, len(steps)+1)
		_, err := resimulate(ctx, task, ep, steps, func(_ int, env *sim.Env) {
			poses = append(poses, env.Task().Poses(make([]sim.Pose, nb)))
		})
		if err != nil {
			warn = fmt.Sprintf("episode %d: no scene: %v", ep.ID, err)
			sb, poses = nil, nil
		}
	}
	const chStep, chState, chAction, chEvents, chScene = 1, 2, 3, 4, 5
	if err := e.write(chEvents, ep.Start, mcapEvent{EpisodeID: ep.ID, T: 0, Event: "reset",
		Detail: fmt.Sprintf("task %s seed %d mode %s", ep.Task, ep.Seed, ep.Mode)}); err != nil {
		return "", err
	}
	if sb != nil && len(poses) > 0 {
		if err := e.write(chScene, ep.Start, sb.Full(poses[0], ep.Start)); err != nil {
			return "", err
		}
	}
	names, anames := ep.Spec.ObsNames, ep.Spec.ActionNames
	ret, succeeded := 0.0, false
	for i := range steps {
		st := &steps[i]
		ret += st.Reward
		if err := e.write(chStep, st.Wall, mcapStep{
			EpisodeID: ep.ID, T: st.T, Obs: st.Obs, Action: st.Action, PolicyAction: st.PolicyAction,
			Source: string(st.Source), Reward: st.Reward, Terminal: st.Terminal, Truncated: st.Truncated,
			Success: st.Success, WallNs: st.Wall.UnixNano(), Operator: st.Operator, PolicyVersion: st.PolicyVersion,
			InterventionStart: st.InterventionStart, InterventionEnd: st.InterventionEnd,
			Subticks: st.Subticks, Help: st.Help, ExpertAction: st.ExpertAction,
		}); err != nil {
			return "", err
		}
		if err := e.write(chState, st.Wall, mcapState{EpisodeID: ep.ID, T: st.T, Observation: named(names, st.Obs),
			Reward: st.Reward, Return: ret, Success: st.Success}); err != nil {
			return "", err
		}
		if err := e.write(chAction, st.Wall, mcapAction{EpisodeID: ep.ID, T: st.T, Action: named(anames, st.Action),
			PolicyAction: named(anames, st.PolicyAction), Source: string(st.Source), Operator: st.Operator,
			PolicyVersion: st.PolicyVersion, Intervening: st.Source == sim.Human}); err != nil {
			return "", err
		}
		for _, ev := range stepEvents(st, &succeeded) {
			if err := e.write(chEvents, st.Wall, mcapEvent{EpisodeID: ep.ID, T: st.T, Event: ev, Detail: st.Operator}); err != nil {
				return "", err
			}
		}
		if sb != nil && i+1 < len(poses) {
			if err := e.write(chScene, st.Wall, sb.Step(poses[i+1], st.Wall)); err != nil {
				return "", err
			}
		}
	}
	end := ep.End
	if end.IsZero() {
		end = ep.Start
	}
	if err := e.write(chEvents, end, mcapEvent{EpisodeID: ep.ID, T: len(steps), Event: "end", Detail: string(ep.Outcome)}); err != nil {
		return "", err
	}
	return warn, nil
}

func stepEvents(st *Step, succeeded *bool) []string {
	var ev []string
	if st.InterventionStart {
		ev = append(ev, "intervention_start")
	}
	if st.InterventionEnd {
		ev = append(ev, "intervention_end")
	}
	if st.Success && !*succeeded {
		*succeeded = true
		ev = append(ev, "success")
	}
	return ev
}
