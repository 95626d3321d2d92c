package teleop

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// RuleKind names a takeover rule: how raw operator input becomes the verdict
// "the human wants control now".
type RuleKind string

// Takeover rules, named after the systems that use them.
const (
	// NormRule engages when the action's Euclidean norm exceeds Threshold
	// (HIL-SERL: 0.001 on the SpaceMouse action).
	NormRule RuleKind = "norm"
	// NonZeroRule engages on any exactly non-zero input (Sirius:
	// collect_hitl_demos.py treats any SpaceMouse motion as intervention).
	NonZeroRule RuleKind = "nonzero"
	// ButtonRule engages while the Takeover button is held (LeRobot's
	// gamepad: a held bumper is the intervention flag).
	ButtonRule RuleKind = "button"
)

// DefaultNormThreshold is HIL-SERL's intervention threshold on ‖a‖.
const DefaultNormThreshold = 0.001

// Rule is a takeover rule. The zero Rule is ButtonRule.
type Rule struct {
	Kind      RuleKind
	Threshold float64 // NormRule only
}

// Engaged reports the rule's verdict for one input sample. Buttons other
// than Takeover never engage by themselves except under ButtonRule; a held
// Takeover button engages under every rule.
func (r Rule) Engaged(action []float64, b Buttons) bool {
	if b.Has(Takeover) {
		return true
	}
	switch r.Kind {
	case NormRule:
		t := r.Threshold
		if t <= 0 {
			t = DefaultNormThreshold
		}
		var ss float64
		for _, v := range action {
			ss += v * v
		}
		return math.Sqrt(ss) > t
	case NonZeroRule:
		for _, v := range action {
			if v != 0 {
				return true
			}
		}
	}
	return false
}

// String formats r as ParseRule reads it.
func (r Rule) String() string {
	if r.Kind == NormRule {
		return fmt.Sprintf("norm:%g", r.Threshold)
	}
	if r.Kind == "" {
		return string(ButtonRule)
	}
	return string(r.Kind)
}

// ParseRule reads "norm", "norm:0.05", "nonzero" or "button".
func ParseRule(s string) (Rule, error) {
	kind, arg, hasArg := strings.Cut(s, ":")
	switch RuleKind(kind) {
	case NormRule:
		r := Rule{Kind: NormRule, Threshold: DefaultNormThreshold}
		if hasArg {
			t, err := strconv.ParseFloat(arg, 64)
			if err != nil || !(t > 0) || math.IsInf(t, 0) {
				return Rule{}, fmt.Errorf("teleop: rule %q: threshold must be a positive number", s)
			}
			r.Threshold = t
		}
		return r, nil
	case NonZeroRule, ButtonRule:
		if hasArg {
			return Rule{}, fmt.Errorf("teleop: rule %q takes no argument", s)
		}
		return Rule{Kind: RuleKind(kind)}, nil
	}
	return Rule{}, fmt.Errorf("teleop: unknown takeover rule %q (valid: norm[:THRESHOLD], nonzero, button)", s)
}
