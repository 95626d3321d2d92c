package demos

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"tandem/sim"
)

// dot is a small deterministic test task: a point mass pushed by a force
// towards a goal. Observations are padded to any size with deterministic
// features so benchmarks can use 20-float observations.
type dot struct {
	spec       sim.Spec
	px, py     float64
	vx, vy     float64
	gx, gy     float64
	fx, fy     float64
	lastReward float64
}

func newDot(obsN int, hz float64) *dot {
	names := []string{"x", "y", "vx", "vy", "goal_x", "goal_y"}
	for len(names) < obsN {
		names = append(names, fmt.Sprintf("f%d", len(names)))
	}
	low, high := sim.Normalised(2)
	physics := max(100, hz)
	return &dot{spec: sim.Spec{
		Name: "dot", Kind: sim.Manipulation, Description: "Push the dot onto the goal",
		ObsNames: names[:obsN], ActionNames: []string{"fx", "fy"}, ActionLow: low, ActionHigh: high,
		ControlHz: hz, PhysicsHz: physics, Horizon: 50, Units: "m", Version: 3,
	}}
}

func dotLookup(obsN int, hz float64) TaskLookup {
	return func(name string) (sim.Task, error) {
		if name != "dot" {
			return nil, fmt.Errorf("unknown task %q", name)
		}
		return newDot(obsN, hz), nil
	}
}

func (d *dot) Spec() sim.Spec { return d.spec }

func (d *dot) Reset(seed uint64) {
	r := rand.New(rand.NewPCG(seed, 7))
	d.px, d.py = r.Float64()*2-1, r.Float64()*2-1
	d.gx, d.gy = r.Float64()*2-1, r.Float64()*2-1
	d.vx, d.vy, d.fx, d.fy, d.lastReward = 0, 0, 0, 0, 0
}

func (d *dot) Act(a []float64, _ float64) { d.fx, d.fy = a[0], a[1] }

func (d *dot) Substep(dt float64) {
	d.vx += (4*d.fx - 2*d.vx) * dt
	d.vy += (4*d.fy - 2*d.vy) * dt
	d.px += d.vx * dt
	d.py += d.vy * dt
	d.lastReward = -math.Hypot(d.gx-d.px, d.gy-d.py)
}

func (d *dot) Observe(dst []float64) {
	base := [6]float64{d.px, d.py, d.vx, d.vy, d.gx, d.gy}
	for i := range dst {
		if i < len(base) {
			dst[i] = base[i]
			continue
		}
		dst[i] = math.Sin(float64(i)*d.px) + math.Cos(float64(i)*d.py)
	}
}

func (d *dot) Reward() float64 { return d.lastReward }
func (d *dot) Success() bool   { return math.Hypot(d.gx-d.px, d.gy-d.py) < 0.1 }
func (d *dot) Terminal() bool  { return false }

func (d *dot) Scene() *sim.Scene {
	return &sim.Scene{
		Bounds: [4]float64{-1.5, -1.5, 1.5, 1.5},
		Bodies: []string{"dot", "goal"},
		Shapes: []sim.Shape{
			{Body: 0, Kind: sim.Circle, Radius: 0.05, Color: "#1f77b4", Fill: true},
			{Body: 1, Kind: sim.Circle, Radius: 0.1, Color: "green"},
			{Body: 0, Kind: sim.Polygon, Points: [][2]float64{{-0.02, -0.02}, {0.02, -0.02}, {0.02, 0.02}}, Color: "rgb(255, 0, 0)", Fill: true},
			{Body: -1, Kind: sim.Polyline, Points: [][2]float64{{-1.5, -1.5}, {1.5, -1.5}, {1.5, 1.5}, {-1.5, 1.5}, {-1.5, -1.5}}, Width: 0.01, Color: "gray"},
		},
	}
}

func (d *dot) Poses(dst []sim.Pose) []sim.Pose {
	dst[0] = sim.Pose{X: d.px, Y: d.py}
	dst[1] = sim.Pose{X: d.gx, Y: d.gy}
	return dst
}

func (d *dot) Expert(float64, uint64) sim.Policy {
	return sim.PolicyFunc(func(obs, dst []float64) {
		dst[0] = min(max(3*(obs[4]-obs[0])-obs[2], -1), 1)
		dst[1] = min(max(3*(obs[5]-obs[1])-obs[3], -1), 1)
	})
}

// interventionist is a test controller: the expert policy acts as the
// robot, and a "human" (the expert again, slightly different) takes over
// for steps [start, start+length) of every period steps.
type interventionist struct {
	expert              sim.Policy
	t, period, start, n int
}

func (c *interventionist) Reset(uint64) { c.t = 0 }

func (c *interventionist) Decide(obs, dst []float64) sim.Decision {
	c.expert.Act(obs, dst)
	k := c.t % c.period
	c.t++
	var d sim.Decision
	if k >= c.start && k < c.start+c.n {
		d = sim.Decision{Source: sim.Human, Operator: "alice", InterventionStart: k == c.start}
		dst[0] *= 0.5
		return d
	}
	d = sim.Decision{Source: sim.Robot, PolicyVersion: "v1", InterventionEnd: k == c.start+c.n && c.t > c.period}
	d.PolicyAction.Set(dst)
	return d
}

// openTest opens a writable store in a fresh temporary directory.
func openTest(t testing.TB) (*Store, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	s, err := Open(context.Background(), dir, Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s, dir
}

// rollout runs n headless episodes of the dot task with controller ctl and
// returns them with their steps.
func rollout(t testing.TB, obsN int, seeds []uint64, ctl func(task sim.Task) sim.Controller) []sim.Episode {
	t.Helper()
	eps, err := sim.Rollout(context.Background(), sim.RolloutConfig{
		NewTask: func() sim.Task { return newDot(obsN, 10) },
		Controller: func(task sim.Task, _ int, _ uint64) (sim.Controller, error) {
			return ctl(task), nil
		},
		Seeds: seeds, Workers: 1, KeepSteps: true,
	})
	if err != nil {
		t.Fatalf("Rollout: %v", err)
	}
	return eps
}

func expertCtl(task sim.Task) sim.Controller { return sim.Demonstrate(task.Expert(1, 0), "expert") }

func sharedCtl(task sim.Task) sim.Controller {
	return &interventionist{expert: task.Expert(1, 0), period: 20, start: 10, n: 4}
}

var testStart = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// addRollouts stores rollouts and returns their ids.
func addRollouts(t testing.TB, s *Store, obsN int, seeds []uint64, mode sim.Mode, ctl func(sim.Task) sim.Controller) []int64 {
	t.Helper()
	var ids []int64
	for i, ep := range rollout(t, obsN, seeds, ctl) {
		id, err := s.AddEpisode(context.Background(), Info{
			Spec: newDot(obsN, 10).Spec(), Seed: ep.Seed, Mode: mode,
			Start: testStart.Add(time.Duration(i) * time.Minute),
		}, ep.Steps)
		if err != nil {
			t.Fatalf("AddEpisode: %v", err)
		}
		ids = append(ids, id)
	}
	return ids
}
