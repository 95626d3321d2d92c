package web

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// restWith sends a request with extra headers and returns the status and
// the decoded error text (if any).
func (ts *testServer) restWith(method, path, body string, hdr map[string]string) (int, string) {
	ts.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, ts.URL()+path, rd)
	if err != nil {
		ts.t.Fatal(err)
	}
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		ts.t.Fatal(err)
	}
	defer resp.Body.Close()
	var e struct{ Error string }
	b, _ := io.ReadAll(resp.Body)
	json.Unmarshal(b, &e)
	return resp.StatusCode, e.Error
}

// TestRatesOutsideTheirRangeAre400 sends the values of issue 15: a tiny
// positive control_hz overflowed the tick period and wrote 331,523 empty
// episodes in 20 s. Each is refused with 400 naming the field.
func TestRatesOutsideTheirRangeAre400(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.MaxSessions = 3 })
	rows := []struct {
		name, body, field string
	}{
		{"control_hz 1e-300", `{"control_hz":1e-300}`, "control_hz"},
		{"control_hz 1e-6", `{"control_hz":1e-6}`, "control_hz"},
		{"control_hz below 1", `{"control_hz":0.5}`, "control_hz"},
		{"control_hz negative", `{"control_hz":-20}`, "control_hz"},
		{"control_hz above physics", `{"control_hz":40}`, "control_hz"},
		{"control_hz not a divisor", `{"control_hz":7}`, "control_hz"},
		{"control_hz huge", `{"control_hz":1e300}`, "control_hz"},
		{"teleop_hz 1e-300", `{"teleop_hz":1e-300}`, "teleop_hz"},
		{"teleop_hz not a multiple", `{"control_hz":10,"teleop_hz":15}`, "teleop_hz"},
		{"idle_pause_s negative", `{"idle_pause_s":-5}`, "idle_pause_s"},
		{"idle_pause_s tiny", `{"idle_pause_s":1e-300}`, "idle_pause_s"},
		{"skill", `{"skill":1e300}`, "skill"},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			code, msg := ts.restWith("POST", "/api/sessions", row.body, map[string]string{"Authorization": "Bearer " + testToken})
			if code != http.StatusBadRequest || !strings.Contains(msg, row.field) {
				t.Errorf("status %d %q; want 400 naming %s", code, msg, row.field)
			}
		})
	}
	if n := ts.hub.Len(); n != 1 {
		t.Errorf("%d sessions after refused creations; want only the default", n)
	}
	// The session limit is 429, not 400.
	for i, want := range []int{201, 201, 429} {
		code, msg := ts.restWith("POST", "/api/sessions", `{"control_hz":10}`, map[string]string{"Authorization": "Bearer " + testToken})
		if code != want {
			t.Errorf("creation %d: status %d %q; want %d", i+1, code, msg, want)
		}
	}
}

