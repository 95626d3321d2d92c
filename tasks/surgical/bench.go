package surgical

import (
	"math/rand/v2"

	"github.com/ByteArena/box2d"

	"tandem/sim"
	"tandem/sim/b2step"
)

// Rates shared by every surgical task.
const (
	physicsHz = 240 // SurRoL steps PyBullet at 240 Hz
	controlHz = 5   // SurRoL PSM tasks act every 0.2 s (48 substeps)
	teleopHz  = 20  // interactive teleoperation: 12 substeps per command
	horizon1  = 50  // SurRoL episode length, one instrument
	horizon2  = 100 // two instruments: twice the hand-offs
	version   = 1
)

// toolActions are the per-instrument action names (normalised to [-1, 1]).
var toolActions = []string{"dx", "dy", "dphi", "jaw"}

// poseSrc says where one scene body's pose comes from: a Box2D body, or a
// marker pose the task keeps.
type poseSrc struct {
	body   *box2d.B2Body
	marker *sim.Pose
}

// bench is what every surgical task shares: the Box2D world, the
// instruments, grasping, contact forces, and the Act/Substep plumbing. A
// task embeds it and supplies build (called at every Reset) and its own
// Observe, Reward, Success, Expert.
type bench struct {
	spec  sim.Spec
	scene *sim.Scene
	world *box2d.B2World
	// phys steps world without allocating (bound at the end of every
	// Reset, by ready); it also makes and breaks the grasp welds.
	phys  b2step.Stepper
	tools []*instrument
	// ports and workspaces of the instruments, fixed for the task.
	ports []vec
	wss   []rect

	graspable []*box2d.B2Body
	// rule is the task's extra grasp condition (nil: any graspable body).
	rule func(tool int, obj *box2d.B2Body) bool
	// gripHz, when positive, makes grasps turn compliantly (a soft angular
	// weld at this frequency; the position stays rigid): tissue pinched in a
	// jaw bends at the jaw.
	gripHz float64
	// weldDef is reused for every grasp: a local definition would escape
	// to the heap through CreateJoint and allocate once per grasp.
	weldDef box2d.B2WeldJointDef
	// after runs after every physics substep (tissue checks).
	after func(dt float64)

	poses   []poseSrc
	rng     *rand.Rand
	episode uint64
	seed    uint64
	wm      box2d.B2WorldManifold

	// stepPhysics replaces the Box2D step in allocation tests (nil: Step).
	stepPhysics func(dt float64)
}

// newBench prepares the spec and one instrument per port.
func newBench(spec sim.Spec, ports []vec, wss []rect) *bench {
	spec.Kind = sim.Surgical
	spec.ControlHz, spec.TeleopHz, spec.PhysicsHz = controlHz, teleopHz, physicsHz
	spec.Units = "cm"
	spec.Continuous = true // see newWorld
	spec.Version = version
	if spec.Source == "" {
		spec.Source = "SurRoL (med-air/SurRoL), planar port"
	}
	for k := range ports {
		for _, a := range toolActions {
			name := a
			if len(ports) > 1 {
				name = a + string(rune('1'+k))
			}
			spec.ActionNames = append(spec.ActionNames, name)
			kind := sim.ActionRate // increments: a period's sub-ticks add up
			if a == "jaw" {
				kind = sim.ActionLevel // open or closed: the last command holds
			}
			spec.ActionKinds = append(spec.ActionKinds, kind)
		}
	}
	spec.ActionLow, spec.ActionHigh = sim.Normalised(len(spec.ActionNames))
	b := &bench{spec: spec, ports: ports, wss: wss}
	for k := range ports {
		b.tools = append(b.tools, &instrument{
			port: ports[k], ws: wss[k], thetaMax: 70 * deg, dMin: 2, dMax: 25,
			controlHz: controlHz,
		})
	}
	return b
}

// Spec describes the task.
func (s *bench) Spec() sim.Spec { return s.spec }

// Scene returns the static drawing description.
func (s *bench) Scene() *sim.Scene { return s.scene }

