package web

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"tandem/demos"
	"tandem/live"
)

// TestLearnStatusAndLearningToggle: a session's learning toggle reaches
// its clients as a state message, also while it is paused, and GET
// /api/learn carries the store's promotion history (promotions and
// rollbacks by anyone, per task).
func TestLearnStatusAndLearningToggle(t *testing.T) {
	dir := t.TempDir()
	ts := newTestServer(t, func(c *Config) {
		c.NoStore, c.DataDir, c.NoDefaultSession = false, dir, true
		c.Learn = &live.OnlineConfig{Algo: "bc", Every: time.Hour} // on, but never trains here
	})
	// The toggle: a paused session's clients hear of it.
	var s SessionInfo
	if code := ts.doREST("POST", "/api/sessions", testToken, `{}`, &s); code != 201 || s.Learning {
		t.Fatalf("create: %d, learning %v", code, s.Learning)
	}
	w := ts.mustDial(s.ID, testToken, "alice")
	w.read()
	if code := ts.doREST("POST", "/api/sessions/"+s.ID+"/pause", testToken, "", nil); code != 202 {
		t.Fatal("pause")
	}
	ts.tickFind(s.ID, w, "paused", func(m anyMsg) bool { return m.Type == "state" && m.Session.Paused })
	for _, on := range []bool{true, false} {
		body := `{"on":false}`
		if on {
			body = `{"on":true}`
		}
		if code := ts.doREST("POST", "/api/sessions/"+s.ID+"/learn", testToken, body, nil); code != 202 {
			t.Fatalf("learn %s: %d", body, code)
		}
		if m := w.until("learning state", func(m anyMsg) bool { return m.Type == "state" && m.Session.Learning == on }); !m.Session.Paused {
			t.Errorf("state after learn %v: %+v; want the paused session's state", on, m.Session)
		}
	}
	// A following session switches versions on its loop; this test's clock
	// stands still, so it goes before the promotions.
	if code := ts.doREST("DELETE", "/api/sessions/"+s.ID, testToken, "", nil); code != 204 {
		t.Fatalf("delete: %d", code)
	}

	// The history of promotions and rollbacks.
	ctx := context.Background()
	for _, v := range []string{"dot-bc-1", "dot-bc-2"} {
		if err := ts.store.AddPolicy(ctx, demos.PolicyVersion{Version: v, Task: "dot", Algo: "bc", Path: "policies/" + v + ".safetensors", Digest: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := ts.store.Promote(ctx, "dot-bc-1", "online: first version"); err != nil {
		t.Fatal(err)
	}
	if code := ts.doREST("POST", "/api/policies/promote", testToken, `{"policy":"dot-bc-2","reason":"better on the bench"}`, nil); code != 200 {
		t.Fatalf("promote: %d", code)
	}
	if code := ts.doREST("POST", "/api/policies/rollback", testToken, `{"task":"dot"}`, nil); code != 200 {
		t.Fatalf("rollback: %d", code)
	}
	var st struct {
		Algo       string            `json:"algo"`
		Events     []json.RawMessage `json:"events"`
		Promotions []demos.Promotion `json:"promotions"`
	}
	if code := ts.doREST("GET", "/api/learn?task=dot", "", "", &st); code != 200 {
		t.Fatalf("GET /api/learn: %d", code)
	}
	var got []string
	for _, p := range st.Promotions {
		got = append(got, p.Version+": "+p.Reason)
	}
	want := []string{"dot-bc-1: online: first version", "dot-bc-2: better on the bench", "dot-bc-1: POST /api/policies/rollback"}
	if st.Algo != "bc" || len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("learn status algo %q promotions %q; want bc and %q", st.Algo, got, want)
	}
	var other struct {
		Promotions []demos.Promotion `json:"promotions"`
	}
	ts.doREST("GET", "/api/learn?task=push-t", "", "", &other)
	if len(other.Promotions) != 0 {
		t.Errorf("another task's history: %+v; want none", other.Promotions)
	}

}
