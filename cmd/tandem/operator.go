package main

import (
	"tandem/sim"
	"tandem/teleop"
)

// Simulated operators for `tandem rollout --operator sim[:KEY=VALUE,...]`:
// the policy runs in shared mode under a teleop.Arbiter and a
// teleop.SimOperator built on the task's expert intervenes by its rule.

// newSimDemonstrator is the controller of `rollout --mode teleop`: an
// arbiter in teleop mode, no policy, with the simulated operator cfg
// (live.ParseOperator) attached; it drives every step (Demo steps
// labelled with its id). The episode seed varies the operator per episode
// (a seed given in its description shifts the whole run).
func newSimDemonstrator(cfg teleop.OperatorConfig, task sim.Task, seed uint64) (sim.Controller, error) {
	cfg.Seed += seed
	op, err := teleop.NewSimOperator(task, cfg)
	if err != nil {
		return nil, usagef("--operator sim:%s: %v", cfg, err)
	}
	a, err := teleop.NewArbiter(task, teleop.Config{Mode: sim.ModeTeleop})
	if err != nil {
		return nil, err
	}
	if err := a.AddSource(cfg.ID, op); err != nil {
		return nil, err
	}
	return a, nil
}

// newSimOperator is the controller of a shared-autonomy rollout: policy
// acts and the simulated operator cfg intervenes by its rule.
func newSimOperator(cfg teleop.OperatorConfig, task sim.Task, policy sim.Policy, policyName string, seed uint64) (sim.Controller, error) {
	cfg.Seed += seed
	a, _, err := teleop.NewShared(task, policy, policyName, cfg)
	if err != nil {
		return nil, usagef("--operator sim:%s: %v", cfg, err)
	}
	return a, nil
}
