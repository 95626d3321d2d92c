package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tandem/web"
)

// partials lists .partial files and directories left in dir.
func partials(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".partial") || strings.HasSuffix(e.Name(), ".old") {
			out = append(out, e.Name())
		}
	}
	return out
}

// TestExportOutputs: MCAP and LeRobot refuse an existing output alike
// unless --force, replace it only when forced, never leave a .partial, and
// an empty selection writes nothing and exits 1 for both.
func TestExportOutputs(t *testing.T) {
	data := recordReach(t, 2)
	work := t.TempDir()
	mcap := filepath.Join(work, "out.mcap")
	lr := filepath.Join(work, "lr")
	for _, tc := range []struct {
		format, out string
	}{{"mcap", mcap}, {"lerobot", lr}} {
		t.Run(tc.format, func(t *testing.T) {
			args := []string{"demos", "export", "--format", tc.format, "--out", tc.out, "--data", data}
			if code, _, errs := tandem(t, args...); code != 0 {
				t.Fatalf("first export: exit %d %s", code, errs)
			}
			if code, _, errs := tandem(t, args...); code != 2 || !strings.Contains(errs, "already exists; pass --force") {
				t.Fatalf("export over an existing output: exit %d %q; want 2, pass --force", code, errs)
			}
			if code, out, errs := tandem(t, append(args, "--force", "--ids", "2")...); code != 0 || !strings.Contains(out, "exported 1 episodes") {
				t.Fatalf("--force --ids 2: exit %d %q %s", code, out, errs)
			}
			if code, out, errs := tandem(t, "demos", "export", "--format", tc.format, "--out", tc.out+"2", "--task", "push-t", "--data", data); code != 1 ||
				!strings.Contains(errs, "no episodes match the filter; nothing written") || out != "" {
				t.Fatalf("empty selection: exit %d %q %q; want 1, nothing written", code, out, errs)
			}
			if _, err := os.Stat(tc.out + "2"); err == nil {
				t.Fatal("an empty selection wrote its output")
			}
			if p := partials(t, work); len(p) != 0 {
				t.Fatalf("left behind: %q", p)
			}
		})
	}
	// An MCAP onto a directory, and --force onto a directory that is not an
	// export, are refused without touching them.
	if code, _, errs := tandem(t, "demos", "export", "--out", work, "--force", "--data", data); code != 2 || !strings.Contains(errs, "is a directory") {
		t.Fatalf("mcap onto a directory: exit %d %q", code, errs)
	}
	precious := filepath.Join(work, "precious")
	os.MkdirAll(precious, 0o755)
	os.WriteFile(filepath.Join(precious, "notes.txt"), []byte("keep"), 0o644)
	if code, _, errs := tandem(t, "demos", "export", "--format", "lerobot", "--out", precious, "--force", "--data", data); code != 2 || !strings.Contains(errs, "not a LeRobot export") {
		t.Fatalf("--force onto a foreign directory: exit %d %q", code, errs)
	}
	if b, _ := os.ReadFile(filepath.Join(precious, "notes.txt")); string(b) != "keep" {
		t.Fatal("a refused export touched the directory")
	}
	if p := partials(t, work); len(p) != 0 {
		t.Fatalf("left behind: %q", p)
	}
}

