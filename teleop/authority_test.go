package teleop

import (
	"errors"
	"testing"
	"time"

	"tandem/sim"
)

// Each takeover rule yields Command.Engaged on the device side; the arbiter
// acts on that verdict alone.
func TestTakeoverRules(t *testing.T) {
	for _, tc := range []struct {
		name    string
		rule    string
		action  []float64
		buttons Buttons
		takes   bool
	}{
		{"norm above threshold", "norm:0.05", []float64{0.04, 0.04, 0}, 0, true},
		{"norm below threshold", "norm:0.05", []float64{0.03, 0.03, 0}, 0, false},
		{"HIL-SERL default norm", "norm", []float64{0.002, 0, 0}, 0, true},
		{"nonzero any input", "nonzero", []float64{0, 1e-9, 0}, 0, true},
		{"nonzero at rest", "nonzero", []float64{0, 0, 0}, 0, false},
		{"button held", "button", []float64{0, 0, 0}, Takeover, true},
		{"button rule ignores motion", "button", []float64{1, 1, 0}, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rule, err := ParseRule(tc.rule)
			if err != nil {
				t.Fatal(err)
			}
			task := &stubTask{}
			a := newTestArbiter(t, task, Config{Policy: &fixedPolicy{a: []float64{0, 0, 0}}})
			l := NewLatch("pad")
			a.AddSource("pad", l)
			c := cmd("pad", rule.Engaged(tc.action, tc.buttons), tc.action...)
			c.Buttons = tc.buttons
			l.Set(c)
			d, _ := tick(a, task)
			if took := d.Source == sim.Human; took != tc.takes {
				t.Errorf("took over %v; want %v", took, tc.takes)
			}
		})
	}
}

func TestHandBackAfterHoldTime(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		keep int // released ticks still human
	}{
		{"immediate by default", Config{}, 0},
		{"three ticks", Config{HandBackTicks: 3}, 3},
		{"0.25 s at 10 Hz rounds up to 3 ticks", Config{HandBackAfter: 250 * time.Millisecond}, 3},
		{"0.2 s at 20 Hz is 4 ticks", Config{HandBackAfter: 200 * time.Millisecond, ControlHz: 20}, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			task := &stubTask{}
			tc.cfg.Policy = &fixedPolicy{a: []float64{0, 0, 0}}
			a := newTestArbiter(t, task, tc.cfg)
			l := NewLatch("pad")
			a.AddSource("pad", l)
			l.Set(cmd("pad", true, 0.5, 0, 0))
			for range 2 {
				tick(a, task)
			}
			l.Set(cmd("pad", false, 0, 0, 0))
			for i := range tc.keep {
				if d, _ := tick(a, task); d.Source != sim.Human {
					t.Fatalf("released tick %d: source %q; want human", i, d.Source)
				}
			}
			d, _ := tick(a, task)
			if d.Source != sim.Robot || !d.InterventionEnd {
				t.Errorf("after %d released ticks: source %q end %v; want robot true", tc.keep, d.Source, d.InterventionEnd)
			}
		})
	}
}

func TestHandBackButtonAndCall(t *testing.T) {
	task := &stubTask{}
	a := newTestArbiter(t, task, Config{HandBackTicks: 100, Policy: &fixedPolicy{a: []float64{0, 0, 0}}})
	l := NewLatch("pad")
	a.AddSource("pad", l)
	l.Set(cmd("pad", true, 0.5, 0, 0))
	tick(a, task)
	c := cmd("pad", true, 0.5, 0, 0)
	c.Buttons = HandBack
	l.Set(c)
	if d, _ := tick(a, task); d.Source != sim.Robot || !d.InterventionEnd {
		t.Fatalf("HandBack button: source %q end %v; want robot true", d.Source, d.InterventionEnd)
	}
	// Still engaged after letting go of the button: the hand-back stands
	// until the input is released once.
	l.Set(cmd("pad", true, 0.5, 0, 0))
	if d, _ := tick(a, task); d.Source != sim.Robot {
		t.Fatalf("still engaged after hand-back: source %q; want robot", d.Source)
	}
	l.Set(cmd("pad", false, 0, 0, 0))
	tick(a, task)
	l.Set(cmd("pad", true, 0.5, 0, 0))
	if d, _ := tick(a, task); d.Source != sim.Human {
		t.Fatalf("re-engaged: source %q; want human", d.Source)
	}
	// The explicit call from the console.
	if err := a.HandBack("pad"); err != nil {
		t.Fatal(err)
	}
	if d, _ := tick(a, task); d.Source != sim.Robot {
		t.Errorf("HandBack call: source %q; want robot", d.Source)
	}
	if err := a.HandBack("nobody"); !errors.Is(err, ErrUnknownSource) {
		t.Errorf("HandBack(nobody) = %v; want ErrUnknownSource", err)
	}
}

