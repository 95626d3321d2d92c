package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDemosCLI records rollouts of a real task, then lists, replays,
// exports, imports and summarises them through the CLI.
func TestDemosCLI(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if code, _, errs := tandem(t, "rollout", "--task", "reach", "--episodes", "3", "--workers", "1", "--record", "--data", dir); code != 0 {
		t.Fatalf("rollout --record: exit %d: %s", code, errs)
	}
	code, out, errs := tandem(t, "demos", "list", "--json", "--data", dir)
	if code != 0 {
		t.Fatalf("demos list: exit %d: %s", code, errs)
	}
	var eps []struct {
		ID            int64   `json:"id"`
		Task          string  `json:"task"`
		Seed          uint64  `json:"seed"`
		Length        int     `json:"length"`
		Return        float64 `json:"return"`
		Success       bool    `json:"success"`
		Interventions int     `json:"interventions"`
		Complete      bool    `json:"complete"`
		Mode          string  `json:"mode"`
	}
	if err := json.Unmarshal([]byte(out), &eps); err != nil {
		t.Fatalf("list --json: %v\n%s", err, out)
	}
	if len(eps) != 3 || eps[0].Task != "reach" || eps[1].Seed != 1 || !eps[0].Complete || eps[0].Length == 0 || eps[0].Mode != "teleop" {
		t.Fatalf("episodes %+v; want 3 complete reach teleop episodes with seeds 0..2", eps)
	}
	if code, out, errs := tandem(t, "demos", "replay", "2", "--data", dir); code != 0 || !strings.Contains(out, "verified ") {
		t.Fatalf("replay: exit %d: %s %s", code, out, errs)
	}
	if code, _, _ := tandem(t, "demos", "replay", "99", "--data", dir); code != 2 {
		t.Fatalf("replay of a missing episode: exit %d; want 2", code)
	}
	if code, _, _ := tandem(t, "demos", "list", "--success", "maybe", "--data", dir); code != 2 {
		t.Fatalf("bad --success: exit %d; want 2", code)
	}
	mcapPath := filepath.Join(t.TempDir(), "out.mcap")
	if code, out, errs := tandem(t, "demos", "export", "--format", "mcap", "--out", mcapPath, "--data", dir); code != 0 || !strings.Contains(out, "exported 3 episodes") {
		t.Fatalf("export mcap: exit %d: %s %s", code, out, errs)
	} else if strings.Contains(errs, "warning") {
		t.Fatalf("export mcap warned (scene missing?): %s", errs)
	}
	lr := filepath.Join(t.TempDir(), "lerobot")
	if code, _, errs := tandem(t, "demos", "export", "--format", "lerobot", "--out", lr, "--task", "reach", "--data", dir); code != 0 {
		t.Fatalf("export lerobot: exit %d: %s", code, errs)
	}
	if _, err := os.Stat(filepath.Join(lr, "meta", "info.json")); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := tandem(t, "demos", "export", "--format", "hdf5", "--out", lr, "--data", dir); code != 2 {
		t.Fatalf("unknown format: exit %d; want 2", code)
	}
	other := filepath.Join(t.TempDir(), "other")
	if code, out, errs := tandem(t, "demos", "import", mcapPath, "--data", other); code != 0 || !strings.Contains(out, "imported 3 episodes") {
		t.Fatalf("import: exit %d: %s %s", code, out, errs)
	}
	if code, out, errs := tandem(t, "demos", "replay", "3", "--data", other); code != 0 || !strings.Contains(out, "verified ") {
		t.Fatalf("replay after import: exit %d: %s %s", code, out, errs)
	}
	code, out, _ = tandem(t, "demos", "stats", "--json", "--data", dir)
	var st struct {
		Episodes int `json:"episodes"`
		Steps    int `json:"steps"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &st) != nil || st.Episodes != 3 || st.Steps != eps[0].Length+eps[1].Length+eps[2].Length {
		t.Fatalf("stats: exit %d: %s", code, out)
	}
	if code, out, _ := tandem(t, "demos", "show", "1", "--steps", "--data", dir); code != 0 || !strings.Contains(out, "SOURCE") {
		t.Fatalf("show: exit %d: %s", code, out)
	}
}
