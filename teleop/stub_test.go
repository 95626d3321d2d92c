package teleop

import (
	"math"
	"math/rand/v2"
	"testing"

	"tandem/sim"
)

// stubTask is the stand-in task of teleop's tests: a point tool with a jaw,
// driven by velocity actions [dx, dy, jaw] towards a random target. No
// Box2D and no task package, so teleop stays independent of tasks.
type stubTask struct {
	x, y, vx, vy, tx, ty, jaw float64
}

func (p *stubTask) Spec() sim.Spec {
	low, high := sim.Normalised(3)
	return sim.Spec{
		Name: "stub", Kind: sim.Surgical, Description: "point reaches target",
		ObsNames: []string{"x", "y", "tx", "ty"}, ActionNames: []string{"dx", "dy", "jaw"},
		ActionLow: low, ActionHigh: high, ControlHz: 10, PhysicsHz: 100, Horizon: 60, Units: "cm",
	}
}

func (p *stubTask) Reset(seed uint64) {
	r := rand.New(rand.NewPCG(seed, 7))
	p.x, p.y, p.vx, p.vy, p.jaw = 0, 0, 0, 0, 0
	p.tx, p.ty = r.Float64()*1.6-0.8, r.Float64()*1.6-0.8
}

func (p *stubTask) Act(a []float64, _ float64) { p.vx, p.vy, p.jaw = a[0], a[1], a[2] }

func (p *stubTask) Substep(dt float64) {
	p.x += p.vx * dt
	p.y += p.vy * dt
}

func (p *stubTask) Observe(dst []float64) { dst[0], dst[1], dst[2], dst[3] = p.x, p.y, p.tx, p.ty }
func (p *stubTask) dist() float64         { return math.Hypot(p.x-p.tx, p.y-p.ty) }
func (p *stubTask) Reward() float64       { return -p.dist() }
func (p *stubTask) Success() bool         { return p.dist() < 0.05 }
func (p *stubTask) Terminal() bool        { return false }

var stubScene = &sim.Scene{Bounds: [4]float64{-1, -1, 1, 1}, Bodies: []string{"tool", "target"}}

func (p *stubTask) Scene() *sim.Scene { return stubScene }

func (p *stubTask) Poses(dst []sim.Pose) []sim.Pose {
	dst = dst[:2]
	dst[0] = sim.Pose{X: p.x, Y: p.y}
	dst[1] = sim.Pose{X: p.tx, Y: p.ty}
	return dst
}

func (p *stubTask) Expert(skill float64, seed uint64) sim.Policy {
	return sim.Skilled(sim.PolicyFunc(func(obs, dst []float64) {
		dst[0] = min(max((obs[2]-obs[0])*5, -1), 1)
		dst[1] = min(max((obs[3]-obs[1])*5, -1), 1)
		dst[2] = 1
	}), skill, seed, nil)
}

// absTask is stubTask with absolute-position actions [x, y, jaw] (target
// positions, like Push-T): it implements sim.Holder.
type absTask struct{ stubTask }

func (p *absTask) Spec() sim.Spec {
	s := p.stubTask.Spec()
	s.Name, s.ActionNames = "stub-abs", []string{"x", "y", "jaw"}
	return s
}

// Act turns the target into a velocity that reaches it within one period.
func (p *absTask) Act(a []float64, period float64) {
	p.vx, p.vy, p.jaw = (a[0]-p.x)/period, (a[1]-p.y)/period, a[2]
}

func (p *absTask) Hold(dst []float64) { dst[0], dst[1], dst[2] = p.x, p.y, p.jaw }

func (p *absTask) Expert(skill float64, seed uint64) sim.Policy {
	return sim.PolicyFunc(func(obs, dst []float64) { dst[0], dst[1], dst[2] = obs[2], obs[3], 1 })
}

// camTask is stubTask seen through a camera rotated by angle: it
// implements sim.Viewer.
type camTask struct {
	stubTask
	cam sim.Pose
}

func (p *camTask) CameraPose() sim.Pose { return p.cam }

// fixedPolicy always proposes the same action, counting resets.
type fixedPolicy struct {
	a      []float64
	resets int
	help   bool
}

func (f *fixedPolicy) Act(_, dst []float64) { copy(dst, f.a) }
func (f *fixedPolicy) Reset(uint64)         { f.resets++ }
func (f *fixedPolicy) NeedsHelp() bool      { return f.help }

// cmd builds a command for operator id.
func cmd(id string, engaged bool, action ...float64) Command {
	return Command{Operator: id, Action: sim.VecOf(action), Engaged: engaged}
}

// newTestArbiter returns an arbiter on a fresh, reset task.
func newTestArbiter(t *testing.T, task sim.Task, cfg Config) *Arbiter {
	t.Helper()
	task.Reset(1)
	a, err := NewArbiter(task, cfg)
	if err != nil {
		t.Fatalf("NewArbiter: %v", err)
	}
	a.Reset(1)
	return a
}

// tick runs one Decide on the task's current observation and returns the
// decision and the executed action.
func tick(a *Arbiter, task sim.Task) (sim.Decision, []float64) {
	spec := task.Spec()
	obs := make([]float64, spec.ObsSize())
	task.Observe(obs)
	dst := make([]float64, spec.ActionSize())
	d := a.Decide(obs, dst)
	return d, dst
}

func equal(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(a[i]-b[i]) > 1e-12 {
			return false
		}
	}
	return true
}
