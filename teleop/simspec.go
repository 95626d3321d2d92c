package teleop

import (
	"fmt"
	"math"
	"slices"
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

// Constants of the reference experiments. RLIF's values come from its
// official code, github.com/pd-perry/RLIF at commit d177b9b:
// examples/train_rlif_main.py (the value-based rule),
// examples/train_rlif_random_main.py (the random rule) and the run scripts
// under scripts/ that set their flags.
const (
	// DefaultDistanceThreshold is tandem's own default for ‖a_exp − a_π‖₂ in
	// normalised action units. RLIF's HG-DAgger baseline uses an L1
	// threshold of 12 on Adroit Pen's 24-D action (0.5 per dimension);
	// tandem's actions are 2–10-D, so an L2 of 0.5 is a comparable
	// disagreement.
	DefaultDistanceThreshold = 0.5
	// RLIFAlpha is RLIF's α for Adroit Pen: --intervene_threshold=0.97 in
	// pd-perry/RLIF scripts/run_pen_value_based_rlif.sh (0.99 for Walker2d
	// in scripts/run_walker2d_value_based_rlif.sh). The flag enters the
	// test policy_q < gt_q * intervene_threshold in
	// examples/train_rlif_main.py.
	RLIFAlpha = 0.97
	// RLIFIntervene and RLIFStray are RLIF's probabilities of intervening
	// when the reference judges the policy's action worse (0.95) and when
	// it does not (0.05): the two weighted draws that follow that test in
	// pd-perry/RLIF examples/train_rlif_main.py.
	RLIFIntervene = 0.95
	RLIFStray     = 0.05
	// RLIFSteps is the default of the intervene_n_steps flag (4) in
	// pd-perry/RLIF examples/train_rlif_main.py: an intervention lasts 4
	// steps.
	RLIFSteps = 4
	// RLIFRandomRate is RLIF's random rule: scripts/run_hopper_random_rlif.sh
	// passes --intervention_rate=1, which examples/train_rlif_random_main.py
	// turns into a draw with probabilities [0.5, 0.5] every step (the flag
	// is cleared before each draw, so an intervention lasts one step).
	RLIFRandomRate = 0.5
	// MaxDelay bounds OperatorConfig.Delay, in ticks (tandem's own bound on
	// the delay line).
	MaxDelay = 1000
)

// OperatorConfig describes a simulated operator. Build it with
// DefaultOperatorConfig or ParseOperator and change what differs: every
// numeric field is used as it stands, so an explicit 0 means 0 (skill 0 is
// the least able expert, rate 0 never intervenes). A zero OperatorConfig
// has no Rule and NewSimOperator rejects it.
type OperatorConfig struct {
	// ID is the operator id recorded with its steps ("sim" when empty).
	ID string
	// Rule is the intervention rule.
	Rule InterventionRule
	// Skill is the expert's skill in [0, 1] (default 1): task.Expert adds
	// noise, bias and hesitation as it falls towards 0.
	Skill float64
	// Threshold is DistanceRule's ‖a_exp − a_π‖₂ threshold, finite and ≥ 0
	// (default DefaultDistanceThreshold; 0 intervenes on any disagreement).
	Threshold float64
	// Eps is DistanceRule's probability in [0, 1] of not intervening
	// although the threshold is crossed (HG-DAgger's ε; default 0).
	Eps float64
	// Alpha, P and Q are ValueRule's α in [0, 1] (default RLIFAlpha) and
	// its probabilities in [0, 1] of intervening when the policy's action
	// is judged worse (default RLIFIntervene) and when not (default
	// RLIFStray).
	Alpha, P, Q float64
	// Rate is RandomRule's per-step probability in [0, 1] (default
	// RLIFRandomRate; 0 never intervenes).
	Rate float64
	// Steps is how long an intervention lasts, in ticks. ValueRule and
	// RandomRule need Steps ≥ 1 (defaults RLIFSteps and 1: RandomRule draws
	// afresh every step, as RLIF's random script does). For DistanceRule 0
	// (the default) means "until the actions agree again" and a positive
	// Steps also caps the intervention at that many ticks.
	Steps int
	// Delay is the operator's action delay in ticks, in [0, MaxDelay]: it
	// executes the expert's action from Delay ticks earlier (default 0).
	Delay int
	// Seed seeds the operator's choices and its expert's noise.
	Seed uint64
}

// DefaultSteps returns a rule's default intervention length in ticks (see
// OperatorConfig.Steps).
func DefaultSteps(rule InterventionRule) int {
	switch rule {
	case ValueRule:
		return RLIFSteps
	case RandomRule:
		return 1
	}
	return 0
}

// DefaultOperatorConfig returns the defaults of a simulated operator with
// the given rule (DistanceRule when empty).
func DefaultOperatorConfig(rule InterventionRule) OperatorConfig {
	if rule == "" {
		rule = DistanceRule
	}
	return OperatorConfig{
		ID: "sim", Rule: rule, Skill: 1, Threshold: DefaultDistanceThreshold,
		Alpha: RLIFAlpha, P: RLIFIntervene, Q: RLIFStray, Rate: RLIFRandomRate,
		Steps: DefaultSteps(rule),
	}
}

// Validate checks every field against its documented range; the error
// names the field and the valid range.
func (c OperatorConfig) Validate() error {
	bad := func(name string, v float64, valid string) error {
		return fmt.Errorf("teleop: simulated operator: %s=%g out of range (valid: %s)", name, v, valid)
	}
	switch c.Rule {
	case DistanceRule, ValueRule, RandomRule:
	case "":
		return fmt.Errorf("teleop: simulated operator: no rule (build the config with DefaultOperatorConfig or ParseOperator; valid rules: distance, value, random)")
	default:
		return fmt.Errorf("teleop: simulated operator: unknown rule %q (valid: distance, value, random)", c.Rule)
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"skill", c.Skill}, {"eps", c.Eps}, {"alpha", c.Alpha}, {"p", c.P}, {"q", c.Q}, {"rate", c.Rate}} {
		if !(f.v >= 0 && f.v <= 1) {
			return bad(f.name, f.v, "[0, 1]")
		}
	}
	if !(c.Threshold >= 0) || math.IsInf(c.Threshold, 0) {
		return bad("threshold", c.Threshold, "finite, ≥ 0")
	}
	if c.Rule == DistanceRule {
		if c.Steps < 0 {
			return bad("steps", float64(c.Steps), `≥ 1, or 0 for "until the actions agree" with rule distance`)
		}
	} else if c.Steps < 1 {
		return bad("steps", float64(c.Steps), fmt.Sprintf("≥ 1 with rule %s", c.Rule))
	}
	if c.Delay < 0 || c.Delay > MaxDelay {
		return bad("delay", float64(c.Delay), fmt.Sprintf("0..%d ticks", MaxDelay))
	}
	return nil
}

