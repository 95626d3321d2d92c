package web

import (
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"tandem/live"
	"tandem/sim"
	"tandem/teleop"
)

// view is the transport side of one live session: its WebSocket clients
// and the fan-out goroutine that turns the session's records into frames
// (encoded once, shared by every client) and state messages. It reads
// records only, never the session's live state. Lock order: view.mu before
// a client's queue lock.
type view struct {
	srv    *Server
	sess   *live.Session
	id     string
	spec   sim.Spec
	scene  *sim.Scene
	replay bool
	simOp  bool // a simulated operator is attached: attended for the idle rule

	sub  *sim.Subscription
	done chan struct{} // closed when the fan-out goroutine returned
	poke chan struct{} // client set changed: send a state message

	mu      sync.Mutex // guards clients, byOp, nOps, nViews, closing and the idle state
	clients map[*client]struct{}
	byOp    map[string]*client
	nOps    int // operators in clients
	nViews  int // viewers in clients
	closing bool
	// Idle policy (idle.go): idleAfter is how long the session may go
	// without a client before it is paused (live) or deleted (replay), 0
	// for never; idleSince when the last client left (session clock, zero
	// while someone is connected); idlePaused that the idle rule paused
	// it and nobody resumed it since; foxSubs the Foxglove pumps on it.
	idleAfter  time.Duration
	idleSince  time.Time
	idlePaused bool
	foxSubs    int

	actions syncBucket                // REST session actions (reset, pause, ...)
	all     atomic.Pointer[[]*client] // fan-out snapshot
	last    atomic.Pointer[frame]
	rec     atomic.Pointer[sim.Record] // newest record seen by the fan-out

	// fan-out goroutine state
	seq      uint64
	lastLen  int // the previous frame body's length: the next one's buffer is sized from it
	lastHelp bool
	lastSucc bool
	prev     stateKey
	sentAny  bool
	// countsAt is when a state message last went out for a change of the
	// client counts alone; countsDue that one is held back (see
	// countsEvery) and a poke will send it.
	countsAt  time.Time
	countsDue bool
}

// countsEvery bounds state messages that only report new client counts:
// without it each viewer joining sends a state to every client, n² for n
// viewers (a 1,000-viewer flood queued half a million messages).
const countsEvery = time.Second

// newView subscribes to sess and starts its fan-out.
func (s *Server) newView(sess *live.Session) *view {
	v := &view{
		srv: s, sess: sess, id: sess.ID(), spec: sess.Spec(), scene: sess.Scene(), replay: !sess.Live(),
		simOp: sess.SimOperator() != "",
		done:  make(chan struct{}), poke: make(chan struct{}, 1),
		clients: map[*client]struct{}{}, byOp: map[string]*client{},
		idleSince: s.cfg.Clock.Now(), actions: syncBucket{b: newBucket(s.cfg.ControlRate)},
	}
	if v.replay {
		v.idleAfter = max(s.cfg.ReplayIdle, 0)
	}
	empty := []*client{}
	v.all.Store(&empty)
	v.sub = sess.Subscribe(16)
	if r := sess.Last(); r != nil {
		v.rec.Store(r)
	}
	go v.fanout()
	return v
}

// close disconnects every client with code and reason and ends the
// fan-out (the session has stopped or is about to).
func (v *view) close(code int, reason string) {
	v.mu.Lock()
	if v.closing {
		v.mu.Unlock()
		return
	}
	v.closing = true
	cl := make([]*client, 0, len(v.clients))
	for c := range v.clients {
		cl = append(cl, c)
	}
	v.mu.Unlock()
	v.sub.Close()
	<-v.done
	for _, c := range cl {
		c.kick(code, reason)
	}
	v.srv.metrics.sessionEnded(v.id)
}

func (v *view) pokeState() {
	select {
	case v.poke <- struct{}{}:
	default:
	}
}

// fanout turns records into frames for every client until the
// subscription closes.
func (v *view) fanout() {
	defer close(v.done)
	for {
		select {
		case r, ok := <-v.sub.C:
			if !ok {
				return
			}
			v.rec.Store(r)
			v.publish(r)
		case <-v.poke:
			if r := v.rec.Load(); r != nil {
				v.checkState(r)
			}
		}
	}
}

