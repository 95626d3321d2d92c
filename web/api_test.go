package web

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"tandem/demos"
	"tandem/live"
	"tandem/sim"
	"tandem/teleop"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestSessionsREST(t *testing.T) {
	ts := newTestServer(t, nil)
	var list []map[string]any
	if code := ts.doREST("GET", "/api/sessions", "", "", &list); code != 200 || len(list) != 1 {
		t.Fatalf("GET /api/sessions: status %d, %d sessions; want 200, 1", code, len(list))
	}
	for _, k := range []string{"id", "task", "mode"} {
		if _, ok := list[0][k]; !ok {
			t.Errorf("session object lacks %q: %v", k, list[0])
		}
	}
	if h := list[0]["horizon"]; h != float64(dotSpec.Horizon) {
		t.Errorf("session horizon %v; want %d ticks at the task's own rate", h, dotSpec.Horizon)
	}
	var specs []sim.Spec
	if code := ts.doREST("GET", "/api/tasks", "", "", &specs); code != 200 || len(specs) != 1 || specs[0].Name != "dot" {
		t.Errorf("GET /api/tasks: status %d specs %v; want the dot task", code, specs)
	}

	rows := []struct {
		name, method, path, body string
		status                   int
	}{
		{"create", "POST", "/api/sessions", `{"task":"dot","mode":"auto","policy":"random","seed":3}`, 201},
		{"unknown task", "POST", "/api/sessions", `{"task":"nope"}`, 400},
		{"unknown mode", "POST", "/api/sessions", `{"mode":"turbo"}`, 400},
		{"unknown field", "POST", "/api/sessions", `{"tsk":"dot"}`, 400},
		{"bad skill", "POST", "/api/sessions", `{"skill":2}`, 400},
		{"not JSON", "POST", "/api/sessions", `{"task":`, 400},
		{"too large", "POST", "/api/sessions", `{"task":"` + strings.Repeat("x", 2<<20) + `"}`, 413},
		{"get", "GET", "/api/sessions/s1", "", 200},
		{"get missing", "GET", "/api/sessions/s99", "", 404},
		{"mode", "POST", "/api/sessions/s1/mode", `{"mode":"teleop"}`, 202},
		{"bad mode", "POST", "/api/sessions/s1/mode", `{"mode":"x"}`, 400},
		{"reset with seed", "POST", "/api/sessions/s1/reset", `{"seed":9}`, 202},
		{"unknown action", "POST", "/api/sessions/s1/jump", ``, 404},
		{"policies", "GET", "/api/policies", "", 200},
		{"activate random", "POST", "/api/policies/activate", `{"session":"s1","policy":"random"}`, 200},
		{"activate learned", "POST", "/api/policies/activate", `{"session":"s1","policy":"bc-v3"}`, 400},
		{"no store", "GET", "/api/episodes", "", 503},
		{"unknown endpoint", "GET", "/api/nothing", "", 404},
		{"health", "GET", "/api/health", "", 200},
		{"delete", "DELETE", "/api/sessions/s2", "", 204},
		{"delete missing", "DELETE", "/api/sessions/s2", "", 404},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			var body any
			var got int
			if row.name == "activate random" {
				// The swap happens on the loop goroutine: tick until it answers.
				done := make(chan int)
				go func() { done <- ts.doREST(row.method, row.path, testToken, row.body, &body) }()
			wait:
				for {
					select {
					case got = <-done:
						break wait
					default:
						ts.tick("s1", 1)
					}
				}
			} else {
				got = ts.doREST(row.method, row.path, testToken, row.body, &body)
			}
			if got != row.status {
				t.Errorf("status %d (%v); want %d", got, body, row.status)
			}
			if m, _ := body.(map[string]any); got >= 400 && m["error"] == nil {
				t.Errorf("error body %v; want {\"error\": ...}", body)
			}
		})
	}
	sess, _ := ts.session("s1")
	if a := sess.sess.Info(); a.Mode != sim.ModeTeleop {
		t.Errorf("mode after POST mode %q; want teleop", a.Mode)
	}
	if info := sess.info(); info.Policy != "random" {
		t.Errorf("policy after activate %q; want random", info.Policy)
	}
	// Metrics are served and name the session metrics.
	resp, err := http.Get(ts.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 1<<20)
	n, _ := readFull(resp.Body, b)
	resp.Body.Close()
	for _, name := range []string{"tandem_tick_duration_seconds", "tandem_sessions", "tandem_ws_rejected_messages_total", "tandem_tick_overruns_total"} {
		if !strings.Contains(string(b[:n]), name) {
			t.Errorf("/metrics lacks %s", name)
		}
	}
}