func TestExplicitTakeOverIsSticky(t *testing.T) {
	task := &stubTask{}
	a := newTestArbiter(t, task, Config{Policy: &fixedPolicy{a: []float64{0.1, 0, 0}}})
	l := NewLatch("web")
	a.AddSource("web", l)
	if err := a.TakeOver("web"); err != nil {
		t.Fatal(err)
	}
	for i := range 5 { // never engaged: a click, not a held input
		d, act := tick(a, task)
		if d.Source != sim.Human || d.Operator != "web" {
			t.Fatalf("tick %d: source %q operator %q; want human web", i, d.Source, d.Operator)
		}
		if i == 0 && !d.InterventionStart {
			t.Errorf("first tick: no InterventionStart")
		}
		if !equal(act, []float64{0, 0, 0}) { // the latch's empty command: held still
			t.Errorf("tick %d: action %v; want the hold", i, act)
		}
	}
	if st := a.State(); !st.Sticky || st.Holder != "web" {
		t.Errorf("state holder %q sticky %v; want web true", st.Holder, st.Sticky)
	}
	if st := a.State(); st.Rejected != 5 {
		t.Errorf("rejected %d; want 5 (the latch's empty command has the wrong length)", st.Rejected)
	}
}

func TestToggleMakesRuleTakeoverSticky(t *testing.T) {
	task := &stubTask{}
	a := newTestArbiter(t, task, Config{Toggle: true, Policy: &fixedPolicy{a: []float64{0, 0, 0}}})
	l := NewLatch("pad")
	a.AddSource("pad", l)
	l.Set(cmd("pad", true, 0.5, 0, 0))
	tick(a, task)
	l.Set(cmd("pad", false, 0, 0, 0))
	for range 3 {
		if d, _ := tick(a, task); d.Source != sim.Human {
			t.Fatalf("released under toggle: source %q; want human", d.Source)
		}
	}
	c := cmd("pad", false, 0, 0, 0)
	c.Buttons = HandBack
	l.Set(c)
	if d, _ := tick(a, task); d.Source != sim.Robot {
		t.Errorf("HandBack under toggle: source %q; want robot", d.Source)
	}
}

func TestDisconnect(t *testing.T) {
	for _, tc := range []struct {
		name   string
		on     OnDisconnect
		source sim.Source
		help   bool
	}{
		{"hands back to the policy", HandBackOnDisconnect, sim.Robot, false},
		{"holds still", HoldOnDisconnect, sim.Human, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			task := &stubTask{}
			a := newTestArbiter(t, task, Config{OnDisconnect: tc.on, Policy: &fixedPolicy{a: []float64{0.7, 0.7, 1}}})
			l := NewLatch("pad")
			a.AddSource("pad", l)
			l.Set(cmd("pad", true, 0.5, 0, 1))
			tick(a, task)
			l.Disconnect()
			d, act := tick(a, task)
			if d.Source != tc.source || d.Help != tc.help {
				t.Fatalf("source %q help %v; want %q %v", d.Source, d.Help, tc.source, tc.help)
			}
			if tc.on == HoldOnDisconnect {
				if !equal(act, []float64{0, 0, 0}) || d.Operator != "pad" {
					t.Errorf("holding: action %v operator %q; want zeros pad", act, d.Operator)
				}
				if st := a.State(); !st.Holding || st.Holder != "" || !st.Help {
					t.Errorf("state holding %v holder %q help %v; want true \"\" true", st.Holding, st.Holder, st.Help)
				}
				a.HandBack("")
				if d, _ = tick(a, task); d.Source != sim.Robot || !d.InterventionEnd {
					t.Errorf("HandBack(\"\"): source %q end %v; want robot true", d.Source, d.InterventionEnd)
				}
			}
		})
	}
}

