package main

import (
	"tandem/sim"
	"tandem/teleop"
)

// Simulated operators for `tandem rollout --operator sim[:KEY=VALUE,...]`:
// the policy runs in shared mode under a teleop.Arbiter and a
// teleop.SimOperator built on the task's expert intervenes by its rule.
func init() { newOperator = newSimOperator }

func newSimOperator(spec string, task sim.Task, policy sim.Policy, policyName string, seed uint64) (sim.Controller, error) {
	cfg, err := teleop.ParseOperator(spec)
	if err != nil {
		return nil, usagef("--operator sim:%s: %v", spec, err)
	}
	// The episode seed varies the operator per episode; a seed given in the
	// spec shifts the whole run.
	cfg.Seed += seed
	a, _, err := teleop.NewShared(task, policy, policyName, cfg)
	if err != nil {
		return nil, usagef("--operator sim:%s: %v", spec, err)
	}
	return a, nil
}
