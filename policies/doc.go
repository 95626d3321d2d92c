// Package policies owns the names of the policies tandem can run: the
// built-ins (the task's scripted expert, uniform random actions) and, as the
// learners land, learned versions with their checkpoints. Every command and
// API that takes a policy name asks a Registry; nothing else lists or
// validates policy names.
//
// # Names
//
// "expert" is the task's scripted oracle (sim.Task.Expert) at a skill in
// [0, 1]; "random" acts uniformly within the action bounds. Skill applies to
// the expert only: giving it with any other policy is an error, not
// silently ignored. A policy's version label, recorded with every step it
// acts in, is its name for the built-ins.
//
// # Learners
//
// The imitation learners bc, hg-dagger, iwr and sirius (docs/algorithms.md)
// share one training loop (fit.go, fitconfig.go, sampler.go) on package nn: whole episodes go into an
// nn.Dataset so frame stacks see real history, each learner picks its
// training rows, their strata and per-row loss weights (Sirius's classes,
// IWR's half-interventions), and the loop trains, optionally warm-started
// from a parent, and fills the card. Parameters arrive as KEY=VALUE strings
// and are checked once, in the learner, with errors that name the key and
// its range. With help=true a learner also fits ThriftyDAgger's help
// requests; NewActor then returns a HelpActor whose NeedsHelp the teleop
// arbiter reads.
//
// # Goroutines
//
// A Registry is safe for concurrent use. The policies it builds are not:
// each is owned by the goroutine that owns its task (a session's loop or a
// rollout worker), which calls Act and Reset. A Learner's Train runs on
// its caller's goroutine and does its gradient work on nn.DefaultPool;
// concurrent Train calls are independent. Act of a learned policy, help or
// not, allocates nothing.
package policies
