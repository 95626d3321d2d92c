// Package pusht is tandem's port of Push-T, the planar pushing task of
// Diffusion Policy (real-stanford/diffusion_policy,
// diffusion_policy/env/pusht/pusht_env.py, simulated there with pymunk), on
// Box2D (github.com/ByteArena/box2d v1.0.2). docs/tasks/pusht.md gives the
// task's fields, rates and every deviation with its reason.
//
// # Units and frames
//
// At the task's boundary everything is in the reference's pixels and
// radians: the field is [0, 512]², walls are at 5 and 506 (radius 2), the
// agent is a circle of radius 15, the T a 120×30 bar plus a 30×90 stem.
// Coordinates keep the reference's numbers exactly; tandem's viewers draw
// +y up, so the picture is the reference's pygame image mirrored top to
// bottom (the physics does not care). The T's pose is the pose of its own
// frame, whose origin is the middle of the bar's long edge, as the
// reference reports it. Inside, Box2D runs at 1 unit = 20 px (pxPerUnit) so
// the bodies are 0.75–6 units, Box2D's 2-unit motion clamp (40 px per
// substep) is never reached, and its 0.005-unit linear slop is pymunk's
// 0.1 px collision slop.
//
// Actions are the agent's absolute target, normalised: pixel = (a + 1)·256
// per axis. Observations are [agent x, agent y, block x, block y, block
// angle mod 2π] in pixels and radians.
//
// # Physics
//
// Each 10 ms substep the agent's velocity follows the reference's PD law
// v += (100·(target − x) − 20·v)·dt and Box2D moves the kinematic agent at
// v. The reference's space damping of 0 wipes every dynamic velocity each
// step, so the T's velocities are zeroed before each substep: pushing is
// quasi-static. All contacts are frictionless and inelastic (pymunk's
// defaults, since the reference sets friction on bodies, where pymunk
// ignores it).
//
// The T keeps both of the reference's mass quirks, set explicitly with
// SetMassData: mass 1, centre of gravity (0, 45) — the mean of the two
// rectangles' centroids, not the area-weighted (0, 40.7) — and moment 3000
// px² about it, twice the bar's moment about the frame origin (the stem's
// call passes the bar's vertices; Chipmunk's moment_for_poly is taken about
// the vertices' origin: 120²+30² over 12 plus 15² is 1500). A true T would
// have about 1932. With quasi-static pushing the mass data decides how a
// push splits into translation and rotation, so changing them would change
// every trajectory and the meaning of the reference's demonstrations.
//
// The world is stepped by the kernel's allocation-free stepper
// (sim/b2step), which runs B2World.Step's code on storage it keeps, with
// one difference Push-T asks for: when several contacts touch at once,
// they are solved in a fixed order (the T's bar, then its stem, against the
// left, right, bottom and top walls, then against the agent) rather than
// Box2D's newest-contact-first. Push-T's own stepper used that order
// before the kernel had one, its golden trajectories and recorded
// demonstrations depend on it, and it changes results only in the last
// bits of substeps where contacts coincide (world.order). Each episode
// starts from a freshly built world. Continuous collision (time of impact)
// is not run, as in pymunk: the agent's longest substep is 27.2 px, under
// the 30 px (radius plus half the T's thickness) it would take to jump past
// the middle of a face, and the walls are 100 px thick boxes.
//
// # Determinism
//
// Reset(seed) draws the agent at integer pixels in [50, 450)², the T at
// integer pixels in [100, 400)² and its angle as N(0,1)·2π − π, as the
// reference does, from a PCG stream seeded by seed (so seeds do not give
// the reference's NumPy states), then runs one settling substep like the
// reference's set_state. Same seed and actions give the same bits; the
// golden files in testdata pin them.
//
// # Goroutines and allocation
//
// A Task and its expert belong to one goroutine; separate Tasks run in
// parallel safely. Box2D v1.0.2 has package-level state: a contact-type
// registry filled lazily by the first B2ContactFactory call (this package
// fills it in init, before any goroutine starts) and GJK call counters that
// B2Distance increments unsynchronised. Push-T never calls it (its narrow
// phase is SAT-based and continuous collision is off). Act, Substep,
// Observe, Reward and the expert's Act do not allocate; New and Reset
// (which builds the episode's world) do.
package pusht
