package manip

import (
	"math"

	"github.com/ByteArena/box2d"

	"tandem/sim"
	"tandem/sim/b2step"
)

// Pick-place layout and rates. 1 unit = 1 cm, table top at y = 0.
const (
	ppHz        = 20   // robosuite's control rate
	ppPhysicsHz = 240  // 12 substeps per control step
	ppHorizon   = 400  // robomimic's evaluation horizon for Lift/Can/Square (PH), 20 s
	ppSpeed     = 15.0 // cm/s palm speed at |action| = 1
	ppStream    = 0x9b1

	blockHalf     = 2.0      // cm: a 4 cm block
	blockDensity  = 0.003125 // kg/cm²: 50 g
	blockFriction = 0.8
	binInner      = 5.0 // cm: half inner width (10 cm)
	binWall       = 1.0 // cm wall thickness
	binHeight     = 5.0 // cm wall height
	binFloor      = 0.5 // cm floor thickness
	tableHalf     = 40.0
	palmMinY      = 0.3 + fingerLength + palmHalfH // fingertips 3 mm above the table
	palmMaxY      = 30.0
	carryY        = 18.0 // palm height that clears the bin walls with a block
	awayDistance  = 4.24 // cm: robosuite PickPlace counts the object placed once tanh(10·d) > 0.4, d > 4.24 cm
	ppStartY      = 22.0 // palm start height
	ppGain        = 6.0  // 1/s: expert's proportional gain
	ppRetryAfter  = 30   // expert steps spent closing before it starts over
	ppPlaceMargin = 0.4  // cm: expert releases the block this far above the bin floor
	ppAlign       = 0.25 // cm: expert's x tolerance before descending
)

var ppObs = []string{"grip_x", "grip_z", "jaw_width", "block_x", "block_z", "block_angle", "rel_x", "rel_z", "bin_x", "bin_rel_x", "grasped"}

// PickPlace is a side-view pick and place after robosuite's PickPlaceCan: a
// parallel-jaw gripper on a gantry picks a block from the table and drops
// it into a bin (both positions random). Gravity is on. The grasp is a weld
// made when both jaws touch the block while closing and removed when the
// jaw opens, as SurRoL makes a fixed constraint instead of relying on
// friction; it breaks above 10 N. Success, as robosuite's Can: the block is
// in the bin, released, and the gripper more than 4.24 cm away. Success
// ends the episode.
type PickPlace struct {
	spec  sim.Spec
	scene *sim.Scene

	world *box2d.B2World
	phys  b2step.Stepper // steps world; bound at the end of Reset
	g     gripper
	block *box2d.B2Body
	bin   *box2d.B2Body

	cmd [3]float64 // vx, vy (cm/s), jaw (normalised)

	skipPhysics bool // tests only: run tandem's code without the physics step
}

// NewPickPlace returns the pick-place task, ready for Reset.
func NewPickPlace() *PickPlace {
	low, high := sim.Normalised(3)
	t := &PickPlace{spec: sim.Spec{
		Name:        "pick-place",
		Kind:        sim.Manipulation,
		Description: "Pick a block off the table with a gantry parallel-jaw gripper (side view, gravity), release it in a bin and move away.",
		Source:      "robosuite PickPlaceCan success test; SurRoL constraint grasp; robomimic horizon 400 at 20 Hz",
		ObsNames:    ppObs,
		ActionNames: []string{"vx", "vz", "jaw"},
		ActionKinds: []sim.ActionKind{sim.ActionRate, sim.ActionRate, sim.ActionLevel},
		ActionLow:   low, ActionHigh: high,
		ControlHz: ppHz, TeleopHz: 60, PhysicsHz: ppPhysicsHz,
		Horizon: ppHorizon, Units: "cm", Continuous: false, Version: 1,
	}}
	t.scene = t.buildScene()
	t.Reset(0)
	return t
}

// Spec describes the task.
func (t *PickPlace) Spec() sim.Spec { return t.spec }

// Reset builds the table, a bin and a block at random places, and the
// gripper open above them.
func (t *PickPlace) Reset(seed uint64) {
	r := newRand(seed, ppStream)
	t.world = newWorld(-gravity, false)
	table := addBody(t.world, box2d.B2BodyType.B2_staticBody, 0, -1, 0)
	addBox(table, boxFix{hx: tableHalf, hy: 1, friction: blockFriction})

	binX := uniform(r, -25, 25)
	blockX := binX
	for math.Abs(blockX-binX) < binInner+binWall+blockHalf+3 {
		blockX = uniform(r, -28, 28)
	}
	t.bin = addBody(t.world, box2d.B2BodyType.B2_staticBody, binX, 0, 0)
	for _, f := range binFixtures() {
		addBox(t.bin, f)
	}
	t.block = addBody(t.world, box2d.B2BodyType.B2_dynamicBody, blockX, blockHalf, 0)
	addBox(t.block, boxFix{hx: blockHalf, hy: blockHalf, density: blockDensity, friction: blockFriction})
	t.g = newGripper(t.world, uniform(r, -20, 20), ppStartY)
	t.cmd = [3]float64{}
	t.phys.ReserveJoints(box2d.B2JointType.E_weldJoint, 1)
	t.phys.Bind(t.world)
}