// TestHostHeaderMustNameTheServer is DNS rebinding: a page on
// evil.example resolving to 127.0.0.1 sends Host: evil.example:PORT. It
// is refused on REST, the session WebSocket, Foxglove and the console;
// loopback names and --public-host pass.
func TestHostHeaderMustNameTheServer(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.PublicHosts = []string{"Robot-Lab.example"} })
	_, port, _ := strings.Cut(ts.Addr(), ":")
	evil := "evil.example:" + port
	rows := []struct {
		host string
		want int
	}{
		{evil, 403},
		{"evil.example", 403},
		{"127.0.0.1:" + port, 200},
		{"localhost:" + port, 200},
		{"LOCALHOST.:" + port, 200},
		{"[::1]:" + port, 200},
		{"tandem.localhost:" + port, 200},
		{"robot-lab.example:" + port, 200},
		{"192.0.2.7:" + port, 403}, // an address this server does not listen on
		{"x;script-src *.localhost:" + port, 403},
	}
	for _, row := range rows {
		for _, path := range []string{"/api/health", "/api/sessions", "/", "/metrics"} {
			if code, msg := ts.restWith("GET", path, "", map[string]string{"Host": row.host}); code != row.want {
				t.Errorf("GET %s Host %q: status %d %q; want %d", path, row.host, code, msg, row.want)
			}
		}
	}
	if code, _ := ts.restWith("POST", "/api/sessions/s1/pause", "", map[string]string{"Host": evil, "Authorization": "Bearer " + testToken}); code != 403 {
		t.Errorf("POST with the token and Host %q: status %d; want 403", evil, code)
	}
	dial := func(path string, sub []string, h http.Header) int {
		d := websocket.Dialer{Subprotocols: sub}
		c, resp, err := d.Dial(ts.wsURL(path, url.Values{"token": {testToken}}), h)
		if c != nil {
			c.Close()
		}
		if resp == nil {
			t.Fatalf("dial %s: %v", path, err)
		}
		return resp.StatusCode
	}
	for _, ep := range []struct {
		path string
		sub  []string
	}{{"/api/sessions/s1/ws", nil}, {"/foxglove", []string{foxSubprotocol}}} {
		if got := dial(ep.path, ep.sub, http.Header{"Host": {evil}}); got != 403 {
			t.Errorf("%s with Host %q: status %d; want 403", ep.path, evil, got)
		}
		if got := dial(ep.path, ep.sub, http.Header{"Origin": {"http://" + evil}}); got != 403 {
			t.Errorf("%s with Origin http://%s: status %d; want 403", ep.path, evil, got)
		}
		if got := dial(ep.path, ep.sub, http.Header{"Origin": {"http://robot-lab.example"}, "Host": {"robot-lab.example"}}); got != 101 {
			t.Errorf("%s from the public host: status %d; want 101", ep.path, got)
		}
	}
}

func TestBearerSchemeIsCaseInsensitiveAndHeadersAreSent(t *testing.T) {
	ts := newTestServer(t, nil)
	for _, h := range []string{"Bearer " + testToken, "bearer " + testToken, "BEARER  " + testToken} {
		if code, msg := ts.restWith("POST", "/api/sessions/s1/resume", "", map[string]string{"Authorization": h}); code != 202 {
			t.Errorf("Authorization %q: status %d %q; want 202", h, code, msg)
		}
	}
	for _, h := range []string{"Basic " + testToken, testToken, "Bearer"} {
		if code, _ := ts.restWith("POST", "/api/sessions/s1/resume", "", map[string]string{"Authorization": h}); code != 401 {
			t.Errorf("Authorization %q: status %d; want 401", h, code)
		}
	}
	resp, err := http.Get(ts.URL() + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("console CSP %q; want frame-ancestors 'none' and script-src 'self'", csp)
	}
	if got := resp.Header.Get("X-Frame-Options"); got != "DENY" {
		t.Errorf("X-Frame-Options %q; want DENY", got)
	}
}

// TestViewersCannotLockOperatorsOut is issue 15's: 1,100 viewer
// connections to one session (1,000 are let in, the rest closed with
// 1013), then an operator connects and takes over.
func TestViewersCannotLockOperatorsOut(t *testing.T) {
	viewers, limit := 1100, 1000
	if testing.Short() {
		viewers, limit = 110, 100
	}
	ts := newTestServer(t, func(c *Config) { c.MaxViewers = limit })
	refused := 0
	var conns []*websocket.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := range viewers {
		c, _, err := ts.dial("s1", "", "")
		if err != nil {
			t.Fatalf("viewer %d: %v", i, err)
		}
		conns = append(conns, c)
		// Each viewer gets its hello, or, over the cap, close 1013 (the
		// upgrade itself succeeds), before the next one dials.
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, b, err := c.ReadMessage()
		switch code, _ := closeCode(err); {
		case i < limit && err == nil && strings.Contains(string(b), `"type":"hello"`):
		case i >= limit && code == websocket.CloseTryAgainLater:
			refused++
		default:
			t.Fatalf("viewer %d (cap %d): message %.40q, err %v; want a hello under the cap, close 1013 over it", i, limit, b, err)
		}
	}
	sess, _ := ts.session("s1")
	if info := sess.info(); info.Clients.Viewers != limit || refused != viewers-limit {
		t.Fatalf("%d viewers connected, %d refused; want %d and %d", info.Clients.Viewers, refused, limit, viewers-limit)
	}
	op := ts.mustDial("s1", testToken, "alice")
	if h := op.read(); h.Role != RoleOperator {
		t.Fatalf("operator hello role %q; want operator", h.Role)
	}
	op.send(`{"type":"control","op":"takeover"}`)
	ts.tickFind("s1", op, "alice in control", func(m anyMsg) bool {
		return m.Type == "state" && m.Session.Authority.Holder == "browser:alice"
	})
}

