package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"tandem/tasks"
)

const madcatz = "../../teleop/evdev/testdata/madcatz-xbox360.events"

func TestDevicesListWithoutDevices(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "input")
	code, out, stderr := tandem(t, "devices", "list", "--dir", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, "no input devices") || !strings.Contains(out, "udev rule") {
		t.Errorf("output %q; want an empty list and the permissions hint", out)
	}
	code, out, stderr = tandem(t, "devices", "list", "--json", "--dir", dir)
	if code != 0 || strings.TrimSpace(out) != "[]" || !strings.Contains(stderr, "udev rule") {
		t.Errorf("--json: exit %d output %q stderr %q; want [] and the hint on stderr", code, out, stderr)
	}
}

type replayFrame struct {
	T       float64            `json:"t"`
	Axes    map[string]float64 `json:"axes"`
	Buttons []string           `json:"buttons"`
	Engaged bool               `json:"engaged"`
	Action  map[string]float64 `json:"action"`
}

func replayJSON(t *testing.T, args ...string) []replayFrame {
	t.Helper()
	code, out, stderr := tandem(t, append([]string{"devices", "replay", "--fast", "--json"}, args...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var frames []replayFrame
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var f replayFrame
		if err := json.Unmarshal([]byte(line), &f); err != nil {
			t.Fatalf("line %q is not one JSON object: %v", line, err)
		}
		frames = append(frames, f)
	}
	return frames
}

func TestDevicesReplayJSON(t *testing.T) {
	raw, err := os.ReadFile(madcatz)
	if err != nil {
		t.Fatal(err)
	}
	reports := strings.Count(string(raw), "SYN_REPORT (0)")
	frames := replayJSON(t, madcatz)
	if len(frames) != reports {
		t.Fatalf("%d JSON objects; want one per SYN_REPORT (%d)", len(frames), reports)
	}
	var pressed []float64
	for _, f := range frames {
		if len(f.Axes) != 8 || f.Axes["left_y"] != 0 || f.Axes["right_y"] != 0 {
			t.Fatalf("t=%v axes %v; want 8 axes, sticks at 0", f.T, f.Axes)
		}
		if slices.Contains(f.Buttons, "b") {
			pressed = append(pressed, f.T)
		}
		if f.Action != nil {
			t.Fatal("action without --task")
		}
	}
	if len(pressed) == 0 || pressed[0] != 1.464057 {
		t.Errorf("b held at %v; want from t=1.464057", pressed)
	}
	if frames[0].T != 0.000001 {
		t.Errorf("first t %v; want the recording's 0.000001", frames[0].T)
	}
}

func TestDevicesReplayTaskActions(t *testing.T) {
	names := tasks.Names()
	if len(names) == 0 {
		t.Skip("no tasks registered")
	}
	spec, _ := tasks.Spec(names[0])
	frames := replayJSON(t, madcatz, "--task", names[0], "--rule", "nonzero")
	for _, f := range frames {
		if len(f.Action) != len(spec.ActionNames) {
			t.Fatalf("action %v; want the %d actions of %s", f.Action, len(spec.ActionNames), names[0])
		}
		for _, n := range spec.ActionNames {
			if _, ok := f.Action[n]; !ok {
				t.Fatalf("action %v lacks %q", f.Action, n)
			}
		}
		if f.Engaged {
			t.Fatalf("t=%v engaged at rest under nonzero", f.T)
		}
	}
}

func TestDevicesReplayText(t *testing.T) {
	code, out, stderr := tandem(t, "devices", "replay", "--fast", "--profile", "joystick", madcatz)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, "hat_y=+1.000") || !strings.Contains(out, "held=[BTN_EAST]") {
		t.Errorf("text replay under the joystick profile lacks the d-pad or button: %.300q", out)
	}
}

func TestDevicesUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"bad rule", []string{"devices", "replay", "--rule", "psychic", madcatz}, "valid: norm"},
		{"unknown task", []string{"devices", "replay", "--task", "juggling", madcatz}, "valid:"},
		{"unknown profile", []string{"devices", "replay", "--profile", "theremin", madcatz}, "valid: xbox"},
		{"no file", []string{"devices", "replay"}, "accepts 1 arg"},
		{"inspect no path", []string{"devices", "inspect"}, "accepts 1 arg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := tandem(t, tt.args...)
			if code != 2 || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d stderr %q; want 2 and %q", code, stderr, tt.want)
			}
		})
	}
}

func TestDevicesReplayBadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.events")
	os.WriteFile(path, []byte("# EVEMU 1.3\nN: pad\nE: 0.1 0003\n"), 0o600)
	code, _, stderr := tandem(t, "devices", "replay", "--fast", path)
	if code != 1 || !strings.Contains(stderr, "line 3") {
		t.Errorf("exit %d stderr %q; want 1 naming line 3", code, stderr)
	}
}
