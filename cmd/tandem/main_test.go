package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// tandem runs the CLI in-process and returns its exit status and output.
func tandem(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestUsageErrorsExitTwoAndNameChoices(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string // substring of the error line
	}{
		{"unknown task", []string{"rollout", "--task", "nope", "--episodes", "1"}, "valid:"},
		{"unknown policy", []string{"rollout", "--policy", "psychic", "--episodes", "1"}, "valid: expert, random"},
		{"bad flag", []string{"tasks", "--bogus"}, "unknown flag"},
		{"bad value", []string{"rollout", "--episodes", "many"}, "invalid argument"},
		{"bad skill", []string{"rollout", "--skill", "2", "--episodes", "1"}, "[0, 1]"},
		{"unknown operator", []string{"rollout", "--operator", "ghost", "--episodes", "1"}, "valid: sim"},
		{"bench unknown task", []string{"bench", "--task", "nope"}, "valid:"},
		{"dump without task", []string{"bench", "--dump-world", "x.json"}, "--dump-world needs --task"},
		{"bench seconds too long", []string{"bench", "--seconds", "1e300"}, "--seconds must be in (0, 3600]"},
		{"bench learn zero seconds", []string{"bench", "--learn", "--seconds", "0"}, "--seconds must be in (0, 3600]"},
		{"stray argument", []string{"tasks", "extra"}, "takes no arguments"},
		{"negative workers", []string{"rollout", "--workers", "-3"}, "--workers"},
		{"bad operator key", []string{"rollout", "--operator", "sim:bogus=1", "--episodes", "2"}, "valid: id, rule"},
		{"unknown command", []string{"nope"}, "valid: "},
		{"skill with random", []string{"rollout", "--policy", "random", "--skill", "0.5", "--episodes", "1"}, "skill"},
		{"seeds wrap", []string{"rollout", "--seed", "18446744073709551615", "--episodes", "2"}, "would wrap past 2^64"},
		{"unknown mode", []string{"rollout", "--mode", "replay"}, "valid: shared, teleop, auto"},
		{"teleop without operator", []string{"rollout", "--mode", "teleop"}, "--mode teleop needs a demonstrator"},
		{"teleop with policy", []string{"rollout", "--mode", "teleop", "--operator", "sim", "--policy", "random"}, "runs no policy"},
		{"shared without operator", []string{"rollout", "--mode", "shared"}, "needs an operator"},
		{"auto with operator", []string{"rollout", "--mode", "auto", "--operator", "sim"}, "runs the policy alone"},
		{"jobs rollout unknown operator", []string{"jobs", "rollout", "--nats", "nats://127.0.0.1:1", "--operator", "ghost"}, "valid: sim"},
		{"jobs rollout bad operator key", []string{"jobs", "rollout", "--nats", "nats://127.0.0.1:1", "--operator", "sim:bogus=1"}, "valid: id, rule"},
		{"learn zero min episodes", []string{"learn", "--nats", "nats://127.0.0.1:1", "--min-episodes", "0"}, "--min-episodes must be in [1, 100000]"},
		{"learn promote-min above 1", []string{"learn", "--nats", "nats://127.0.0.1:1", "--promote-min", "1.5"}, "--promote-min must be in [0, 1]"},
		{"serve learn zero eval episodes", []string{"serve", "--learn", "bc", "--learn-eval-episodes", "0"}, "--learn-eval-episodes must be in [1, 10000]"},
		{"jobs rollout unknown mode", []string{"jobs", "rollout", "--nats", "nats://127.0.0.1:1", "--mode", "replay"}, "valid: shared, teleop, auto"},
		{"jobs rollout shared without operator", []string{"jobs", "rollout", "--nats", "nats://127.0.0.1:1", "--mode", "shared"}, "needs an operator"},
		{"jobs rollout teleop with policy", []string{"jobs", "rollout", "--nats", "nats://127.0.0.1:1", "--mode", "teleop", "--operator", "sim", "--policy", "random"}, "runs no policy"},
		{"jobs rollout auto with operator", []string{"jobs", "rollout", "--nats", "nats://127.0.0.1:1", "--mode", "auto", "--operator", "sim"}, "runs the policy alone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := tandem(t, tt.args...)
			if code != 2 {
				t.Errorf("exit status %d; want 2 (stderr %q)", code, stderr)
			}
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			if len(lines) != 1 || !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr %q; want one line containing %q", stderr, tt.want)
			}
		})
	}
}

func TestTasksJSON(t *testing.T) {
	code, out, stderr := tandem(t, "tasks", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var specs []map[string]any
	if err := json.Unmarshal([]byte(out), &specs); err != nil {
		t.Fatalf("tasks --json is not one JSON array: %v", err)
	}
	if len(specs) == 0 {
		t.Fatal("empty catalogue")
	}
	for _, s := range specs {
		for _, k := range []string{"name", "kind", "obs_names", "action_names", "control_hz", "horizon"} {
			if _, ok := s[k]; !ok {
				t.Errorf("task %v lacks %q", s["name"], k)
			}
		}
	}
}

func TestRolloutJSON(t *testing.T) {
	code, out, stderr := tandem(t, "rollout", "--task", "reach", "--policy", "expert", "--episodes", "3", "--seed", "5", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 {
		t.Fatalf("got %d lines; want 3 episodes and a summary:\n%s", len(lines), out)
	}
	for i, l := range lines[:3] {
		var ep map[string]any
		if err := json.Unmarshal([]byte(l), &ep); err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		for _, k := range []string{"episode", "seed", "return", "length", "success", "max_reward"} {
			if _, ok := ep[k]; !ok {
				t.Errorf("episode line %d lacks %q", i, k)
			}
		}
		if ep["seed"].(float64) != float64(5+i) || ep["episode"].(float64) != float64(i) {
			t.Errorf("episode line %d: seed %v episode %v", i, ep["seed"], ep["episode"])
		}
	}
	var sum map[string]any
	if err := json.Unmarshal([]byte(lines[3]), &sum); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"task", "episodes", "success_rate", "mean_return", "mean_max_reward", "mean_length"} {
		if _, ok := sum[k]; !ok {
			t.Errorf("summary lacks %q", k)
		}
	}
	if sum["task"] != "reach" || sum["episodes"].(float64) != 3 || sum["success_rate"].(float64) != 1 {
		t.Errorf("summary %v; want reach, 3 episodes, all successful", sum)
	}
}

func TestBenchJSON(t *testing.T) {
	code, out, stderr := tandem(t, "bench", "--task", "push-t", "--seconds", "0.05", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var r map[string]any
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("bench --json: %v\n%s", err, out)
	}
	for _, k := range []string{"task", "physics_us_per_step", "box2d_us_per_step", "env_steps_per_s_1core", "env_steps_per_s_all", "allocs_per_step", "physics_lib_allocs_per_step"} {
		if _, ok := r[k]; !ok {
			t.Errorf("bench output lacks %q", k)
		}
	}
	if r["env_steps_per_s_1core"].(float64) <= 0 || r["allocs_per_step"].(float64) != 0 || r["physics_lib_allocs_per_step"].(float64) != 0 {
		t.Errorf("bench push-t: %v; want positive speed and zero allocations in tandem's code and in Box2D", r)
	}
}
