package main

// The learners register themselves (policies.RegisterLearner) from their
// packages' init: the behaviour-cloning family lives in policies, the RL
// learners in policies/rl.
import _ "tandem/policies/rl"
