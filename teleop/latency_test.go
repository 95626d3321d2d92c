package teleop

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"tandem/sim"
)

// A command set on a source before tick k is applied at tick k, and the
// arbiter measures its latency from Command.At on the session clock.
func TestCommandAppliedAtNextTick(t *testing.T) {
	task := &stubTask{}
	clock := sim.NewManualClock(time.Unix(1000, 0))
	a, err := NewArbiter(task, Config{Mode: ModeTeleop, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	l := NewLatch("pad")
	a.AddSource("pad", l)
	s, err := sim.NewSession(task, sim.SessionConfig{ID: "lat", Controller: a, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	sub := s.Subscribe(64)
	period := s.Period()
	next := s.Tick(clock.Now()) // reset + tick 0
	for k := 1; k <= 5; k++ {
		// The input happens 30 ms into the period before tick k.
		clock.Advance(30 * time.Millisecond)
		c := cmd("pad", true, float64(k)/10, 0, 0)
		c.At = clock.Now()
		l.Set(c)
		clock.Advance(next.Sub(clock.Now()))
		next = s.Tick(clock.Now())
		r := s.Last()
		if r.Kind != sim.StepRecord || r.Action.At(0) != float64(k)/10 {
			t.Fatalf("tick %d applied %v; want the command set before it (%v)", k, r.Action.Slice(), float64(k)/10)
		}
	}
	sub.Close()
	lat := a.Latencies(nil)
	if len(lat) != 5 {
		t.Fatalf("latency samples %d; want 5", len(lat))
	}
	for i, d := range lat {
		if want := period - 30*time.Millisecond; d != want {
			t.Errorf("sample %d: %v; want %v", i, d, want)
		}
	}
}

// benchTask is the cheapest possible task: a point with velocity actions.
type benchTask struct{ x, y, vx, vy float64 }

func (p *benchTask) Spec() sim.Spec {
	low, high := sim.Normalised(2)
	return sim.Spec{Name: "bench", Kind: sim.Manipulation, ObsNames: []string{"x", "y"}, ActionNames: []string{"dx", "dy"},
		ActionLow: low, ActionHigh: high, ControlHz: 50, PhysicsHz: 50, Horizon: 1 << 30, Units: "m"}
}
func (p *benchTask) Reset(uint64)               { *p = benchTask{} }
func (p *benchTask) Act(a []float64, _ float64) { p.vx, p.vy = a[0], a[1] }
func (p *benchTask) Substep(dt float64)         { p.x += p.vx * dt; p.y += p.vy * dt }
func (p *benchTask) Observe(dst []float64)      { dst[0], dst[1] = p.x, p.y }
func (p *benchTask) Reward() float64            { return 0 }
func (p *benchTask) Success() bool              { return false }
func (p *benchTask) Terminal() bool             { return false }
func (p *benchTask) Scene() *sim.Scene          { return &sim.Scene{Bodies: []string{"p"}} }
func (p *benchTask) Poses(dst []sim.Pose) []sim.Pose {
	return append(dst[:0], sim.Pose{X: p.x, Y: p.y})
}
func (p *benchTask) Expert(float64, uint64) sim.Policy {
	return sim.PolicyFunc(func(_, dst []float64) { dst[0], dst[1] = 0, 0 })
}

// BenchmarkLatency runs live sessions (10, then 100) at 50 Hz on the wall
// clock, each with an arbiter in shared mode and a Latch fed by its own
// goroutine at random moments, and reports the percentiles of the time from
// Command.At to the Decide that applies it. Each iteration is one command
// per session. The ideal is uniform over one period (p50 = period/2, p99 =
// period); anything above is scheduling delay.
//
//	go test ./teleop -run '^$' -bench Latency -benchtime 100x
func BenchmarkLatency(b *testing.B) {
	for _, n := range []int{10, 100} {
		b.Run(fmt.Sprintf("sessions=%d", n), func(b *testing.B) { benchLatency(b, n) })
	}
}

func benchLatency(b *testing.B, sessions int) {
	b.ReportAllocs()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	arbs := make([]*Arbiter, sessions)
	var loops, feeders sync.WaitGroup
	var period time.Duration
	for i := range arbs {
		task := &benchTask{}
		a, err := NewArbiter(task, Config{Policy: sim.PolicyFunc(func(_, dst []float64) { dst[0], dst[1] = 0, 0 }), Clock: sim.WallClock{}})
		if err != nil {
			b.Fatal(err)
		}
		l := NewLatch("pad")
		a.AddSource("pad", l)
		s, err := sim.NewSession(task, sim.SessionConfig{ID: fmt.Sprint(i), Controller: a, Clock: sim.WallClock{}})
		if err != nil {
			b.Fatal(err)
		}
		period = s.Period()
		arbs[i] = a
		loops.Add(1)
		go func() { defer loops.Done(); s.Run(ctx) }()
		feeders.Add(1)
		go func() {
			defer feeders.Done()
			r := rand.New(rand.NewPCG(uint64(i), 1))
			for k := range b.N {
				// Uneven spacing so inputs land anywhere in the period.
				time.Sleep(period + time.Duration(r.Int64N(int64(period))))
				l.Set(Command{Operator: "pad", Action: sim.VecOf([]float64{float64(k%3) / 3, 0}), Engaged: true, At: time.Now()})
			}
		}()
	}
	b.ResetTimer()
	feeders.Wait()
	time.Sleep(2 * period) // let the last commands be applied
	b.StopTimer()
	cancel()
	loops.Wait()
	var all []time.Duration
	for _, a := range arbs {
		all = a.Latencies(all)
	}
	if len(all) == 0 {
		b.Fatal("no latency samples")
	}
	slices.Sort(all)
	pct := func(p float64) float64 {
		return float64(all[min(len(all)-1, int(p*float64(len(all))))]) / float64(time.Millisecond)
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(all[len(all)-1])/float64(time.Millisecond), "max-ms")
	b.ReportMetric(float64(period)/float64(time.Millisecond), "period-ms")
	b.ReportMetric(float64(len(all)), "samples")
}

// BenchmarkDecide is one shared-mode tick with an engaged operator.
//
//	go test ./teleop -run '^$' -bench Decide
func BenchmarkDecide(b *testing.B) {
	b.ReportAllocs()
	task := &stubTask{}
	task.Reset(1)
	a, err := NewArbiter(task, Config{Policy: &fixedPolicy{a: []float64{0.1, 0, 0}}, Clock: sim.WallClock{}})
	if err != nil {
		b.Fatal(err)
	}
	l := NewLatch("pad")
	a.AddSource("pad", l)
	l.Set(Command{Operator: "pad", Action: sim.VecOf([]float64{0.2, 0.1, 1}), Engaged: true, At: time.Now()})
	obs, dst := make([]float64, 4), make([]float64, 3)
	for b.Loop() {
		a.Decide(obs, dst)
	}
}