// OperatorKeys are the keys ParseOperator accepts.
var OperatorKeys = []string{"id", "rule", "skill", "threshold", "eps", "alpha", "p", "q", "rate", "steps", "delay", "seed"}

// ParseOperator reads a simulated operator description of comma-separated
// KEY=VALUE pairs, such as "skill=0.9,rule=distance,threshold=0.5" (the
// text after "sim:" in tandem's --operator flag). Keys not given take
// DefaultOperatorConfig(rule)'s values; keys given keep their value, zero
// included, and Validate checks the result. Unknown or repeated keys and
// bad values are errors naming the valid keys or range. id=ID names the
// operator sim:ID.
func ParseOperator(spec string) (OperatorConfig, error) {
	type pair struct{ k, v string }
	var pairs []pair
	var rule InterventionRule
	if strings.TrimSpace(spec) != "" {
		for _, kv := range strings.Split(spec, ",") {
			k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
			k, v = strings.TrimSpace(k), strings.TrimSpace(v)
			if !ok || v == "" {
				return OperatorConfig{}, fmt.Errorf("teleop: simulated operator: %q is not KEY=VALUE (keys: %s)", kv, strings.Join(OperatorKeys, ", "))
			}
			if !slices.Contains(OperatorKeys, k) {
				return OperatorConfig{}, fmt.Errorf("teleop: simulated operator: unknown key %q (valid: %s)", k, strings.Join(OperatorKeys, ", "))
			}
			if slices.ContainsFunc(pairs, func(p pair) bool { return p.k == k }) {
				return OperatorConfig{}, fmt.Errorf("teleop: simulated operator: key %q given twice", k)
			}
			if k == "rule" {
				rule = InterventionRule(v)
			}
			pairs = append(pairs, pair{k, v})
		}
	}
	c := DefaultOperatorConfig(rule)
	for _, p := range pairs {
		var err error
		switch p.k {
		case "id":
			// Recorded as sim:ID, so that a simulated operator is never
			// taken for a person, whichever command runs it
			// (docs/storage.md).
			c.ID = p.v
			if c.ID != "sim" && !strings.HasPrefix(c.ID, "sim:") {
				c.ID = "sim:" + c.ID
			}
		case "rule":
			c.Rule = InterventionRule(p.v)
		case "skill":
			c.Skill, err = parseFloat(p.v)
		case "threshold":
			c.Threshold, err = parseFloat(p.v)
		case "eps":
			c.Eps, err = parseFloat(p.v)
		case "alpha":
			c.Alpha, err = parseFloat(p.v)
		case "p":
			c.P, err = parseFloat(p.v)
		case "q":
			c.Q, err = parseFloat(p.v)
		case "rate":
			c.Rate, err = parseFloat(p.v)
		case "steps":
			c.Steps, err = strconv.Atoi(p.v)
		case "delay":
			c.Delay, err = strconv.Atoi(p.v)
		case "seed":
			c.Seed, err = strconv.ParseUint(p.v, 10, 64)
		}
		if err != nil {
			return c, fmt.Errorf("teleop: simulated operator: %s=%q is not a number", p.k, p.v)
		}
	}
	return c, c.Validate()
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
	return fmt.Sprintf("id=%s,rule=%s,skill=%g,threshold=%g,eps=%g,alpha=%g,p=%g,q=%g,rate=%g,steps=%d,delay=%d,seed=%d",
		c.ID, c.Rule, c.Skill, c.Threshold, c.Eps, c.Alpha, c.P, c.Q, c.Rate, c.Steps, c.Delay, c.Seed)
}
