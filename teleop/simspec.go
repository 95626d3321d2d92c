package teleop

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// InterventionRule names how a simulated operator decides to take over.
type InterventionRule string

// Simulated intervention rules.
const (
	// DistanceRule intervenes when the expert's action and the policy's
	// differ by more than Threshold (HG-DAgger's gating rule), and hands
	// back when they agree again.
	DistanceRule InterventionRule = "distance"
	// ValueRule intervenes when the expert judges the policy's action worse
	// than Alpha times its own (RLIF's value-based rule).
	ValueRule InterventionRule = "value"
	// RandomRule intervenes with probability Rate per step (RLIF's random
	// baseline).
	RandomRule InterventionRule = "random"
)

// Constants of the reference experiments.
const (
	// DefaultDistanceThreshold is tandem's own default for ‖a_exp − a_π‖₂ in
	// normalised action units. RLIF's HG-DAgger baseline uses an L1
	// threshold of 12 on Adroit Pen's 24-D action (0.5 per dimension);
	// tandem's actions are 2–10-D, so an L2 of 0.5 is a comparable
	// disagreement.
	DefaultDistanceThreshold = 0.5
	// RLIFAlpha is RLIF's α for Adroit Pen (0.99 for Walker2d).
	RLIFAlpha = 0.97
	// RLIFIntervene and RLIFStray are RLIF's probabilities of intervening
	// when the reference judges the policy's action worse (0.95) and when
	// it does not (0.05).
	RLIFIntervene = 0.95
	RLIFStray     = 0.05
	// RLIFSteps is RLIF's intervene_n_steps: an intervention lasts 4 steps.
	RLIFSteps = 4
	// RLIFRandomRate is RLIF's random rule (intervention_rate=1): each step
	// is intervened with probability 0.5.
	RLIFRandomRate = 0.5
)

// OperatorConfig describes a simulated operator. Zero values mean the
// defaults given on each field.
type OperatorConfig struct {
	// ID is the operator id recorded with its steps (default "sim").
	ID string
	// Rule is the intervention rule (default DistanceRule).
	Rule InterventionRule
	// Skill is the expert's skill in (0, 1] (default 1): task.Expert's
	// noise, bias and hesitation.
	Skill float64
	// Threshold is DistanceRule's ‖a_exp − a_π‖₂ threshold (default
	// DefaultDistanceThreshold).
	Threshold float64
	// Eps is DistanceRule's probability of not intervening although the
	// threshold is crossed (HG-DAgger's ε; default 0).
	Eps float64
	// Alpha, P and Q are ValueRule's α (default RLIFAlpha) and its
	// probabilities of intervening when judged worse (default
	// RLIFIntervene) and when not (default RLIFStray; a negative Q means 0).
	Alpha, P, Q float64
	// Rate is RandomRule's per-step probability (default RLIFRandomRate).
	Rate float64
	// Steps is how long an intervention lasts, in ticks. 0 means the rule's
	// default: ValueRule RLIFSteps, RandomRule 1 (a fresh draw each step, as
	// RLIF's random script does), DistanceRule until the actions agree.
	// For DistanceRule a positive Steps caps the intervention.
	Steps int
	// Delay is the operator's action delay in ticks: it executes the
	// expert's action from Delay ticks earlier (default 0).
	Delay int
	// Seed seeds the operator's choices and its expert's noise.
	Seed uint64
}

