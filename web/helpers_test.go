package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"tandem/demos"
	"tandem/sim"
)

// dotTask is a tiny task for server tests: a dot moved by a velocity action
// toward a goal. It keeps the tests independent of the real tasks' physics.
type dotTask struct {
	x, y, gx, gy float64
	vx, vy       float64
}

var dotSpec = sim.Spec{
	Name: "dot", Kind: sim.Manipulation, Description: "a dot moves to a goal", Source: "tandem tests",
	ObsNames: []string{"x", "y", "goal_x", "goal_y"}, ActionNames: []string{"vx", "vy"},
	ActionLow: []float64{-1, -1}, ActionHigh: []float64{1, 1},
	ControlHz: 20, PhysicsHz: 20, Horizon: 40, Units: "cm", Version: 1,
}

func (d *dotTask) Spec() sim.Spec { return dotSpec }
func (d *dotTask) Reset(seed uint64) {
	d.x, d.y = 0, 0
	d.gx, d.gy = 5+float64(seed%5), 5
	d.vx, d.vy = 0, 0
}
func (d *dotTask) Act(a []float64, period float64) { d.vx, d.vy = a[0]*10, a[1]*10 }
func (d *dotTask) Substep(dt float64)              { d.x += d.vx * dt; d.y += d.vy * dt }
func (d *dotTask) Observe(dst []float64)           { dst[0], dst[1], dst[2], dst[3] = d.x, d.y, d.gx, d.gy }
func (d *dotTask) Reward() float64                 { return -math.Hypot(d.x-d.gx, d.y-d.gy) / 10 }
func (d *dotTask) Success() bool                   { return math.Hypot(d.x-d.gx, d.y-d.gy) < 0.5 }
func (d *dotTask) Terminal() bool                  { return false }
func (d *dotTask) Scene() *sim.Scene {
	return &sim.Scene{Bounds: [4]float64{-10, -10, 10, 10}, Bodies: []string{"dot", "goal"}, Shapes: []sim.Shape{
		{Body: 0, Kind: sim.Circle, Radius: 0.5, Color: "#4169e1", Fill: true, Layer: 2},
		{Body: 1, Kind: sim.Polygon, Points: [][2]float64{{-1, -1}, {1, -1}, {1, 1}, {-1, 1}}, Color: "#2e8b57", Layer: 1},
		{Body: -1, Kind: sim.Polyline, Points: [][2]float64{{-10, -10}, {10, -10}}, Width: 0.2, Color: "#888", Layer: 0},
	}}
}
func (d *dotTask) Poses(dst []sim.Pose) []sim.Pose {
	dst[0] = sim.Pose{X: d.x, Y: d.y}
	dst[1] = sim.Pose{X: d.gx, Y: d.gy, Angle: 0.25}
	return dst[:2]
}
func (d *dotTask) Expert(skill float64, seed uint64) sim.Policy {
	return sim.PolicyFunc(func(obs, dst []float64) {
		dst[0] = max(-1, min(1, obs[2]-obs[0]))
		dst[1] = max(-1, min(1, obs[3]-obs[1]))
	})
}

type dotCatalog struct{}

func (dotCatalog) Specs() []sim.Spec { return []sim.Spec{dotSpec} }
func (dotCatalog) New(name string) (sim.Task, error) {
	if name != "dot" {
		return nil, fmt.Errorf("unknown task %q (valid: dot)", name)
	}
	return &dotTask{}, nil
}

const testToken = "test-token-123"

var testStart = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// testServer is a server on 127.0.0.1:0 driven by a manual clock.
type testServer struct {
	*Server
	t     *testing.T
	clock *sim.ManualClock
}