func (v *view) publish(r *sim.Record) {
	v.checkState(r)
	var ev events
	switch r.Kind {
	case sim.ResetRecord:
		ev |= evReset
		v.lastHelp, v.lastSucc = false, false
	case sim.StepRecord, sim.SubRecord:
		if r.InterventionStart {
			ev |= evInterventionStart
			v.srv.metrics.interventions.WithLabelValues(v.id).Inc()
		}
		if r.InterventionEnd {
			ev |= evInterventionEnd
		}
		if r.Help && !v.lastHelp {
			ev |= evHelp
		}
		v.lastHelp = r.Help
		if r.Kind == sim.StepRecord {
			if r.Success && !v.lastSucc {
				ev |= evSuccess
			}
			if r.Terminal {
				ev |= evTerminal
			}
			if r.Truncated {
				ev |= evTruncated
			}
			v.lastSucc = r.Success
		}
	}
	if r.Label != nil {
		ev |= evLabel
	}
	v.seq++
	body := appendFrame(make([]byte, 0, v.lastLen+64), v.seq, r, ev, v.replay, v.lastSucc)
	v.lastLen = len(body)
	f := &frame{seq: v.seq, episode: r.Episode, wall: r.Wall, inputs: r.Inputs, body: body}
	v.last.Store(f)
	for _, c := range *v.all.Load() {
		c.pushFrame(f)
	}
}

// stateKey is what a state message reports; a change sends one.
type stateKey struct {
	mode, holder, requests string
	help, paused           bool
	version                string
	label                  string
	ops, views             int
	idlePaused             bool
	learning               bool
}

// checkState broadcasts a state message when the record's mode,
// authority, pause, policy, label, the client counts, the idle pause or
// the session's part in online learning changed.
func (v *view) checkState(r *sim.Record) {
	v.mu.Lock()
	ops, views := v.counts()
	idle := v.idlePaused
	v.mu.Unlock()
	label := ""
	if r.Label != nil {
		label = r.Label.Outcome
	}
	// Taking part in online learning is the session's setting, not a
	// tick's: read it here so a change reaches clients as a state message.
	learning := v.sess.Live() && v.sess.Learning()
	key := stateKey{modeOf(r, v.replay), holderOf(r, v.replay), joinRequests(r.Requests), r.Help, r.Paused, r.PolicyVersion, label, ops, views, idle, learning}
	if v.sentAny && key == v.prev {
		return
	}
	if v.sentAny && key.sameButCounts(v.prev) {
		if wait := countsEvery - time.Since(v.countsAt); wait > 0 {
			if !v.countsDue {
				v.countsDue = true
				time.AfterFunc(wait, v.pokeState)
			}
			return
		}
		v.countsAt = time.Now()
	}
	v.countsDue = false
	first := !v.sentAny
	v.prev, v.sentAny = key, true
	if first {
		return // the first state goes out in hellos
	}
	in := v.infoFrom(r, ops, views)
	v.idleInfo(&in, idle)
	b, _ := json.Marshal(stateMsg{Type: msgState, Session: in})
	for _, c := range *v.all.Load() {
		c.pushMsg(b)
	}
}

// sameButCounts reports whether k and o differ in the client counts only.
func (k stateKey) sameButCounts(o stateKey) bool {
	k.ops, k.views = o.ops, o.views
	return k == o
}

func joinRequests(rs []string) string {
	switch len(rs) {
	case 0:
		return ""
	case 1:
		return rs[0]
	}
	out := rs[0]
	for _, r := range rs[1:] {
		out += "\x00" + r
	}
	return out
}

// counts reports connected operators and viewers; v.mu held.
func (v *view) counts() (ops, views int) { return v.nOps, v.nViews }

// info describes the session for REST and hellos.
func (v *view) info() SessionInfo {
	v.mu.Lock()
	ops, views := v.counts()
	idle := v.idlePaused
	v.mu.Unlock()
	in := infoOf(v.sess.Info(), ops, views)
	v.idleInfo(&in, idle)
	return in
}

// idleInfo adds the idle policy to in: its delay, and why the session is
// paused when the idle rule paused it.
func (v *view) idleInfo(in *SessionInfo, idlePaused bool) {
	v.mu.Lock()
	in.IdleAfterS = v.idleAfter.Seconds()
	v.mu.Unlock()
	if idlePaused && in.Paused {
		in.PausedReason = pausedIdle
	}
}

// infoFrom is info with the authority fields of record r (state messages
// report the tick that changed them).
func (v *view) infoFrom(r *sim.Record, ops, views int) SessionInfo {
	in := infoOf(v.sess.Info(), ops, views)
	in.Mode, in.Paused = modeOf(r, v.replay), r.Paused
	in.Authority = Authority{Holder: holderOf(r, v.replay), Requests: r.Requests, Help: r.Help}
	if in.Authority.Requests == nil {
		in.Authority.Requests = []string{}
	}
	if r.PolicyVersion != "" {
		in.PolicyVersion = r.PolicyVersion
	}
	if r.Label != nil {
		in.Label = r.Label
	}
	return in
}