func TestMultipleOperatorsOneAuthority(t *testing.T) {
	task := &stubTask{}
	a := newTestArbiter(t, task, Config{Policy: &fixedPolicy{a: []float64{0, 0, 0}}})
	pa, pb := NewLatch("a"), NewLatch("b")
	a.AddSource("a", pa)
	a.AddSource("b", pb)
	if err := a.AddSource("a", pa); err == nil {
		t.Error("duplicate AddSource succeeded; want an error")
	}
	pa.Set(cmd("a", true, 0.5, 0, 0))
	pb.Set(cmd("b", true, -0.5, 0, 0))
	d, act := tick(a, task)
	if d.Operator != "a" || act[0] != 0.5 {
		t.Fatalf("both engaged: operator %q action %v; want a (attach order)", d.Operator, act)
	}
	st := a.State()
	if st.Holder != "a" || len(st.Requests) != 1 || st.Requests[0] != "b" {
		t.Fatalf("state holder %q requests %v; want a [b]", st.Holder, st.Requests)
	}
	pa.Set(cmd("a", false, 0, 0, 0))
	d, act = tick(a, task)
	if d.Source != sim.Human || d.Operator != "b" || act[0] != -0.5 || d.InterventionEnd || d.InterventionStart {
		t.Fatalf("a releases: %+v action %v; want b continuing the intervention", d, act)
	}
	// An explicit take over while b holds queues a.
	if err := a.TakeOver("a"); err != nil {
		t.Fatal(err)
	}
	tick(a, task)
	if st = a.State(); st.Holder != "b" || len(st.Requests) != 1 || st.Requests[0] != "a" {
		t.Fatalf("take over while held: holder %q requests %v; want b [a]", st.Holder, st.Requests)
	}
	// b is removed: a (queued) gets authority, sticky.
	if err := a.RemoveSource("b"); err != nil {
		t.Fatal(err)
	}
	d, _ = tick(a, task)
	if d.Operator != "a" || !a.State().Sticky {
		t.Errorf("after removing b: operator %q sticky %v; want a true", d.Operator, a.State().Sticky)
	}
	if got := a.State().TotalInterventions; got != 1 {
		t.Errorf("interventions %d; want 1 (one continuous human segment)", got)
	}
}

func TestRequestWithdrawn(t *testing.T) {
	task := &stubTask{}
	a := newTestArbiter(t, task, Config{Policy: &fixedPolicy{a: []float64{0, 0, 0}}})
	pa, pb := NewLatch("a"), NewLatch("b")
	a.AddSource("a", pa)
	a.AddSource("b", pb)
	pa.Set(cmd("a", true, 0.5, 0, 0))
	tick(a, task)
	a.Request("b")
	tick(a, task)
	if st := a.State(); len(st.Requests) != 1 {
		t.Fatalf("requests %v; want [b]", st.Requests)
	}
	a.HandBack("b") // withdraws the request
	tick(a, task)
	if st := a.State(); len(st.Requests) != 0 || st.Holder != "a" {
		t.Errorf("after withdrawing: holder %q requests %v; want a []", st.Holder, st.Requests)
	}
}

func TestInterventionMarkers(t *testing.T) {
	task := &stubTask{}
	a := newTestArbiter(t, task, Config{Policy: &fixedPolicy{a: []float64{0, 0, 0}}})
	l := NewLatch("pad")
	a.AddSource("pad", l)
	engaged := []bool{false, true, true, false, false, true, false}
	wantStart := []bool{false, true, false, false, false, true, false}
	wantEnd := []bool{false, false, false, true, false, false, true}
	for i, e := range engaged {
		l.Set(cmd("pad", e, 0.3, 0, 0))
		d, _ := tick(a, task)
		if d.InterventionStart != wantStart[i] || d.InterventionEnd != wantEnd[i] {
			t.Errorf("tick %d: start %v end %v; want %v %v", i, d.InterventionStart, d.InterventionEnd, wantStart[i], wantEnd[i])
		}
	}
	if st := a.State(); st.Interventions != 2 {
		t.Errorf("interventions %d; want 2", st.Interventions)
	}
	a.Reset(2)
	if st := a.State(); st.Interventions != 0 || st.TotalInterventions != 2 {
		t.Errorf("after reset: interventions %d total %d; want 0 2", st.Interventions, st.TotalInterventions)
	}
}

func TestResetReturnsAuthorityToPolicy(t *testing.T) {
	task := &stubTask{}
	pol := &fixedPolicy{a: []float64{0, 0, 0}}
	a := newTestArbiter(t, task, Config{Policy: pol})
	l := NewLatch("pad")
	a.AddSource("pad", l)
	a.TakeOver("pad")
	l.Set(cmd("pad", false, 0.1, 0, 0))
	tick(a, task)
	before := pol.resets
	a.Reset(9)
	if pol.resets != before+1 {
		t.Errorf("policy resets %d; want %d", pol.resets, before+1)
	}
	d, _ := tick(a, task)
	if d.Source != sim.Robot {
		t.Errorf("first tick of a new episode: source %q; want robot", d.Source)
	}
}
