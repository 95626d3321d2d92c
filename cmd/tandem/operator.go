package main

import (
	"strings"

	"tandem/live"
	"tandem/sim"
	"tandem/teleop"
)

// Simulated operators for `tandem rollout --operator sim[:KEY=VALUE,...]`:
// the policy runs in shared mode under a teleop.Arbiter and a
// teleop.SimOperator built on the task's expert intervenes by its rule.

// simOperatorSpec checks an --operator argument, sim[:KEY=VALUE,...]
// (live.ParseOperator), and returns its description: what follows "sim:",
// which simOperatorConfig reads for each episode.
func simOperatorSpec(arg string) (string, error) {
	if _, err := live.ParseOperator(arg); err != nil {
		return "", err
	}
	return strings.TrimPrefix(strings.TrimPrefix(arg, "sim"), ":"), nil
}

// simOperatorConfig parses spec for one episode: the episode seed varies
// the operator per episode (a seed given in the spec shifts the whole run),
// and the operator is labelled as simulated: "sim", or "sim:ID" for id=ID.
func simOperatorConfig(spec string, seed uint64) (teleop.OperatorConfig, error) {
	cfg, err := teleop.ParseOperator(spec)
	if err != nil {
		return cfg, usagef("--operator sim:%s: %v", spec, err)
	}
	cfg.Seed += seed
	if cfg.ID != "sim" && !strings.HasPrefix(cfg.ID, "sim:") {
		cfg.ID = "sim:" + cfg.ID
	}
	return cfg, nil
}

// newSimDemonstrator is the controller of `rollout --mode teleop`: an
// arbiter in teleop mode, no policy, with the simulated operator attached;
// it drives every step (Demo steps labelled with its id).
func newSimDemonstrator(spec string, task sim.Task, seed uint64) (sim.Controller, error) {
	cfg, err := simOperatorConfig(spec, seed)
	if err != nil {
		return nil, err
	}
	op, err := teleop.NewSimOperator(task, cfg)
	if err != nil {
		return nil, usagef("--operator sim:%s: %v", spec, err)
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

func newSimOperator(spec string, task sim.Task, policy sim.Policy, policyName string, seed uint64) (sim.Controller, error) {
	cfg, err := simOperatorConfig(spec, seed)
	if err != nil {
		return nil, err
	}
	a, _, err := teleop.NewShared(task, policy, policyName, cfg)
	if err != nil {
		return nil, usagef("--operator sim:%s: %v", spec, err)
	}
	return a, nil
}
