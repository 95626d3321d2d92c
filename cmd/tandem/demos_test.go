package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"tandem/demos"
	"tandem/tasks"
)

// TestDemosCLI records rollouts of a real task, then lists, replays,
// exports, imports and summarises them through the CLI.
func TestDemosCLI(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if code, _, errs := tandem(t, "rollout", "--task", "reach", "--episodes", "3", "--seed", "0", "--workers", "1", "--record", "--data", dir); code != 0 {
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
	if len(eps) != 3 || eps[0].Task != "reach" || eps[1].Seed != 1 || !eps[0].Complete || eps[0].Length == 0 || eps[0].Mode != "auto" {
		t.Fatalf("episodes %+v; want 3 complete reach auto episodes (the expert is a policy) with seeds 0..2", eps)
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
	if code, out, errs := tandem(t, "demos", "import", mcapPath, "--data", other); code != 0 || !strings.Contains(out, "imported 3 episodes (") {
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

// recordReach fills a data directory with n recorded reach rollouts.
func recordReach(t *testing.T, n int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	if code, _, errs := tandem(t, "rollout", "--task", "reach", "--episodes", strconv.Itoa(n), "--seed", "0", "--workers", "1", "--record", "--data", dir); code != 0 {
		t.Fatalf("rollout --record: exit %d: %s", code, errs)
	}
	return dir
}

// TestDemosBadFilterValuesAreUsageErrors: every bad value exits 2 with one
// line naming the valid choices.
func TestDemosBadFilterValuesAreUsageErrors(t *testing.T) {
	dir := recordReach(t, 1)
	out := filepath.Join(t.TempDir(), "x")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"list mode", []string{"list", "--mode", "bogus"}, `--mode "bogus": want shared, teleop or auto`},
		{"stats mode", []string{"stats", "--mode", "replay"}, `--mode "replay": want shared, teleop or auto`},
		{"list task", []string{"list", "--task", "nope"}, "valid: " + strings.Join(tasks.Names(), ", ")},
		{"export task", []string{"export", "--task", "nope", "--out", out}, "valid: " + strings.Join(tasks.Names(), ", ")},
		{"stats task", []string{"stats", "--task", "nope"}, "unknown --task \"nope\""},
		{"pre-intervention", []string{"show", "1", "--pre-intervention", "-5"}, "at least 0"},
		{"since not a time", []string{"list", "--since", "2025-13-45"}, "want RFC 3339"},
		{"until not a time", []string{"export", "--until", "yesterday", "--out", out}, "want RFC 3339"},
		{"since after until", []string{"list", "--since", "2026-01-01", "--until", "2025-01-01"}, "want since < until"},
		{"format", []string{"export", "--format", "xyz", "--out", out}, "valid: mcap, lerobot"},
		{"success", []string{"list", "--success", "maybe"}, "want true or false"},
		{"min interventions", []string{"list", "--min-interventions", "-1"}, "want a non-negative integer"},
		{"limit", []string{"list", "--limit", "ten"}, `--limit "ten": want a non-negative integer`},
		{"ids", []string{"export", "--ids", "1,x", "--out", out}, "want comma-separated positive integers"},
		{"rate", []string{"export", "--control-hz", "-5", "--out", out}, "want a positive number of Hz"},
		{"replay ids and filters", []string{"replay", "1", "--task", "reach"}, "not both"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, errs := tandem(t, append([]string{"demos"}, append(tc.args, "--data", dir)...)...)
			if code != 2 || !strings.Contains(errs, tc.want) || strings.Count(errs, "\n") != 1 || stdout != "" {
				t.Fatalf("exit %d, stderr %q, stdout %q; want exit 2 and one line containing %q", code, errs, stdout, tc.want)
			}
		})
	}
	if _, err := os.Stat(out); err == nil {
		t.Fatal("a refused export wrote its output")
	}
	// A valid task with no episodes is not an error.
	if code, out, errs := tandem(t, "demos", "list", "--task", "push-t", "--json", "--data", dir); code != 0 || strings.TrimSpace(out) != "[]" {
		t.Fatalf("list --task push-t: exit %d %q %s; want an empty list", code, out, errs)
	}
}

// TestDemosJSONOutputs checks replay, export and import --json, including a
// divergence (exit 1), a missing step (exit 1) and a repeated import.
func TestDemosJSONOutputs(t *testing.T) {
	dir := recordReach(t, 3)
	var eps []struct {
		ID     int64 `json:"id"`
		Length int   `json:"length"`
	}
	_, out, _ := tandem(t, "demos", "list", "--json", "--data", dir)
	if err := json.Unmarshal([]byte(out), &eps); err != nil || len(eps) != 3 {
		t.Fatalf("list: %v %s", err, out)
	}

	code, out, errs := tandem(t, "demos", "replay", "1", "--json", "--data", dir)
	var ok struct {
		ID       int64 `json:"id"`
		Verified int   `json:"verified"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &ok) != nil || ok.ID != 1 || ok.Verified != eps[0].Length {
		t.Fatalf("replay --json: exit %d %q %s; want {id 1, verified %d}", code, out, errs, eps[0].Length)
	}

	path := filepath.Join(t.TempDir(), "out.mcap")
	code, out, errs = tandem(t, "demos", "export", "--out", path, "--json", "--data", dir)
	var ex struct {
		Format   string `json:"format"`
		Out      string `json:"out"`
		Episodes int    `json:"episodes"`
		Steps    int    `json:"steps"`
		Bytes    int64  `json:"bytes"`
	}
	fi, statErr := os.Stat(path)
	if code != 0 || json.Unmarshal([]byte(out), &ex) != nil || statErr != nil || ex.Format != "mcap" || ex.Out != path ||
		ex.Episodes != 3 || ex.Steps != eps[0].Length+eps[1].Length+eps[2].Length || ex.Bytes != fi.Size() {
		t.Fatalf("export --json: exit %d %q %s; want mcap, 3 episodes, %d bytes", code, out, errs, fi.Size())
	}

	other := filepath.Join(t.TempDir(), "other")
	type imported struct {
		Episodes []int64 `json:"episodes"`
		Steps    int     `json:"steps"`
		Skipped  []struct {
			SourceID int64 `json:"source_id"`
			Existing int64 `json:"existing_id"`
		} `json:"skipped"`
	}
	var im imported
	code, out, errs = tandem(t, "demos", "import", path, "--json", "--data", other)
	if code != 0 || json.Unmarshal([]byte(out), &im) != nil || len(im.Episodes) != 3 || im.Steps != ex.Steps || len(im.Skipped) != 0 {
		t.Fatalf("import --json: exit %d %q %s; want 3 episodes, %d steps", code, out, errs, ex.Steps)
	}
	im = imported{}
	code, out, errs = tandem(t, "demos", "import", path, "--json", "--data", other)
	if code != 0 || json.Unmarshal([]byte(out), &im) != nil || len(im.Episodes) != 0 || im.Steps != 0 || len(im.Skipped) != 3 || im.Skipped[2].Existing != 3 {
		t.Fatalf("second import --json: exit %d %q %s; want nothing imported, 3 skipped", code, out, errs)
	}
	if code, out, _ := tandem(t, "demos", "import", path, "--data", other); code != 0 || !strings.Contains(out, "imported 0 episodes") || !strings.Contains(out, "skipped 3 episodes already in the store") {
		t.Fatalf("third import: exit %d %q", code, out)
	}
	// Damage episode 2 (one observation value of step 5) and episode 3 (step 4 deleted).
	s, err := demos.Open(context.Background(), dir, demos.Options{})
	if err != nil {
		t.Fatal(err)
	}
	steps, err := s.Steps(context.Background(), 2)
	if err != nil {
		t.Fatal(err)
	}
	obs := steps[5].Obs
	blob := make([]byte, 0, 8*len(obs))
	for i, x := range obs {
		if i == 0 {
			x += 0.25
		}
		blob = binary.LittleEndian.AppendUint64(blob, math.Float64bits(x))
	}
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{"UPDATE steps SET obs = ? WHERE episode_id = 2 AND t = 5", []any{blob}},
		{"DELETE FROM steps WHERE episode_id = 3 AND t = 4", nil},
	} {
		if _, err := s.DB().Exec(q.sql, q.args...); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	code, out, errs = tandem(t, "demos", "replay", "2", "--json", "--data", dir)
	var div struct {
		ID       int64 `json:"id"`
		Diverged struct {
			Step     int     `json:"step"`
			Field    string  `json:"field"`
			Recorded float64 `json:"recorded"`
			Replayed float64 `json:"replayed"`
		} `json:"diverged"`
	}
	if code != 1 || json.Unmarshal([]byte(out), &div) != nil || div.ID != 2 || div.Diverged.Step != 5 ||
		div.Diverged.Field == "" || div.Diverged.Recorded != obs[0]+0.25 || div.Diverged.Replayed != obs[0] {
		t.Fatalf("replay --json of a damaged episode: exit %d %q %s; want exit 1, diverged at step 5", code, out, errs)
	}
	code, out, errs = tandem(t, "demos", "replay", "3", "--data", dir)
	if code != 1 || !strings.Contains(errs, "episode 3: step 4 missing") || strings.Contains(errs, "diverge") {
		t.Fatalf("replay with a missing step: exit %d %q %q; want exit 1, \"episode 3: step 4 missing\"", code, out, errs)
	}
	code, out, _ = tandem(t, "demos", "replay", "3", "--json", "--data", dir)
	if code != 1 || !strings.Contains(out, `"invalid":{"problem":"missing","step":4}`) {
		t.Fatalf("replay --json with a missing step: exit %d %q", code, out)
	}

}
