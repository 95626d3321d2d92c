package demos

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"tandem/sim"
)

// Recording is one live session being recorded. Its reader goroutine owns
// the episode state; Status and Stop are safe for concurrent use.
type Recording struct {
	r         *Recorder
	sess      *sim.Session
	sub       *sim.Subscription
	sessionID int64
	info      SessionInfo
	name      string // the session row's name
	spec      sim.Spec
	specJSON  string
	done      chan struct{}
	stopOnce  sync.Once

	cur         *episodeState // reader goroutine only
	lastDropped uint64        // reader goroutine only

	mu     sync.Mutex // guards status, curKey
	status RecordingStatus
	curKey int64
}

// RecordingStatus is what a session view shows about its recording.
type RecordingStatus struct {
	Session string `json:"session"`
	Active  bool   `json:"active"`
	// EpisodeID is the current episode's id once its first commit landed
	// (0 before).
	EpisodeID int64 `json:"episode_id"`
	Steps     int   `json:"steps"`
	// Dropped counts this session's steps that will never reach the disk.
	Dropped uint64 `json:"dropped"`
	// Episodes counts the episodes stored, each from its first step
	// (an episode reset before its first step is not stored).
	Episodes int `json:"episodes"`
	// Incomplete reports that the current episode lost steps.
	Incomplete bool `json:"incomplete"`
}

type episodeState struct {
	key          int64
	uid          string
	sessEpisode  int
	stored, lost int
	nextT        int
	ret          float64
	success      bool
	interv       int
	operators    []string
	versions     []string
	robot, human bool
	demo, done   bool
	mode         sim.Mode // at the first step; "" until then
	lastWall     time.Time
	finalObs     []byte
	// row is the episode's row, queued only when the episode has
	// something to store: its first step, a label, or a step it lost.
	// A reset before any of those stores nothing (zero-step episodes:
	// a reset flood once stored 89,701 empty episodes in 10 s). nil once
	// queued.
	row *beginRow
}

// Attach subscribes to sess and records its episodes until the session
// ends, Stop is called, or the recorder closes. Call it before sess.Run so
// the first episode is seen from its reset.
func (r *Recorder) Attach(ctx context.Context, sess *sim.Session, info SessionInfo) (*Recording, error) {
	if info.Mode != "" {
		if err := checkMode(info.Mode); err != nil {
			return nil, err
		}
	}
	if err := checkTags(info.Tags); err != nil {
		return nil, err
	}
	spec := sess.Spec()
	js, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	closed := r.closed
	_, dup := r.taps[sess.ID()]
	r.mu.Unlock()
	if closed {
		return nil, ErrRecorderClosed
	}
	if dup {
		return nil, fmt.Errorf("demos: session %q is already recorded", sess.ID())
	}
	name := info.Name
	if name == "" {
		name = sess.ID()
	}
	sid, err := r.store.newSession(ctx, name, spec.Name, time.Now(), map[string]any{
		"mode": validMode(info.Mode), "operator": info.Operator, "control_hz": sess.State().ControlHz, "teleop_hz": sess.State().TeleopHz,
	})
	if err != nil {
		return nil, err
	}
	t := &Recording{
		r: r, sess: sess, sub: sess.SubscribeSteps(r.cfg.Buffer), sessionID: sid, info: info, name: name,
		spec: spec, specJSON: string(js), done: make(chan struct{}),
	}
	t.status = RecordingStatus{Session: sess.ID(), Active: true}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		t.sub.Close()
		return nil, ErrRecorderClosed
	}
	r.taps[sess.ID()] = t
	r.readers.Add(1)
	r.mu.Unlock()
	go t.read()
	return t, nil
}

// Status reports the recording's state.
func (t *Recording) Status() RecordingStatus {
	t.mu.Lock()
	st := t.status
	t.mu.Unlock()
	if st.EpisodeID == 0 && st.Active {
		if cur := t.currentKey(); cur != 0 {
			st.EpisodeID = t.r.episodeID(cur)
		}
	}
	return st
}

// Status reports the recording of session id, and whether there is one.
func (r *Recorder) Status(sessionID string) (RecordingStatus, bool) {
	r.mu.Lock()
	t := r.taps[sessionID]
	r.mu.Unlock()
	if t == nil {
		return RecordingStatus{}, false
	}
	return t.Status(), true
}

func (t *Recording) currentKey() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.curKey
}

// Stop ends the recording: the running episode is stored as cut. It waits
// for the reader to finish queueing (not for the commit; see Flush).
func (t *Recording) Stop() {
	t.stopOnce.Do(t.sub.Close)
	<-t.done
}

func (t *Recording) read() {
	defer t.r.readers.Done()
	defer close(t.done)
	for rec := range t.sub.C {
		if d := t.sub.Dropped(); d > t.lastDropped {
			t.lose(int(d - t.lastDropped))
			t.lastDropped = d
		}
		if rec.Label != nil && t.cur != nil && !t.cur.done && t.cur.sessEpisode == rec.Episode {
			t.open()
			o := op{kind: opLabel, key: t.cur.key, label: rec.Label}
			t.r.enqueue(o)
			t.r.tap(&o, t.cur.uid, t.name)
		}
		switch rec.Kind {
		case sim.ResetRecord:
			t.cut(rec.Wall)
			t.begin(rec, rec.Next.Slice())
		case sim.StepRecord:
			if t.cur == nil || t.cur.sessEpisode != rec.Episode {
				// The reset was lost (subscription overflow): start the
				// episode from its first surviving step, flagged.
				t.cut(rec.Wall)
				t.begin(rec, nil)
				t.cur.lost += rec.T
				t.cur.nextT = rec.T
			}
			t.step(rec)
		}
	}
	t.cut(time.Now())
	t.r.mu.Lock()
	delete(t.r.taps, t.sess.ID())
	t.r.mu.Unlock()
	t.mu.Lock()
	t.status.Active = false
	t.mu.Unlock()
}

