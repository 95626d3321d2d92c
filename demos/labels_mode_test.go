package demos

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"tandem/sim"
)

func TestParseFilter(t *testing.T) {
	local := func(s string) time.Time {
		v, _ := time.ParseInLocation("2006-01-02T15:04:05", s, time.Local)
		return v
	}
	yes := true
	tests := []struct {
		name string
		q    map[string][]string
		want Filter
		err  string
	}{
		{"empty", nil, Filter{}, ""},
		{"strings", map[string][]string{"task": {"reach"}, "operator": {"browser:a"}, "policy_version": {"expert"}},
			Filter{Task: "reach", Operator: "browser:a", PolicyVersion: "expert"}, ""},
		{"mode", map[string][]string{"mode": {"shared"}}, Filter{Mode: sim.ModeShared}, ""},
		{"bad mode", map[string][]string{"mode": {"replay"}}, Filter{}, `filter mode "replay": want shared, teleop or auto`},
		{"rfc3339", map[string][]string{"since": {"2026-01-01T00:00:00Z"}}, Filter{Since: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}, ""},
		{"local day", map[string][]string{"until": {"2026-01-02"}}, Filter{Until: local("2026-01-02T00:00:00")}, ""},
		{"unix seconds", map[string][]string{"since": {"1767225600"}}, Filter{Since: time.Unix(1767225600, 0).UTC()}, ""},
		{"bad time", map[string][]string{"since": {"yesterday"}}, Filter{}, `filter since "yesterday": want RFC 3339`},
		{"empty range", map[string][]string{"since": {"2026-01-02"}, "until": {"2026-01-01"}}, Filter{}, "range selects nothing"},
		{"bools", map[string][]string{"success": {"true"}, "complete": {"false"}}, Filter{Success: &yes, Complete: new(bool)}, ""},
		{"bad bool", map[string][]string{"complete": {"yes"}}, Filter{}, `filter complete "yes": want true or false`},
		{"ints", map[string][]string{"min_interventions": {"2"}, "limit": {"10"}, "offset": {"5"}}, Filter{MinInterventions: 2, Limit: 10, Offset: 5}, ""},
		{"negative", map[string][]string{"limit": {"-1"}}, Filter{}, `filter limit "-1": want a non-negative integer`},
		{"rate", map[string][]string{"control_hz": {"20"}}, Filter{ControlHz: 20}, ""},
		{"bad rate", map[string][]string{"control_hz": {"0"}}, Filter{}, "want a positive number of Hz"},
		{"ids", map[string][]string{"ids": {"3, 5,7"}}, Filter{IDs: []int64{3, 5, 7}}, ""},
		{"bad ids", map[string][]string{"ids": {"3,x"}}, Filter{}, "want comma-separated positive integers"},
		{"repeated ids", map[string][]string{"ids": {"3", "5,7"}}, Filter{IDs: []int64{3, 5, 7}}, ""},
		{"repeated task", map[string][]string{"task": {"reach", "push-t"}}, Filter{}, `filter task "reach,push-t": given 2 times; give it once`},
		{"unknown", map[string][]string{"colour": {"red"}}, Filter{}, `filter colour "": unknown filter (valid: task, operator`},
		{"ignored", map[string][]string{"format": {"mcap"}}, Filter{}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseFilter(tc.q, "format")
			if tc.err != "" {
				var fe *FilterError
				if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.As(err, &fe) {
					t.Fatalf("got %v; want a *FilterError containing %q", err, tc.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

// TestRolloutRecordingStoresWholeEpisodesInOrder: Add queues each episode
// as one block; the ids come back in the order the episodes were added,
// every step is stored with its recorded wall time, and the rollout is one
// session row.
func TestRolloutRecordingStoresWholeEpisodesInOrder(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	var commits atomic.Int64
	rec := NewRecorder(s, RecorderConfig{Logger: quiet, OnCommit: func(CommitInfo) { commits.Add(1) }})
	spec := newDot(6, 10).Spec()
	w, err := rec.Rollout(ctx, RolloutInfo{Spec: spec, Mode: sim.ModeAuto, Details: map[string]any{"policy": "expert"}})
	if err != nil {
		t.Fatal(err)
	}
	clock := sim.NewManualClock(testStart)
	cfg := sim.RolloutConfig{
		NewTask: func() sim.Task { return newDot(6, 10) },
		Controller: func(task sim.Task, _ int, seed uint64) (sim.Controller, error) {
			clock.Advance(time.Second)
			return sim.Auto(task.Expert(1, seed), "expert"), nil
		},
		Episodes: 30, FirstSeed: 40, Workers: 3, KeepSteps: true, Clock: clock,
	}
	var lengths []int
	if err := sim.Stream(ctx, cfg, func(ep *sim.Episode) error {
		lengths = append(lengths, ep.Length)
		return w.Add(ctx, ep)
	}); err != nil {
		t.Fatal(err)
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	ids := w.IDs()
	if len(ids) != 30 {
		t.Fatalf("%d ids; want 30", len(ids))
	}
	for i, id := range ids {
		ep, err := s.Episode(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if ep.Seed != uint64(40+i) || ep.Length != lengths[i] || ep.Mode != sim.ModeAuto || !ep.Complete ||
			ep.SessionID != w.SessionID() || !reflect.DeepEqual(ep.PolicyVersion, []string{"expert"}) || len(ep.Operators) != 0 {
			t.Fatalf("id %d (episode %d): %+v", id, i, ep)
		}
		if ep.Start.After(ep.End) || ep.End.After(clock.Now()) {
			t.Errorf("episode %d: start %v end %v; want within the run, never after %v", i, ep.Start, ep.End, clock.Now())
		}
		steps, _ := s.Steps(ctx, id)
		for _, st := range steps {
			if st.Source != sim.Robot || st.PolicyVersion != "expert" || st.Operator != "" || st.PolicyAction == nil {
				t.Fatalf("episode %d step %d: %+v", i, st.T, st)
			}
		}
	}
	var sessions int
	s.DB().QueryRow("SELECT count(*) FROM sessions WHERE name = 'rollout'").Scan(&sessions)
	if sessions != 1 {
		t.Errorf("%d rollout session rows; want 1", sessions)
	}
	if n, _ := Verify(ctx, s, ids[7], dotLookup(6, 10)); n != lengths[7] {
		t.Errorf("verify: %d steps; want %d", n, lengths[7])
	}
}

// TestRolloutRecordingWaitsForRoom: a headless producer is slowed down to
// the disk, never dropped.
func TestRolloutRecordingWaitsForRoom(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	rec := NewRecorder(s, RecorderConfig{Logger: quiet, MaxPending: 60, CommitInterval: 5 * time.Millisecond})
	w, err := rec.Rollout(ctx, RolloutInfo{Spec: newDot(6, 10).Spec(), Mode: sim.ModeTeleop})
	if err != nil {
		t.Fatal(err)
	}
	eps := rollout(t, 6, []uint64{1, 2, 3, 4, 5, 6}, expertCtl)
	steps := 0
	for i := range eps {
		if err := w.Add(ctx, &eps[i]); err != nil {
			t.Fatal(err)
		}
		steps += eps[i].Length
	}
	if err := rec.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if st := rec.Stats(); st.DroppedSteps != 0 || st.CommittedSteps != uint64(steps) || len(w.IDs()) != 6 {
		t.Fatalf("stats %+v, %d ids; want %d steps committed, none dropped, 6 ids", st, len(w.IDs()), steps)
	}
	rec.Close()
}

// sharedNoHuman is a shared-mode controller in which the policy always
// acts: its records say shared although no human ever intervenes.
type sharedNoHuman struct{ sim.Controller }

func (c sharedNoHuman) Decide(obs, dst []float64) sim.Decision {
	d := c.Controller.Decide(obs, dst)
	d.Mode = sim.ModeShared
	return d
}

func (sharedNoHuman) CurrentMode() sim.Mode { return sim.ModeShared }

// TestRecorderKeepsSharedWithoutInterventions: a shared session's episode
// in which nobody intervened is stored as shared (the mode its records
// carry), not derived from its sources.
func TestRecorderKeepsSharedWithoutInterventions(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	rec := NewRecorder(s, RecorderConfig{Logger: quiet})
	sess, tick := liveSession(t, sharedNoHuman{sim.Auto(newDot(6, 10).Expert(1, 0), "expert")})
	if _, err := rec.Attach(ctx, sess, SessionInfo{}); err != nil {
		t.Fatal(err)
	}
	tick(55)
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	eps, _ := s.ListEpisodes(ctx, Filter{})
	if len(eps) != 2 || eps[0].Mode != sim.ModeShared || eps[1].Mode != sim.ModeShared || eps[0].Interventions != 0 {
		t.Fatalf("episodes %+v; want two shared ones without interventions", eps)
	}
	if got, _ := s.ListEpisodes(ctx, Filter{Mode: sim.ModeShared}); len(got) != 2 {
		t.Fatalf("--mode shared finds %d; want 2", len(got))
	}
}

// TestExportIsOneSnapshot: steps committed while an export reads do not
// reach it, and Ended leaves the running episode out, so the file imports.
func TestExportIsOneSnapshot(t *testing.T) {
	ctx := context.Background()
	s, dir := openTest(t)
	addRollouts(t, s, 6, []uint64{1, 2}, "", sharedCtl)
	rec := NewRecorder(s, RecorderConfig{Logger: quiet, CommitInterval: time.Millisecond})
	sess, tick := liveSession(t, sim.Auto(newDot(6, 10).Expert(1, 0), "expert"))
	r, err := rec.Attach(ctx, sess, SessionInfo{Mode: sim.ModeAuto})
	if err != nil {
		t.Fatal(err)
	}
	queued := func(n int) { // wait until the reader queued n steps, then commit them
		for r.Status().Steps < n {
			time.Sleep(time.Millisecond)
		}
		rec.Flush(ctx)
	}
	tick(20) // a running episode
	queued(20)
	tx, err := s.snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := listEpisodes(ctx, tx, Filter{})
	tick(20)
	queued(40)
	after, _ := listEpisodes(ctx, tx, Filter{})
	if len(before) != 3 || !reflect.DeepEqual(before, after) {
		t.Fatalf("snapshot changed: %d episodes then %d", len(before), len(after))
	}
	st, _ := stepsOf(ctx, tx, &before[2])
	if len(st) != before[2].Length {
		t.Fatalf("snapshot: %d steps; summary says %d", len(st), before[2].Length)
	}
	tx.Rollback()
	ro, err := Open(ctx, dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	path := filepath.Join(t.TempDir(), "x.mcap")
	f, _ := os.Create(path)
	res, err := ExportMCAP(ctx, ro, Filter{Ended: true}, f, ExportOptions{Lookup: dotLookup(6, 10)})
	f.Close()
	if err != nil || res.Episodes != 2 {
		t.Fatalf("export: %+v, %v; want the 2 ended episodes", res, err)
	}
	rec.Close()
	dst, _ := openTest(t)
	imp, err := ImportMCAP(ctx, dst, path, nil)
	if err != nil || len(imp.IDs) != 2 {
		t.Fatalf("import: %+v, %v", imp, err)
	}
	if _, err := ExportMCAP(ctx, ro, Filter{Task: "none"}, f, ExportOptions{}); !errors.Is(err, ErrNoEpisodes) {
		t.Errorf("empty selection: %v; want ErrNoEpisodes", err)
	}
}

// TestStoreMigration5 opens a version-2 file with the old labels and checks
// what migration 5 made of them.
func TestStoreMigration5(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	os.MkdirAll(dir, 0o755)
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, DBName))
	if err != nil {
		t.Fatal(err)
	}
	act := "x'000000000000F03F'" // [1.0]
	for _, q := range []string{
		migrations[0], migrations[1],
		"PRAGMA user_version = 2",
		`INSERT INTO sessions (name, task, started_at, info) VALUES
			('rollout', 'dot', 0, '{"mode":"teleop"}'),
			('s1', 'dot', 0, '{"mode":"shared","operator":"","control_hz":10}'),
			('s2', 'dot', 0, '{"mode":"","operator":""}'),
			('import', 'dot', 0, '{"mode":"import"}'),
			('rollout', 'dot', 0, '{"mode":"teleop"}')`,
		`INSERT INTO episodes (uid, session_id, task, task_version, seed, mode, control_hz, spec, started_at, outcome) VALUES
			('a', 1, 'dot', 3, 1, 'teleop', 10, '{}', 0, 'success'),
			('b', 2, 'dot', 3, 2, 'auto', 10, '{}', 0, 'timeout'),
			('c', 3, 'dot', 3, 3, 'auto', 10, '{}', 0, 'timeout'),
			('d', 4, 'dot', 3, 4, 'import', 10, '{}', 0, 'timeout'),
			('e', 5, 'dot', 3, 5, 'teleop', 10, '{}', 0, 'success')`,
		`INSERT INTO steps (episode_id, t, obs, action, source, reward, terminal, truncated, success, wall, operator, policy_version) VALUES
			(1, 0, ` + act + `, ` + act + `, 'demo', 0, 0, 0, 0, 0, 'expert', ''),
			(1, 1, ` + act + `, ` + act + `, 'demo', 0, 1, 0, 1, 0, 'expert', ''),
			(2, 0, ` + act + `, ` + act + `, 'robot', 0, 0, 1, 0, 0, '', 'v1'),
			(3, 0, ` + act + `, ` + act + `, 'robot', 0, 0, 1, 0, 0, '', 'v1'),
			(4, 0, ` + act + `, ` + act + `, 'robot', 0, 0, 0, 0, 0, '', 'v1'),
			(4, 1, ` + act + `, ` + act + `, 'human', 0, 0, 1, 0, 0, 'bob', 'v1'),
			(5, 0, ` + act + `, ` + act + `, 'demo', 0, 1, 0, 1, 0, 'sim', '')`,
		`INSERT INTO episode_names (episode_id, kind, ord, name) VALUES
			(1, 'operator', 0, 'expert'), (2, 'policy_version', 0, 'v1'), (3, 'policy_version', 0, 'v1'),
			(4, 'policy_version', 0, 'v1'), (4, 'operator', 1, 'bob'), (5, 'operator', 0, 'sim')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()
	s, err := Open(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	eps, err := s.ListEpisodes(ctx, Filter{})
	if err != nil || len(eps) != 5 {
		t.Fatalf("%d episodes, %v", len(eps), err)
	}
	type got struct {
		mode      sim.Mode
		operators []string
		versions  []string
	}
	want := []got{
		{sim.ModeAuto, []string{}, []string{"expert"}},    // the rollout expert is a policy
		{sim.ModeShared, []string{}, []string{"v1"}},      // its session ran shared
		{sim.ModeAuto, []string{}, []string{"v1"}},        // unknown session mode: unrecoverable
		{sim.ModeShared, []string{"bob"}, []string{"v1"}}, // "import" is not a mode
		{sim.ModeTeleop, []string{"sim"}, []string{}},     // a real demonstration stays one
	}
	for i, e := range eps {
		g := got{e.Mode, e.Operators, e.PolicyVersion}
		if !reflect.DeepEqual(g, want[i]) {
			t.Errorf("episode %d: %+v; want %+v", e.ID, g, want[i])
		}
	}
	steps, _ := s.Steps(ctx, eps[0].ID)
	for _, st := range steps {
		if st.Source != sim.Robot || st.Operator != "" || st.PolicyVersion != "expert" || !reflect.DeepEqual(st.PolicyAction, st.Action) {
			t.Errorf("migrated expert step %+v; want robot, policy expert, no operator, proposal = action", st)
		}
	}
	var info string
	s.DB().QueryRow("SELECT info FROM sessions WHERE id = 1").Scan(&info)
	if !strings.Contains(info, `"mode":"auto"`) {
		t.Errorf("rollout session info %s; want mode auto", info)
	}
}
