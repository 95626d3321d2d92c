// Package teleop is tandem's operator input and control arbitration: the
// Command and Source contract shared by devices, browsers and simulated
// operators; takeover rules; the Arbiter that decides who acts each tick;
// simulated operators built on a task's scripted expert; and the motion
// semantics of teleoperation (scaling, clutch, camera frame).
// docs/teleop.md is the user-facing description.
//
// # Units and frames
//
// Commands are in the task's normalised action space (Spec.ActionNames,
// [-1, 1] per dimension). Device commands are rates or increments: for
// tasks whose actions are increments (surgical tools) a zero command holds
// still; absolute-position channels (bare names such as Push-T's
// "target_x", see MotionAxes) are integrated from the task's hold action
// at RateGain per second, so a takeover starts where the tool is
// (bumpless). Sources that implement
// TaskSpacer (simulated operators, a browser pointer) give the action to
// execute and are applied as they are. Device commands are expressed in the
// camera frame when the task is a sim.Viewer (else the world frame); the
// arbiter rotates each tool's (x, y) into the world frame with mgl64 and
// scales translation by MotionScale. Yaw is not scaled.
//
// # Determinism
//
// Decide uses no clock and no randomness of its own; given the same
// sources' commands it produces the same decisions. SimOperator draws from
// PCG streams seeded by its Seed and the episode seed, so a rollout with a
// simulated operator repeats bit for bit. Config.Clock is read only to
// measure latency and never changes a decision.
//
// # Goroutines
//
// Decide and Reset run on the session's loop goroutine (sim.Session's or
// sim.Rollout's worker), which owns the task; the arbiter calls the policy,
// observers (SimOperator.Observe) and the task's hold action and camera pose
// only there. Every other Arbiter method is safe for concurrent use: calls
// are queued under one mutex and applied at the start of the next tick, so
// a command or call made before tick k takes effect at tick k. No lock is
// held while the arbiter calls a policy or a source, so there is no lock
// order to keep. Source.Latest must be non-blocking.
//
// # Allocation
//
// Decide does not allocate in steady state (tested with AllocsPerRun): it
// reuses its action buffers, and its request queue and state snapshot keep
// their capacity. State and Latencies copy (they allocate); they are for
// consoles, not the loop.
package teleop