// validMode is m when it names a session mode, else "".
func validMode(m sim.Mode) sim.Mode {
	if _, err := sim.ParseMode(string(m)); err != nil {
		return ""
	}
	return m
}

func (t *Recording) begin(rec *sim.Record, initial []float64) {
	key := t.r.newKey()
	t.cur = &episodeState{key: key, uid: newUID(), sessEpisode: rec.Episode, lastWall: rec.Wall}
	mode := validMode(t.info.Mode)
	if mode == "" {
		mode = validMode(rec.Mode) // the mode the session starts the episode in
	}
	t.cur.mode = mode
	t.cur.row = &beginRow{
		uid: t.cur.uid, sessionID: t.sessionID, task: t.spec.Name, taskVersion: t.spec.Version, seed: rec.Seed, mode: string(mode),
		controlHz: rec.ControlHz, teleopHz: rec.TeleopHz, spec: t.specJSON, start: rec.Wall.UnixNano(), initialObs: blob(initial),
		tags: joinList(t.info.Tags), note: t.info.Note,
	}
	t.mu.Lock()
	t.curKey, t.status.EpisodeID, t.status.Steps, t.status.Incomplete = key, 0, 0, false
	t.mu.Unlock()
}

// open queues the current episode's row, once, before the first thing
// stored about it (its first step or label). The row keeps the reset's
// wall time, seed and initial observation.
func (t *Recording) open() {
	e := t.cur
	if e.row == nil {
		return
	}
	o := op{kind: opBegin, key: e.key, begin: e.row}
	t.r.enqueue(o)
	t.r.tap(&o, e.uid, t.name)
	e.row = nil
	t.mu.Lock()
	t.status.Episodes++
	t.mu.Unlock()
}

func (t *Recording) step(rec *sim.Record) {
	e := t.cur
	if e.done {
		return // a step after the end without a reset: not part of any episode
	}
	if rec.T > e.nextT {
		e.lost += rec.T - e.nextT // records dropped by the subscription
	}
	e.nextT = rec.T + 1
	if e.mode == "" {
		e.mode = validMode(rec.Mode) // the record of the episode's first step
	}
	e.ret, e.interv = rec.Return, rec.Interventions
	e.success = e.success || rec.Success
	e.lastWall = rec.Wall
	row := stepRowOf(rec, rec.Wall, t.info.Operator)
	e.operators = addUnique(e.operators, row.operator)
	e.versions = addUnique(e.versions, row.version)
	switch sim.Source(row.source) {
	case sim.Robot:
		e.robot = true
	case sim.Human:
		e.human = true
	default:
		e.demo = true
	}
	row.count, row.ret, row.interventions, row.anySuccess = e.stored+1, e.ret, e.interv, e.success
	t.open()
	if o := (op{kind: opStep, key: e.key, step: row}); t.r.enqueue(o) {
		e.stored++
		t.r.tap(&o, e.uid, t.name)
	} else {
		t.lose(1)
	}
	if rec.Done() {
		e.finalObs = blob(rec.Next.Slice())
		t.end(outcomeOf(e.success, rec.Terminal, rec.Truncated), rec.Wall)
	}
	t.mu.Lock()
	t.status.Steps = e.stored
	t.mu.Unlock()
}

// lose counts n steps of the current episode that will not be stored.
func (t *Recording) lose(n int) {
	t.r.dropped.Add(uint64(n))
	t.mu.Lock()
	t.status.Dropped += uint64(n)
	t.status.Incomplete = true
	t.mu.Unlock()
	if t.cur != nil && !t.cur.done {
		t.cur.lost += n
		if t.cur.lost == n {
			t.r.log.Warn("demos: recorder dropping steps; episode will be flagged incomplete",
				"session", t.sess.ID(), "pending_limit", t.r.cfg.MaxPending)
		}
	}
}

// cut ends a running episode that did not reach its end.
func (t *Recording) cut(wall time.Time) {
	if t.cur == nil || t.cur.done {
		return
	}
	if !t.cur.lastWall.IsZero() {
		wall = t.cur.lastWall
	}
	t.end(Cut, wall)
}

func (t *Recording) end(outcome Outcome, wall time.Time) {
	e := t.cur
	e.done = true
	if e.row != nil {
		if e.lost == 0 {
			return // no step, no label, nothing lost: nothing to store
		}
		t.open() // every step was lost: store the episode so the loss shows
	}
	mode := e.mode
	if mode == "" {
		mode = deriveMode(e.robot, e.human, e.demo)
	}
	o := op{kind: opEnd, key: e.key, end: &endRow{
		end: wall.UnixNano(), outcome: outcome, length: e.stored, ret: e.ret, success: e.success,
		interv: e.interv, operators: e.operators, versions: e.versions, mode: string(mode),
		complete: outcome != Cut && e.lost == 0, dropped: e.lost, finalObs: e.finalObs,
	}}
	t.r.enqueue(o)
	t.r.tap(&o, e.uid, t.name)
}
