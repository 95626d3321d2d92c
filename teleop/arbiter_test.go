package teleop

import (
	"math"
	"testing"
	"time"

	"tandem/sim"
)

func TestModes(t *testing.T) {
	policy := []float64{0.5, -0.5, 1}
	human := []float64{-0.2, 0.3, -1}
	for _, tc := range []struct {
		name    string
		mode    sim.Mode
		engaged bool
		source  sim.Source
		action  []float64
		op      string
		ranPol  bool
	}{
		{"teleop drives without engaging", sim.ModeTeleop, false, sim.Demo, human, "pad", false},
		{"teleop engaged", sim.ModeTeleop, true, sim.Demo, human, "pad", false},
		{"auto ignores an engaged operator", sim.ModeAuto, true, sim.Robot, policy, "", true},
		{"shared idle operator", sim.ModeShared, false, sim.Robot, policy, "", true},
		{"shared engaged operator", sim.ModeShared, true, sim.Human, human, "pad", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			task := &stubTask{}
			a := newTestArbiter(t, task, Config{Mode: tc.mode, Policy: &fixedPolicy{a: policy}, PolicyVersion: "v1"})
			l := NewLatch("pad")
			if err := a.AddSource("pad", l); err != nil {
				t.Fatal(err)
			}
			l.Set(cmd("pad", tc.engaged, human...))
			d, act := tick(a, task)
			if d.Source != tc.source || d.Operator != tc.op {
				t.Errorf("source %q operator %q; want %q %q", d.Source, d.Operator, tc.source, tc.op)
			}
			if !equal(act, tc.action) {
				t.Errorf("action %v; want %v", act, tc.action)
			}
			if ran := d.PolicyAction.Len() > 0; ran != tc.ranPol {
				t.Errorf("policy ran %v; want %v", ran, tc.ranPol)
			} else if ran && (!equal(d.PolicyAction.Slice(), policy) || d.PolicyVersion != "v1") {
				t.Errorf("policy action %v version %q; want %v v1", d.PolicyAction.Slice(), d.PolicyVersion, policy)
			}
		})
	}
}

func TestModeSwitchAtRuntime(t *testing.T) {
	task := &stubTask{}
	a := newTestArbiter(t, task, Config{Mode: sim.ModeAuto, Policy: &fixedPolicy{a: []float64{0.1, 0.1, 0}}})
	l := NewLatch("pad")
	a.AddSource("pad", l)
	l.Set(cmd("pad", true, 0.5, 0, 0))
	if d, _ := tick(a, task); d.Source != sim.Robot {
		t.Fatalf("auto: source %q; want robot", d.Source)
	}
	if err := a.SetMode("bogus"); err == nil {
		t.Error("SetMode(bogus) succeeded; want an error")
	}
	a.SetMode(sim.ModeShared)
	if got := a.State().Mode; got != sim.ModeShared {
		t.Errorf("State().Mode before the tick %q; want shared (pending)", got)
	}
	d, _ := tick(a, task)
	if d.Source != sim.Human || !d.InterventionStart {
		t.Errorf("after switch to shared: source %q start %v; want human true", d.Source, d.InterventionStart)
	}
	a.SetMode(sim.ModeTeleop)
	d, _ = tick(a, task)
	if d.Source != sim.Demo || d.Operator != "pad" || !d.InterventionEnd {
		t.Errorf("shared → teleop: source %q operator %q end %v; want demo pad true", d.Source, d.Operator, d.InterventionEnd)
	}
	a.SetMode(sim.ModeAuto)
	if d, _ = tick(a, task); d.Source != sim.Robot {
		t.Errorf("teleop → auto: source %q; want robot", d.Source)
	}
}

