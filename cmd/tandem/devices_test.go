package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"tandem/tasks"
	"tandem/teleop/evdev"
)

const madcatz = "../../teleop/evdev/testdata/madcatz-xbox360.events"

func TestDevicesListWithoutDevices(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "input")
	if code, out, stderr := tandem(t, "devices", "list", "--dir", dir); code != 2 || out != "" || !strings.Contains(stderr, "does not exist") {
		t.Fatalf("--dir that does not exist: exit %d %q %q; want exit 2 saying so", code, out, stderr)
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
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

// replayJSON runs a fast --json replay and returns its frames and the
// final summary line's counts.
func replayJSON(t *testing.T, args ...string) ([]replayFrame, evdev.Stats) {
	t.Helper()
	code, out, stderr := tandem(t, append([]string{"devices", "replay", "--fast", "--json"}, args...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var sum struct {
		Summary *evdev.Stats `json:"summary"`
	}
	dec := json.NewDecoder(strings.NewReader(lines[len(lines)-1]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sum); err != nil || sum.Summary == nil {
		t.Fatalf("last line %q is not {\"summary\":{...}}: %v", lines[len(lines)-1], err)
	}
	var frames []replayFrame
	for _, line := range lines[:len(lines)-1] {
		var f replayFrame
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			t.Fatalf("line %q is not one frame object: %v", line, err)
		}
		frames = append(frames, f)
	}
	return frames, *sum.Summary
}

func TestDevicesReplayJSON(t *testing.T) {
	raw, err := os.ReadFile(madcatz)
	if err != nil {
		t.Fatal(err)
	}
	reports := strings.Count(string(raw), "SYN_REPORT (0)")
	frames, sum := replayJSON(t, madcatz)
	if want := (evdev.Stats{Frames: reports}); sum != want {
		t.Errorf("summary %+v; want %+v", sum, want)
	}
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
	// The recording starts at 0.000001 s; times count from the first event.
	if len(pressed) == 0 || pressed[0] != 1.464056 {
		t.Errorf("b held at %v; want from t=1.464056", pressed)
	}
	if frames[0].T != 0 {
		t.Errorf("first t %v; want 0 (the first event)", frames[0].T)
	}
}

func TestDevicesReplayTaskActions(t *testing.T) {
	names := tasks.Names()
	if len(names) == 0 {
		t.Skip("no tasks registered")
	}
	spec, _ := tasks.Spec(names[0])
	frames, _ := replayJSON(t, madcatz, "--task", names[0], "--rule", "nonzero")
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

const xboxDesc = "../../teleop/evdev/testdata/microsoft-xbox360-pad.desc"

// badRecording is the Xbox pad's description with events that exercise
// every counted skip: an unknown type, an unknown code, SYN_DROPPED,
// time going backwards and a gap of an hour.
func badRecording(t *testing.T) string {
	t.Helper()
	desc, err := os.ReadFile(xboxDesc)
	if err != nil {
		t.Fatal(err)
	}
	events := []string{
		"E: 0.000000 0003 0000 16000", "E: 0.000000 0000 0000 0000",
		"E: 0.010000 001e 0000 1", "E: 0.010000 0003 0050 5", "E: 0.010000 0000 0000 0000",
		"E: 0.005000 0000 0003 0000", "E: 0.006000 0003 0000 0", "E: 0.020000 0000 0000 0000",
		"E: 3600.000000 0001 0131 1", "E: 3600.000000 0000 0000 0000",
	}
	path := filepath.Join(t.TempDir(), "bad.events")
	body := strings.TrimRight(string(desc), "\n") + "\n" + strings.Join(events, "\n") + "\n"
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestDevicesReplaySummary(t *testing.T) {
	path := badRecording(t)
	frames, sum := replayJSON(t, path)
	want := evdev.Stats{Frames: 4, UnknownType: 1, UnknownCode: 1, Dropped: 1, Resyncs: 1, Backwards: 1, CappedGaps: 1}
	if sum != want {
		t.Errorf("summary %+v; want %+v", sum, want)
	}
	if len(frames) != 4 {
		t.Errorf("%d frames; want 4", len(frames))
	}
	code, out, stderr := tandem(t, "devices", "replay", "--fast", path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, "summary: 4 frames, 0 decays; skipped: 1 unknown types, 1 unknown codes, 1 SYN_DROPPED (1 resyncs") ||
		!strings.Contains(out, "1 backwards, 1 gaps capped") {
		t.Errorf("text summary missing or wrong:\n%s", out)
	}
	// Each kind is logged once on stderr, naming the file.
	for _, msg := range []string{"unknown type", "above their type's maximum", "buffer overflowed", "backwards", "long gap"} {
		if n := strings.Count(stderr, msg); n != 1 {
			t.Errorf("%q logged %d times; want once:\n%s", msg, n, stderr)
		}
	}
	if !strings.Contains(stderr, "bad.events") {
		t.Errorf("log does not name the file:\n%s", stderr)
	}
}

func TestDevicesInspectDescription(t *testing.T) {
	code, out, stderr := tandem(t, "devices", "inspect", xboxDesc)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"Microsoft X-Box 360 pad [045e:028e]", "ABS_X        -32768..32767 fuzz 16 flat 128", "ABS_HAT0Y    -1..1",
		"buttons: BTN_SOUTH", "profile: xbox", "map  button rb → takeover", "no events"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	code, out, stderr = tandem(t, "devices", "inspect", "--json", xboxDesc)
	if code != 0 {
		t.Fatalf("--json: exit %d: %s", code, stderr)
	}
	var j struct {
		Device evdev.Info `json:"device"`
		Events int        `json:"events"`
	}
	if err := json.Unmarshal([]byte(out), &j); err != nil {
		t.Fatalf("--json output %q: %v", out, err)
	}
	if j.Device.Name != "Microsoft X-Box 360 pad" || j.Device.Profile != "xbox" || len(j.Device.Axes) != 8 || j.Events != 0 {
		t.Errorf("--json %+v; want the pad, profile xbox, 8 axes, 0 events", j)
	}
	// A description matching no profile still shows, with the reason.
	code, out, _ = tandem(t, "devices", "inspect", "--mapping", "/nonexistent.json", xboxDesc)
	if code == 0 && !strings.Contains(out, "profile: none") {
		t.Errorf("bad mapping file: exit %d output %q; want an error or profile: none", code, out)
	}
	// replay still refuses, pointing at inspect.
	code, _, stderr = tandem(t, "devices", "replay", xboxDesc)
	if code != 1 || !strings.Contains(stderr, "nothing to replay") || !strings.Contains(stderr, "devices inspect") {
		t.Errorf("replay of a description: exit %d stderr %q; want 1 and a pointer to inspect", code, stderr)
	}
}
