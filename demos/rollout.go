package demos

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"tandem/sim"
)

// RolloutInfo describes a headless rollout whose episodes a Recorder
// stores as they finish (tandem rollout --record).
type RolloutInfo struct {
	Spec sim.Spec
	// Mode of every episode (see docs/storage.md); required.
	Mode      sim.Mode
	ControlHz float64 // 0 = Spec.ControlHz
	Tags      []string
	Note      string
	// Details are stored in the session row's info (policy, operator,
	// seeds), with the mode and control rate.
	Details map[string]any
	// Session names the session row (default "rollout").
	Session string
}

// RolloutRecording stores one rollout's episodes, one session row for the
// whole rollout. Add is called from one goroutine (the one Stream hands
// episodes to); IDs is safe for concurrent use.
type RolloutRecording struct {
	r         *Recorder
	sessionID int64
	info      RolloutInfo
	hz        float64
	specJSON  string

	mu  sync.Mutex // guards ids
	ids []int64
}

// Rollout starts recording a rollout: its session row is written now, its
// episodes by Add.
func (r *Recorder) Rollout(ctx context.Context, info RolloutInfo) (*RolloutRecording, error) {
	if err := checkMode(info.Mode); err != nil {
		return nil, err
	}
	if err := checkTags(info.Tags); err != nil {
		return nil, err
	}
	hz := info.ControlHz
	if hz <= 0 {
		hz = info.Spec.ControlHz
	}
	if !(hz > 0) {
		return nil, fmt.Errorf("demos: rollout of task %q has no control rate", info.Spec.Name)
	}
	js, err := json.Marshal(info.Spec)
	if err != nil {
		return nil, err
	}
	details := map[string]any{"mode": info.Mode, "control_hz": hz}
	for k, v := range info.Details {
		details[k] = v
	}
	r.mu.Lock()
	closed := r.closed
	r.mu.Unlock()
	if closed {
		return nil, ErrRecorderClosed
	}
	if info.Session == "" {
		info.Session = "rollout"
	}
	sid, err := r.store.newSession(ctx, info.Session, info.Spec.Name, time.Now(), details)
	if err != nil {
		return nil, err
	}
	return &RolloutRecording{r: r, sessionID: sid, info: info, hz: hz, specJSON: string(js)}, nil
}

// Add queues a finished episode (ep.Steps as sim.Rollout keeps them with
// KeepSteps; their Wall is when each ran, or start + t control periods
// when zero) for the recorder's writer, which commits it whole in one
// transaction within a commit interval. It returns once the rows are
// queued, not committed (Flush waits for that). Unlike a live session's
// steps, a rollout's are never dropped: while the recorder holds
// MaxPending steps, Add waits for the disk (or for ctx), so a headless
// producer slows to the disk's pace in bounded memory.
func (w *RolloutRecording) Add(ctx context.Context, ep *sim.Episode) error {
	start := ep.Start
	if start.IsZero() {
		start = time.Now()
	}
	period := time.Duration(float64(time.Second) / w.hz)
	ops := make([]op, 0, len(ep.Steps)+2)
	ops = append(ops, op{kind: opBegin, begin: &beginRow{
		uid: newUID(), sessionID: w.sessionID, task: w.info.Spec.Name, taskVersion: w.info.Spec.Version,
		seed: ep.Seed, mode: string(w.info.Mode), controlHz: w.hz, spec: w.specJSON, start: start.UnixNano(),
		tags: joinList(w.info.Tags), note: w.info.Note,
	}})
	var operators, versions []string
	var ret float64
	success, interv := false, 0
	var last *sim.Record
	for i := range ep.Steps {
		rec := &ep.Steps[i]
		if rec.T != i {
			return fmt.Errorf("demos: rollout episode %d step %d has t = %d", ep.Index, i, rec.T)
		}
		wall := rec.Wall
		if wall.IsZero() {
			wall = start.Add(time.Duration(rec.T) * period)
		}
		row := stepRowOf(rec, wall, "")
		ret += rec.Reward
		success = success || rec.Success
		if rec.InterventionStart {
			interv++
		}
		operators = addUnique(operators, row.operator)
		versions = addUnique(versions, row.version)
		row.count, row.ret, row.interventions, row.anySuccess = i+1, ret, interv, success
		ops = append(ops, op{kind: opStep, step: row})
		last = rec
	}
	if len(ep.Steps) > 0 {
		ops[0].begin.initialObs = blob(ep.Steps[0].Obs.Slice())
	}
	end := &endRow{end: start.UnixNano(), outcome: Cut, length: len(ep.Steps), ret: ret, success: success,
		interv: interv, operators: operators, versions: versions}
	if last != nil {
		end.end = ops[len(ops)-1].step.wall
		end.outcome = outcomeOf(success, last.Terminal, last.Truncated)
		end.complete = end.outcome != Cut
		end.finalObs = blob(last.Next.Slice())
	}
	ops = append(ops, op{kind: opEnd, end: end})
	// The tap's rows are made before the block is queued: once queued it
	// belongs to the writer, which may commit it and clear it for reuse
	// while they are still being handed out.
	var rows []Row
	if w.r.cfg.Tap != nil {
		rows = make([]Row, len(ops))
		for i := range ops {
			rows[i] = rowOf(&ops[i], ops[0].begin.uid, w.info.Session)
		}
	}
	err := w.r.enqueueEpisode(ctx, ops, len(ep.Steps), func(id int64) {
		w.mu.Lock()
		w.ids = append(w.ids, id)
		w.mu.Unlock()
	})
	if err != nil {
		return err
	}
	for _, row := range rows {
		w.r.cfg.Tap(row)
	}
	return nil
}

// IDs returns the ids of the episodes committed so far, in the order they
// were added (Flush the recorder first to have them all).
func (w *RolloutRecording) IDs() []int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]int64(nil), w.ids...)
}

// SessionID is the rollout's session row.
func (w *RolloutRecording) SessionID() int64 { return w.sessionID }

// enqueueEpisode queues a whole episode as one block, so the writer
// commits it in one transaction (it takes whole blocks), waiting while the
// queue is full. onID hears the episode's id once committed, from the
// writer goroutine.
func (r *Recorder) enqueueEpisode(ctx context.Context, ops []op, steps int, onID func(int64)) error {
	for {
		r.mu.Lock()
		if r.closed {
			r.mu.Unlock()
			return ErrRecorderClosed
		}
		if r.pending == 0 || r.pending+steps <= r.cfg.MaxPending {
			r.nextKey++
			key := r.nextKey
			for i := range ops {
				ops[i].key = key
			}
			if onID != nil {
				r.onID[key] = onID
			}
			if steps > 0 {
				if r.pending == 0 {
					r.oldest = time.Now()
				}
				r.pending += steps
			}
			r.queue = append(r.queue, ops)
			r.mu.Unlock()
			return nil
		}
		r.mu.Unlock()
		r.nudge()
		select {
		case <-r.room:
		case <-time.After(r.cfg.CommitInterval):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
