package web

import (
	"encoding/json"
	"net/http"
	"strings"
	"tandem/sim"
	"testing"

	"github.com/gorilla/websocket"
)

func TestProtocolRoundTrip(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.tick("s1", 2)
	op := ts.mustDial("s1", testToken, "alice")

	hello := op.read()
	if hello.Type != "hello" {
		t.Fatalf("first message type %q; want hello", hello.Type)
	}
	if hello.Role != RoleOperator {
		t.Errorf("role %q; want operator", hello.Role)
	}
	if hello.Spec.Name != "dot" || hello.Scene == nil || len(hello.Scene.Bodies) != 2 {
		t.Errorf("hello spec %q scene %+v; want dot with 2 bodies", hello.Spec.Name, hello.Scene)
	}
	if hello.Session.ID != "s1" || hello.Session.Mode != string(sim.ModeShared) || hello.Session.Authority.Holder != "robot" {
		t.Errorf("hello session %+v; want s1 shared held by robot", hello.Session)
	}
	var hf anyMsg
	if err := json.Unmarshal(hello.Frame, &hf); err != nil || hf.Type != "frame" || len(hf.Poses) != 2 {
		t.Errorf("hello frame %s (err %v); want a frame with 2 poses", hello.Frame, err)
	}

	// A robot frame first.
	ts.tick("s1", 1)
	f := op.until("frame", isType("frame"))
	if f.HUD["source"] != "robot" || f.Ack != 0 {
		t.Errorf("frame source %v ack %d; want robot, 0", f.HUD["source"], f.Ack)
	}

	// An engaged command takes over; the first frame that reflects it acks it.
	op.send(map[string]any{"type": "command", "seq": 7, "action": []float64{1, 0}, "engaged": true})
	eventually(t, "command latched", func() bool {
		return ts.latched("s1") == 7
	})
	ts.tick("s1", 1)
	f = op.until("acked frame", func(m anyMsg) bool { return m.Type == "frame" && m.Ack == 7 })
	if f.HUD["source"] != "human" || f.HUD["operator"] != "browser:alice" {
		t.Errorf("acked frame hud %v; want source human by browser:alice", f.HUD)
	}
	if !strings.Contains(strings.Join(f.Events, ","), "intervention_start") {
		t.Errorf("events %v; want intervention_start", f.Events)
	}
	if len(f.Action) != 2 || f.Action[0] != 1 || f.Action[1] != 0 {
		t.Errorf("executed action %v; want [1 0]", f.Action)
	}
	st := op.find("state", func(m anyMsg) bool { return m.Type == "state" && m.Session.Authority.Holder != "robot" })
	if st.Session.Authority.Holder != "browser:alice" {
		t.Errorf("state holder %q; want browser:alice", st.Session.Authority.Holder)
	}

	// Ping/pong.
	op.send(`{"type":"ping","id":42,"sent":1234}`)
	p := op.until("pong", isType("pong"))
	if p.ID != 42 || p.Sent != 1234 {
		t.Errorf("pong id %d sent %d; want 42, 1234", p.ID, p.Sent)
	}

	// Control: mode change and handback arrive as state.
	op.send(`{"type":"control","op":"mode","mode":"teleop"}`)
	st = ts.tickFind("s1", op, "teleop state", func(m anyMsg) bool { return m.Type == "state" && m.Session.Mode == string(sim.ModeTeleop) })
	if st.Session.Mode != string(sim.ModeTeleop) {
		t.Errorf("mode %q; want teleop", st.Session.Mode)
	}
}

func TestReconnectGetsFreshHello(t *testing.T) {
	ts := newTestServer(t, nil)
	c1 := ts.mustDial("s1", "", "")
	if m := c1.read(); m.Type != "hello" || m.Role != RoleViewer {
		t.Fatalf("first message %q role %q; want hello viewer", m.Type, m.Role)
	}
	ts.tick("s1", 3)
	last := c1.until("frame", isType("frame"))
	c1.c.Close()
	ts.tick("s1", 2)
	c2 := ts.mustDial("s1", "", "")
	h := c2.read()
	if h.Type != "hello" {
		t.Fatalf("first message after reconnect %q; want hello", h.Type)
	}
	var hf anyMsg
	if err := json.Unmarshal(h.Frame, &hf); err != nil {
		t.Fatal(err)
	}
	if hf.Seq <= last.Seq {
		t.Errorf("hello frame seq %d; want newer than %d seen before reconnecting", hf.Seq, last.Seq)
	}
	ts.tick("s1", 1)
	if f := c2.until("frame", isType("frame")); f.Seq != hf.Seq+1 {
		t.Errorf("first frame after hello seq %d; want %d", f.Seq, hf.Seq+1)
	}
}

