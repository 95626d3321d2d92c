package rl

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Algorithm names, as registered with policies.RegisterLearner.
const (
	RLIF = "rlif"
	RLPD = "rlpd"
)

// ExpertSteps says which of an intervention's human steps RLIF learns
// from.
type ExpertSteps string

// Expert-step rules.
const (
	// ExpertLast keeps only the last step of each intervention segment, as
	// RLIF's main script does (pd-perry/RLIF examples/train_rlif_main.py
	// inserts a transition only when the following step is the robot's).
	ExpertLast ExpertSteps = "last"
	// ExpertAll keeps every human step (RLIF's IQL variant).
	ExpertAll ExpertSteps = "all"
)

// Config is the learner's configuration: every field has a KEY=VALUE
// parameter (ParseParams) with the default and range documented on it and
// in docs/algorithms.md. Build it with DefaultConfig.
type Config struct {
	// Width of the two hidden layers of the actor and of each critic
	// (param "width", 8..1024, default 128 on two cores: RLPD's and
	// HIL-SERL's hidden_dims are 256, which on peg-insert did as well and
	// took 2.2× the time, docs/algorithms.md).
	Width int
	// Critics is the ensemble size (param "critics", 2..20, default 2:
	// HIL-SERL's two critics; RLPD uses 10, which costs 4–5× per update on
	// two cores, docs/algorithms.md).
	Critics int
	// MinQs is how many critics the target's minimum is taken over, drawn
	// afresh for every batch (param "min_qs", 1..critics, default 2: RLPD's
	// num_min_qs, REDQ's M).
	MinQs int
	// UTD is the update-to-data ratio: critic updates per new transition
	// (param "utd", 1..64, default 2).
	UTD int
	// ActorEvery is the number of critic updates per actor and temperature
	// update (param "actor_every", 1..64, default 2: HIL-SERL's
	// critic-to-actor ratio; RLPD updates the actor once per UTD critic
	// updates).
	ActorEvery int
	// Batch is the batch size, half from each buffer (param "batch",
	// 2..4096, default 256: RLPD and HIL-SERL).
	Batch int
	// LR is Adam's learning rate for actor, critics and temperature (param
	// "lr", (0, 1], default 3e-4: RLPD and HIL-SERL).
	LR float64
	// Gamma is the discount (param "gamma", [0, 1), default 0.99: RLPD and
	// RLIF; HIL-SERL uses 0.97).
	Gamma float64
	// Tau is the Polyak rate of the target critics (param "tau", (0, 1],
	// default 0.005: RLPD and HIL-SERL).
	Tau float64
	// InitTemp is the initial entropy temperature α (param "init_temp",
	// (0, 100], default 1.0: RLPD's and RLIF's init_temperature; HIL-SERL
	// starts at 0.01, which on peg-insert let the actor exploit the
	// critics' errors, docs/algorithms.md).
	InitTemp float64
	// TargetEntropy is the temperature's target (param "target_entropy";
	// default −|A|/2, RLPD's and HIL-SERL's). NaN means the default.
	TargetEntropy float64
	// DemoRatio is the fraction of each batch drawn from the demonstration
	// and intervention buffer (param "demo_ratio", [0, 1], default 0.5:
	// symmetric sampling, RLPD's offline_ratio and HIL-SERL's 128 + 128).
	DemoRatio float64
	// Buffer is each buffer's capacity in transitions; the oldest are
	// dropped beyond it (param "buffer", 1000..10,000,000, default
	// 200,000: HIL-SERL's replay_buffer_capacity).
	Buffer int
	// MinUpdates and MaxUpdates bound the critic updates of one Train
	// (params "min_updates", 0..10,000,000, default 500, and
	// "max_updates", 1..10,000,000, default 100,000).
	MinUpdates, MaxUpdates int
	// ExpertSteps is RLIF's rule for intervention steps (param
	// "expert_steps", last|all; rlif only; default ExpertLast, RLIF's main
	// script, which beat ExpertAll on peg-insert in every seed of the
	// experiment in docs/algorithms.md).
	ExpertSteps ExpertSteps
	// GripperPenalty is subtracted from the reward of each step whose
	// gripper command changes state (param "gripper_penalty", [0, 1];
	// rlpd only; default 0, off; HIL-SERL uses 0.02–0.05).
	GripperPenalty float64
	// PublishEvery is how many critic updates the streaming learner (Run)
	// makes between weight publications (param "publish_every",
	// 1..1,000,000, default 50: HIL-SERL's steps_per_update).
	PublishEvery int
	// Start is how many transitions the streaming learner waits for before
	// its first update (param "start", 1..1,000,000, default 100:
	// HIL-SERL's training_starts).
	Start int
}

