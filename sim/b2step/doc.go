// Package b2step steps Box2D worlds (github.com/ByteArena/box2d v1.0.2)
// without allocating: the library's B2World.Step, reproduced on storage
// that a Stepper keeps from one step to the next.
//
// # What it runs
//
// Stepper.Step does what B2World.Step does, in the same order and with the
// same floating-point operations, so the two give the same bits: new
// contacts from the broad phase, the narrow phase of every contact
// (B2ContactUpdate, with the world's contact listener), islands found by
// depth-first search over touching contacts and joints from each awake
// dynamic or kinematic body, velocity integration with gravity, forces and
// damping, the contact solver (B2ContactSolver) and every joint's own
// solver functions with warm starting, position integration with the
// library's motion limits, position correction, PostSolve reports,
// sleeping, and the broad phase's proxy updates. Contact filtering follows
// the library: with no contact filter set on the world (the library's
// default, as B2World never installs one) fixtures' category, mask and group
// bits are not consulted at all.
//
// The library's step is reproduced rather than called because it allocates
// on every step: an island and a contact solver sized for the whole world,
// a depth-first search stack, a linked-list stack node for every broad-phase
// tree visit, interface conversions when sorting pairs and computing
// bounding boxes, a contact object (with its manifold and two graph edges)
// for every new pair and a PostSolve impulse per contact; it also reads the
// wall clock for its profile. A Stepper keeps all of that: island arrays,
// constraint arrays and the search stacks grow to the largest world it has
// stepped and stay; contacts that end go to a pool and new pairs take
// contacts from it; Bind sizes the pool for every pair of fixtures that
// could ever touch, so that no step allocates.
//
// Continuous collision (B2World.SolveTOI, on when a world's
// M_continuousPhysics is set, the library's default) is reproduced too:
// times of impact of contacts with a static, kinematic or bullet body, the
// earliest first, each solved as a sub-step island. Sensors' overlap tests
// run GJK on proxies kept in the Stepper. The only thing not reproduced is
// the profile: B2World.GetProfile stays zero.
//
// # Copies of the library's functions
//
// Most of the work runs in the library's own code (narrow phase, contact
// solver warm start, joints of other types). Where a library function was
// slow only because of how Go runs it, the package runs a copy that
// computes the same bits: value receivers that copy a polygon, a contact or
// a simplex on every call are read through pointers; math.Min and
// math.Max calls (clamps, AABB unions) become the builtin min and max,
// which treat NaN and signed zeros the same way; separate math.Sin and
// math.Cos calls (B2Rot.Set) become math.Sincos, which runs the same
// reduction and polynomials; time of impact and GJK lose their wall-clock
// timer and the unsynchronised package-level counters that parallel
// worlds would race on. The copies are the contact solver (contactsolver.go,
// contactsetup.go), the weld, distance, revolute and prismatic joints'
// solvers (jointsolver.go), time of impact and its separating axis (toi.go,
// separation.go), GJK (distance.go), the broad-phase tree's proxy moves
// (tree.go) and shape AABBs and transforms (math.go). Bit identity with the
// library is tested for all of them (below).
//
// # Joints created while stepping
//
// Tasks that grasp create and destroy weld joints during an episode.
// Stepper.CreateJoint and Stepper.DestroyJoint are B2World.CreateJoint and
// B2World.DestroyJoint with a pool behind them: a destroyed weld, distance,
// revolute or prismatic joint is re-initialised in place, exactly as the
// library's constructor would initialise a new one, by the next CreateJoint
// of its type. A caller must drop its reference to a joint it destroyed.
// ReserveJoints fills the pool ahead of time.
//
// # Bit identity
//
// The comparison tests in this package and in package tasks step the same
// worlds with Stepper and with B2World.Step (UseLibrary) and compare every
// body's position, angle and velocities bit for bit (here also the
// broad-phase tree, node for node). Stepper.Order, when a task sets it,
// departs from the library on purpose (Push-T). Identity relies on
// the Go compiler not fusing multiplies and adds, which it does not on
// amd64 at the default GOAMD64=v1 (other architectures, such as arm64, may
// fuse differently in the library's code and in this package's).
//
// # Goroutines
//
// A Stepper and the world it is bound to belong to one goroutine. Different
// Steppers with different worlds may run in parallel: they share no state,
// and this package fills the library's lazily built contact registry in
// init, before any goroutine could race on it (go test -race ./tasks runs
// two worlds of every task at once).
package b2step
