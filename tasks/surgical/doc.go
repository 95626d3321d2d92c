// Package surgical is tandem's suite of SurRoL-style surgical-robot tasks,
// ported to a planar side view: needle-reach, gauze-retrieve, needle-pick,
// peg-transfer, tissue-retract, bi-peg-transfer and needle-regrasp.
// docs/tasks/surgical.md describes each task, what the plane loses and what
// stands in for it.
//
// # Frame and units
//
// The plane is a vertical section through the surgical field: x to the
// right, y up, gravity along -y (981 cm/s²). Lengths are centimetres (1
// unit = 1 cm, so SurRoL's 5 mm threshold is 0.5, far above Box2D's 0.005
// linear slop), masses kilograms, forces kg·cm/s² (0.01 N), angles radians.
// A jaw or shaft direction phi is measured from straight down, positive
// towards +x.
//
// # Instrument
//
// Every task drives one or two instruments modelled on the dVRK PSM. The
// shaft passes through a fixed port (the remote centre of motion); the jaw
// tip moves only by pivoting the shaft about the port (theta) and inserting
// it (d); a wrist joint turns the jaw and the jaw opens 0–40°. An action is
// [dx, dy, dphi, jaw] per instrument in [-1, 1]: ±1 moves the tip ±1 cm and
// turns the jaw ±20° per control step at ControlHz (SurRoL's scaling),
// scaled by period·ControlHz at other rates; jaw < 0 closes, otherwise it
// opens. The command is solved by inverse kinematics with saturation
// (workspace box, floor clearance, pivot, insertion and wrist limits), so a
// command that would leave the workspace stops at its edge. The instrument's
// Box2D bodies are kinematic and follow the joint state (interpolated
// linearly in joint space across the substeps of a period), so the shaft
// passes through the port by construction; tests check it within 1 mm
// after every substep.
//
// Grasping follows SurRoL: a weld constraint between the jaw and an object
// is made when both fingers touch a graspable object while the jaw is
// commanded closed and the task's rule allows it (needles: the jaw within
// 20° of the arc normal); it is removed when the jaw opens and broken when
// its reaction force exceeds 2000 kg·cm/s² (SurRoL's maxForce 20 N). After
// a break the jaw must open before it grasps again.
//
// # Rates
//
// Physics 240 Hz; control 5 Hz for learning (48 substeps), 20 Hz for
// teleoperation (Spec.TeleopHz, 12 substeps). Horizons: 50 steps with one
// instrument, 100 with two.
//
// # Goroutines and allocation
//
// A task and its Box2D world belong to one goroutine. Reset rebuilds the
// world (it allocates); Act, Substep, Observe, Poses and ToolForces do not
// allocate: the world is stepped by sim/b2step, which also makes and
// breaks the grasp welds from a pool. The worlds run with continuous
// collision on (see newWorld). Experts allocate their waypoint list once
// per episode.
package surgical