// DefaultConfig is the configuration of algorithm algo (RLIF or RLPD)
// before parameters.
func DefaultConfig(algo string) Config {
	return Config{
		Width: 128, Critics: 2, MinQs: 2, UTD: 2, ActorEvery: 2, Batch: 256,
		LR: 3e-4, Gamma: 0.99, Tau: 0.005, InitTemp: 1, TargetEntropy: math.NaN(),
		DemoRatio: 0.5, Buffer: 200_000, MinUpdates: 500, MaxUpdates: 100_000,
		ExpertSteps: ExpertLast, PublishEvery: 50, Start: 100,
	}
}

// param describes one KEY=VALUE parameter.
type param struct {
	key   string
	algo  string // "" for both
	set   func(c *Config, v string) error
	get   func(c *Config) any
	valid string
}

func intParam(key string, lo, hi int, f func(*Config) *int) param {
	return param{key: key, valid: fmt.Sprintf("an integer in %d..%d", lo, hi),
		set: func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < lo || n > hi {
				return errRange
			}
			*f(c) = n
			return nil
		},
		get: func(c *Config) any { return *f(c) }}
}

func floatParam(key, valid string, ok func(float64) bool, f func(*Config) *float64) param {
	return param{key: key, valid: valid,
		set: func(c *Config, v string) error {
			x, err := strconv.ParseFloat(v, 64)
			if err != nil || math.IsNaN(x) || math.IsInf(x, 0) || !ok(x) {
				return errRange
			}
			*f(c) = x
			return nil
		},
		get: func(c *Config) any { return *f(c) }}
}

var errRange = fmt.Errorf("out of range")

var params = []param{
	intParam("width", 8, 1024, func(c *Config) *int { return &c.Width }),
	intParam("critics", 2, 20, func(c *Config) *int { return &c.Critics }),
	intParam("min_qs", 1, 20, func(c *Config) *int { return &c.MinQs }),
	intParam("utd", 1, 64, func(c *Config) *int { return &c.UTD }),
	intParam("actor_every", 1, 64, func(c *Config) *int { return &c.ActorEvery }),
	intParam("batch", 2, 4096, func(c *Config) *int { return &c.Batch }),
	floatParam("lr", "in (0, 1]", func(x float64) bool { return x > 0 && x <= 1 }, func(c *Config) *float64 { return &c.LR }),
	floatParam("gamma", "in [0, 1)", func(x float64) bool { return x >= 0 && x < 1 }, func(c *Config) *float64 { return &c.Gamma }),
	floatParam("tau", "in (0, 1]", func(x float64) bool { return x > 0 && x <= 1 }, func(c *Config) *float64 { return &c.Tau }),
	floatParam("init_temp", "in (0, 100]", func(x float64) bool { return x > 0 && x <= 100 }, func(c *Config) *float64 { return &c.InitTemp }),
	floatParam("target_entropy", "a finite number", func(float64) bool { return true }, func(c *Config) *float64 { return &c.TargetEntropy }),
	floatParam("demo_ratio", "in [0, 1]", func(x float64) bool { return x >= 0 && x <= 1 }, func(c *Config) *float64 { return &c.DemoRatio }),
	intParam("buffer", 1000, 10_000_000, func(c *Config) *int { return &c.Buffer }),
	intParam("min_updates", 0, 10_000_000, func(c *Config) *int { return &c.MinUpdates }),
	intParam("max_updates", 1, 10_000_000, func(c *Config) *int { return &c.MaxUpdates }),
	{key: "expert_steps", algo: RLIF, valid: "last or all",
		set: func(c *Config, v string) error {
			switch s := ExpertSteps(v); s {
			case ExpertLast, ExpertAll:
				c.ExpertSteps = s
				return nil
			}
			return errRange
		},
		get: func(c *Config) any { return string(c.ExpertSteps) }},
	withAlgo(RLPD, floatParam("gripper_penalty", "in [0, 1]", func(x float64) bool { return x >= 0 && x <= 1 }, func(c *Config) *float64 { return &c.GripperPenalty })),
	intParam("publish_every", 1, 1_000_000, func(c *Config) *int { return &c.PublishEvery }),
	intParam("start", 1, 1_000_000, func(c *Config) *int { return &c.Start }),
}

