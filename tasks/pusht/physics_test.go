package pusht

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ByteArena/box2d"
)

// libraryWorld is a world whose bodies are stepped by Box2D's own
// B2World.Step instead of b2step; tests and benchmarks compare the two.
func libraryWorld(agent vec, block pose, continuous bool) *world {
	w := &world{}
	w.phys.UseLibrary = true
	w.place(agent, block)
	w.b2.M_continuousPhysics = continuous
	return w
}

// libraryStep is one substep through B2World.Step.
func (w *world) libraryStep(dt float64) {
	if !w.phys.UseLibrary {
		panic("libraryStep on a b2step world")
	}
	w.step(dt)
}

// touching reports whether a touching contact joins the block to body b.
func (w *world) touching(b *box2d.B2Body) bool {
	for ce := w.block.GetContactList(); ce != nil; ce = ce.Next {
		if ce.Other == b && ce.Contact.IsTouching() {
			return true
		}
	}
	return false
}

// drivePD applies the agent's PD law toward target for one substep.
func drivePD(w *world, target vec, dt float64) {
	a := w.agent
	x, v := a.GetPosition(), a.M_linearVelocity
	v.X += (kp*(target.x/pxPerUnit-x.X) - kd*v.X) * dt
	v.Y += (kp*(target.y/pxPerUnit-x.Y) - kd*v.Y) * dt
	a.M_linearVelocity = v
}

// compareWithLibrary steps world.step and B2World.Step (continuous
// collision off) side by side through targets, 100 substeps each, and
// returns the largest difference in block position (px) and angle (rad),
// and whether a wall contact occurred.
func compareWithLibrary(start vec, block pose, targets []vec) (dp, da float64, wall bool, overlap float64) {
	ours := newWorld()
	ours.place(start, block)
	lib := libraryWorld(start, block, false)
	for i := range 100 * len(targets) {
		tg := targets[i/100]
		drivePD(ours, tg, 0.01)
		drivePD(lib, tg, 0.01)
		ours.step(0.01)
		lib.libraryStep(0.01)
		wall = wall || ours.touching(ours.walls)
		po, pl := ours.blockPose(), lib.blockPose()
		c := ours.blockCenter()
		overlap = max(overlap, wallLo+wallRadius-c.x, c.x-(wallHi-wallRadius), wallLo+wallRadius-c.y, c.y-(wallHi-wallRadius))
		dp = max(dp, po.p.sub(pl.p).norm(), ours.agentPos().sub(lib.agentPos()).norm())
		da = max(da, math.Abs(po.angle-pl.angle))
	}
	return dp, da, wall, overlap
}

// TestStepMatchesLibrary checks world.step (b2step) against B2World.Step
// (continuous collision off) bit for bit, first with the agent pushing the
// T in the open, then with the agent (whose target lies beyond the wall)
// squeezing the T against a wall, where several contacts are solved
// together.
func TestStepMatchesLibrary(t *testing.T) {
	cases := []struct {
		name    string
		targets []vec
		wall    bool
	}{
		{"open field", []vec{{400, 310}, {300, 450}, {200, 200}, {300, 400}, {150, 300}}, false},
		{"against a wall", []vec{{400, 310}, {520, 330}, {520, 250}, {200, 200}, {300, 400}, {480, 420}}, true},
	}
	for _, c := range cases {
		dp, da, wall, overlap := compareWithLibrary(vec{100, 300}, pose{vec{256, 300}, 0.3}, c.targets)
		if wall != c.wall {
			t.Fatalf("%s: wall contact %v; want %v", c.name, wall, c.wall)
		}
		if dp != 0 || da != 0 {
			t.Errorf("%s: differs from B2World.Step by %g px, %g rad; want 0", c.name, dp, da)
		}
		if overlap > 0 {
			t.Errorf("%s: the T's centre went %.2f px past a wall's face; want inside", c.name, overlap)
		}
	}
}

// maxAgentTravel drives the agent with the reference's PD law from the
// worst start (at rest in one corner, target in the other) and through
// random 10 Hz targets, and returns the longest distance it moves in one
// substep.
func maxAgentTravel() float64 {
	w := newWorld()
	w.place(vec{0, 0}, pose{vec{-1000, -1000}, 0}) // the block is out of the way
	worst := 0.0
	run := func(target vec, substeps int) {
		for range substeps {
			p := w.agentPos()
			drivePD(w, target, 0.01)
			w.step(0.01)
			worst = max(worst, w.agentPos().sub(p).norm())
		}
	}
	run(vec{fieldSize, fieldSize}, 100)
	run(vec{0, 0}, 100)
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		// Targets at the corners give the largest jumps.
		run(vec{float64(r.IntN(2)) * fieldSize, float64(r.IntN(2)) * fieldSize}, 10)
	}
	return worst
}

// TestDiscreteCollisionSuffices backs Spec.Continuous = false. Contacts
// are found from positions at the start of a substep (as in pymunk), so
// the agent may sink into the T for a substep before it pushes; what must
// not happen is its centre jumping past the middle of a face's 30 px
// thickness, where the nearest face — and so the push — would flip. That
// needs a substep longer than radius + 15 = 30 px. Box2D would also clamp
// any substep longer than 2 units (40 px). The T is pushed no faster than
// the agent and the walls are 100 px thick.
func TestDiscreteCollisionSuffices(t *testing.T) {
	travel := maxAgentTravel()
	t.Logf("longest agent substep: %.2f px (radius %v px, T thickness 30 px, Box2D limit %v px)", travel, agentRadius, 2*pxPerUnit)
	if limit := agentRadius + 15.0; travel >= limit {
		t.Errorf("agent moves %.2f px in one substep; want < %v", travel, limit)
	}
	if travel >= 2*pxPerUnit {
		t.Errorf("agent moves %.2f px in one substep; Box2D would clamp it at %v", travel, 2*pxPerUnit)
	}
	if math.IsNaN(travel) {
		t.Errorf("travel is NaN")
	}
}
