package manip

import (
	"math"

	"github.com/ByteArena/box2d"

	"tandem/sim/b2step"
)

// Parallel-jaw gripper on a gantry, side view (shared by pick-place). The
// palm is a kinematic body driven by velocity; each jaw is a dynamic body on
// a prismatic joint with a force-limited motor, so jaws stop on contact.
const (
	palmHalfW    = 5.0  // cm
	palmHalfH    = 0.75 // cm
	jawHalfW     = 0.5  // cm
	jawHalfH     = 3.5  // cm: 7 cm fingers
	jawOpen      = 3.5  // cm: inner face to centre line, fully open (7 cm gap)
	jawClosed    = 1.0  // cm: fully closed (2 cm gap)
	jawSpeed     = 8.0  // cm/s at |jaw action| = 1
	jawForce     = 60.0 // kg·cm/s² (0.6 N) per jaw: with jaw friction 0.1 it cannot lift the 50 g block by friction alone
	jawFriction  = 0.1
	jawDensity   = 0.01 // kg/cm²
	jawDeadband  = 0.1  // |jaw action| below this holds the jaws where they are
	weldBreak    = 1000 // kg·cm/s² (10 N, about 20× the block's weight): the grasp breaks above it
	siteOffset   = 6.05 // cm below the palm centre: the grasp point between the fingertips
	fingerLength = 2 * jawHalfH
)

// gripper is the palm, its two jaws and the grasp weld.
type gripper struct {
	palm   *box2d.B2Body
	jaws   [2]*box2d.B2Body // left, right
	slides [2]*box2d.B2PrismaticJoint
	weld   *box2d.B2WeldJoint
	broke  bool // the weld broke this episode
	// weldDef is reused for every grasp: a local definition would escape
	// to the heap through CreateJoint and allocate once per grasp.
	weldDef box2d.B2WeldJointDef
}

// jawCentre is the offset of a jaw body's centre below the palm centre.
const jawCentre = -(palmHalfH + jawHalfH)

// newGripper builds the gripper with its palm centre at (x, y), jaws open.
func newGripper(w *box2d.B2World, x, y float64) gripper {
	var g gripper
	g.palm = addBody(w, box2d.B2BodyType.B2_kinematicBody, x, y, 0)
	addBox(g.palm, boxFix{hx: palmHalfW, hy: palmHalfH, friction: 0.5})
	for i, side := range [2]float64{-1, 1} {
		cx := x + side*(jawOpen+jawHalfW)
		j := addBody(w, box2d.B2BodyType.B2_dynamicBody, cx, y+jawCentre, 0)
		j.SetFixedRotation(true)
		addBox(j, boxFix{hx: jawHalfW, hy: jawHalfH, density: jawDensity, friction: jawFriction})
		pd := box2d.MakeB2PrismaticJointDef()
		pd.Initialize(g.palm, j, box2d.MakeB2Vec2(cx, y+jawCentre), box2d.MakeB2Vec2(side, 0))
		pd.EnableLimit, pd.LowerTranslation, pd.UpperTranslation = true, jawClosed-jawOpen, 0
		pd.EnableMotor, pd.MaxMotorForce = true, jawForce
		g.slides[i] = w.CreateJoint(&pd).(*box2d.B2PrismaticJoint)
		g.jaws[i] = j
	}
	return g
}

// drive sets the palm velocity (cm/s), kept inside [lo, hi] over dt, and
// the jaw motor from the normalised jaw action (positive opens).
func (g *gripper) drive(vx, vy, jaw float64, lo, hi box2d.B2Vec2, dt float64) {
	p := g.palm.GetPosition()
	g.palm.SetLinearVelocity(box2d.MakeB2Vec2(
		speedToward(vx, p.X, lo.X, hi.X, dt),
		speedToward(vy, p.Y, lo.Y, hi.Y, dt)))
	speed := 0.0
	if math.Abs(jaw) >= jawDeadband {
		speed = jaw * jawSpeed
	}
	for _, s := range g.slides {
		s.SetMotorSpeed(speed)
	}
}

// update applies the grasp rules after a physics step: weld obj to the
// palm when both jaws touch it while closing; drop the weld when the jaw
// opens or when its reaction force exceeds weldBreak.
func (g *gripper) update(w *b2step.Stepper, obj *box2d.B2Body, jaw, dt float64) {
	switch {
	case g.weld != nil && jaw >= jawDeadband:
		g.release(w)
	case g.weld != nil:
		if f := g.weld.GetReactionForce(1 / dt); f.Length() > weldBreak {
			g.release(w)
			g.broke = true
		}
	case jaw <= -jawDeadband && touching(g.jaws[0], obj) && touching(g.jaws[1], obj):
		g.grasp(w, obj)
	}
}

// grasp welds obj to the palm where it is now.
func (g *gripper) grasp(w *b2step.Stepper, obj *box2d.B2Body) {
	g.weldDef = box2d.MakeB2WeldJointDef()
	g.weldDef.Initialize(g.palm, obj, obj.GetWorldCenter())
	g.weld = w.CreateJoint(&g.weldDef).(*box2d.B2WeldJoint)
}

func (g *gripper) release(w *b2step.Stepper) {
	if g.weld != nil {
		w.DestroyJoint(g.weld)
		g.weld = nil
	}
}

// site is the grasp point between the fingertips.
func (g *gripper) site() box2d.B2Vec2 {
	p := g.palm.GetPosition()
	return box2d.MakeB2Vec2(p.X, p.Y-siteOffset)
}

// width is the gap between the jaws' inner faces.
func (g *gripper) width() float64 {
	return g.jaws[1].GetPosition().X - g.jaws[0].GetPosition().X - 2*jawHalfW
}