// withDefaults fills zero fields and checks ranges.
func (c OperatorConfig) withDefaults() (OperatorConfig, error) {
	if c.ID == "" {
		c.ID = "sim"
	}
	if c.Rule == "" {
		c.Rule = DistanceRule
	}
	if c.Skill == 0 {
		c.Skill = 1
	}
	if c.Threshold == 0 {
		c.Threshold = DefaultDistanceThreshold
	}
	if c.Alpha == 0 {
		c.Alpha = RLIFAlpha
	}
	if c.P == 0 {
		c.P = RLIFIntervene
	}
	if c.Q == 0 {
		c.Q = RLIFStray
	}
	if c.Rate == 0 {
		c.Rate = RLIFRandomRate
	}
	if c.Steps == 0 {
		switch c.Rule {
		case ValueRule:
			c.Steps = RLIFSteps
		case RandomRule:
			c.Steps = 1
		}
	}
	bad := func(name string, v float64) error {
		return fmt.Errorf("teleop: simulated operator: %s = %g out of range", name, v)
	}
	switch {
	case c.Rule != DistanceRule && c.Rule != ValueRule && c.Rule != RandomRule:
		return c, fmt.Errorf("teleop: simulated operator: unknown rule %q (valid: distance, value, random)", c.Rule)
	case !(c.Skill > 0 && c.Skill <= 1):
		return c, bad("skill", c.Skill)
	case !(c.Threshold > 0) || math.IsInf(c.Threshold, 0):
		return c, bad("threshold", c.Threshold)
	case !(c.Eps >= 0 && c.Eps <= 1):
		return c, bad("eps", c.Eps)
	case !(c.Alpha > 0) || math.IsInf(c.Alpha, 0):
		return c, bad("alpha", c.Alpha)
	case !(c.P >= 0 && c.P <= 1):
		return c, bad("p", c.P)
	case !(c.Q <= 1):
		return c, bad("q", c.Q)
	case !(c.Rate > 0 && c.Rate <= 1):
		return c, bad("rate", c.Rate)
	case c.Steps < 0:
		return c, bad("steps", float64(c.Steps))
	case c.Delay < 0 || c.Delay > 1000:
		return c, bad("delay", float64(c.Delay))
	}
	return c, nil
}

// OperatorKeys are the keys ParseOperator accepts.
var OperatorKeys = []string{"id", "rule", "skill", "threshold", "eps", "alpha", "p", "q", "rate", "steps", "delay", "seed"}

// ParseOperator reads a simulated operator description of comma-separated
// KEY=VALUE pairs, such as "skill=0.9,rule=distance,threshold=0.5" (the
// text after "sim:" in tandem's --operator flag). The empty string gives
// the defaults. Unknown keys and bad values are errors naming the valid
// keys.
func ParseOperator(spec string) (OperatorConfig, error) {
	var c OperatorConfig
	if strings.TrimSpace(spec) == "" {
		return c.withDefaults()
	}
	for _, kv := range strings.Split(spec, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok || v == "" {
			return c, fmt.Errorf("teleop: simulated operator: %q is not KEY=VALUE (keys: %s)", kv, strings.Join(OperatorKeys, ", "))
		}
		var err error
		switch k {
		case "id":
			c.ID = v
		case "rule":
			c.Rule = InterventionRule(v)
		case "skill":
			c.Skill, err = parseFloat(v)
		case "threshold":
			c.Threshold, err = parseFloat(v)
		case "eps":
			c.Eps, err = parseFloat(v)
		case "alpha":
			c.Alpha, err = parseFloat(v)
		case "p":
			c.P, err = parseFloat(v)
		case "q":
			c.Q, err = parseFloat(v)
			if err == nil && c.Q == 0 {
				c.Q = -1 // explicit zero
			}
		case "rate":
			c.Rate, err = parseFloat(v)
		case "steps":
			c.Steps, err = strconv.Atoi(v)
		case "delay":
			c.Delay, err = strconv.Atoi(v)
		case "seed":
			c.Seed, err = strconv.ParseUint(v, 10, 64)
		default:
			return c, fmt.Errorf("teleop: simulated operator: unknown key %q (valid: %s)", k, strings.Join(OperatorKeys, ", "))
		}
		if err != nil {
			return c, fmt.Errorf("teleop: simulated operator: %s=%q is not a number", k, v)
		}
	}
	return c.withDefaults()
}

func parseFloat(s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err == nil && (math.IsNaN(v) || math.IsInf(v, 0)) {
		return 0, strconv.ErrRange
	}
	return v, err
}

// String formats c as ParseOperator reads it.
func (c OperatorConfig) String() string {
	q := c.Q
	if q < 0 {
		q = 0
	}
	return fmt.Sprintf("id=%s,rule=%s,skill=%g,threshold=%g,eps=%g,alpha=%g,p=%g,q=%g,rate=%g,steps=%d,delay=%d,seed=%d",
		c.ID, c.Rule, c.Skill, c.Threshold, c.Eps, c.Alpha, c.P, q, c.Rate, c.Steps, c.Delay, c.Seed)
}
