package teleop

import (
	"slices"
	"testing"

	"tandem/sim"
)

func TestDecisionIsSelfContained(t *testing.T) {
	task := &stubTask{}
	a := newTestArbiter(t, task, Config{Policy: &fixedPolicy{a: []float64{0.1, 0, 0}}, PolicyVersion: "v2"})
	pad, web := NewLatch("pad"), NewLatch("web")
	a.AddSource("pad", pad)
	a.AddSource("web", web)
	c := cmd("pad", true, 0.5, 0, 0)
	c.Seq = 41
	pad.Set(c)
	w := cmd("web", true, 0, 0.5, 0)
	w.Seq = 7
	web.Set(w)
	d, _ := tick(a, task)
	if d.Mode != sim.ModeShared || d.Holder != "pad" || !slices.Equal(d.Requests, []string{"web"}) {
		t.Fatalf("mode %q holder %q requests %v; want shared, pad, [web]", d.Mode, d.Holder, d.Requests)
	}
	want := []sim.Input{{Operator: "pad", Seq: 41}, {Operator: "web", Seq: 7}}
	if !slices.Equal(d.Inputs, want) {
		t.Fatalf("inputs %v; want %v", d.Inputs, want)
	}
	if !d.SubTicks {
		t.Error("a device holder is not sampled at sub-ticks")
	}
}

func TestButtonPressesBecomeAsks(t *testing.T) {
	task := &stubTask{}
	a := newTestArbiter(t, task, Config{Policy: &fixedPolicy{a: []float64{0.1, 0, 0}}})
	pad := NewLatch("pad")
	a.AddSource("pad", pad)
	press := func(b Buttons) Command { c := cmd("pad", false, 0, 0, 0); c.Buttons = b; return c }

	pad.Set(press(MarkSuccess))
	if d, _ := tick(a, task); d.Asks != sim.AskSuccess || d.AskBy != "pad" {
		t.Fatalf("asks %b by %q; want success by pad", d.Asks, d.AskBy)
	}
	// Held: no second ask.
	if d, _ := tick(a, task); d.Asks != 0 {
		t.Fatalf("a held button asked again: %b", d.Asks)
	}
	// Released and pressed at a sub-tick: the ask arrives there.
	pad.Set(press(0))
	dst := make([]float64, 3)
	a.Sub(dst)
	pad.Set(press(Reset | MarkFailure))
	if d := a.Sub(dst); d.Asks != sim.AskReset|sim.AskFailure {
		t.Fatalf("sub-tick asks %b; want reset and failure", d.Asks)
	}
	// The console presses through the same path.
	if err := a.Press("pad", Help); err != nil {
		t.Fatal(err)
	}
	if d := a.Sub(dst); d.Asks != sim.AskHelpAck || d.AskBy != "pad" {
		t.Fatalf("console press asks %b by %q; want help ack by pad", d.Asks, d.AskBy)
	}
	if err := a.Press("pad", Takeover); err == nil {
		t.Error("pressing takeover from a console was accepted")
	}
	if err := a.Press("nobody", Reset); err == nil {
		t.Error("a press for an unknown operator was accepted")
	}
}

func TestGripClosesTheJawWhileHeld(t *testing.T) {
	task := &stubTask{}
	a := newTestArbiter(t, task, Config{Mode: sim.ModeTeleop})
	pad := NewLatch("pad")
	a.AddSource("pad", pad)
	c := cmd("pad", true, 0.2, 0, 0.7)
	c.Buttons = Grip
	pad.Set(c)
	if _, act := tick(a, task); act[2] != -1 || act[0] != 0.2 {
		t.Fatalf("action %v with grip held; want the jaw closed (-1) and motion kept", act)
	}
	c.Buttons = 0
	pad.Set(c)
	if _, act := tick(a, task); act[2] != 0.7 {
		t.Fatalf("action %v after release; want the axis value 0.7 back", act)
	}
	if got := GripChannels(sim.Spec{ActionNames: []string{"dx1", "jaw1", "dx2", "jaw2", "psm_gripper", "grasp"}}); !slices.Equal(got, []int{1, 3, 4}) {
		t.Errorf("grip channels %v; want [1 3 4]", got)
	}
}

