package rl

import (
	"strings"
	"testing"
)

func TestParseParams(t *testing.T) {
	c, err := ParseParams(RLIF, map[string]string{"width": "128", "critics": "10", "expert_steps": "last", "gamma": "0.97"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Width != 128 || c.Critics != 10 || c.ExpertSteps != ExpertLast || c.Gamma != 0.97 || c.MinQs != 2 {
		t.Fatalf("got %+v", c)
	}
	for _, bad := range []struct {
		algo string
		kv   map[string]string
		msg  string
	}{
		{RLIF, map[string]string{"widht": "1"}, "unknown parameter"},
		{RLIF, map[string]string{"gripper_penalty": "0.02"}, "unknown parameter"},
		{RLPD, map[string]string{"expert_steps": "all"}, "unknown parameter"},
		{RLPD, map[string]string{"gamma": "1"}, "[0, 1)"},
		{RLPD, map[string]string{"width": "3"}, "8..1024"},
		{RLPD, map[string]string{"lr": "NaN"}, "(0, 1]"},
		{RLIF, map[string]string{"expert_steps": "some"}, "last or all"},
		{RLIF, map[string]string{"critics": "2", "min_qs": "3"}, "exceeds"},
		{RLIF, map[string]string{"min_updates": "10", "max_updates": "5"}, "exceeds"},
	} {
		if _, err := ParseParams(bad.algo, bad.kv); err == nil || !strings.Contains(err.Error(), bad.msg) {
			t.Errorf("%s %v: error %v; want one mentioning %q", bad.algo, bad.kv, err, bad.msg)
		}
	}
	if k := ParamKeys(RLPD); !strings.Contains(strings.Join(k, ","), "gripper_penalty") {
		t.Fatalf("rlpd keys %v lack gripper_penalty", k)
	}
	h := c.Hyperparameters(RLIF)
	if h["expert_steps"] != "last" || h["critics"] != 10 {
		t.Fatalf("hyperparameters %v", h)
	}
}
