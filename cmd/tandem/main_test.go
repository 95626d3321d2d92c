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
