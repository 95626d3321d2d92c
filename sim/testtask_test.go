package sim

import (
	"math"
	"math/rand/v2"
)

// pointTask is a tiny deterministic task for kernel tests: a point driven by
// velocity commands towards a random target. No Box2D, so sim's tests stay
// independent of any task package.
type pointTask struct {
	x, y, vx, vy, tx, ty float64
	resets               int
}

func (p *pointTask) Spec() Spec {
	low, high := Normalised(2)
	return Spec{
		Name: "point", Kind: Manipulation, Description: "point reaches target",
		ObsNames: []string{"x", "y", "tx", "ty"}, ActionNames: []string{"vx", "vy"},
		ActionLow: low, ActionHigh: high, ControlHz: 10, PhysicsHz: 100, Horizon: 50, Units: "m",
	}
}

func (p *pointTask) Reset(seed uint64) {
	r := rand.New(rand.NewPCG(seed, 1))
	p.x, p.y, p.vx, p.vy = 0, 0, 0, 0
	p.tx, p.ty = r.Float64()*2-1, r.Float64()*2-1
	p.resets++
}

func (p *pointTask) Act(a []float64, _ float64) { p.vx, p.vy = a[0], a[1] }

func (p *pointTask) Substep(dt float64) {
	p.x += p.vx * dt
	p.y += p.vy * dt
}

func (p *pointTask) Observe(dst []float64) { dst[0], dst[1], dst[2], dst[3] = p.x, p.y, p.tx, p.ty }
func (p *pointTask) dist() float64         { return math.Hypot(p.x-p.tx, p.y-p.ty) }
func (p *pointTask) Reward() float64       { return -p.dist() }
func (p *pointTask) Success() bool         { return p.dist() < 0.05 }
func (p *pointTask) Terminal() bool        { return p.Success() }

var pointScene = &Scene{Bounds: [4]float64{-1, -1, 1, 1}, Bodies: []string{"point", "target"},
	Shapes: []Shape{{Body: 0, Kind: Circle, Radius: 0.02, Color: "blue", Fill: true}}}

func (p *pointTask) Scene() *Scene { return pointScene }

func (p *pointTask) Poses(dst []Pose) []Pose {
	dst = dst[:2]
	dst[0] = Pose{X: p.x, Y: p.y}
	dst[1] = Pose{X: p.tx, Y: p.ty}
	return dst
}

func (p *pointTask) Expert(skill float64, seed uint64) Policy {
	return Skilled(PolicyFunc(func(obs, dst []float64) {
		dx, dy := obs[2]-obs[0], obs[3]-obs[1]
		dst[0] = min(max(dx*5, -1), 1)
		dst[1] = min(max(dy*5, -1), 1)
	}), skill, seed, nil)
}