// TestREADMECommandsInOrder: the README's commands in order: a server
// recording its push-t session, a reach rollout recording into the same
// directory meanwhile, and a whole-store LeRobot export (one dataset per
// task); an MCAP exported while the server records imports cleanly.
func TestREADMECommandsInOrder(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	out := filepath.Join(t.TempDir(), "export")
	srv, err := web.New(web.Config{Addr: "127.0.0.1:0", DataDir: data, Token: "readme-token", Log: &bytes.Buffer{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	stopServer := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}
	defer stopServer()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) { // the server's first commit
		if _, err := os.Stat(filepath.Join(data, "tandem.db")); err == nil {
			if code, stdout, _ := tandem(t, "demos", "list", "--json", "--data", data); code == 0 && strings.Contains(stdout, `"outcome":"running"`) {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the server recorded nothing in 10 s")
		}
	}
	mcap := filepath.Join(t.TempDir(), "live.mcap")
	if code, _, errs := tandem(t, "demos", "export", "--out", mcap, "--include-running", "--data", data); code != 0 {
		t.Fatalf("mcap export while recording: exit %d %s", code, errs)
	}
	if code, stdout, errs := tandem(t, "demos", "import", mcap, "--data", filepath.Join(t.TempDir(), "other")); code != 0 || !strings.Contains(stdout, "imported 1 episodes") {
		t.Fatalf("import of the export made while recording: exit %d %q %s", code, stdout, errs)
	}
	for _, args := range [][]string{
		{"rollout", "--task", "push-t", "--episodes", "2", "--record", "--data", data},
		{"rollout", "--task", "reach", "--policy", "random", "--operator", "sim:skill=0.9", "--episodes", "2", "--record", "--data", data},
		{"demos", "list", "--data", data},
		{"demos", "list", "--limit", "1", "--data", data},
	} {
		if code, _, errs := tandem(t, args...); code != 0 {
			t.Fatalf("%q: exit %d %s", args, code, errs)
		}
	}
	stopServer() // its running push-t episode ends as cut and joins the export
	code, stdout, errs := tandem(t, "demos", "export", "--format", "lerobot", "--out", out, "--data", data, "--json")
	var res struct {
		Episodes int `json:"episodes"`
		Datasets []struct {
			Task string `json:"task"`
			Dir  string `json:"dir"`
			FPS  int    `json:"fps"`
		} `json:"datasets"`
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &res) != nil || res.Episodes != 5 || len(res.Datasets) != 2 {
		t.Fatalf("whole-store lerobot export: exit %d %q %s; want 5 episodes in 2 datasets", code, stdout, errs)
	}
	for _, ds := range res.Datasets {
		// push-t comes at two rates: the server's teleoperation rate and
		// the rollouts' control rate.
		if ds.Dir != filepath.Join(out, ds.Task) && !strings.HasPrefix(ds.Dir, filepath.Join(out, ds.Task)+"-") {
			t.Errorf("dataset of %s in %s; want %s", ds.Task, ds.Dir, filepath.Join(out, ds.Task))
		}
		if _, err := os.Stat(filepath.Join(ds.Dir, "meta", "info.json")); err != nil {
			t.Error(err)
		}
	}
	if code, stdout, _ := tandem(t, "demos", "export", "--format", "lerobot", "--out", out, "--force", "--data", data); code != 0 ||
		!strings.Contains(stdout, "as 2 LeRobot datasets, one per task and rate") {
		t.Fatalf("re-export with --force: exit %d %q", code, stdout)
	}
	// list --limit pages in id order.
	_, stdout, _ = tandem(t, "demos", "list", "--limit", "1", "--offset", "1", "--json", "--data", data)
	var eps []struct {
		ID   int64  `json:"id"`
		Mode string `json:"mode"`
	}
	if json.Unmarshal([]byte(stdout), &eps) != nil || len(eps) != 1 || eps[0].ID != 2 {
		t.Fatalf("list --limit 1 --offset 1: %s", stdout)
	}
	// The server's shared session (nobody intervened) and the shared
	// rollout are shared; the expert rollout is auto.
	_, stdout, _ = tandem(t, "demos", "list", "--mode", "shared", "--json", "--data", data)
	if json.Unmarshal([]byte(stdout), &eps) != nil || len(eps) != 3 || eps[0].ID != 1 || eps[1].ID != 4 {
		t.Fatalf("list --mode shared: %s", stdout)
	}
	// Several episodes replay with one command.
	if code, stdout, errs := tandem(t, "demos", "replay", "--data", data); code != 0 || !strings.Contains(stdout, "verified 5 of 5 episodes; 0 failed") {
		t.Fatalf("replay of the whole store: exit %d %q %s", code, stdout, errs)
	}
}

// TestImportMissingFileCreatesNothing: a file that cannot be read is refused
// before the data directory is created.
func TestImportMissingFileCreatesNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "newdir")
	if code, _, errs := tandem(t, "demos", "import", filepath.Join(t.TempDir(), "missing.mcap"), "--data", dir); code != 2 || !strings.Contains(errs, "no such file") {
		t.Fatalf("import of a missing file: exit %d %q; want 2", code, errs)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Fatal("import of a missing file created the data directory")
	}
}

// TestRolloutRecordSaysWhere: rollout --record names the session and the
// episode ids, in text and JSON; the expert is stored as a policy.
func TestRolloutRecordSaysWhere(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	code, stdout, errs := tandem(t, "rollout", "--task", "reach", "--episodes", "3", "--record", "--data", data, "--json")
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	var sum struct {
		Mode      string `json:"mode"`
		Policy    string `json:"policy"`
		FirstSeed uint64 `json:"first_seed"`
		Recorded  struct {
			Data       string  `json:"data"`
			EpisodeIDs []int64 `json:"episode_ids"`
		} `json:"recorded"`
	}
	if code != 0 || json.Unmarshal([]byte(lines[len(lines)-1]), &sum) != nil || sum.Mode != "auto" || sum.Policy != "expert" ||
		sum.Recorded.Data != data || len(sum.Recorded.EpisodeIDs) != 3 || sum.Recorded.EpisodeIDs[2] != 3 {
		t.Fatalf("rollout --record --json: exit %d %q %s", code, stdout, errs)
	}
	// Without --seed each run draws fresh seeds.
	_, stdout, _ = tandem(t, "rollout", "--task", "reach", "--episodes", "3", "--record", "--data", data)
	if !strings.Contains(stdout, "recorded in "+data+" as episodes 4-6") || strings.Contains(stdout, "seeds "+itoa(sum.FirstSeed)+"..") {
		t.Fatalf("second rollout: %q; want episodes 4-6 with other seeds than %d", stdout, sum.FirstSeed)
	}
}

func itoa(v uint64) string { b, _ := json.Marshal(v); return string(b) }