func TestHelpStaysRaisedUntilAnswered(t *testing.T) {
	task := &stubTask{}
	pol := &fixedPolicy{a: []float64{0.1, 0, 0}, help: true}
	a := newTestArbiter(t, task, Config{Policy: pol})
	pad := NewLatch("pad")
	a.AddSource("pad", pad)
	if d, _ := tick(a, task); !d.Help {
		t.Fatal("the policy's help request was not raised")
	}
	pol.help = false
	if d, _ := tick(a, task); !d.Help {
		t.Fatal("help dropped before anyone answered it")
	}
	c := cmd("pad", false, 0, 0, 0)
	c.Buttons = Help
	pad.Set(c)
	if d, _ := tick(a, task); d.Help || d.Asks != sim.AskHelpAck {
		t.Fatalf("help %v asks %b after the help button; want it acknowledged", d.Help, d.Asks)
	}
	// A takeover answers it too.
	pol.help = true
	tick(a, task)
	pol.help = false
	pad.Set(cmd("pad", true, 0.3, 0, 0))
	if d, _ := tick(a, task); d.Help || d.Source != sim.Human {
		t.Fatalf("help %v source %q after a takeover; want answered by the human", d.Help, d.Source)
	}
}

func TestSubAppliesTheHolderOnly(t *testing.T) {
	task := &stubTask{}
	a := newTestArbiter(t, task, Config{Policy: &fixedPolicy{a: []float64{0.1, 0, 0}}, TeleopHz: 40})
	pad := NewLatch("pad")
	a.AddSource("pad", pad)
	pad.Set(cmd("pad", true, 0.5, 0, 0))
	d, act := tick(a, task)
	if d.Source != sim.Human || !d.SubTicks || act[0] != 0.5 {
		t.Fatalf("decision %q subticks %v action %v; want the pad's 0.5", d.Source, d.SubTicks, act)
	}
	// Input changes between decisions reach the sub-ticks.
	pad.Set(cmd("pad", true, -0.4, 0.2, 0))
	dst := make([]float64, 3)
	a.Sub(dst)
	if !equal(dst, []float64{-0.4, 0.2, 0}) {
		t.Fatalf("sub-tick action %v; want the pad's latest [-0.4 0.2 0]", dst)
	}
	// Releasing inside a period does not hand back until the next Decide.
	pad.Set(cmd("pad", false, 0, 0, 0))
	if d := a.Sub(dst); d.Holder != "pad" {
		t.Fatalf("holder %q at a sub-tick after release; want pad until the period ends", d.Holder)
	}
	if d, _ := tick(a, task); d.Holder != "robot" || d.SubTicks {
		t.Fatalf("holder %q subticks %v at the next period; want robot without sub-ticks", d.Holder, d.SubTicks)
	}
}

func TestSimulatedOperatorsActOncePerPeriod(t *testing.T) {
	task := &stubTask{}
	a := newTestArbiter(t, task, Config{Mode: sim.ModeTeleop, TeleopHz: 40})
	op, err := NewSimOperator(task, DefaultOperatorConfig(DistanceRule))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.AddSource("sim", op); err != nil {
		t.Fatal(err)
	}
	if d, _ := tick(a, task); d.Holder != "sim" || d.SubTicks {
		t.Fatalf("holder %q subticks %v; want the simulated operator acting once per period", d.Holder, d.SubTicks)
	}
}

func TestSubDoesNotAllocate(t *testing.T) {
	task := &stubTask{}
	a := newTestArbiter(t, task, Config{Policy: &fixedPolicy{a: []float64{0.1, 0, 0}}, TeleopHz: 40})
	pad := NewLatch("pad")
	a.AddSource("pad", pad)
	pad.Set(cmd("pad", true, 0.2, 0.1, 0))
	tick(a, task)
	dst := make([]float64, 3)
	a.Sub(dst)
	if n := testing.AllocsPerRun(200, func() { a.Sub(dst) }); n != 0 {
		t.Errorf("Sub allocates %v times per call; want 0", n)
	}
}

func TestPolicySwapAtTheNextEpisode(t *testing.T) {
	task := &stubTask{}
	a := newTestArbiter(t, task, Config{Mode: sim.ModeAuto, Policy: &fixedPolicy{a: []float64{0.1, 0, 0}}, PolicyVersion: "v1"})
	next := &fixedPolicy{a: []float64{0.7, 0, 0}}
	a.SetPolicyAtReset(next, "v2")
	if d, act := tick(a, task); d.PolicyVersion != "v1" || act[0] != 0.1 {
		t.Fatalf("before the episode ends: version %q action %v; want v1 still acting", d.PolicyVersion, act)
	}
	a.Reset(2)
	if d, act := tick(a, task); d.PolicyVersion != "v2" || act[0] != 0.7 || next.resets != 1 {
		t.Fatalf("after the reset: version %q action %v resets %d; want v2 acting, reset once", d.PolicyVersion, act, next.resets)
	}
}
