package web

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"tandem/demos"
)

// TestIdleSessionsPauseAndOperatorsResumeThem runs the idle rule on the
// session clock: a session made through the API pauses after a minute
// with nobody connected; the default session does not; a viewer leaves
// it paused and an operator resumes it; idle_pause_s 0 never pauses.
func TestIdleSessionsPauseAndOperatorsResumeThem(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.IdlePause = time.Minute })
	auth := map[string]string{"Authorization": "Bearer " + testToken}
	var s2, s3 SessionInfo
	if code := ts.doREST("POST", "/api/sessions", testToken, `{}`, &s2); code != 201 {
		t.Fatalf("create: %d", code)
	}
	if code := ts.doREST("POST", "/api/sessions", testToken, `{"idle_pause_s":0}`, &s3); code != 201 {
		t.Fatalf("create: %d", code)
	}
	if s2.IdleAfterS != 60 || s3.IdleAfterS != 0 {
		t.Errorf("idle_pause_s %v and %v; want 60 and 0", s2.IdleAfterS, s3.IdleAfterS)
	}
	paused := func(id string) (bool, string) {
		var in SessionInfo
		ts.doREST("GET", "/api/sessions/"+id, "", "", &in)
		return in.Paused, in.PausedReason
	}
	// A watcher keeps it running, whatever the time.
	v := ts.mustDial(s2.ID, "", "")
	v.read()
	ts.clock.Advance(2 * time.Minute)
	ts.sweepIdle()
	if p, _ := paused(s2.ID); p {
		t.Fatal("a watched session was paused")
	}
	v.c.Close()
	sess, _ := ts.session(s2.ID)
	eventually(t, "viewer gone", func() bool { return sess.info().Clients.Viewers == 0 })
	ts.clock.Advance(59 * time.Second)
	ts.sweepIdle()
	if p, _ := paused(s2.ID); p {
		t.Fatal("paused before the minute was up")
	}
	ts.clock.Advance(2 * time.Second)
	ts.sweepIdle()
	ts.tick(s2.ID, 1) // the pause is applied at the next tick
	if p, why := paused(s2.ID); !p || why != pausedIdle {
		t.Fatalf("after a minute alone: paused %v reason %q; want paused, idle", p, why)
	}
	for _, id := range []string{"s1", s3.ID} {
		if p, _ := paused(id); p {
			t.Errorf("session %s paused; want the default session and idle_pause_s 0 left running", id)
		}
	}
	// A viewer does not resume it; an operator does.
	w := ts.mustDial(s2.ID, "", "")
	if h := w.read(); !h.Session.Paused || h.Session.PausedReason != pausedIdle {
		t.Errorf("viewer hello: paused %v reason %q; want paused by the idle rule", h.Session.Paused, h.Session.PausedReason)
	}
	ts.sweepIdle()
	if p, _ := paused(s2.ID); !p {
		t.Error("a viewer resumed the idle session")
	}
	op := ts.mustDial(s2.ID, testToken, "alice")
	op.read()
	ts.tickFind(s2.ID, op, "resumed state", func(m anyMsg) bool { return m.Type == "state" && !m.Session.Paused })
	if p, why := paused(s2.ID); p || why != "" {
		t.Errorf("after an operator connected: paused %v reason %q; want running", p, why)
	}
	// A pause by hand is not the idle rule's: an operator arriving leaves it.
	if code, _ := ts.restWith("POST", "/api/sessions/"+s2.ID+"/pause", "", auth); code != 202 {
		t.Fatal("pause")
	}
	ts.tick(s2.ID, 1)
	op2 := ts.mustDial(s2.ID, testToken, "bob")
	if h := op2.read(); !h.Session.Paused || h.Session.PausedReason != "" {
		t.Errorf("paused by hand: hello paused %v reason %q; want paused without a reason", h.Session.Paused, h.Session.PausedReason)
	}
}

// TestReplaysAreLimitedAndReaped: concurrent replays cannot pass the
// session limit (they used to, loading their episode after the check),
// and a replay nobody watches is deleted after ReplayIdle.
func TestReplaysAreLimitedAndReaped(t *testing.T) {
	dir := t.TempDir()
	ts := newTestServer(t, func(c *Config) {
		c.NoStore, c.DataDir = false, dir
		c.MaxSessions = 4
		c.ReplayIdle = 2 * time.Minute
	})
	ts.tick("s1", 45)
	var eps []demos.Episode
	eventually(t, "an episode committed", func() bool {
		eps = nil
		ts.doREST("GET", "/api/episodes?complete=true", "", "", &eps)
		return len(eps) == 1
	})
	body := fmt.Sprintf(`{"episode":%d}`, eps[0].ID)
	for _, b := range []string{`{"episode":1,"speed":1e-300}`, `{"episode":1,"speed":0.01}`, `{"episode":1,"speed":21}`} {
		if code, msg := ts.restWith("POST", "/api/replays", b, map[string]string{"Authorization": "Bearer " + testToken}); code != 400 || msg == "" {
			t.Errorf("POST /api/replays %s: status %d %q; want 400 naming speed", b, code, msg)
		}
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[int]int{}
	for range 12 {
		wg.Go(func() {
			code, _ := ts.restWith("POST", "/api/replays", body, map[string]string{"Authorization": "Bearer " + testToken})
			mu.Lock()
			codes[code]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if codes[201] != 3 || codes[429] != 9 {
		t.Errorf("12 concurrent replays with room for 3: statuses %v; want 3 × 201 and 9 × 429", codes)
	}
	if n := ts.hub.Len(); n != 4 {
		t.Errorf("%d sessions; want 4 (the limit)", n)
	}
	// A replay's speed control refuses 1e-300 too.
	list := ts.Sessions()
	rp := list[len(list)-1]
	ctl := ts.mustDial(rp.ID, testToken, "carol")
	ctl.read()
	ctl.send(`{"type":"control","seq":4,"op":"speed","speed":1e-300}`)
	if e := ctl.until("error", isType("error")); e.Code != codeBadValue || e.Ref != 4 {
		t.Errorf("speed 1e-300: %+v; want bad_value for seq 4", e)
	}
	ctl.c.Close()
	sess, _ := ts.session(rp.ID)
	eventually(t, "replay client gone", func() bool { return sess.info().Clients.Operators == 0 })
	ts.clock.Advance(time.Minute)
	ts.sweepIdle()
	if ts.hub.Len() != 4 {
		t.Fatal("a replay was deleted before ReplayIdle")
	}
	ts.clock.Advance(time.Minute + time.Second)
	ts.sweepIdle()
	if n := ts.hub.Len(); n != 1 {
		t.Errorf("%d sessions after the replays were left alone; want the default session only", n)
	}
	if code := ts.doREST("GET", "/api/sessions/"+rp.ID, "", "", nil); code != http.StatusNotFound {
		t.Errorf("reaped replay: status %d; want 404", code)
	}
}