func binFixtures() [3]boxFix {
	return [3]boxFix{
		{cy: binFloor / 2, hx: binInner + binWall, hy: binFloor / 2, friction: blockFriction},
		{cx: -binInner - binWall/2, cy: binHeight / 2, hx: binWall / 2, hy: binHeight / 2, friction: blockFriction},
		{cx: binInner + binWall/2, cy: binHeight / 2, hx: binWall / 2, hy: binHeight / 2, friction: blockFriction},
	}
}

// Act sets the palm velocity and the jaw command for the next period.
func (t *PickPlace) Act(a []float64, _ float64) {
	t.cmd = [3]float64{a[0] * ppSpeed, a[1] * ppSpeed, a[2]}
}

// Substep drives the gripper, steps the physics and applies the grasp rules.
func (t *PickPlace) Substep(dt float64) {
	t.g.drive(t.cmd[0], t.cmd[1], t.cmd[2],
		box2d.MakeB2Vec2(-tableHalf+palmHalfW, palmMinY), box2d.MakeB2Vec2(tableHalf-palmHalfW, palmMaxY), dt)
	if !t.skipPhysics {
		t.phys.Step(dt, velocityIters, positionIters)
	}
	t.g.update(&t.phys, t.block, t.cmd[2], dt)
}

// Observe writes the gripper, block and bin state.
func (t *PickPlace) Observe(dst []float64) {
	s, b := t.g.site(), t.block.GetPosition()
	binX := t.bin.GetPosition().X
	dst[0], dst[1], dst[2] = s.X, s.Y, t.g.width()
	dst[3], dst[4], dst[5] = b.X, b.Y, t.block.GetAngle()
	dst[6], dst[7] = b.X-s.X, b.Y-s.Y
	dst[8], dst[9] = binX, binX-b.X
	dst[10] = 0
	if t.g.weld != nil {
		dst[10] = 1
	}
}

// inBin reports the block resting inside the bin's walls, below their top.
func (t *PickPlace) inBin() bool {
	b := t.block.GetPosition()
	dx := math.Abs(b.X - t.bin.GetPosition().X)
	return dx < binInner-blockHalf+0.5 && b.Y < binHeight && b.Y > binFloor
}

// Success: block in the bin, not grasped, gripper more than 4.24 cm away.
func (t *PickPlace) Success() bool {
	if t.g.weld != nil || !t.inBin() {
		return false
	}
	s, b := t.g.site(), t.block.GetPosition()
	return math.Hypot(s.X-b.X, s.Y-b.Y) > awayDistance
}

// Reward is sparse: 1 on success, else 0 (robosuite's sparse reward).
func (t *PickPlace) Reward() float64 {
	if t.Success() {
		return 1
	}
	return 0
}

// Terminal ends the episode on success.
func (t *PickPlace) Terminal() bool { return t.Success() }

// Scene draws the table, the gantry rail, the gripper, block and bin.
func (t *PickPlace) Scene() *sim.Scene { return t.scene }

func (t *PickPlace) buildScene() *sim.Scene {
	s := &sim.Scene{
		Bounds: [4]float64{-tableHalf, -3, tableHalf, palmMaxY + 4},
		Bodies: []string{"gripper", "jaw_left", "jaw_right", "block", "bin"},
	}
	s.Shapes = append(s.Shapes,
		rectShape(-1, boxFix{cy: -1, hx: tableHalf, hy: 1}, "#8a7a66", 0),
		sim.Shape{Body: -1, Kind: sim.Polyline, Points: [][2]float64{{-tableHalf, palmMaxY + 2}, {tableHalf, palmMaxY + 2}}, Width: 0.4, Color: "#999", Layer: 0, Label: "gantry"},
		rectShape(0, boxFix{hx: palmHalfW, hy: palmHalfH}, "#666", 3),
		rectShape(1, boxFix{hx: jawHalfW, hy: jawHalfH}, "#444", 3),
		rectShape(2, boxFix{hx: jawHalfW, hy: jawHalfH}, "#444", 3),
		rectShape(3, boxFix{hx: blockHalf, hy: blockHalf}, "#d9534f", 2),
	)
	for _, f := range binFixtures() {
		s.Shapes = append(s.Shapes, rectShape(4, f, "#3f7fbf", 1))
	}
	s.Shapes[len(s.Shapes)-1].Label = "bin"
	return s
}

// Poses writes the palm, jaws, block and bin poses.
func (t *PickPlace) Poses(dst []sim.Pose) []sim.Pose {
	dst = dst[:5]
	dst[0], dst[1], dst[2] = poseOf(t.g.palm), poseOf(t.g.jaws[0]), poseOf(t.g.jaws[1])
	dst[3], dst[4] = poseOf(t.block), poseOf(t.bin)
	return dst
}

// Grasped reports whether the block is welded to the gripper.
func (t *PickPlace) Grasped() bool { return t.g.weld != nil }
