package demos

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// duckdbNodePath returns a NODE_PATH under which node finds
// @duckdb/node-api, or "" when node or the package is missing. CI installs
// it with `npm install -g @duckdb/node-api@1.5.6-r.1`; NODE_PATH, when set,
// is searched first.
func duckdbNodePath(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		return ""
	}
	var paths []string
	if p := os.Getenv("NODE_PATH"); p != "" {
		paths = append(paths, p)
	}
	if out, err := exec.Command("npm", "root", "-g").Output(); err == nil {
		paths = append(paths, strings.TrimSpace(string(out)))
	}
	for _, p := range paths {
		cmd := exec.Command("node", "-e", "require.resolve('@duckdb/node-api')")
		cmd.Env = append(os.Environ(), "NODE_PATH="+p)
		if cmd.Run() == nil {
			return p
		}
	}
	return ""
}

// TestLeRobotExportReadByDuckDB reads every exported dataset back with a
// parquet reader that is not ours (DuckDB, through its node package) and
// checks columns, types, list lengths, counts, indexes and timestamps
// against meta/info.json (testdata/lerobot_check.cjs). Skipped when node or
// @duckdb/node-api is not installed, unless TANDEM_REQUIRE_DUCKDB=1 (CI:
// the check must not pass by not running).
func TestLeRobotExportReadByDuckDB(t *testing.T) {
	nodePath := duckdbNodePath(t)
	if nodePath == "" {
		if os.Getenv("TANDEM_REQUIRE_DUCKDB") == "1" {
			t.Fatal("TANDEM_REQUIRE_DUCKDB=1 but node cannot load @duckdb/node-api (NODE_PATH or npm root -g)")
		}
		t.Skip("node with @duckdb/node-api not installed (npm install -g @duckdb/node-api@1.5.6-r.1; TANDEM_REQUIRE_DUCKDB=1 makes this a failure)")
	}
	ctx := context.Background()
	s, _ := openTest(t)
	addRollouts(t, s, 6, []uint64{1, 2, 3}, "", sharedCtl)
	other := newDot(9, 10).Spec()
	other.Name = "other"
	for i, ep := range rollout(t, 9, []uint64{4, 5}, expertCtl) {
		if _, err := s.AddEpisode(ctx, Info{Spec: other, Seed: uint64(4 + i)}, ep.Steps); err != nil {
			t.Fatal(err)
		}
	}
	dir := filepath.Join(t.TempDir(), "out")
	st, err := ExportLeRobot(ctx, s, Filter{}, dir, ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Datasets) != 2 {
		t.Fatalf("%d datasets; want 2", len(st.Datasets))
	}
	script, _ := filepath.Abs(filepath.Join("testdata", "lerobot_check.cjs"))
	for _, ds := range st.Datasets {
		cmd := exec.Command("node", script, ds.Dir)
		cmd.Env = append(os.Environ(), "NODE_PATH="+nodePath)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: node: %v\n%s", ds.Dir, err, out)
		}
		var res struct {
			OK       bool     `json:"ok"`
			Errors   []string `json:"errors"`
			Frames   int      `json:"frames"`
			Episodes int      `json:"episodes"`
		}
		if err := json.Unmarshal(out, &res); err != nil {
			t.Fatalf("%s: %v\n%s", ds.Dir, err, out)
		}
		if !res.OK || res.Frames != ds.Steps || res.Episodes != ds.Episodes {
			t.Errorf("%s read by DuckDB: %d frames, %d episodes (want %d, %d); %s", ds.Task, res.Frames, res.Episodes, ds.Steps, ds.Episodes, strings.Join(res.Errors, "; "))
		}
	}
}