func TestPolicyHotSwap(t *testing.T) {
	task := &stubTask{}
	a := newTestArbiter(t, task, Config{Mode: sim.ModeAuto, Policy: &fixedPolicy{a: []float64{0.1, 0, 0}}, PolicyVersion: "v1"})
	if d, act := tick(a, task); d.PolicyVersion != "v1" || act[0] != 0.1 {
		t.Fatalf("before swap: version %q action %v; want v1 0.1", d.PolicyVersion, act)
	}
	next := &fixedPolicy{a: []float64{0.2, 0, 0}}
	a.SetPolicy(next, "v2")
	if got := a.State().PolicyVersion; got != "v1" {
		t.Errorf("state before the tick %q; want v1", got)
	}
	d, act := tick(a, task)
	if d.PolicyVersion != "v2" || act[0] != 0.2 || d.PolicyAction.At(0) != 0.2 {
		t.Errorf("after swap: version %q action %v; want v2 0.2", d.PolicyVersion, act)
	}
	if next.resets != 1 {
		t.Errorf("swapped-in policy reset %d times; want 1", next.resets)
	}
	a.SetPolicy(nil, "")
	if d, act = tick(a, task); d.Source != sim.Robot || d.PolicyAction.Len() != 0 || !equal(act, []float64{0, 0, 0}) {
		t.Errorf("no policy: %+v action %v; want a robot hold", d, act)
	}
}

func TestBadActionsAreSkipped(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	for _, tc := range []struct {
		name        string
		policy      []float64
		human       []float64 // nil: no operator engaged
		rejected    uint64
		polRejected uint64
	}{
		{"NaN command", []float64{0.1, 0, 0}, []float64{nan, 0, 0}, 1, 0},
		{"Inf command", []float64{0.1, 0, 0}, []float64{0, inf, 0}, 1, 0},
		{"short command", []float64{0.1, 0, 0}, []float64{0.5, 0.5}, 1, 0},
		{"NaN policy", []float64{nan, 0, 0}, nil, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			task := &stubTask{}
			a := newTestArbiter(t, task, Config{Policy: &fixedPolicy{a: tc.policy}})
			l := NewLatch("pad")
			a.AddSource("pad", l)
			if tc.human != nil {
				l.Set(cmd("pad", true, tc.human...))
			}
			d, act := tick(a, task)
			if !equal(act, []float64{0, 0, 0}) {
				t.Errorf("action %v; want the hold action", act)
			}
			if tc.human == nil && d.PolicyAction.Len() != 0 {
				t.Errorf("policy action %v recorded; want none", d.PolicyAction.Slice())
			}
			st := a.State()
			if st.Rejected != tc.rejected || st.PolicyRejected != tc.polRejected {
				t.Errorf("rejected %d/%d; want %d/%d", st.Rejected, st.PolicyRejected, tc.rejected, tc.polRejected)
			}
		})
	}
}

func TestHelpRequest(t *testing.T) {
	task := &stubTask{}
	pol := &fixedPolicy{a: []float64{0, 0, 0}}
	a := newTestArbiter(t, task, Config{Policy: pol})
	if d, _ := tick(a, task); d.Help || a.State().Help {
		t.Fatal("help raised without a request")
	}
	pol.help = true
	if d, _ := tick(a, task); !d.Help || !a.State().Help {
		t.Errorf("policy needs help: decision %v state %v; want true true", d.Help, a.State().Help)
	}
}

func TestBumplessAbsoluteTakeover(t *testing.T) {
	task := &absTask{}
	a := newTestArbiter(t, task, Config{RateGain: 1, Policy: &fixedPolicy{a: []float64{0.6, 0.6, 1}}})
	env := func(act []float64) {
		task.Act(act, 0.1)
		for range 10 {
			task.Substep(0.01)
		}
	}
	_, act := tick(a, task)
	env(act)
	l := NewLatch("pad")
	a.AddSource("pad", l)
	l.Set(cmd("pad", true, 1, 0, 1)) // full right at 1 unit/s, 10 Hz; jaw open
	d, act := tick(a, task)
	want := []float64{0.6 + 0.1, 0.6, 1}
	if d.Source != sim.Human || !equal(act, want) {
		t.Fatalf("takeover: source %q action %v; want human %v (from where the tool is)", d.Source, act, want)
	}
	env(act)
	c := cmd("pad", true, 1, 0, -1)
	c.Clutch = true
	l.Set(c)
	if _, act = tick(a, task); !equal(act, []float64{0.7, 0.6, -1}) {
		t.Errorf("clutched: action %v; want the tool held, jaw as commanded [0.7 0.6 -1]", act)
	}
	l.Set(cmd("pad", true, 0, -1, -1))
	if _, act = tick(a, task); !equal(act, []float64{0.7, 0.5, -1}) {
		t.Errorf("after the clutch: action %v; want [0.7 0.5 -1]", act)
	}
}