// begin starts a fresh world for seed; the task then adds its bodies and
// calls finish.
func (s *bench) begin(seed uint64) {
	s.seed = seed
	s.episode++
	s.rng = rand.New(rand.NewPCG(seed, 0x5eed5))
	s.world = newWorld()
	s.world.SetContactListener(contactGate{s})
	s.graspable = s.graspable[:0]
	s.poses = s.poses[:0]
	for k, in := range s.tools {
		in.floor = 0
		in.build(s.world, -int16(k+1))
	}
	s.phys.ReserveJoints(box2d.B2JointType.E_weldJoint, len(s.tools))
}

// ready binds the stepper to the world a Reset has just finished building,
// sizing its storage so that stepping it never allocates.
func (s *bench) ready() { s.phys.Bind(s.world) }

// Stepper is the stepper of the task's Box2D world: tests compare it with
// the library's own step, and tandem bench --dump-world records through it.
func (s *bench) Stepper() *b2step.Stepper { return &s.phys }

// uniform draws from [lo, hi) with the episode's generator.
func (s *bench) uniform(lo, hi float64) float64 { return lo + (hi-lo)*s.rng.Float64() }

// Act splits the action among the instruments.
func (s *bench) Act(action []float64, period float64) {
	for k, in := range s.tools {
		in.command(action[4*k:4*k+4], period)
		in.grip.force, in.grip.count = vec{}, 0
	}
}

// Substep advances instruments, physics and grasps by dt.
func (s *bench) Substep(dt float64) {
	for _, in := range s.tools {
		in.advance(dt)
	}
	if s.stepPhysics != nil {
		s.stepPhysics(dt)
	} else {
		s.phys.Step(dt, velocityIters, positionIters)
	}
	s.scanContacts(dt)
	s.updateGrasps(dt)
	for _, in := range s.tools {
		in.grip.count++
		in.grip.last = in.grip.force.Mul(1 / float64(in.grip.count))
	}
	if s.after != nil {
		s.after(dt)
	}
}

// ToolForces appends each instrument's average contact force over the last
// control period (x, y in kg·cm/s², i.e. 0.01 N): contact impulses on its
// fingers and shaft plus the pull of a held object.
func (s *bench) ToolForces(dst []float64) []float64 {
	for _, in := range s.tools {
		dst = append(dst, in.grip.last[0], in.grip.last[1])
	}
	return dst
}

// Hold writes the action that keeps every instrument still with its jaw as
// commanded now (a zero jaw command would open it and drop what it holds).
func (s *bench) Hold(dst []float64) {
	for k, in := range s.tools {
		dst[4*k], dst[4*k+1], dst[4*k+2], dst[4*k+3] = 0, 0, 0, 1
		if in.closed() {
			dst[4*k+3] = -1
		}
	}
}

// Poses writes one pose per scene body.
func (s *bench) Poses(dst []sim.Pose) []sim.Pose {
	dst = dst[:0]
	for _, p := range s.poses {
		if p.body != nil {
			q := bodyPos(p.body)
			dst = append(dst, sim.Pose{X: q[0], Y: q[1], Angle: p.body.M_sweep.A})
		} else {
			dst = append(dst, *p.marker)
		}
	}
	return dst
}

// track appends pose sources for the instruments' bodies (three per
// instrument: shaft, finger A, finger B) in scene order.
func (s *bench) trackTools() {
	for _, in := range s.tools {
		s.poses = append(s.poses, poseSrc{body: in.shaft}, poseSrc{body: in.fingerA}, poseSrc{body: in.fingerB})
	}
}

// observeTool writes [tip x, tip y, phi, jaw, held] for instrument k.
func (s *bench) observeTool(dst []float64, k int) []float64 {
	in := s.tools[k]
	t := in.tip()
	held := 0.0
	if in.grip.held != nil {
		held = 1
	}
	return append(dst, t[0], t[1], in.phi(), in.jaw, held)
}

// sparse is SurRoL's reward: 0 on success, -1 otherwise.
func sparse(ok bool) float64 {
	if ok {
		return 0
	}
	return -1
}

// toolObsNames names observeTool's values for instrument k of n.
func toolObsNames(k, n int) []string {
	suf := ""
	if n > 1 {
		suf = string(rune('1' + k))
	}
	out := make([]string, 0, 5)
	for _, f := range []string{"tip_x", "tip_y", "phi", "jaw", "held"} {
		out = append(out, f+suf)
	}
	return out
}

// base exposes the shared part to the package's tests and helpers.
func (s *bench) base() *bench { return s }