func TestAuthAndRoles(t *testing.T) {
	ts := newTestServer(t, nil)
	// A viewer cannot command.
	v := ts.mustDial("s1", "", "")
	v.read()
	before := ts.rejected(codeForbidden)
	v.send(`{"type":"command","seq":3,"action":[1,1],"engaged":true}`)
	e := v.until("error", isType("error"))
	if e.Code != codeForbidden || e.Ref != 3 {
		t.Errorf("viewer command error code %q ref %d; want forbidden, 3", e.Code, e.Ref)
	}
	v.send(`{"type":"control","op":"pause"}`)
	if e := v.until("error", isType("error")); e.Code != codeForbidden {
		t.Errorf("viewer control error %q; want forbidden", e.Code)
	}
	if got := ts.rejected(codeForbidden) - before; got != 2 {
		t.Errorf("forbidden rejections %v; want 2", got)
	}
	ts.tick("s1", 1)
	sess, _ := ts.session("s1")
	if sess.sess.Info().Paused {
		t.Error("a viewer paused the session")
	}

	rows := []struct {
		name   string
		token  string
		origin string
		status int
	}{
		{"bad token", "wrong-token", "", http.StatusUnauthorized},
		{"foreign origin", testToken, "http://evil.example", http.StatusForbidden},
		{"loopback origin", testToken, "http://localhost:5173", http.StatusSwitchingProtocols},
		{"unknown session", testToken, "", http.StatusNotFound},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			h := http.Header{}
			if row.origin != "" {
				h.Set("Origin", row.origin)
			}
			id := "s1"
			if row.name == "unknown session" {
				id = "nope"
			}
			c, resp, err := websocket.DefaultDialer.Dial(ts.wsURL("/api/sessions/"+id+"/ws", map[string][]string{"token": {row.token}}), h)
			if c != nil {
				c.Close()
			}
			if resp == nil {
				t.Fatalf("no response: %v", err)
			}
			if resp.StatusCode != row.status {
				t.Errorf("status %d; want %d", resp.StatusCode, row.status)
			}
		})
	}

	// REST: mutations need the token.
	var errBody map[string]string
	if got := ts.doREST("POST", "/api/sessions/s1/pause", "", "", &errBody); got != http.StatusUnauthorized || errBody["error"] == "" {
		t.Errorf("pause without token: status %d body %v; want 401 with an error", got, errBody)
	}
	if got := ts.doREST("POST", "/api/sessions/s1/pause", "nope-nope", "", nil); got != http.StatusUnauthorized {
		t.Errorf("pause with a bad token: status %d; want 401", got)
	}
	if got := ts.doREST("POST", "/api/sessions/s1/pause", testToken, "", nil); got != http.StatusAccepted {
		t.Errorf("pause with the token: status %d; want 202", got)
	}
	if got := ts.doREST("GET", "/api/sessions", "", "", nil); got != http.StatusOK {
		t.Errorf("list sessions as a loopback viewer: status %d; want 200", got)
	}
}

func TestNonLoopbackNeedsToken(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.Addr = "0.0.0.0:0" })
	_, port, _ := strings.Cut(ts.Addr(), "]:")
	if port == "" {
		_, port, _ = strings.Cut(ts.Addr(), ":")
	}
	url := "http://127.0.0.1:" + port + "/api/sessions"
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("viewer without token on a non-loopback bind: status %d; want 401", resp.StatusCode)
	}
}