func TestClutchKeepsJaw(t *testing.T) {
	task := &stubTask{}
	a := newTestArbiter(t, task, Config{Mode: sim.ModeTeleop})
	l := NewLatch("pad")
	a.AddSource("pad", l)
	c := cmd("pad", true, 0.8, -0.8, -1)
	c.Clutch = true
	l.Set(c)
	if _, act := tick(a, task); !equal(act, []float64{0, 0, -1}) {
		t.Errorf("clutched: action %v; want motion frozen, jaw kept closed [0 0 -1]", act)
	}
}

func TestCameraFrameAndScaling(t *testing.T) {
	task := &camTask{cam: sim.Pose{X: 3, Y: 1, Angle: math.Pi / 2}}
	a := newTestArbiter(t, task, Config{Mode: sim.ModeTeleop, MotionScale: 0.5})
	l := NewLatch("pad")
	a.AddSource("pad", l)
	l.Set(cmd("pad", true, 1, 0, 1)) // right on screen
	_, act := tick(a, task)
	if want := []float64{0, 0.5, 1}; !equal(act, want) {
		t.Errorf("action %v; want %v (screen right is world up, halved; jaw untouched)", act, want)
	}
}

func TestNewArbiterErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"mode", Config{Mode: "manual"}},
		{"disconnect", Config{OnDisconnect: "panic"}},
		{"scale", Config{MotionScale: -1}},
		{"gain", Config{RateGain: math.NaN()}},
		{"hold time", Config{HandBackTicks: -1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewArbiter(&stubTask{}, tc.cfg); err == nil {
				t.Error("NewArbiter succeeded; want an error")
			}
		})
	}
}

func TestDecideDoesNotAllocate(t *testing.T) {
	task := &stubTask{}
	a := newTestArbiter(t, task, Config{Policy: &fixedPolicy{a: []float64{0.1, 0, 0}}, Clock: sim.NewManualClock(time.Unix(0, 0))})
	l := NewLatch("pad")
	a.AddSource("pad", l)
	obs, dst := make([]float64, 4), make([]float64, 3)
	i := 0
	allocs := testing.AllocsPerRun(200, func() {
		i++
		c := cmd("pad", i%7 < 3, 0.2, 0.1, 0)
		c.At = time.Unix(0, int64(i))
		l.Set(c)
		a.Decide(obs, dst)
	})
	if allocs != 0 {
		t.Errorf("Decide allocates %v times per call; want 0", allocs)
	}
}

// Console calls from other goroutines while the loop ticks (run with -race).
func TestConcurrentCalls(t *testing.T) {
	task := &stubTask{}
	a := newTestArbiter(t, task, Config{Policy: &fixedPolicy{a: []float64{0.1, 0, 0}}})
	l := NewLatch("pad")
	a.AddSource("pad", l)
	done, ticking := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		<-ticking // the calls below must overlap the loop's ticks
		for i := range 300 {
			l.Set(cmd("pad", i%5 < 2, 0.2, 0, 0))
			a.TakeOver("pad")
			a.HandBack("pad")
			a.Request("pad")
			a.SetPolicy(&fixedPolicy{a: []float64{0.3, 0, 0}}, "v")
			a.SetMode([]sim.Mode{sim.ModeShared, sim.ModeTeleop, sim.ModeAuto}[i%3])
			a.AddSource("web", NewLatch("web"))
			a.RemoveSource("web")
			_ = a.State()
			_ = a.Latencies(nil)
		}
	}()
	obs, dst := make([]float64, 4), make([]float64, 3)
	a.Decide(obs, dst)
	close(ticking)
	for {
		select {
		case <-done:
			if st := a.State(); st.Ticks < 2 {
				t.Errorf("%d ticks; want the loop to tick while the calls ran", st.Ticks)
			}
			return
		default:
			a.Decide(obs, dst)
			if !finite(dst) {
				t.Fatalf("non-finite action %v", dst)
			}
		}
	}
}
