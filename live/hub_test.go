package live

import (
	"context"
	"io"
	"log/slog"
	"math"
	"testing"
	"time"

	"tandem/demos"
	"tandem/sim"
	"tandem/tasks"
	"tandem/teleop"
	"tandem/teleop/evdev"
)

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

type rig struct {
	t     *testing.T
	hub   *Hub
	clock *sim.ManualClock
	store *demos.Store
	dir   string
}

// newRig starts a hub on a manual clock with a real store in a temporary
// directory.
func newRig(t *testing.T) *rig {
	t.Helper()
	dir := t.TempDir()
	st, err := demos.Open(context.Background(), dir, demos.Options{})
	if err != nil {
		t.Fatal(err)
	}
	clock := sim.NewManualClock(t0)
	h, err := New(Config{Clock: clock, Store: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, hub: h, clock: clock, store: st, dir: dir}
	t.Cleanup(func() {
		r.close()
		st.Close()
	})
	return r
}

func (r *rig) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := r.hub.Close(ctx); err != nil {
		r.t.Errorf("hub close: %v", err)
	}
}

// advance moves the clock n ticks of period, each time after every session
// loop has parked on the clock.
func (r *rig) advance(n int, period time.Duration) {
	r.t.Helper()
	for range n {
		deadline := time.Now().Add(10 * time.Second)
		for r.clock.Waiters() < r.hub.Len() {
			if time.Now().After(deadline) {
				r.t.Fatal("session loops did not park on the clock within 10 s")
			}
			time.Sleep(100 * time.Microsecond)
		}
		r.clock.Advance(period)
	}
}

// waitRecord reads sub until a record satisfies ok.
func waitRecord(t *testing.T, sub *sim.Subscription, what string, ok func(*sim.Record) bool) *sim.Record {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case r, open := <-sub.C:
			if !open {
				t.Fatalf("%s: the session ended first", what)
			}
			if ok(r) {
				return r
			}
		case <-deadline:
			t.Fatalf("%s: not seen within 10 s", what)
		}
	}
}

