// Package manip holds tandem's manipulation tasks: reach (a planar 3-link
// arm, top view), pick-place (a gantry gripper, side view) and peg-insert
// (precision insertion, side view). docs/tasks/manip.md describes each
// task's fields, success test, rates, sources and measured expert curves.
//
// # Units and frames
//
// 1 unit = 1 cm, kilograms, seconds; forces are kg·cm/s² (100 = 1 N).
// Objects are 0.5–80 cm, inside Box2D's comfortable range, and millimetre
// tolerances (peg-insert's 1 mm clearance) stay far above its linear slop
// (0.005) and polygon skin (0.01). Physics runs at 240 Hz; the fastest thing
// moves 20 cm/s, 0.08 cm per substep, far below B2_maxTranslation (2 units
// per step) and below every body's thickness (≥ 1 cm), so continuous
// collision is off in all three tasks (Spec.Continuous false). Side views
// put +y up with gravity −981 cm/s²; reach is a top view without gravity.
// Action vectors are normalised to [−1, 1] and mean velocities (cm/s after
// scaling), so zeros hold still and sessions may run them at TeleopHz.
//
// # Episodes
//
// Reset rebuilds the Box2D world from scratch, so an episode depends on its
// seed and actions only: same seed and actions give the same trajectory bit
// for bit on the same binary (testdata/pick-place.golden pins one). All
// three tasks end the episode on success (Terminal), as robomimic's
// evaluation rollouts stop at the first success.
//
// # Goroutines and allocation
//
// A task and its world belong to one goroutine. Act, Substep, Observe,
// Poses, Reward, Success and the experts do not allocate: the world is
// stepped by sim/b2step, which also makes and breaks pick-place's grasp
// weld from a pool. Reset allocates (it builds the episode's world).
package manip
