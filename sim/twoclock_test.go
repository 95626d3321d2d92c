package sim

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

// subPointTask is pointTask with a teleoperation rate: 5 sub-ticks of 2
// physics substeps per 10 Hz period, and its second action a level.
type subPointTask struct{ pointTask }

func (p *subPointTask) Spec() Spec {
	s := p.pointTask.Spec()
	s.TeleopHz = 50
	s.ActionKinds = []ActionKind{ActionRate, ActionLevel}
	return s
}

// scriptedSub is a SubController: at Decide it proposes base and asks for
// sub-ticks when human is set; each Sub writes base + 0.1·k and reports an
// input seq that grows by one per call. asks[k] are returned at call k
// (Decide is call 0 of each period).
type scriptedSub struct {
	base  []float64
	human bool
	calls int
	asks  map[int]Ask
	seq   uint64
}

func (c *scriptedSub) decision() Decision {
	c.seq++
	d := Decision{Mode: ModeShared, Holder: "robot", Source: Robot, PolicyVersion: "p1",
		Inputs: []Input{{Operator: "pad0", Seq: c.seq}}, Asks: c.asks[c.calls], AskBy: "pad0"}
	if c.human {
		d.Source, d.Holder, d.Operator, d.SubTicks = Human, "pad0", "pad0", true
	}
	c.calls++
	return d
}

func (c *scriptedSub) Decide(_, dst []float64) Decision {
	copy(dst, c.base)
	return c.decision()
}

func (c *scriptedSub) Sub(dst []float64) Decision {
	k := float64(c.calls % 5)
	for i := range dst {
		dst[i] = c.base[i] + 0.1*k
	}
	return c.decision()
}

