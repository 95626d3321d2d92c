// Package sim is tandem's simulation kernel: the task contract, the fixed-step
// headless Env, vectorised rollouts, and the live Session loop.
//
// It imports nothing else from this module. Tasks (package tasks and its
// subpackages) implement Task on top of Box2D; teleop, demos, policies and web
// consume the values defined here.
//
// # Units and frames
//
// Each task states its own length unit in Spec.Units (Push-T uses pixels at its
// boundary, the surgical tasks centimetres). World frames are right-handed with
// +y up; angles are radians, counter-clockwise. Actions crossing the Task
// boundary are normalised to [-1, 1] per dimension; Env clamps them.
//
// # Determinism
//
// Same task, same seed and same actions give the same trajectory bit for bit
// on the same binary. Nothing in sim reads the wall clock: Env has no clock at
// all, and Session takes one (Clock) so tests run in virtual time. Random
// numbers come from math/rand/v2 PCG streams seeded from the episode seed.
//
// # Goroutines
//
// One goroutine owns a Task and its Box2D world. Env is not safe for
// concurrent use. Session runs its loop in the goroutine that calls Run (or
// the caller of Tick); its other exported methods are safe for concurrent use
// and reach the loop through a command queue drained once per tick.
// Subscribers receive immutable Records through bounded channels; a full
// channel drops (and counts) instead of blocking the loop.
//
// # Headless rollouts
//
// Stream runs episodes across worker goroutines (one Task and Env each) and
// hands them to its caller in episode order, workers running at most Ahead
// episodes ahead, so memory is bounded however many episodes run; Rollout
// collects them. A rollout follows a Session's rule for a bad controller
// action: the task's hold action runs instead, Help is raised, and the step
// is counted (Episode.Rejected).
//
// # Allocation
//
// Env.Step does not allocate: Step carries its vectors in fixed-size arrays
// (Vec), and the tasks' worlds are stepped by sim/b2step (package tasks'
// TestEnvStepAllocatesNothing runs every task's expert episode). A Session
// allocates, per tick, what it publishes, because subscribers share it: the
// Record, its Poses and Forces, copies of the Decision's slices and, on a
// learning step of a sub-ticked period, its Subticks. That is off the
// physics hot path.
//
// # Physics
//
// Tasks step their Box2D worlds with the subpackage sim/b2step, which runs
// the library's B2World.Step (islands, warm starting, joints, continuous
// collision, sleeping) bit for bit on storage it keeps, so that stepping a
// world does not allocate either. It imports only the Box2D library.
package sim
