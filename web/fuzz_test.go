package web

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"

	"tandem/sim"
)

// Fuzz targets for everything web decodes from outside: session
// WebSocket messages, Foxglove operations, REST bodies and query
// strings. Seeds are in testdata/fuzz/<target>; .ci/fuzz runs each for a
// few seconds.

// FuzzSessionMessage: any client message decodes or is refused with a
// protocol code, never panics; a command that is accepted has exactly the
// task's action size, every value finite and within the bounds.
func FuzzSessionMessage(f *testing.F) {
	for _, s := range []string{
		`{"type":"command","seq":1,"action":[0.5,-0.2],"engaged":true,"buttons":["grip","reset"]}`,
		`{"type":"control","op":"speed","speed":1e-300}`,
		`{"type":"ping","id":5,"sent":1760000000100}`,
		`{"type":"command","seq":2,"action":["NaN","Infinity"]}`,
		`{"type":"command","seq":-1,"action":[1e309,0]}`,
	} {
		f.Add([]byte(s))
	}
	codes := map[string]bool{codeBadJSON: true, codeBadType: true, codeBadValue: true}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, merr := decodeMsg(b)
		if merr != nil {
			if !codes[merr.code] || merr.msg == "" {
				t.Fatalf("refusal %+v: want a protocol code and a message", merr)
			}
			return
		}
		if m.Type != msgCommand {
			return
		}
		cmd, merr := commandFrom(&m, &dotSpec)
		if merr != nil {
			if !codes[merr.code] {
				t.Fatalf("command refusal code %q", merr.code)
			}
			return
		}
		a := cmd.Action.Slice()
		if len(a) != dotSpec.ActionSize() {
			t.Fatalf("accepted action %v of size %d; want %d", a, len(a), dotSpec.ActionSize())
		}
		for i, x := range a {
			if math.IsNaN(x) || math.IsInf(x, 0) || x < dotSpec.ActionLow[i] || x > dotSpec.ActionHigh[i] {
				t.Fatalf("accepted action[%d] = %v outside [%v, %v]", i, x, dotSpec.ActionLow[i], dotSpec.ActionHigh[i])
			}
		}
	})
}

// FuzzFoxgloveOp: any Foxglove client operation is handled or refused
// with a status, never a panic; afterwards the connection holds at most
// MaxFoxSubs subscriptions, each on a channel advertised to it, and runs
// one pump per session it is subscribed to and no other.
func FuzzFoxgloveOp(f *testing.F) {
	for _, s := range []string{
		`{"op":"subscribe","subscriptions":[{"id":1,"channelId":3}]}`,
		`{"op":"unsubscribe","subscriptionIds":[1,2]}`,
		`{"op":"subscribe","subscriptions":[{"id":-1,"channelId":1e99}]}`,
		`{"op":"subscribe","subscriptions":[{"id":1,"channelId":1},{"id":2,"channelId":2},{"id":3,"channelId":5},{"id":4,"channelId":6}]}`,
	} {
		f.Add([]byte(s))
	}
	srv := fuzzServer(f)
	srv.cfg.MaxFoxSubs = 3
	if _, err := srv.CreateSession(SessionOptions{}); err != nil {
		f.Fatal(err)
	}
	if _, err := srv.CreateSession(SessionOptions{}); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fc := &foxClient{hub: srv.fox, subs: map[uint32]*foxChannel{}, chans: map[uint32]*foxChannel{},
			pumps: map[string]*sim.Subscription{}, sendQueue: newSendQueue(foxQueue, 0)}
		srv.fox.mu.Lock()
		var chs []*foxChannel
		for _, c := range srv.fox.channels {
			chs = append(chs, c...)
		}
		srv.fox.mu.Unlock()
		fc.advertise(chs)
		// The same operation twice: a repeated subscription id is refused.
		fc.handle(websocket.TextMessage, b)
		fc.handle(websocket.TextMessage, b)
		fc.mu.Lock()
		defer fc.mu.Unlock()
		defer func() {
			for _, sub := range fc.pumps {
				sub.Close()
			}
		}()
		if len(fc.subs) > srv.cfg.MaxFoxSubs {
			t.Fatalf("%d subscriptions after %q; want at most %d", len(fc.subs), b, srv.cfg.MaxFoxSubs)
		}
		sessions := map[string]bool{}
		for id, ch := range fc.subs {
			if fc.chans[ch.ID] != ch {
				t.Fatalf("subscription %d on channel %d, which was not advertised", id, ch.ID)
			}
			sessions[ch.sess.id] = true
		}
		if len(fc.pumps) != len(sessions) {
			t.Fatalf("%d pumps for subscriptions on %d sessions after %q", len(fc.pumps), len(sessions), b)
		}
		for id := range fc.pumps {
			if !sessions[id] {
				t.Fatalf("a pump on session %s, which has no subscription", id)
			}
		}
	})
}

