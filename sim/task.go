package sim

// Task is one simulated task around its own Box2D world. A Task value is owned
// by one goroutine at a time (see the package doc).
//
// The Env drives it as:
//
//	Reset(seed)            once per episode
//	Act(action, period)    once per control step (live sessions: once per
//	                       sub-tick), action already checked and clamped
//	Substep(dt)            Spec.Substeps times per control step
//	EndPeriod()            once per control step, after its last substep,
//	                       for tasks that implement PeriodEnder
//	Observe/Reward/...     after the last substep
type Task interface {
	// Spec describes the task; the same value for the task's lifetime.
	Spec() Spec
	// Reset rebuilds or re-poses the world for a new episode drawn from seed.
	// The same seed must give the same initial state.
	Reset(seed uint64)
	// Act sets the command for the next control period of period seconds.
	// Tasks whose actions are per-step increments scale them by
	// period·ControlHz so a session running at TeleopHz moves the tool at the
	// same speed as learning does at ControlHz.
	Act(action []float64, period float64)
	// Substep advances controllers and physics by dt seconds.
	Substep(dt float64)
	// Observe writes the observation into dst (len = Spec().ObsSize()).
	Observe(dst []float64)
	// Reward is the reward of the last control step.
	Reward() float64
	// Success reports whether the task's success test holds now.
	Success() bool
	// Terminal reports an episode end other than the horizon (task-specific
	// failure such as tearing tissue or losing the target). Success does not
	// by itself end an episode unless the task says so here.
	Terminal() bool
	// Scene returns the static drawing description. It does not change across
	// resets; moving things are bodies whose poses come from Poses.
	Scene() *Scene
	// Poses writes one pose per Scene body into dst[:len(Scene().Bodies)]
	// and returns it.
	Poses(dst []Pose) []Pose
	// Expert returns the task's scripted expert bound to this task instance
	// (it may read privileged state). skill is in [0, 1]: 1 is the best the
	// script can do; lower adds noise, bias and hesitation drawn from seed.
	// The expert is reset by the Env at each episode start if it implements
	// Resetter.
	Expert(skill float64, seed uint64) Policy
}

// Policy maps an observation to an action. Act must not keep obs or dst.
type Policy interface {
	Act(obs, dst []float64)
}

// PolicyFunc adapts a function to Policy.
type PolicyFunc func(obs, dst []float64)

// Act calls f.
func (f PolicyFunc) Act(obs, dst []float64) { f(obs, dst) }

// Resetter is implemented by stateful policies (experts with waypoints,
// recurrent nets) that must be told when an episode starts.
type Resetter interface {
	Reset(seed uint64)
}

// PeriodEnder is implemented by tasks with per-control-step bookkeeping (a
// success counter of consecutive steps, a force averaged over the step).
// The Env calls EndPeriod once per control period, after its last substep
// and before Observe, however many times Act was called within it: Act's
// period is how long a command applies (a sub-tick in a live session), not
// where the learning step ends.
type PeriodEnder interface {
	EndPeriod()
}

// EndPeriod calls task's EndPeriod if it has one. Code that drives a Task
// without an Env (benchmarks, physics comparisons) calls it after each
// control step's substeps, as the Env does.
func EndPeriod(task Task) {
	if pe, ok := task.(PeriodEnder); ok {
		pe.EndPeriod()
	}
}

// ForceReporter is implemented by tasks whose tools feel contact forces that
// a force-feedback device can render.
type ForceReporter interface {
	// ToolForces appends, for each tool in the task's order, the contact force
	// it felt during the last control step (x, y in the task's units, averaged
	// over substeps) and returns dst.
	ToolForces(dst []float64) []float64
}

// ForceScaler is implemented by ForceReporters whose tools have a force
// limit: the contact force magnitude (task units) that a force-feedback
// device renders at full strength.
type ForceScaler interface {
	ToolForceScale() float64
}

// Viewer is implemented by tasks with a camera (an endoscope) whose frame
// operators' commands are expressed in. Without it commands are in the world
// frame.
type Viewer interface {
	// CameraPose is the camera's pose in the world: its x axis points right on
	// screen and its y axis up.
	CameraPose() Pose
}

// Pose is a planar rigid transform: position and counter-clockwise angle.
type Pose struct {
	X     float64 `json:"x"`
	Y     float64 `json:"y"`
	Angle float64 `json:"a"`
}

// ShapeKind names a drawable primitive.
type ShapeKind string

// Shape kinds.
const (
	Circle   ShapeKind = "circle"
	Polygon  ShapeKind = "polygon"
	Polyline ShapeKind = "polyline" // open chain of points, drawn with Width
)

// Shape is one drawable primitive attached to a body (or to the world when
// Body is -1). Coordinates are in the body's frame, in Spec.Units.
type Shape struct {
	Body   int          `json:"body"`
	Kind   ShapeKind    `json:"kind"`
	Center [2]float64   `json:"center,omitempty"` // Circle
	Radius float64      `json:"radius,omitempty"` // Circle
	Points [][2]float64 `json:"points,omitempty"` // Polygon, Polyline
	Width  float64      `json:"width,omitempty"`  // Polyline stroke
	Color  string       `json:"color"`            // CSS colour
	Fill   bool         `json:"fill"`
	Layer  int          `json:"layer"` // draw order, low first
	Label  string       `json:"label,omitempty"`
}

// Scene is what a viewer needs to draw a task: bounds, the bodies and shapes.
type Scene struct {
	// Bounds is the visible world rectangle: min x, min y, max x, max y.
	Bounds [4]float64 `json:"bounds"`
	// Bodies names each moving thing whose pose Poses reports (physical
	// bodies, but also markers such as a goal or a target).
	Bodies []string `json:"bodies"`
	Shapes []Shape  `json:"shapes"`
}

// Holder is implemented by tasks whose "hold still" action is not all zeros,
// such as Push-T whose action is an absolute target position. Hold writes the
// action that keeps the tool where it is now.
type Holder interface {
	Hold(dst []float64)
}

// HoldAction writes task's hold-still action into dst: Holder's when the task
// has one, zeros otherwise (velocity and increment actions).
func HoldAction(task Task, dst []float64) {
	if h, ok := task.(Holder); ok {
		h.Hold(dst)
		return
	}
	for i := range dst {
		dst[i] = 0
	}
}
