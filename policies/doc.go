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
// # Goroutines
//
// A Registry is safe for concurrent use. The policies it builds are not:
// each is owned by the goroutine that owns its task (a session's loop or a
// rollout worker), which calls Act and Reset.
package policies