// infoOf converts a hub session's description to the protocol's.
func infoOf(in live.Info, ops, views int) SessionInfo {
	mode := string(in.Mode)
	if in.Replay != 0 {
		mode = "replay"
	}
	holder := in.Holder
	if holder == "" {
		holder = "none"
	}
	policy := in.Policy
	if in.Replay != 0 {
		policy = "replay"
	}
	req := in.Requests
	if req == nil {
		req = []string{}
	}
	return SessionInfo{
		ID: in.ID, Task: in.Task, Mode: mode, Policy: policy, PolicyVersion: in.PolicyVersion,
		Paused: in.Paused, Episode: in.Episode, Seed: in.Seed, T: in.T, ControlHz: in.ControlHz, TeleopHz: in.TeleopHz,
		Horizon: in.Horizon, Recording: in.Recording, Replay: in.Replay,
		Authority: Authority{Holder: holder, Requests: req, Help: in.Help},
		Clients:   ClientCounts{Operators: ops, Viewers: views},
		Label:     in.Label, Ticks: in.Ticks, Overruns: in.Overruns, Learning: in.Learning, SimOperator: in.SimOperator,
	}
}

// addClient registers c and queues its hello before any frame. An operator
// id already connected is replaced (the old connection is closed).
func (v *view) addClient(c *client) error {
	v.mu.Lock()
	if v.closing {
		v.mu.Unlock()
		return sim.ErrSessionClosed
	}
	// Operators and viewers have their own caps, so viewers (who need no
	// token on loopback) cannot fill a session and lock operators out.
	var old *client
	resume := false
	if c.role == RoleOperator {
		old = v.byOp[c.operator]
		if old == nil && v.nOps >= v.srv.cfg.MaxOperators {
			v.mu.Unlock()
			return fmt.Errorf("session %s has %d operators, the limit", v.id, v.nOps)
		}
		if old != nil {
			v.removeLocked(old)
		}
		v.byOp[c.operator] = c
		v.nOps++
		// An operator arriving resumes a session the idle rule paused
		// (idle.go); a viewer does not.
		resume, v.idlePaused = v.idlePaused, false
	} else {
		if v.nViews >= v.srv.cfg.MaxViewers {
			v.mu.Unlock()
			return fmt.Errorf("session %s has %d viewers, the limit", v.id, v.nViews)
		}
		v.nViews++
	}
	v.clients[c] = struct{}{}
	v.idleSince = time.Time{}
	v.mu.Unlock()
	if resume {
		v.sess.Resume() //nolint:errcheck // a closed session refuses; the hello says so
		v.srv.log.Info("session resumed: an operator connected", "session", v.id, "operator", c.operator)
	}
	if old != nil {
		old.kick(closeReplaced, "replaced by a new connection of "+c.operator)
	}
	if c.role == RoleOperator && v.sess.Live() {
		// Browser commands are task-space actions (docs/protocol.md).
		if err := v.sess.Attach(c.operator, teleop.TaskSpace(c.latch)); err != nil {
			v.removeClient(c)
			return err
		}
	}
	c.pushMsg(v.hello(c))
	v.mu.Lock()
	v.snapshotLocked()
	v.mu.Unlock()
	v.pokeState()
	return nil
}

// removeClient unregisters c (idempotent).
func (v *view) removeClient(c *client) {
	v.mu.Lock()
	_, ok := v.clients[c]
	if ok {
		v.removeLocked(c)
	}
	v.mu.Unlock()
	if ok {
		v.pokeState()
	}
}

func (v *view) removeLocked(c *client) {
	delete(v.clients, c)
	if c.role == RoleOperator {
		v.nOps--
		if v.byOp[c.operator] == c {
			delete(v.byOp, c.operator)
			c.latch.Disconnect()
			v.sess.Detach(c.operator)
		}
	} else {
		v.nViews--
	}
	if len(v.clients) == 0 {
		v.idleSince = v.srv.cfg.Clock.Now()
	}
	v.snapshotLocked()
}

func (v *view) snapshotLocked() {
	all := make([]*client, 0, len(v.clients))
	for c := range v.clients {
		all = append(all, c)
	}
	slices.SortFunc(all, func(a, b *client) int { return int(a.n - b.n) })
	v.all.Store(&all)
}

func (v *view) hello(c *client) []byte {
	var fr json.RawMessage = []byte("null")
	if f := v.last.Load(); f != nil {
		fr = appendFrameTail(slices.Clip(f.body), 0, 0)
	}
	b, err := json.Marshal(helloMsg{
		Type: msgHello, Role: c.role, Client: c.id, Operator: c.operator,
		Session: v.info(), Spec: v.spec, Scene: v.scene, Frame: fr,
		Limits: helloLimits{MaxMessage: v.srv.cfg.MaxMessage, SendQueue: v.srv.cfg.SendQueue, SlowAfterMS: v.srv.cfg.SlowAfter.Milliseconds()},
	})
	if err != nil {
		// A task scene with NaN coordinates cannot be encoded; report it to
		// the client rather than send nothing.
		b, _ = json.Marshal(errorMsg{Type: msgError, Error: "cannot encode hello: " + err.Error(), Code: codeClosed})
	}
	return b
}
