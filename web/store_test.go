package web

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"tandem/demos"
	"tandem/sim"
)

// TestHumanCommandsRecordedAndFlushedOnShutdown drives a session over the
// WebSocket, shuts the server down, and reads the SQLite file: the steps
// are there, the human ones labelled with the operator.
func TestHumanCommandsRecordedAndFlushedOnShutdown(t *testing.T) {
	dir := t.TempDir()
	ts := newTestServer(t, func(c *Config) { c.NoStore = false; c.DataDir = dir })
	op := ts.mustDial("s1", testToken, "alice")
	op.read()
	ts.tick("s1", 3)
	op.send(`{"type":"command","seq":1,"action":[-1,0.5],"engaged":true}`)
	eventually(t, "command latched", func() bool {
		return ts.latched("s1") == 1
	})
	ts.tick("s1", 4)
	op.until("acked frame", func(m anyMsg) bool { return m.Type == "frame" && m.Ack == 1 })

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := ts.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if code, reason := drainUntilClose(op); code != 1001 {
		t.Errorf("client close %d %q after shutdown; want 1001", code, reason)
	}

	st, err := demos.Open(ctx, dir, demos.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	eps, err := st.ListEpisodes(ctx, demos.Filter{})
	if err != nil || len(eps) != 1 {
		t.Fatalf("episodes %d (err %v); want 1", len(eps), err)
	}
	steps, err := st.Steps(ctx, eps[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	sess := 0
	human := 0
	for _, s := range steps {
		if s.Source == sim.Human {
			human++
			if s.Operator != "browser:alice" {
				t.Errorf("human step operator %q; want browser:alice", s.Operator)
			}
			if s.Action[0] != -1 || s.Action[1] != 0.5 {
				t.Errorf("human step action %v; want [-1 0.5]", s.Action)
			}
		}
		sess++
	}
	if sess < 8 || human < 4 {
		t.Errorf("stored %d steps, %d human; want at least 8 and 4", sess, human)
	}
	if eps[0].Interventions != 1 {
		t.Errorf("episode interventions %d; want 1", eps[0].Interventions)
	}
}

func TestEpisodesExportAndReplayOverREST(t *testing.T) {
	dir := t.TempDir()
	ts := newTestServer(t, func(c *Config) { c.NoStore = false; c.DataDir = dir })
	// Run one whole episode (horizon 40) and a bit of the next.
	ts.tick("s1", 45)
	var eps []demos.Episode
	eventually(t, "first episode committed", func() bool {
		eps = ts.episodes("task=dot&complete=true")
		return len(eps) == 1
	})
	if eps[0].Length != 40 {
		t.Errorf("episode length %d; want 40", eps[0].Length)
	}
	// The default session runs shared: its episode is stored as shared
	// although nobody intervened (the mode it started in, not a guess from
	// the sources).
	if eps[0].Mode != sim.ModeShared || eps[0].Interventions != 0 {
		t.Errorf("episode mode %q with %d interventions; want shared, 0", eps[0].Mode, eps[0].Interventions)
	}
	if same := ts.episodes("mode=shared&control_hz=" + strconv.FormatFloat(eps[0].ControlHz, 'g', -1, 64) + "&ids=" + itoa(eps[0].ID)); len(same) != 1 {
		t.Errorf("mode, control_hz and ids filters: %d episodes; want 1", len(same))
	}
	id := eps[0].ID
	var steps []demos.Step
	if code := ts.doREST("GET", "/api/episodes/"+itoa(id)+"/steps", "", "", &steps); code != 200 || len(steps) != 40 {
		t.Errorf("steps: status %d, %d steps; want 200, 40", code, len(steps))
	}
	rows := []struct {
		name, path string
		status     int
	}{
		{"bad filter", "/api/episodes?success=maybe", 400},
		{"unknown mode", "/api/episodes?mode=dream", 400},
		{"unknown filter", "/api/episodes?colour=red", 400},
		{"bad id", "/api/episodes/abc", 400},
		{"missing episode", "/api/episodes/9999", 404},
		{"bad format", "/api/episodes/export?format=csv", 400},
		{"nothing selected", "/api/episodes/export?format=mcap&task=none", 404},
		{"nothing selected lerobot", "/api/episodes/export?format=lerobot&task=none", 404},
		{"bad ids", "/api/episodes?ids=1,x", 400},
		{"bad rate", "/api/episodes?control_hz=0", 400},
		{"bad include_running", "/api/episodes/export?format=mcap&include_running=maybe", 400},
		{"include_running is the export's", "/api/episodes?include_running=true", 400},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			var e map[string]string
			if got := ts.doREST("GET", row.path, "", "", &e); got != row.status || e["error"] == "" {
				t.Errorf("status %d body %v; want %d with an error", got, e, row.status)
			}
		})
	}

	// MCAP download: a real MCAP file (magic bytes).
	resp, err := http.Get(ts.URL() + "/api/episodes/export?format=mcap&complete=true")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(string(b), "\x89MCAP0\r\n") {
		t.Errorf("mcap export: status %d, %d bytes starting %q; want 200 and the MCAP magic", resp.StatusCode, len(b), b[:min(8, len(b))])
	}
	// LeRobot download: a tar.gz with meta/info.json inside one top directory.
	resp, err = http.Get(ts.URL() + "/api/episodes/export?format=lerobot&complete=true")
	if err != nil {
		t.Fatal(err)
	}
	names := tarNames(t, resp.Body)
	resp.Body.Close()
	found := false
	for _, n := range names {
		found = found || strings.HasSuffix(n, "/meta/info.json")
		if strings.Contains(n, "..") || strings.HasPrefix(n, "/") {
			t.Errorf("archive entry %q escapes the archive", n)
		}
	}
	if !found {
		t.Errorf("lerobot archive entries %v; want meta/info.json", names)
	}
	if left, _ := os.ReadDir(filepath.Join(dir, exportDir)); len(left) != 0 {
		t.Errorf("%d export directories left in the data directory; want 0", len(left))
	}

	// A live replay of the episode.
	var info SessionInfo
	if code := ts.doREST("POST", "/api/replays", "", `{"episode":`+itoa(id)+`}`, nil); code != 401 {
		t.Errorf("replay without token: status %d; want 401", code)
	}
	if code := ts.doREST("POST", "/api/replays", testToken, `{"episode":`+itoa(id)+`}`, &info); code != 201 || info.Replay != id {
		t.Fatalf("replay: status %d info %+v; want 201 replaying %d", code, info, id)
	}
	v := ts.mustDial(info.ID, "", "")
	if h := v.read(); h.Type != "hello" || h.Session.Mode != "replay" {
		t.Errorf("replay hello %q mode %q; want hello, replay", h.Type, h.Session.Mode)
	}
	ts.tick(info.ID, 3)
	f := v.until("frame", func(m anyMsg) bool { return m.Type == "frame" && m.Kind == "step" })
	if len(f.Action) != 2 || f.Action[0] != steps[f.T-1].Action[0] {
		t.Errorf("replayed action %v at t %d; want the recorded %v", f.Action, f.T, steps[f.T-1].Action)
	}

	// Playback controls: speed within [MinSpeed, MaxSpeed] (20 is the top), step;
	// refused on live sessions.
	ctl := ts.mustDial(info.ID, testToken, "carol")
	ctl.read()
	ctl.send(`{"type":"control","seq":7,"op":"speed","speed":99}`)
	if e := ctl.until("speed error", func(m anyMsg) bool { return m.Type == "error" }); e.Ref != 7 {
		t.Errorf("speed 99: %+v; want an error for seq 7", e)
	}
	ctl.send(`{"type":"control","seq":8,"op":"speed","speed":20}`)
	sess, _ := ts.session(info.ID)
	eventually(t, "replay speed 20", func() bool { return sess.sess.Replay().Speed() == 20 })
	ctl.send(`{"type":"control","seq":10,"op":"speed","speed":2}`)
	eventually(t, "replay speed 2", func() bool { return sess.sess.Replay().Speed() == 2 })
	live := ts.mustDial("s1", testToken, "dave")
	live.read()
	live.send(`{"type":"control","seq":9,"op":"step"}`)
	if e := live.until("step error", func(m anyMsg) bool { return m.Type == "error" }); e.Ref != 9 {
		t.Errorf("step on a live session: %+v; want an error for seq 9", e)
	}
}

func tarNames(t *testing.T, r io.Reader) []string {
	t.Helper()
	gz, err := gzip.NewReader(r)
	if err != nil {
		t.Fatalf("not gzip: %v", err)
	}
	tr := tar.NewReader(gz)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return names
		}
		if err != nil {
			t.Fatalf("tar: %v", err)
		}
		names = append(names, h.Name)
	}
}

