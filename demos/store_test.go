package demos

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"tandem/sim"
)

func TestOpenMigratesAndRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	s, dir := openTest(t)
	if v, err := schemaVersion(ctx, s.DB()); err != nil || v != SchemaVersion {
		t.Fatalf("schema version = %d, %v; want %d", v, err, SchemaVersion)
	}
	var mode string
	if err := s.DB().QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q, %v; want wal", mode, err)
	}
	if _, err := s.DB().ExecContext(ctx, "PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	before, err := os.ReadFile(filepath.Join(dir, DBName))
	if err != nil {
		t.Fatal(err)
	}
	for _, ro := range []bool{false, true} {
		_, err := Open(ctx, dir, Options{ReadOnly: ro})
		if !errors.Is(err, ErrSchemaTooNew) {
			t.Fatalf("Open(read-only %v) of schema 99: got %v; want ErrSchemaTooNew", ro, err)
		}
	}
	after, _ := os.ReadFile(filepath.Join(dir, DBName))
	if !reflect.DeepEqual(before, after) {
		t.Fatalf("refused database was modified")
	}
}

func TestReadOnlyOpenNeedsExistingStore(t *testing.T) {
	_, err := Open(context.Background(), filepath.Join(t.TempDir(), "none"), Options{ReadOnly: true})
	if err == nil {
		t.Fatal("read-only Open of a missing store succeeded; want an error")
	}
}