// newTestServer starts a server; edit adjusts its config first.
func newTestServer(t *testing.T, edit func(*Config)) *testServer {
	t.Helper()
	clock := sim.NewManualClock(testStart)
	cfg := Config{
		Addr: "127.0.0.1:0", Task: "dot", Token: testToken, Clock: clock, Catalog: dotCatalog{},
		NoStore: true, Log: io.Discard,
	}
	if edit != nil {
		edit(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := srv.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	ts := &testServer{Server: srv, t: t, clock: clock}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return ts
}

// eventually polls cond (real clock) until it holds or 10 s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// tick advances the clock by n periods of session id, one tick at a time,
// waiting for the loop to park before each step and for the frame to be
// fanned out after it.
func (ts *testServer) tick(id string, n int) {
	ts.t.Helper()
	sess, err := ts.session(id)
	if err != nil {
		ts.t.Fatal(err)
	}
	for range n {
		before := sess.sess.Info().Ticks
		eventually(ts.t, "session loop to park", func() bool { return ts.clock.Waiters() > 0 })
		ts.clock.Advance(sess.sess.Period())
		eventually(ts.t, "tick", func() bool { return sess.sess.Info().Ticks > before })
		// Read the newest record inside the poll: one wake-up may run two
		// ticks (the loop was late to park), and the second may start a new
		// episode after the test first looked.
		eventually(ts.t, "fan-out", func() bool {
			want := sess.sess.Last()
			f := sess.last.Load()
			return want == nil || (f != nil && f.wall.Equal(want.Wall) && f.episode == want.Episode)
		})
	}
}

// tickFind ticks session id one period at a time until w has received a
// message satisfying pred (control messages are queued for the next tick,
// so the tick that applies one may come after the test's first tick).
func (ts *testServer) tickFind(id string, w *wsClient, what string, pred func(anyMsg) bool) anyMsg {
	ts.t.Helper()
	w.sync()
	for range 50 {
		ts.tick(id, 1)
		for i := w.used; i < len(w.seen); i++ {
			if pred(w.seen[i]) {
				w.used = i + 1
				return w.seen[i]
			}
		}
		for {
			w.c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
			m, err := w.tryRead()
			if err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					// gorilla fails a connection after a read timeout: redial-free
					// tests must not rely on it, so stop reading here.
					ts.t.Fatalf("%s: no message within 100 ms of a tick", what)
				}
				ts.t.Fatalf("%s: %v", what, err)
			}
			if pred(m) {
				w.used = len(w.seen)
				return m
			}
			if m.Type == "frame" {
				break // the tick's frame arrived without it: tick again
			}
		}
	}
	var types []string
	for _, m := range w.seen[max(0, len(w.seen)-8):] {
		types = append(types, string(m.raw[:min(len(m.raw), 200)]))
	}
	ts.t.Fatalf("no %s within 50 ticks; last messages: %s", what, strings.Join(types, "\n"))
	return anyMsg{}
}

// latched is the newest command seq latched from the first operator of
// session id (0 without one).
func (ts *testServer) latched(id string) uint64 {
	v, err := ts.session(id)
	if err != nil {
		ts.t.Fatal(err)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, c := range v.byOp {
		cmd, _ := c.latch.Latest()
		return cmd.Seq
	}
	return 0
}

func (ts *testServer) wsURL(path string, q url.Values) string {
	u := url.URL{Scheme: "ws", Host: ts.Addr(), Path: path, RawQuery: q.Encode()}
	return u.String()
}

// dial opens a session WebSocket; token "" connects as a viewer.
func (ts *testServer) dial(id, token, operator string) (*websocket.Conn, *http.Response, error) {
	q := url.Values{}
	if token != "" {
		q.Set("token", token)
	}
	if operator != "" {
		q.Set("operator", operator)
	}
	return websocket.DefaultDialer.Dial(ts.wsURL("/api/sessions/"+id+"/ws", q), nil)
}

func (ts *testServer) mustDial(id, token, operator string) *wsClient {
	ts.t.Helper()
	c, resp, err := ts.dial(id, token, operator)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		ts.t.Fatalf("dial %s: %v (status %d)", id, err, status)
	}
	ts.t.Cleanup(func() { c.Close() })
	return &wsClient{t: ts.t, c: c}
}

// wsClient reads protocol messages with a safety deadline.
type wsClient struct {
	t    *testing.T
	c    *websocket.Conn
	seen []anyMsg // every message read, in order
	used int      // seen[:used] were consumed by find
}

// find returns the first message not yet found that satisfies pred,
// looking at messages already read before reading more.
func (w *wsClient) find(what string, pred func(anyMsg) bool) anyMsg {
	w.t.Helper()
	for i := w.used; i < len(w.seen); i++ {
		if pred(w.seen[i]) {
			w.used = i + 1
			return w.seen[i]
		}
	}
	m := w.until(what, pred)
	w.used = len(w.seen)
	return m
}

type anyMsg struct {
	Type    string          `json:"type"`
	Role    string          `json:"role"`
	Seq     uint64          `json:"seq"`
	Episode int             `json:"episode"`
	T       int             `json:"t"`
	Kind    string          `json:"kind"`
	Ack     uint64          `json:"ack"`
	Dropped uint64          `json:"dropped"`
	Events  []string        `json:"events"`
	Error   string          `json:"error"`
	Code    string          `json:"code"`
	Ref     int64           `json:"ref"`
	ID      int64           `json:"id"`
	Sent    int64           `json:"sent"`
	HUD     map[string]any  `json:"hud"`
	Session SessionInfo     `json:"session"`
	Spec    sim.Spec        `json:"spec"`
	Scene   *sim.Scene      `json:"scene"`
	Frame   json.RawMessage `json:"frame"`
	Poses   []sim.Pose      `json:"poses"`
	Action  []float64       `json:"action"`
	raw     []byte
}