func TestLiveEpisodesRecordAtTheControlRate(t *testing.T) {
	r := newRig(t)
	s, err := r.hub.Create(Options{Task: "reach", Mode: "auto", Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	if s.Subs() != 3 || s.Period() != time.Second/60 {
		t.Fatalf("reach: %d sub-ticks of %v; want 3 of 1/60 s", s.Subs(), s.Period())
	}
	r.advance(3*30, s.Period()) // 30 control periods
	r.close()
	eps, err := r.store.ListEpisodes(context.Background(), demos.Filter{})
	if err != nil || len(eps) == 0 {
		t.Fatalf("episodes %d, %v; want at least 1", len(eps), err)
	}
	ep := eps[0]
	if ep.ControlHz != 20 || ep.TeleopHz != 60 || ep.Mode != "auto" {
		t.Errorf("episode control %g teleop %g mode %q; want 20, 60, auto", ep.ControlHz, ep.TeleopHz, ep.Mode)
	}
	steps, err := r.store.Steps(context.Background(), ep.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) < 10 {
		t.Fatalf("%d steps stored; want the episode's steps", len(steps))
	}
	for i := 1; i < len(steps); i++ {
		// 1/60 s sub-ticks are truncated to whole nanoseconds.
		if dt := steps[i].Wall.Sub(steps[i-1].Wall); (dt - 50*time.Millisecond).Abs() > time.Microsecond {
			t.Fatalf("steps %d and %d are %v apart; want 1/ControlHz = 50ms", i-1, i, dt)
		}
	}
	// The same seed and actions step headlessly to the same observations.
	if n, err := demos.Verify(context.Background(), r.store, ep.ID, tasks.New); err != nil || n != len(steps) {
		t.Fatalf("verify: %d steps, %v", n, err)
	}
}

// press returns a command from op with buttons held and an action.
func press(op string, b teleop.Buttons, engaged bool, action ...float64) teleop.Command {
	return teleop.Command{Operator: op, Action: sim.VecOf(action), Buttons: b, Engaged: engaged}
}

func TestDeviceButtonsTakeOverLabelAndReset(t *testing.T) {
	r := newRig(t)
	s, err := r.hub.Create(Options{Task: "reach", Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	pad := teleop.NewLatch("pad0")
	if err := s.Attach("pad0", pad); err != nil {
		t.Fatal(err)
	}
	sub := s.Subscribe(4096)
	p := s.Period()
	r.advance(6, p)
	// Takeover held and the stick moved: human steps, applied at sub-ticks.
	pad.Set(press("pad0", teleop.Takeover, true, 0.8, -0.2))
	r.advance(3, p)
	pad.Set(press("pad0", teleop.Takeover, true, -0.5, 0.6))
	r.advance(6, p)
	// Y (success) pressed while still in control, then released.
	pad.Set(press("pad0", teleop.Takeover|teleop.MarkSuccess, true, 0, 0))
	r.advance(3, p)
	pad.Set(press("pad0", 0, false, 0, 0))
	r.advance(3, p)
	// Start: a new episode.
	pad.Set(press("pad0", teleop.Reset, false, 0, 0))
	r.advance(3, p)
	pad.Set(press("pad0", 0, false, 0, 0))
	r.advance(6, p)
	// Episode 2 is stored from its first step (a reset alone stores nothing).
	waitRecord(t, sub, "episode 2's first step", func(rec *sim.Record) bool { return rec.Kind == sim.StepRecord && rec.Episode == 2 })
	r.close()

	ctx := context.Background()
	eps, err := r.store.ListEpisodes(ctx, demos.Filter{})
	if err != nil || len(eps) < 2 {
		t.Fatalf("episodes %d, %v; want the labelled one and the next", len(eps), err)
	}
	ep := eps[0]
	if ep.Label != sim.LabelSuccess || ep.LabelBy != "pad0" || ep.Outcome != demos.Cut || ep.Mode != "shared" {
		t.Fatalf("episode label %q by %q outcome %s mode %q; want success by pad0, cut by the reset, shared", ep.Label, ep.LabelBy, ep.Outcome, ep.Mode)
	}
	steps, err := r.store.Steps(ctx, ep.ID)
	if err != nil {
		t.Fatal(err)
	}
	human, sub3 := 0, 0
	for _, st := range steps {
		if st.Source == sim.Human {
			human++
			if st.Operator != "pad0" {
				t.Errorf("human step by %q; want pad0", st.Operator)
			}
			if len(st.Subticks) == 6 {
				sub3++
			}
		}
	}
	if human < 3 || sub3 != human {
		t.Fatalf("%d human steps, %d with 3 sub-tick commands; want at least 3, all sub-ticked", human, sub3)
	}
	if n, err := demos.Verify(ctx, r.store, ep.ID, tasks.New); err != nil || n != len(steps) {
		t.Fatalf("verify of a sub-ticked live episode: %d of %d steps, %v", n, len(steps), err)
	}
}

// ffDevice is an input source with force feedback that records what it
// was asked to render (the fake device writer).
type ffDevice struct {
	*teleop.Latch
	ff *fakeFF
}

func (d *ffDevice) ForceFeedback() (evdev.ForceFeedback, bool) { return d.ff, true }

type fakeFF struct {
	levels  chan float64
	rumbles chan time.Duration
	stopped chan struct{}
}

func (f *fakeFF) Rumble(strong, weak float64, d time.Duration) error {
	select {
	case f.rumbles <- d:
	default:
	}
	return nil
}
func (f *fakeFF) Constant(level, dir float64) error {
	select {
	case f.levels <- level:
	default:
	}
	return nil
}
func (f *fakeFF) SetGain(float64) error { return nil }
func (f *fakeFF) Stop() error           { close(f.stopped); return nil }

func TestContactForcesDriveForceFeedback(t *testing.T) {
	r := newRig(t)
	// The insertion's peak level is 0.09 at gain 1: a gain of 10 drives it
	// past the cap, so the cap is what holds it (at 0.5, exactly).
	r.hub.cfg.HapticCap, r.hub.cfg.HapticGain = 0.5, 10
	s, err := r.hub.Create(Options{Task: "peg-insert", Mode: "auto", Seed: 2, Record: new(bool)})
	if err != nil {
		t.Fatal(err)
	}
	ff := &fakeFF{levels: make(chan float64, 1024), rumbles: make(chan time.Duration, 16), stopped: make(chan struct{})}
	open := func(path string, spec sim.Spec) (string, teleop.Source, io.Closer, error) {
		return "pad0", &ffDevice{Latch: teleop.NewLatch("pad0"), ff: ff}, io.NopCloser(nil), nil
	}
	if err := r.hub.AttachDevice(s.ID(), "fake0", open); err != nil {
		t.Fatal(err)
	}
	if got := r.hub.Devices(); len(got) != 1 || !got[0].Haptics {
		t.Fatalf("devices %+v; want one with haptics", got)
	}
	// The expert pushes the peg into its hole: contact.
	max := 0.0
	for range 60 {
		r.advance(3, s.Period())
	drain:
		for {
			select {
			case l := <-ff.levels:
				max = math.Max(max, l)
			default:
				break drain
			}
		}
	}
	if max == 0 {
		t.Fatal("no constant force rendered during a peg insertion")
	}
	if max > 0.5 {
		t.Fatalf("force feedback level %v above the hard cap 0.5", max)
	}
	if max != 0.5 {
		t.Fatalf("peak force feedback level %v; want the gain to drive it to the cap 0.5", max)
	}
	if err := r.hub.DetachDevice("fake0"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ff.stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("detaching did not stop the force feedback")
	}
}

func TestCreateValidatesOnce(t *testing.T) {
	r := newRig(t)
	one := 1.0
	for _, tc := range []struct {
		name string
		o    Options
	}{
		{"unknown task", Options{Task: "nope"}},
		{"unknown mode", Options{Task: "reach", Mode: "manual"}},
		{"unknown policy", Options{Task: "reach", Policy: "v99"}},
		{"skill with random", Options{Task: "reach", Policy: "random", Skill: &one}},
		{"tiny control rate", Options{Task: "reach", ControlHz: 1e-300}},
		{"control rate not dividing physics", Options{Task: "reach", ControlHz: 7}},
		{"teleop rate not a multiple", Options{Task: "reach", TeleopHz: 50}},
	} {
		if _, err := r.hub.Create(tc.o); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
	if r.hub.Len() != 0 {
		t.Errorf("%d sessions after refused creations; want 0", r.hub.Len())
	}
}

func TestSimulatedOperatorRunsASharedSessionUnattended(t *testing.T) {
	r := newRig(t)
	for _, bad := range []string{"human", "sim:rule=telepathy", "simulated"} {
		if _, err := r.hub.Create(Options{Task: "reach", Operator: bad}); err == nil {
			t.Errorf("operator %q was accepted", bad)
		}
	}
	s, err := r.hub.Create(Options{Task: "reach", Policy: "random", Operator: "sim:skill=1,rule=distance,id=ann", Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	r.advance(3*60, s.Period())
	r.close()
	eps, err := r.store.ListEpisodes(context.Background(), demos.Filter{})
	if err != nil || len(eps) == 0 {
		t.Fatalf("episodes %d, %v", len(eps), err)
	}
	steps, err := r.store.Steps(context.Background(), eps[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	human := 0
	for _, st := range steps {
		if st.Source == sim.Human {
			human++
			// Named sim:ID, never a bare id a person could have (docs/storage.md).
			if st.Operator != "sim:ann" || st.Subticks != nil {
				t.Fatalf("human step by %q with %d sub-tick values; want the simulated operator sim:ann acting once per period", st.Operator, len(st.Subticks))
			}
		}
	}
	if human == 0 || eps[0].Interventions == 0 || eps[0].Mode != "shared" {
		t.Fatalf("%d human steps, %d interventions, mode %q; want the operator correcting a random policy in shared mode", human, eps[0].Interventions, eps[0].Mode)
	}
}

// TestOnlineTrainerPromotesAndSessionsSwitch runs a learning shared reach
// session with a simulated operator: the online trainer trains on its
// episodes, promotes a version, and the session's later episodes are
// acted by it.
func TestOnlineTrainerPromotesAndSessionsSwitch(t *testing.T) {
	r := newRig(t)
	if err := r.hub.StartLearning(OnlineConfig{Algo: "bc", Params: map[string]string{"steps": "200"}, MinNewEpisodes: 3,
		EvalEpisodes: 5, PromoteMin: 1e-9, Every: 100 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	s, err := r.hub.Create(Options{Task: "reach", Operator: "sim", Learn: true, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	if in := s.Info(); in.Policy != "expert" || !in.Learning {
		t.Fatalf("learning session runs %q (learning %v); want the expert until a version is promoted", in.Policy, in.Learning)
	}
	ctx := context.Background()
	deadline := time.Now().Add(60 * time.Second)
	var version string
	for version == "" || s.policyName() != version || s.Info().PolicyVersion != version {
		if time.Now().After(deadline) {
			t.Fatalf("no promoted version acting within 60 s; events %+v", r.hub.LearnEvents())
		}
		r.advance(30, s.Period())
		if cur, ok, _ := r.store.Current(ctx, "reach"); ok {
			version = cur.Version
		}
	}
	r.advance(3*120, s.Period()) // finish the episode under way and play one under the new version
	r.close()
	eps, err := r.store.ListEpisodes(ctx, demos.Filter{PolicyVersion: version})
	if err != nil || len(eps) == 0 {
		t.Fatalf("episodes acted by %s: %d, %v", version, len(eps), err)
	}
	for _, e := range eps {
		if len(e.PolicyVersion) != 1 {
			t.Errorf("episode %d mixes versions %v; a switch must wait for the episode boundary", e.ID, e.PolicyVersion)
		}
	}
	promoted := false
	for _, e := range r.hub.LearnEvents() {
		if e.Eval == nil || e.Err != "" {
			t.Errorf("event %+v: every candidate is evaluated", e)
		}
		promoted = promoted || e.Version == version && e.Promoted
	}
	if !promoted {
		t.Fatalf("events %+v; want %s promoted by the trainer", r.hub.LearnEvents(), version)
	}
}