// TestRoleViewerWithTokenTakesAViewerSlot: the console's fleet tiles send
// the token with role=viewer; they watch without an operator slot.
func TestRoleViewerWithTokenTakesAViewerSlot(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.MaxOperators = 1 })
	c, _, err := websocket.DefaultDialer.Dial(ts.wsURL("/api/sessions/s1/ws", url.Values{"token": {testToken}, "role": {"viewer"}}), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	w := &wsClient{t: t, c: c}
	if h := w.read(); h.Role != RoleViewer {
		t.Errorf("role=viewer with the token: hello role %q; want viewer", h.Role)
	}
	op := ts.mustDial("s1", testToken, "bob")
	if h := op.read(); h.Role != RoleOperator {
		t.Errorf("operator after a role=viewer client: role %q; want operator", h.Role)
	}
	// A second operator is over the operator cap (1): closed with 1013.
	c2, _, err := ts.dial("s1", testToken, "carol")
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	c2.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, _, err := c2.ReadMessage(); func() int { c, _ := closeCode(err); return c }() != websocket.CloseTryAgainLater {
		t.Errorf("operator over the cap: %v; want close 1013", err)
	}
	for _, q := range []url.Values{{"role": {"operator"}}, {"role": {"admin"}, "token": {testToken}}} {
		_, resp, _ := websocket.DefaultDialer.Dial(ts.wsURL("/api/sessions/s1/ws", q), nil)
		if resp == nil || resp.StatusCode < 400 {
			t.Errorf("role %v: %v; want refused", q, resp)
		}
	}
}

// TestControlFloodIsRateLimited: a reset flood made 89,701 empty episodes
// in 10 s. Control messages beyond the client's rate are dropped and
// counted, with one error a second.
func TestControlFloodIsRateLimited(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.ControlRate = 10 })
	op := ts.mustDial("s1", testToken, "flood")
	op.read()
	before := ts.rejected(codeRateLimit)
	start := time.Now()
	const n = 300
	for i := range n {
		op.send(fmt.Sprintf(`{"type":"control","seq":%d,"op":"reset"}`, i+1))
	}
	for i := range 50 { // one-shot presses count too
		buttons := `["reset"]`
		if i%2 == 1 {
			buttons = `[]`
		}
		op.send(fmt.Sprintf(`{"type":"command","seq":%d,"action":[0,0],"buttons":%s}`, n+i+1, buttons))
	}
	op.send(`{"type":"ping","id":77}`)
	errs := 0
	op.until("pong", func(m anyMsg) bool {
		if m.Type == "error" && m.Code == codeRateLimit {
			errs++
		}
		return m.Type == "pong" && m.ID == 77
	})
	elapsed := time.Since(start)
	allowed := 20 + int(elapsed.Seconds()*10) + 1 // the burst plus the rate
	limited := int(ts.rejected(codeRateLimit) - before)
	if limited < n+25-allowed {
		t.Errorf("%d of %d control messages and presses rate limited in %v; want at least %d", limited, n+25, elapsed, n+25-allowed)
	}
	if maxErrs := int(elapsed.Seconds()) + 1; errs < 1 || errs > maxErrs {
		t.Errorf("%d rate_limited errors sent in %v; want 1 to %d", errs, elapsed, maxErrs)
	}
	// REST session actions have their own per-session limit.
	codes := map[int]int{}
	for range 60 {
		code, _ := ts.restWith("POST", "/api/sessions/s1/resume", "", map[string]string{"Authorization": "Bearer " + testToken})
		codes[code]++
	}
	if codes[429] == 0 || codes[202] == 0 {
		t.Errorf("60 REST actions at once: statuses %v; want some 202 and some 429", codes)
	}
}