func readFull(r interface{ Read([]byte) (int, error) }, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		k, err := r.Read(b[n:])
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func TestFoxgloveConversation(t *testing.T) {
	ts := newTestServer(t, nil)
	d := websocket.Dialer{Subprotocols: []string{foxSubprotocol}}
	c, resp, err := d.Dial(ts.wsURL("/foxglove", nil), nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	if resp.Header.Get("Sec-WebSocket-Protocol") != foxSubprotocol {
		t.Errorf("subprotocol %q; want %s", resp.Header.Get("Sec-WebSocket-Protocol"), foxSubprotocol)
	}
	readJSON := func() map[string]any {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		typ, b, err := c.ReadMessage()
		if err != nil || typ != websocket.TextMessage {
			t.Fatalf("read: type %d err %v; want a text message", typ, err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	if m := readJSON(); m["op"] != "serverInfo" || m["name"] != "tandem" {
		t.Fatalf("first message %v; want serverInfo", m)
	}
	adv := readJSON()
	if adv["op"] != "advertise" {
		t.Fatalf("second message %v; want advertise", adv)
	}
	chans := map[string]float64{}
	for _, ch := range adv["channels"].([]any) {
		m := ch.(map[string]any)
		chans[m["topic"].(string)] = m["id"].(float64)
		if m["encoding"] != "json" || m["schemaEncoding"] != "jsonschema" || m["schema"] == "" {
			t.Errorf("channel %v; want json with a jsonschema", m)
		}
		var schema map[string]any
		if err := json.Unmarshal([]byte(m["schema"].(string)), &schema); err != nil || schema["type"] != "object" {
			t.Errorf("channel %s schema is not an object schema: %v", m["topic"], err)
		}
	}
	for _, topic := range []string{"/s1/scene", "/s1/state", "/s1/action", "/s1/events"} {
		if _, ok := chans[topic]; !ok {
			t.Errorf("no channel %s in %v", topic, chans)
		}
	}
	sub := map[string]any{"op": "subscribe", "subscriptions": []map[string]any{
		{"id": 7, "channelId": chans["/s1/scene"]}, {"id": 8, "channelId": chans["/s1/state"]}}}
	if err := c.WriteJSON(sub); err != nil {
		t.Fatal(err)
	}
	eventually(t, "pump subscribed", func() bool {
		for fc := range ts.fox.clients {
			fc.mu.Lock()
			n := len(fc.pumps)
			fc.mu.Unlock()
			if n == 1 {
				return true
			}
		}
		return false
	})
	ts.tick("s1", 2)
	got := map[uint32]map[string]any{}
	for len(got) < 2 {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		typ, b, err := c.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		if typ != websocket.BinaryMessage {
			continue
		}
		if b[0] != 0x01 || len(b) < 13 {
			t.Fatalf("binary message opcode %#x length %d; want 0x01 and a header", b[0], len(b))
		}
		id := binary.LittleEndian.Uint32(b[1:])
		ts := binary.LittleEndian.Uint64(b[5:])
		if ts < uint64(testStart.UnixNano()) {
			t.Errorf("timestamp %d before the session clock start", ts)
		}
		var m map[string]any
		if err := json.Unmarshal(b[13:], &m); err != nil {
			t.Fatalf("payload of subscription %d is not JSON: %v", id, err)
		}
		got[id] = m
	}
	ents, _ := got[7]["entities"].([]any)
	if len(ents) != 3 {
		t.Fatalf("scene update has %d entities; want 3 (world, dot, goal): %v", len(ents), got[7])
	}
	// The first message to a subscriber is a full update: the bodies,
	// then the static world (ids from package foxglove).
	dot := ents[0].(map[string]any)
	if dot["id"] != "body/dot" || len(dot["cylinders"].([]any)) != 1 {
		t.Errorf("dot entity %v; want body/dot with one cylinder (its disc)", dot)
	}
	goal := ents[1].(map[string]any)
	if goal["id"] != "body/goal" || len(goal["lines"].([]any)) != 1 {
		t.Errorf("goal entity %v; want body/goal with its polygon as one line", goal)
	}
	if world := ents[2].(map[string]any); world["id"] != "world" || len(world["lines"].([]any)) != 1 {
		t.Errorf("world entity %v; want world with its polyline as one line", world)
	}
	if obs, _ := got[8]["obs"].(map[string]any); obs["goal_x"] == nil {
		t.Errorf("state message %v; want named observations", got[8])
	}
	// Unknown channels get a status, and unsubscribing stops the pump.
	c.WriteJSON(map[string]any{"op": "subscribe", "subscriptions": []map[string]any{{"id": 9, "channelId": 999}}})
	for {
		m := readJSONSkippingBinary(t, c)
		if m["op"] == "status" {
			break
		}
	}
	c.WriteJSON(map[string]any{"op": "unsubscribe", "subscriptionIds": []int{7, 8}})
	eventually(t, "pump stopped", func() bool {
		for fc := range ts.fox.clients {
			fc.mu.Lock()
			n := len(fc.pumps)
			fc.mu.Unlock()
			if n != 0 {
				return false
			}
		}
		return true
	})
	// A new session is advertised to the connected client.
	ts.doREST("POST", "/api/sessions", testToken, `{}`, nil)
	for {
		m := readJSONSkippingBinary(t, c)
		if m["op"] == "advertise" {
			if !strings.Contains(mustMarshal(m), "/s2/scene") {
				t.Errorf("advertise %v; want /s2 channels", m)
			}
			break
		}
	}
}

func readJSONSkippingBinary(t *testing.T, c *websocket.Conn) map[string]any {
	t.Helper()
	for {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		typ, b, err := c.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		if typ != websocket.TextMessage {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
}

func mustMarshal(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestFrameEncodingIsJSONAndDoesNotAllocate(t *testing.T) {
	r := &sim.Record{Kind: sim.StepRecord, Episode: 2, Wall: testStart, Return: 1.5, Poses: []sim.Pose{{X: 1, Y: 2, Angle: 0.5}, {X: -3}}}
	r.T, r.Reward, r.Success = 4, 0.25, true
	r.Action.Set([]float64{0.5, -1})
	r.Source, r.Operator, r.PolicyVersion = sim.Human, "browser:\"q\"\n", "expert"
	r.Holder, r.Mode = "browser:x", sim.ModeShared
	buf := appendFrame(nil, 9, r, evInterventionStart|evSuccess, false, true)
	full := appendFrameTail(append([]byte(nil), buf...), 3, 7)
	var m anyMsg
	if err := json.Unmarshal(full, &m); err != nil {
		t.Fatalf("frame %s is not JSON: %v", full, err)
	}
	if m.Seq != 9 || m.T != 5 || m.Ack != 7 || m.Dropped != 3 || len(m.Events) != 2 || m.HUD["operator"] != "browser:\"q\"\n" {
		t.Errorf("decoded frame %+v; want seq 9, t 5, ack 7, dropped 3, 2 events, the escaped operator", m)
	}
	if m.HUD["holder"] != "browser:x" || m.HUD["mode"] != "shared" || m.HUD["success"] != true {
		t.Errorf("hud %v; want the record's holder and mode and the episode's success", m.HUD)
	}
	dst := make([]byte, 0, 4096)
	if n := testing.AllocsPerRun(100, func() {
		dst = appendFrame(dst[:0], 9, r, evSuccess, false, true)
		dst = appendFrameTail(dst, 1, 2)
	}); n != 0 {
		t.Errorf("appendFrame allocates %v times per frame; want 0", n)
	}
}

// TestFailedStartLeavesNothingRunning: a default session whose device
// cannot be opened fails Start, and the session, its recording and the
// store are closed instead of left running.
func TestFailedStartLeavesNothingRunning(t *testing.T) {
	dir := t.TempDir()
	opened := 0
	open := func(path string, spec sim.Spec) (string, teleop.Source, io.Closer, error) {
		opened++
		return "", nil, nil, errors.New("no such pad")
	}
	srv, err := New(Config{Addr: "127.0.0.1:0", Task: "dot", Token: testToken, Catalog: dotCatalog{}, DataDir: dir,
		Devices: []string{"pad0"}, OpenDevice: open, Log: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err == nil || !strings.Contains(err.Error(), "no such pad") {
		t.Fatalf("Start: %v; want the device's error", err)
	}
	if opened != 1 || srv.Hub().Len() != 0 {
		t.Fatalf("opened %d devices, %d sessions left; want 1 and 0", opened, srv.Hub().Len())
	}
	if _, err := srv.Hub().Create(live.Options{Task: "dot"}); !errors.Is(err, live.ErrClosing) {
		t.Fatalf("creating a session after a failed start: %v; want the hub closed", err)
	}
	// The store is closed and its one episode was finished, not left running.
	st, err := demos.Open(context.Background(), dir, demos.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	eps, err := st.ListEpisodes(context.Background(), demos.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ep := range eps {
		if ep.Outcome == demos.Running {
			t.Errorf("episode %d still running after the failed start", ep.ID)
		}
	}
}