func TestBadMessagesAreRejectedAndSessionKeepsTicking(t *testing.T) {
	ts := newTestServer(t, nil)
	op := ts.mustDial("s1", testToken, "")
	op.read()
	rows := []struct {
		name string
		msg  string
		code string
	}{
		{"invalid JSON", `{"type":"command",`, codeBadJSON},
		{"not an object", `[1,2]`, codeBadType},
		{"no type", `{"seq":1}`, codeBadType},
		{"wrong field type", `{"type":"command","seq":"x","action":[0,0]}`, codeBadType},
		{"action of strings", `{"type":"command","seq":1,"action":["a","b"]}`, codeBadType},
		{"NaN", `{"type":"command","seq":2,"action":["NaN",0]}`, codeBadValue},
		{"Infinity", `{"type":"command","seq":3,"action":[0,"-Infinity"]}`, codeBadValue},
		{"overflow", `{"type":"command","seq":4,"action":[1e999,0]}`, codeBadValue},
		{"wrong length", `{"type":"command","seq":5,"action":[0]}`, codeBadValue},
		{"unknown button", `{"type":"command","seq":6,"action":[0,0],"buttons":["jump"]}`, codeBadValue},
		{"unknown type", `{"type":"dance"}`, codeBadType},
		{"unknown op", `{"type":"control","op":"explode"}`, codeBadValue},
		{"unknown mode", `{"type":"control","op":"mode","mode":"turbo"}`, codeBadValue},
		{"oversize", `{"type":"ping","pad":"` + strings.Repeat("x", 20000) + `"}`, codeTooLarge},
	}
	sess, _ := ts.session("s1")
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			before := ts.rejected(row.code)
			ticks := sess.sess.Info().Ticks
			op.send(row.msg)
			e := op.until("error", isType("error"))
			if e.Code != row.code || e.Error == "" {
				t.Errorf("error code %q (%q); want %q", e.Code, e.Error, row.code)
			}
			if got := ts.rejected(row.code) - before; got != 1 {
				t.Errorf("rejections counted %v; want 1", got)
			}
			ts.tick("s1", 1)
			if got := sess.sess.Info().Ticks; got <= ticks {
				t.Errorf("ticks %d after a bad message; want more than %d", got, ticks)
			}
			f := op.until("frame", isType("frame"))
			if f.HUD["source"] != "robot" {
				t.Errorf("frame source %v after a bad message; want robot (nothing applied)", f.HUD["source"])
			}
		})
	}
	// The connection still works.
	op.send(`{"type":"ping","id":9}`)
	if p := op.until("pong", isType("pong")); p.ID != 9 {
		t.Errorf("pong id %d; want 9", p.ID)
	}
}

func TestSlowClientLosesFramesAndIsDisconnected(t *testing.T) {
	ts := newTestServer(t, func(c *Config) {
		c.SendQueue = 4
		c.SlowAfter = dotPeriod * 10
		c.SocketBuffer = 4096
	})
	d := websocket.Dialer{ReadBufferSize: 1024, NetDialContext: smallReadBufferDial}
	c, _, err := d.Dial(ts.wsURL("/api/sessions/s1/ws", nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	slow := &wsClient{t: t, c: c}
	sess, _ := ts.session("s1")
	slow.read() // hello
	// Phase 1: stop reading until frames are dropped, then catch up: the
	// frames read show the loss (a gap and the dropped counter).
	for i := 0; testutilCounterVec(ts.metrics.dropped, "s1") == 0; i++ {
		if i > 5000 {
			t.Fatal("no frame was ever dropped")
		}
		ts.tick("s1", 1)
	}
	ts.tick("s1", 2)
	latest := sess.last.Load().seq
	var last, dropped uint64
	gaps := false
	slow.until("latest frame", func(m anyMsg) bool {
		if m.Type != "frame" {
			return false
		}
		if last != 0 && m.Seq != last+1 {
			gaps = true
		}
		last, dropped = m.Seq, m.Dropped
		return m.Seq == latest
	})
	if dropped == 0 || !gaps {
		t.Errorf("dropped counter %d, gaps %v; want lost frames seen and counted", dropped, gaps)
	}
	if testutilCounter(ts.metrics.slowKicks) != 0 {
		t.Fatal("client kicked while it caught up")
	}
	// Phase 2: stop reading for good; the server disconnects the client.
	for i := 0; testutilCounter(ts.metrics.slowKicks) == 0; i++ {
		if i > 5000 {
			t.Fatal("slow client never disconnected")
		}
		ts.tick("s1", 1)
	}
	code, reason := drainUntilClose(slow)
	if code != closeSlow || !strings.Contains(reason, "too slow") {
		t.Errorf("close %d %q; want %d with a too-slow reason", code, reason, closeSlow)
	}
	// The session is unaffected.
	ticks := sess.sess.Info().Ticks
	ts.tick("s1", 1)
	if sess.sess.Info().Ticks <= ticks {
		t.Error("session stopped ticking after a slow client")
	}
}

// drainUntilClose reads until the connection fails and returns the close
// code and reason (0 if it was not a close frame).
func drainUntilClose(w *wsClient) (int, string) {
	for {
		if _, err := w.tryRead(); err != nil {
			return closeCode(err)
		}
	}
}