func (w *wsClient) read() anyMsg {
	w.t.Helper()
	m, err := w.tryRead()
	if err != nil {
		w.t.Fatalf("read: %v", err)
	}
	return m
}

func (w *wsClient) tryRead() (anyMsg, error) {
	w.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	typ, b, err := w.c.ReadMessage()
	if err != nil {
		return anyMsg{}, err
	}
	if typ != websocket.TextMessage {
		return anyMsg{}, fmt.Errorf("got message type %d; want text", typ)
	}
	var m anyMsg
	if err := json.Unmarshal(b, &m); err != nil {
		return anyMsg{}, fmt.Errorf("message %s is not JSON: %v", b, err)
	}
	m.raw = b
	w.seen = append(w.seen, m)
	return m, nil
}

// syncID numbers the pings sync sends, far from any id a test uses.
var syncID atomic.Int64

// sync waits until the server has handled everything w sent so far: a
// connection's messages are handled in order, so the pong to a ping sent
// now comes after them. Without it a control message can still be on its
// way through a loaded server while the test ticks past it. Messages read
// meanwhile stay in w.seen for find and tickFind.
func (w *wsClient) sync() {
	w.t.Helper()
	id := 1<<40 + syncID.Add(1)
	w.send(fmt.Sprintf(`{"type":"ping","id":%d}`, id))
	w.until("pong to the sync ping", func(m anyMsg) bool { return m.Type == "pong" && m.ID == id })
}

// until reads messages until one satisfies pred.
func (w *wsClient) until(what string, pred func(anyMsg) bool) anyMsg {
	w.t.Helper()
	for range 10000 {
		m := w.read()
		if pred(m) {
			return m
		}
	}
	w.t.Fatalf("no %s in 10000 messages", what)
	return anyMsg{}
}

func (w *wsClient) send(v any) {
	w.t.Helper()
	var b []byte
	switch x := v.(type) {
	case string:
		b = []byte(x)
	case []byte:
		b = x
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			w.t.Fatal(err)
		}
	}
	if err := w.c.WriteMessage(websocket.TextMessage, b); err != nil {
		w.t.Fatalf("write: %v", err)
	}
}

func isType(t string) func(anyMsg) bool { return func(m anyMsg) bool { return m.Type == t } }

// rejected reads the rejected-messages counter for reason.
func (ts *testServer) rejected(reason string) float64 {
	return metricValue(ts.metrics.rejected.WithLabelValues(reason))
}

// episodes is the first page of GET /api/episodes?query.
func (ts *testServer) episodes(query string) []demos.Episode {
	ts.t.Helper()
	var page episodePage
	if code := ts.doREST("GET", "/api/episodes?"+query, "", "", &page); code != http.StatusOK {
		ts.t.Fatalf("GET /api/episodes?%s: status %d", query, code)
	}
	return page.Episodes
}

// doREST sends a request and decodes a JSON answer into out (if not nil).
func (ts *testServer) doREST(method, path, token, body string, out any) int {
	ts.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, ts.URL()+path, rd)
	if err != nil {
		ts.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		ts.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			ts.t.Fatalf("%s %s: body %q is not JSON: %v", method, path, b, err)
		}
	}
	return resp.StatusCode
}

func closeCode(err error) (int, string) {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return ce.Code, ce.Text
	}
	return 0, ""
}

const dotPeriod = 50 * time.Millisecond

// smallReadBufferDial dials with a small kernel receive buffer so a client
// that stops reading backs up into the server's queue quickly. The buffer
// is set before connecting, so the TCP window is negotiated small too.
func smallReadBufferDial(ctx context.Context, network, addr string) (net.Conn, error) {
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 2048) })
	}}
	return d.DialContext(ctx, network, addr)
}

// metricValue reads a counter's or gauge's value.
func metricValue(c prometheus.Metric) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		panic(err)
	}
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	}
	return math.NaN()
}

func testutilCounter(c prometheus.Counter) float64 { return metricValue(c) }

func testutilCounterVec(v *prometheus.CounterVec, label string) float64 {
	return metricValue(v.WithLabelValues(label))
}
