// Package endoscope holds ecm-track, SurRoL's ActiveTrack in a plane: an
// endoscope pivoting about its port keeps a moving cube centred in its
// view. docs/tasks/endoscope.md describes the task, what the plane keeps
// and what it loses.
//
// # Units and frames
//
// 1 unit = 1 cm. The Box2D world is the table seen from above (x right,
// y away from the port, no gravity); the endoscope lives above it in 3-D
// (z up), with its port (remote centre of motion) fixed at (0, −16, 20).
// Its state is the dVRK ECM's four joints (yaw, tilt, insertion, roll), so
// every pose passes through the port by construction. The image is a
// pinhole projection with SurRoL's 60° field of view; image coordinates are
// normalised to [−1, 1] with u right and v up. CameraPose (sim.Viewer) is
// the view frame on the table: where the optical axis meets it, x along the
// image's right axis.
//
// # Rates
//
// 10 Hz control with 24 substeps at 240 Hz, as SurRoL's ECM tasks. Actions
// are increments per 0.1 s applied as rates, so a session at TeleopHz
// (30 Hz) moves the view at the same speed. The target is kinematic and
// moves at most 5 cm/s (0.02 cm per substep), so continuous collision is
// off.
//
// # Determinism, goroutines, allocation
//
// Reset rebuilds the world from the seed; same seed and actions give the
// same trajectory bit for bit. A Track belongs to one goroutine. Act,
// Substep (the world is stepped by sim/b2step), Observe, Poses, CameraPose
// and the expert do not allocate; Reset does.
package endoscope