// GET /api/episodes answers in pages: defaultEpisodePage episodes unless
// limit says otherwise (at most maxEpisodePage), oldest first or newest
// first with order=desc, and a next cursor until the last page.
func TestEpisodesArePaged(t *testing.T) {
	dir := t.TempDir()
	ts := newTestServer(t, func(c *Config) { c.NoStore, c.DataDir, c.NoDefaultSession = false, dir, true })
	ctx := context.Background()
	spec := dotSpec
	spec.Name = "paged"
	var ids []int64
	for i := range defaultEpisodePage + 1 {
		id, err := ts.store.Insert(ctx, "test", demos.Episode{Task: "paged", Mode: sim.ModeAuto, Seed: uint64(i), Spec: spec, ControlHz: 10}, nil)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	pages := func(query string) (got [][]int64) {
		t.Helper()
		cursor := ""
		for range 1000 {
			var p episodePage
			if code := ts.doREST("GET", "/api/episodes?task=paged&"+query+cursor, "", "", &p); code != 200 {
				t.Fatalf("%s%s: status %d", query, cursor, code)
			}
			var page []int64
			for _, e := range p.Episodes {
				page = append(page, e.ID)
			}
			got = append(got, page)
			if p.Next == "" {
				return got
			}
			cursor = "&cursor=" + p.Next
		}
		t.Fatal("no last page")
		return nil
	}
	n := len(ids)
	asc := pages("")
	if len(asc) != 2 || len(asc[0]) != defaultEpisodePage || asc[0][0] != ids[0] || len(asc[1]) != 1 || asc[1][0] != ids[n-1] {
		t.Errorf("default pages: %d pages of %d and %d; want %d then 1, oldest first", len(asc), len(asc[0]), len(asc[len(asc)-1]), defaultEpisodePage)
	}
	desc := pages("order=desc&limit=200")
	if len(desc) != 3 || len(desc[0]) != 200 || desc[0][0] != ids[n-1] || desc[2][len(desc[2])-1] != ids[0] || len(desc[2]) != n-400 {
		t.Errorf("desc pages of 200: %d pages, first starting %d; want 3, newest (%d) first", len(desc), desc[0][0], ids[n-1])
	}
	// A cursor continues the same selection, whatever arrived meanwhile;
	// offset only moves the first page.
	if got := pages("limit=3&offset=2&mode=auto"); got[0][0] != ids[2] || got[1][0] != ids[5] {
		t.Errorf("offset 2, pages of 3: pages start at %d and %d; want %d and %d", got[0][0], got[1][0], ids[2], ids[5])
	}
	for _, q := range []string{"limit=5001", "limit=-1", "order=sideways", "cursor=abc", "cursor=-4", "cursor=0"} {
		var e map[string]string
		if code := ts.doREST("GET", "/api/episodes?"+q, "", "", &e); code != 400 || e["error"] == "" {
			t.Errorf("%s: status %d %v; want 400 naming the parameter", q, code, e)
		}
	}
}