// fuzzServer is a server without a listener for handler-level fuzzing:
// the dot task, no store, no default session, a manual clock (sessions
// never tick).
func fuzzServer(f *testing.F) *Server {
	srv, err := New(Config{
		Addr: "127.0.0.1:0", Task: "dot", Token: testToken, Clock: sim.NewManualClock(testStart), Catalog: dotCatalog{},
		NoStore: true, NoDefaultSession: true, Log: io.Discard,
	})
	if err != nil {
		f.Fatal(err)
	}
	srv.openViewers = true
	srv.hosts.bind(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	f.Cleanup(func() { srv.Shutdown(context.Background()) })
	return srv
}

// FuzzPostSession: any body to POST /api/sessions is answered 201, 400,
// 413 or 429 with a JSON error, never 500 or a panic; a session it
// creates runs at rates its task accepts.
func FuzzPostSession(f *testing.F) {
	for _, s := range []string{
		`{"task":"dot","mode":"auto","policy":"random","seed":3}`,
		`{"control_hz":1e-300}`, `{"control_hz":1e-6}`, `{"teleop_hz":1e-300}`,
		`{"control_hz":10,"teleop_hz":20,"idle_pause_s":30}`, `{"skill":2}`, `{"idle_pause_s":-1}`,
		`{"task":`, `{"control_hz":"fast"}`, `{} {}`,
	} {
		f.Add([]byte(s))
	}
	srv := fuzzServer(f)
	h := srv.Handler()
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest("POST", "/api/sessions", strings.NewReader(string(body)))
		req.Host = "127.0.0.1"
		req.Header.Set("Authorization", "Bearer "+testToken)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		switch w.Code {
		case http.StatusCreated:
			var in SessionInfo
			if err := json.Unmarshal(w.Body.Bytes(), &in); err != nil {
				t.Fatalf("201 body %q: %v", w.Body.String(), err)
			}
			if in.ControlHz < 1 || in.ControlHz > dotSpec.PhysicsHz || in.TeleopHz < in.ControlHz || in.IdleAfterS < 0 {
				t.Fatalf("created session at control %g Hz, teleop %g Hz, idle %g s: outside the task's rates", in.ControlHz, in.TeleopHz, in.IdleAfterS)
			}
			if err := srv.DeleteSession(in.ID); err != nil {
				t.Fatal(err)
			}
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusTooManyRequests:
			var e struct{ Error string }
			if json.Unmarshal(w.Body.Bytes(), &e) != nil || e.Error == "" {
				t.Fatalf("status %d body %q: want a JSON error", w.Code, w.Body.String())
			}
		default:
			t.Fatalf("status %d (%s) for body %q", w.Code, w.Body.String(), body)
		}
	})
}

// FuzzRESTBodies: the other JSON bodies (session actions, policies,
// replays) are strictly decoded: any body is accepted or refused with a
// 400 or 413, never a panic.
func FuzzRESTBodies(f *testing.F) {
	for _, s := range []string{`{"seed":42}`, `{"mode":"teleop"}`, `{"session":"s1","policy":"random"}`,
		`{"episode":12,"speed":2}`, `{"episode":1,"speed":1e-300}`, `{"seed":-1}`, `[]`, `null`} {
		f.Add([]byte(s))
	}
	e := echo.New()
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, dst := range []any{
			&struct {
				Seed *uint64 `json:"seed"`
				Mode string  `json:"mode"`
			}{}, &policyReq{}, &replayReq{}, &SessionOptions{},
		} {
			req := httptest.NewRequest("POST", "/", strings.NewReader(string(body)))
			req.Body = http.MaxBytesReader(httptest.NewRecorder(), req.Body, 1<<20)
			c := e.NewContext(req, httptest.NewRecorder())
			err := bindJSON(c, dst)
			var he *echo.HTTPError
			var mb *http.MaxBytesError
			if err != nil && !(errors.As(err, &he) && he.Code == http.StatusBadRequest) && !errors.As(err, &mb) {
				t.Fatalf("bindJSON(%q) into %T: %v; want nil, a 400 or a 413", body, dst, err)
			}
		}
	})
}

// FuzzEpisodeQuery: any query string is a valid filter and page or a 400
// naming the parameter, never a panic; ids never exceed maxIDs once past
// the gate, and a page never exceeds maxEpisodePage.
func FuzzEpisodeQuery(f *testing.F) {
	for _, s := range []string{"task=push-t&success=true&min_interventions=1", "since=2026-01-01T00:00:00Z&until=1767300000",
		"ids=1,2,3", "limit=-1", "since=1e308", "colour=red", "mode=dream", "ids=" + strings.Repeat("1,", 1200) + "1",
		"order=desc&limit=5000&cursor=12", "cursor=-1", "limit=9223372036854775807", "offset=3&cursor=7&order=asc"} {
		f.Add(s)
	}
	e := echo.New()
	f.Fuzz(func(t *testing.T, q string) {
		if _, err := url.ParseQuery(q); err != nil {
			return
		}
		req := httptest.NewRequest("GET", "/api/episodes?"+url.PathEscape(q), nil)
		req.URL.RawQuery = q
		c := e.NewContext(req, httptest.NewRecorder())
		gated := checkIDs(func(echo.Context) error { return nil })(c)
		if gated != nil {
			return
		}
		flt, size, err := pageQuery(c)
		if err != nil {
			var he *echo.HTTPError
			if !errors.As(err, &he) || he.Code != http.StatusBadRequest {
				t.Fatalf("pageQuery(%q): %v; want a 400", q, err)
			}
			return
		}
		if len(flt.IDs) > maxIDs || size < 1 || size > maxEpisodePage || flt.Limit != size+1 || flt.Offset < 0 ||
			flt.After < 0 || flt.Before < 0 || (flt.After > 0 || flt.Before > 0) && flt.Offset != 0 {
			t.Fatalf("filter %+v, page %d from %q", flt, size, q)
		}
		if !flt.Since.IsZero() && !flt.Until.IsZero() && !flt.Since.Before(flt.Until) {
			t.Fatalf("since %v not before until %v accepted from %q", flt.Since, flt.Until, q)
		}
	})
}