func TestAddEpisodeRoundTrip(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	eps := rollout(t, 8, []uint64{11}, sharedCtl)
	id, err := s.AddEpisode(ctx, Info{Spec: newDot(8, 10).Spec(), Seed: 11, Start: testStart, Tags: []string{"a", "b"}, Note: "hi"}, eps[0].Steps)
	if err != nil {
		t.Fatal(err)
	}
	ep, err := s.Episode(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	src := eps[0]
	if ep.Length != src.Length || ep.Return != src.Return || ep.Success != src.Success || ep.Interventions != src.Interventions {
		t.Fatalf("summary = len %d ret %v succ %v interv %d; want %d %v %v %d",
			ep.Length, ep.Return, ep.Success, ep.Interventions, src.Length, src.Return, src.Success, src.Interventions)
	}
	if ep.Mode != sim.ModeShared || ep.Seed != 11 || ep.Task != "dot" || ep.TaskVersion != 3 || !ep.Complete || ep.Outcome == Cut {
		t.Fatalf("episode = %+v; want shared, seed 11, dot v3, complete", ep)
	}
	if !reflect.DeepEqual(ep.Operators, []string{"alice"}) || !reflect.DeepEqual(ep.PolicyVersion, []string{"v1"}) {
		t.Fatalf("operators %v versions %v; want [alice] [v1]", ep.Operators, ep.PolicyVersion)
	}
	if !reflect.DeepEqual(ep.Tags, []string{"a", "b"}) || ep.Note != "hi" {
		t.Fatalf("tags %v note %q", ep.Tags, ep.Note)
	}
	steps, err := s.Steps(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != len(src.Steps) {
		t.Fatalf("got %d steps; want %d", len(steps), len(src.Steps))
	}
	for i, st := range steps {
		r := &src.Steps[i]
		if !reflect.DeepEqual(st.Obs, r.Obs.Append(nil)) || !reflect.DeepEqual(st.Next, r.Next.Append(nil)) ||
			!reflect.DeepEqual(st.Action, r.Action.Append(nil)) {
			t.Fatalf("step %d vectors differ", i)
		}
		if st.Source != r.Source || st.Reward != r.Reward || st.InterventionStart != r.InterventionStart {
			t.Fatalf("step %d = %+v; want source %s reward %v", i, st, r.Source, r.Reward)
		}
		if r.Source == sim.Robot && !reflect.DeepEqual(st.PolicyAction, r.PolicyAction.Append(nil)) {
			t.Fatalf("step %d policy action %v; want %v", i, st.PolicyAction, r.PolicyAction.Append(nil))
		}
		if want := testStart.Add(time.Duration(i) * 100 * time.Millisecond); !st.Wall.Equal(want) {
			t.Fatalf("step %d wall %v; want %v", i, st.Wall, want)
		}
	}
	if _, err := s.Episode(ctx, 999); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Episode(999): got %v; want ErrNotFound", err)
	}
}

func TestListEpisodesFilters(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	addRollouts(t, s, 6, []uint64{1, 2}, "", expertCtl)
	shared := addRollouts(t, s, 6, []uint64{3, 4, 5}, "", sharedCtl)
	all, err := s.ListEpisodes(ctx, Filter{})
	if err != nil || len(all) != 5 {
		t.Fatalf("list all: %d, %v; want 5", len(all), err)
	}
	yes, no := true, false
	nSucc := 0
	for _, e := range all {
		if e.Success {
			nSucc++
		}
	}
	tests := []struct {
		name string
		f    Filter
		want int
	}{
		{"task", Filter{Task: "dot"}, 5},
		{"other task", Filter{Task: "nope"}, 0},
		{"operator", Filter{Operator: "alice"}, 3},
		{"operator prefix does not match", Filter{Operator: "ali"}, 0},
		{"demonstrator", Filter{Operator: "expert"}, 2}, // sim.Demonstrate names its operator
		{"mode teleop", Filter{Mode: sim.ModeTeleop}, 2},
		{"mode shared", Filter{Mode: sim.ModeShared}, 3},
		{"min interventions", Filter{MinInterventions: 2}, 3},
		{"policy version", Filter{PolicyVersion: "v1"}, 3},
		{"success", Filter{Success: &yes}, nSucc},
		{"failure", Filter{Success: &no}, 5 - nSucc},
		{"complete", Filter{Complete: &yes}, 5},
		{"since", Filter{Since: testStart.Add(time.Minute)}, 3}, // the two demo rollouts start at +0 and +1 min, shared at +0..+2
		{"until", Filter{Until: testStart.Add(time.Minute)}, 2},
		{"ids", Filter{IDs: []int64{shared[0], shared[2]}}, 2},
		// More ids than SQLite takes parameters (32,766): hitl's later rounds.
		{"40,000 ids", Filter{IDs: append(manyIDs(40_000), shared[1])}, 1},
		{"limit", Filter{Limit: 2, Offset: 1}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.ListEpisodes(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tc.want {
				t.Fatalf("got %d episodes; want %d", len(got), tc.want)
			}
		})
	}
}

func TestSummaryGroups(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	addRollouts(t, s, 6, []uint64{1, 2}, "", expertCtl)
	addRollouts(t, s, 6, []uint64{3, 4}, "", sharedCtl)
	st, err := s.Summary(ctx, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Episodes != 4 || st.Steps != 200 {
		t.Fatalf("summary %d episodes %d steps; want 4, 200", st.Episodes, st.Steps)
	}
	names := func(gs []Group) []string {
		var out []string
		for _, g := range gs {
			out = append(out, g.Name)
		}
		return out
	}
	if got := names(st.ByOperator); !reflect.DeepEqual(got, []string{"alice", "expert"}) {
		t.Fatalf("operators %v; want [alice expert]", got)
	}
	if got := names(st.ByPolicy); !reflect.DeepEqual(got, []string{"", "v1"}) {
		t.Fatalf("policies %v; want ['' v1]", got)
	}
	for _, g := range st.ByPolicy {
		if g.Name == "v1" && g.InterventionsPerEpisode != 2 {
			t.Fatalf("v1 interventions per episode %v; want 2 (starts at steps 10 and 30 of 50)", g.InterventionsPerEpisode)
		}
	}
}

func TestAnnotate(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	id := addRollouts(t, s, 6, []uint64{1}, "", expertCtl)[0]
	if err := s.Annotate(ctx, id, []string{"good"}, "clean run"); err != nil {
		t.Fatal(err)
	}
	ep, _ := s.Episode(ctx, id)
	if !reflect.DeepEqual(ep.Tags, []string{"good"}) || ep.Note != "clean run" {
		t.Fatalf("tags %v note %q", ep.Tags, ep.Note)
	}
	if err := s.Annotate(ctx, id, []string{"a,b"}, ""); err == nil {
		t.Fatal("tag with a comma accepted")
	}
	if err := s.Annotate(ctx, 404, nil, ""); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Annotate(404): %v; want ErrNotFound", err)
	}
}

// TestStoreOperatorIDsWithCommas stores operator ids and policy versions that
// contain commas and finds them again, whole, through every path that
// writes them: a stored episode, a crash-recovered one, and filters.
func TestStoreOperatorIDsWithCommas(t *testing.T) {
	ctx := context.Background()
	s, dir := openTest(t)
	eps := rollout(t, 6, []uint64{3}, sharedCtl)
	steps := eps[0].Steps
	for i := range steps {
		if steps[i].Source == sim.Human {
			steps[i].Operator = "Smith, J."
		} else {
			steps[i].PolicyVersion = "v2,rc1"
		}
	}
	id, err := s.AddEpisode(ctx, Info{Spec: newDot(6, 10).Spec(), Seed: 3, Start: testStart}, steps)
	if err != nil {
		t.Fatal(err)
	}
	ep, _ := s.Episode(ctx, id)
	if !reflect.DeepEqual(ep.Operators, []string{"Smith, J."}) || !reflect.DeepEqual(ep.PolicyVersion, []string{"v2,rc1"}) {
		t.Fatalf("operators %q versions %q; want [Smith, J.] [v2,rc1]", ep.Operators, ep.PolicyVersion)
	}
	// A running episode cut by a crash: names recovered from its steps, in
	// order of first appearance.
	ops := []op{{kind: opBegin, key: 1, begin: &beginRow{uid: newUID(), sessionID: 1, task: "dot", taskVersion: 3, seed: 4, spec: "{}", start: testStart.UnixNano()}}}
	for i, name := range []string{"b,1", "a", "b,1"} {
		row := rowOfStep(&Step{T: i, Obs: []float64{0}, Action: []float64{0}, Source: sim.Human, Operator: name, Wall: testStart})
		ops = append(ops, op{kind: opStep, key: 1, step: row})
	}
	if err := s.commit(ctx, [][]op{ops}, map[int64]int64{}, nil); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s2, err := Open(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if s2.Recovered() != 1 {
		t.Fatalf("recovered %d episodes; want 1", s2.Recovered())
	}
	crashed, _ := s2.Episode(ctx, id+1)
	if !reflect.DeepEqual(crashed.Operators, []string{"b,1", "a"}) || crashed.Outcome != Crashed {
		t.Fatalf("crashed episode operators %q outcome %s; want [b,1 a], crashed", crashed.Operators, crashed.Outcome)
	}
	tests := []struct {
		name string
		f    Filter
		want int
	}{
		{"operator with a comma", Filter{Operator: "Smith, J."}, 1},
		{"part of it", Filter{Operator: "Smith"}, 0},
		{"policy with a comma", Filter{PolicyVersion: "v2,rc1"}, 1},
		{"part of the policy", Filter{PolicyVersion: "v2"}, 0},
		{"recovered operator", Filter{Operator: "b,1"}, 1},
		{"part of a recovered operator", Filter{Operator: "b"}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s2.ListEpisodes(ctx, tc.f)
			if err != nil || len(got) != tc.want {
				t.Fatalf("got %d episodes, %v; want %d", len(got), err, tc.want)
			}
		})
	}
	st, _ := s2.Summary(ctx, Filter{})
	var names []string
	for _, g := range st.ByOperator {
		names = append(names, g.Name)
	}
	if !reflect.DeepEqual(names, []string{"Smith, J.", "a", "b,1"}) {
		t.Fatalf("operators in stats %q; want [Smith, J. a b,1]", names)
	}
}

// TestStoreMigrationFromSchema1 opens a version-1 file (comma-separated
// operators and policy versions, no uid) and checks what migration 2 made
// of it.
func TestStoreMigrationFromSchema1(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	os.MkdirAll(dir, 0o755)
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, DBName))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		migrations[0],
		"PRAGMA user_version = 1",
		`INSERT INTO sessions (name, task, started_at) VALUES ('old', 'dot', 0)`,
		`INSERT INTO episodes (session_id, task, task_version, seed, mode, operators, policy_version, control_hz, spec, started_at, outcome)
		 VALUES (1, 'dot', 3, 1, 'shared', 'bob,alice', 'v1', 10, '{}', 0, 'success'),
		        (1, 'dot', 3, 2, 'teleop', '', '', 10, '{}', 0, 'success')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()
	if _, err := Open(ctx, dir, Options{ReadOnly: true}); err == nil || !strings.Contains(err.Error(), "open it once for writing") {
		t.Fatalf("read-only open of schema 1: %v; want a request to migrate", err)
	}
	s, err := Open(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	eps, err := s.ListEpisodes(ctx, Filter{})
	if err != nil || len(eps) != 2 {
		t.Fatalf("%d episodes, %v; want 2", len(eps), err)
	}
	if !reflect.DeepEqual(eps[0].Operators, []string{"bob", "alice"}) || !reflect.DeepEqual(eps[0].PolicyVersion, []string{"v1"}) ||
		len(eps[1].Operators) != 0 || len(eps[1].PolicyVersion) != 0 {
		t.Fatalf("operators %q %q, versions %q %q; want [bob alice] [] and [v1] []", eps[0].Operators, eps[1].Operators, eps[0].PolicyVersion, eps[1].PolicyVersion)
	}
	if len(eps[0].UID) != 32 || eps[0].UID == eps[1].UID {
		t.Fatalf("uids %q %q; want two distinct 32-digit ids", eps[0].UID, eps[1].UID)
	}
	if got, _ := s.ListEpisodes(ctx, Filter{Operator: "alice"}); len(got) != 1 {
		t.Fatalf("operator filter after migration: %d episodes; want 1", len(got))
	}
}

// TestStoreRefusesUnknownModes: a mode outside sim.Modes never reaches the
// store, from a rollout or a live session.
func TestStoreRefusesUnknownModes(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	eps := rollout(t, 6, []uint64{1}, expertCtl)
	if _, err := s.AddEpisode(ctx, Info{Spec: newDot(6, 10).Spec(), Seed: 1, Mode: "bogus"}, eps[0].Steps); err == nil ||
		!strings.Contains(err.Error(), "valid: shared, teleop, auto") {
		t.Fatalf("AddEpisode with mode bogus: %v; want an error naming the modes", err)
	}
	if _, err := s.AddEpisode(ctx, Info{Spec: newDot(6, 10).Spec(), Seed: 1, Tags: []string{"a,b"}}, eps[0].Steps); err == nil {
		t.Fatal("AddEpisode with a tag containing a comma succeeded")
	}
	rec := NewRecorder(s, RecorderConfig{Logger: quiet})
	defer rec.Close()
	sess, _ := liveSession(t, sim.Demonstrate(newDot(6, 10).Expert(1, 0), "bob"))
	if _, err := rec.Attach(ctx, sess, SessionInfo{Mode: "bogus"}); err == nil {
		t.Fatal("Attach with mode bogus succeeded")
	}
	if got, _ := s.ListEpisodes(ctx, Filter{}); len(got) != 0 {
		t.Fatalf("%d episodes stored; want none", len(got))
	}
}

// manyIDs returns n ids no test store holds.
func manyIDs(n int) []int64 {
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = int64(1_000_000 + i)
	}
	return ids
}