func newSubSession(t *testing.T, ctl Controller) (*Session, *subPointTask) {
	t.Helper()
	task := &subPointTask{}
	s, err := NewSession(task, SessionConfig{ID: "s", Controller: ctl, Clock: NewManualClock(t0), Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	return s, task
}

// tickN runs n sub-ticks, one period of 20 ms apart.
func tickN(s *Session, n int) {
	now := t0
	for range n {
		s.Tick(now)
		now = now.Add(20 * time.Millisecond)
	}
}

func TestSessionRecordsOneStepPerControlPeriod(t *testing.T) {
	ctl := &scriptedSub{base: []float64{0.3, -0.2}}
	s, _ := newSubSession(t, ctl)
	if s.Period() != 20*time.Millisecond || s.Subs() != 5 {
		t.Fatalf("tick %v, %d subs; want 20ms and 5", s.Period(), s.Subs())
	}
	all, steps := s.Subscribe(100), s.SubscribeSteps(100)
	tickN(s, 10) // the first tick resets and runs, then two periods
	recs := drain(all)
	var kinds []string
	for _, r := range recs {
		kinds = append(kinds, string(r.Kind))
	}
	want := "reset sub sub sub sub step sub sub sub sub step"
	if got := strings.Join(kinds, " "); got != want {
		t.Fatalf("records %q; want %q", got, want)
	}
	// The learning steps equal a headless Env stepping the same actions.
	env, err := NewEnv(&subPointTask{}, EnvConfig{})
	if err != nil {
		t.Fatal(err)
	}
	env.Reset(3)
	learning := drain(steps)
	if len(learning) != 3 {
		t.Fatalf("steps-only subscription got %d records; want reset + 2 steps", len(learning))
	}
	for _, r := range learning[1:] {
		want, err := env.Step(ctl.base)
		if err != nil {
			t.Fatal(err)
		}
		if r.Next != want.Next || r.Action != want.Action || r.T != want.T {
			t.Fatalf("step %d: got next %v action %v; want %v %v", r.T, r.Next.Slice(), r.Action.Slice(), want.Next.Slice(), want.Action.Slice())
		}
		if r.Subticks != nil || r.Holder != "robot" || r.Mode != ModeShared {
			t.Errorf("robot step: subticks %v holder %q mode %q", r.Subticks, r.Holder, r.Mode)
		}
	}
	// Every record, display ticks included, carries its own inputs.
	for i, r := range recs[1:] {
		if len(r.Inputs) != 1 || r.Inputs[0].Seq != uint64(i+1) {
			t.Fatalf("record %d inputs %v; want seq %d", i+1, r.Inputs, i+1)
		}
	}
}

func TestSessionSubTicksReplayExactly(t *testing.T) {
	ctl := &scriptedSub{base: []float64{0.2, 0.5}, human: true}
	s, _ := newSubSession(t, ctl)
	steps := s.SubscribeSteps(10)
	tickN(s, 5)
	recs := drain(steps)
	if len(recs) != 2 {
		t.Fatalf("got %d learning records; want reset + 1 step", len(recs))
	}
	r := recs[1]
	if len(r.Subticks) != 5*2 {
		t.Fatalf("subticks %v; want 5 commands of 2", r.Subticks)
	}
	// Rate action: the mean of 0.2+0.1k over k=0..4; level: the last.
	if got, want := r.Action.At(0), (0.2+0.3+0.4+0.5+0.6)/5; math.Abs(got-want) > 1e-15 {
		t.Errorf("rate action %v; want the mean %v", got, want)
	}
	if got := r.Action.At(1); got != 0.9 {
		t.Errorf("level action %v; want the last command 0.9", got)
	}
	// Re-executing the stored sub-ticks reproduces the observation bit for bit.
	env, err := NewEnv(&subPointTask{}, EnvConfig{})
	if err != nil {
		t.Fatal(err)
	}
	env.Reset(3)
	if err := env.Begin(); err != nil {
		t.Fatal(err)
	}
	for k := range 5 {
		if err := env.Apply(r.Subticks[2*k:2*k+2], 5); err != nil {
			t.Fatal(err)
		}
		env.Advance(env.Substeps() / 5)
	}
	got := env.End(r.Action.Slice())
	if got.Next != r.Next {
		t.Fatalf("replayed next %v; want %v", got.Next.Slice(), r.Next.Slice())
	}
	// Stepping the combined action once is a different trajectory: the
	// sub-ticks are what replay needs.
	env.Reset(3)
	once, _ := env.Step(r.Action.Slice())
	if once.Next == r.Next {
		t.Error("one step of the combined action matched the sub-ticked period; the test cannot tell them apart")
	}
}

func TestSessionHonoursAsks(t *testing.T) {
	ctl := &scriptedSub{base: []float64{0.1, 0}, asks: map[int]Ask{2: AskSuccess, 7: AskReset}}
	s, _ := newSubSession(t, ctl)
	all := s.Subscribe(100)
	tickN(s, 9)
	recs := drain(all)
	var labelled *Record
	resets := 0
	for _, r := range recs {
		if r.Label != nil {
			labelled = r
		}
		if r.Kind == ResetRecord {
			resets++
		}
	}
	if labelled == nil || labelled.Label.Outcome != LabelSuccess || labelled.Label.By != "pad0" || labelled.Episode != 1 {
		t.Fatalf("label record %+v; want success by pad0 in episode 1", labelled)
	}
	if resets != 2 {
		t.Fatalf("%d resets; want the reset asked at call 7 to start episode 2", resets)
	}
	if st := s.State(); st.Episode != 2 || st.Label != nil {
		t.Errorf("state episode %d label %v; want episode 2 with no label yet", st.Episode, st.Label)
	}
}

func TestSessionPublishesPauseAsState(t *testing.T) {
	s, _ := newSubSession(t, &scriptedSub{base: []float64{0, 0}})
	all := s.Subscribe(100)
	s.Tick(t0)
	s.Pause()
	s.Tick(t0.Add(20 * time.Millisecond))
	recs := drain(all)
	last := recs[len(recs)-1]
	if last.Kind != StateRecord || !last.Paused || last.Mode != ModeShared {
		t.Fatalf("last record %s paused=%v mode=%q; want a paused state record in shared mode", last.Kind, last.Paused, last.Mode)
	}
}

func TestCheckRates(t *testing.T) {
	spec := (&subPointTask{}).Spec()
	tests := []struct {
		name            string
		control, teleop float64
		wantC, wantT    float64
		wantErr         string
	}{
		{"defaults", 0, 0, 10, 50, ""},
		{"control override keeps a fitting teleop rate", 25, 0, 25, 50, ""},
		{"control override without a fitting teleop rate", 20, 0, 20, 20, ""},
		{"teleop equal to control", 10, 10, 10, 10, ""},
		{"tiny control rate", 1e-300, 0, 0, 0, "control_hz"},
		{"control not dividing physics", 30, 0, 0, 0, "control_hz 30"},
		{"control above physics", 200, 0, 0, 0, "control_hz 200"},
		{"teleop not a multiple", 10, 25, 0, 0, "teleop_hz 25"},
		{"NaN", math.NaN(), 0, 0, 0, "control_hz"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, te, err := spec.CheckRates(tc.control, tc.teleop)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v; want an error with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || c != tc.wantC || te != tc.wantT {
				t.Fatalf("got %g, %g, %v; want %g, %g", c, te, err, tc.wantC, tc.wantT)
			}
		})
	}
}

// startsOnce marks an intervention start on its second decision.
type startsOnce struct {
	scriptedSub
	decides int
}

func (c *startsOnce) Decide(obs, dst []float64) Decision {
	d := c.scriptedSub.Decide(obs, dst)
	c.decides++
	d.InterventionStart = c.decides == 2
	return d
}

func TestInterventionMarksRideOnTheLearningStep(t *testing.T) {
	ctl := &startsOnce{scriptedSub: scriptedSub{base: []float64{0.1, 0}}}
	s, _ := newSubSession(t, ctl)
	all := s.Subscribe(100)
	tickN(s, 10)
	var marked []string
	for _, r := range drain(all) {
		if r.InterventionStart {
			marked = append(marked, fmt.Sprintf("%s t=%d", r.Kind, r.T))
		}
	}
	if len(marked) != 1 || marked[0] != "step t=1" {
		t.Fatalf("intervention starts on %v; want only the learning step of period 1", marked)
	}
	if st := s.State(); st.Interventions != 1 {
		t.Errorf("%d interventions counted; want 1", st.Interventions)
	}
}

func TestNonFiniteProposalIsNotRecorded(t *testing.T) {
	nan := Auto(PolicyFunc(func(_, dst []float64) { dst[0], dst[1] = math.NaN(), 0 }), "bad")
	s := newPointSession(t, NewManualClock(t0), nan)
	sub := s.Subscribe(10)
	s.Tick(t0)
	steps := 0
	for _, r := range drain(sub) {
		if r.Kind != StepRecord {
			continue
		}
		steps++
		if r.PolicyAction.Len() != 0 || !r.Rejected {
			t.Fatalf("policy action %v rejected %v; want no proposal kept and the step marked rejected", r.PolicyAction.Slice(), r.Rejected)
		}
	}
	if steps != 1 {
		t.Fatalf("%d learning steps after the first tick; want 1", steps)
	}
}