// TestFoxgloveLimits: subscriptions per connection are bounded, and a
// client that answers no ping is dropped (4001).
func TestFoxgloveLimits(t *testing.T) {
	ts := newTestServer(t, func(c *Config) {
		c.MaxFoxSubs = 3
		c.PingInterval = 50 * time.Millisecond
		c.PongWait = 400 * time.Millisecond
	})
	d := websocket.Dialer{Subprotocols: []string{foxSubprotocol}}
	c, _, err := d.Dial(ts.wsURL("/foxglove", nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var subs []map[string]any
	for i := range 5 {
		subs = append(subs, map[string]any{"id": i + 1, "channelId": 1 + i%4})
	}
	if err := c.WriteJSON(map[string]any{"op": "subscribe", "subscriptions": subs}); err != nil {
		t.Fatal(err)
	}
	for {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, b, err := c.ReadMessage() // also answers the server's pings
		if err != nil {
			t.Fatalf("read: %v; want a status refusing 2 subscriptions", err)
		}
		if strings.Contains(string(b), `"op":"status"`) && strings.Contains(string(b), "2 subscriptions refused") {
			break
		}
	}
	// Stop answering pings: the server closes with 4001.
	c.SetPingHandler(func(string) error { return nil })
	time.Sleep(time.Second)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		_, _, err := c.ReadMessage()
		if err != nil {
			if code, _ := closeCode(err); code != closePingTimeout {
				t.Errorf("idle Foxglove client: %v; want close %d", err, closePingTimeout)
			}
			break
		}
	}
}

// TestSessionClientPingTimeout: a session client that answers no ping is
// dropped with 4001, as a Foxglove client is. (The writer almost always
// sees the kick before the reader's end; TestWriteLoopClosesAfterReader
// covers the other order.)
func TestSessionClientPingTimeout(t *testing.T) {
	ts := newTestServer(t, func(c *Config) {
		c.PingInterval = 50 * time.Millisecond
		c.PongWait = 400 * time.Millisecond
	})
	c, _, err := ts.dial("s1", "", "")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetPingHandler(func(string) error { return nil })
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		if _, _, err := c.ReadMessage(); err != nil {
			if code, _ := closeCode(err); code != closePingTimeout {
				t.Errorf("session client answering no ping: %v; want close %d", err, closePingTimeout)
			}
			break
		}
	}
}

// TestWriteLoopClosesAfterReader: a client kicked by its reader (a ping
// timeout), which then ended, gets its close frame also when its writer
// sees done before the kick's wake-up.
func TestWriteLoopClosesAfterReader(t *testing.T) {
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		q := newSendQueue(4, 0)
		q.kick(closePingTimeout, "ping timeout")
		<-q.notify // the kick's wake-up, taken: the writer sees done only
		done := make(chan struct{})
		close(done)
		q.writeLoop(conn, done, time.Hour, func(outMsg) error { return nil })
	}))
	defer srv.Close()
	c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err = c.ReadMessage()
	if code, _ := closeCode(err); code != closePingTimeout {
		t.Errorf("client whose reader ended first: %v; want close %d", err, closePingTimeout)
	}
}