func withAlgo(algo string, p param) param { p.algo = algo; return p }

// ParamKeys lists the parameters algorithm algo accepts, sorted.
func ParamKeys(algo string) []string {
	var keys []string
	for _, p := range params {
		if p.algo == "" || p.algo == algo {
			keys = append(keys, p.key)
		}
	}
	sort.Strings(keys)
	return keys
}

// ParseParams applies KEY=VALUE parameters to algo's defaults. Unknown
// keys, values out of range and inconsistent settings are errors that name
// the valid keys or range.
func ParseParams(algo string, kv map[string]string) (Config, error) {
	c := DefaultConfig(algo)
	keys := make([]string, 0, len(kv))
	for k := range kv {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	valid := ParamKeys(algo)
	for _, k := range keys {
		i := slices.IndexFunc(params, func(p param) bool { return p.key == k && (p.algo == "" || p.algo == algo) })
		if i < 0 {
			name := k
			if len(name) > 32 {
				name = name[:32] + "…"
			}
			return c, fmt.Errorf("%s: unknown parameter %q (valid: %s)", algo, name, strings.Join(valid, ", "))
		}
		p := params[i]
		if err := p.set(&c, strings.TrimSpace(kv[k])); err != nil {
			return c, fmt.Errorf("%s: %s=%q: want %s", algo, k, kv[k], p.valid)
		}
	}
	return c, c.validate(algo)
}

func (c *Config) validate(algo string) error {
	switch {
	case c.MinQs > c.Critics:
		return fmt.Errorf("%s: min_qs=%d exceeds critics=%d", algo, c.MinQs, c.Critics)
	case c.MinUpdates > c.MaxUpdates:
		return fmt.Errorf("%s: min_updates=%d exceeds max_updates=%d", algo, c.MinUpdates, c.MaxUpdates)
	}
	return nil
}

// same reports whether c and o are the same settings (NaN target
// entropies, meaning the default, compare equal).
func (c Config) same(o Config) bool {
	if math.IsNaN(c.TargetEntropy) && math.IsNaN(o.TargetEntropy) {
		c.TargetEntropy, o.TargetEntropy = 0, 0
	}
	return c == o
}

// targetEntropy is the temperature's target for act action dimensions.
func (c *Config) targetEntropy(act int) float64 {
	if math.IsNaN(c.TargetEntropy) {
		return -float64(act) / 2
	}
	return c.TargetEntropy
}

// Hyperparameters is the configuration as the card records it.
func (c *Config) Hyperparameters(algo string) map[string]any {
	h := map[string]any{}
	for _, p := range params {
		if p.algo == "" || p.algo == algo {
			h[p.key] = p.get(c)
		}
	}
	if math.IsNaN(c.TargetEntropy) {
		delete(h, "target_entropy")
	}
	return h
}
