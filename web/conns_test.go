package web

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"tandem/demos"
	"tandem/policies"
	"tandem/sim"
	"tandem/tasks"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestIdleConnectionsCannotLockOutHealthOrOperators is issue 15's
// descriptor exhaustion at test scale: far more idle connections than
// the server's cap (each new one closes the oldest idle), then busy
// WebSocket viewers filling the per-address cap (a reserve connection
// serves /api/health and the token, nothing else), and through it all
// /api/health answers within 2 s and an operator connects and takes over.
// The full numbers (21,000 idle connections against a server
// limited to 20,000 descriptors) come from `tandem loadtest --idle-conns
// 21000 --server-nofile 20000` (TANDEM_LOADTEST_FULL=1 runs it as
// cmd/tandem's TestLoadtestSmall); docs/benchmarks.md has the run.
func TestIdleConnectionsCannotLockOutHealthOrOperators(t *testing.T) {
	const maxConns, perAddr, reserve, idle = 60, 40, 4, 400
	ts := newTestServer(t, func(c *Config) {
		c.MaxConns, c.MaxConnsPerAddr, c.ReserveConns = maxConns, perAddr, reserve
	})
	var held []net.Conn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	for i := range idle {
		c, err := net.Dial("tcp", ts.Addr())
		if err != nil {
			t.Fatalf("idle connection %d: %v", i, err)
		}
		held = append(held, c)
	}
	// Every connection is accepted (the kernel's backlog drains) and all
	// but the newest perAddr (+ a reserve one at most) closed.
	eventually(t, "idle connections evicted", func() bool {
		return testutilCounter(ts.metrics.connEvicted) >= idle-perAddr-reserve
	})
	if total, _ := ts.ln.counts(""); total > perAddr+reserve {
		t.Errorf("the server holds %d connections; want at most %d", total, perAddr+reserve)
	}
	health := func(what string, want int) {
		t.Helper()
		cl := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		start := time.Now()
		resp, err := cl.Get(ts.URL() + "/api/health")
		if err != nil {
			t.Fatalf("%s: /api/health: %v", what, err)
		}
		resp.Body.Close()
		if resp.StatusCode != want || time.Since(start) > 2*time.Second {
			t.Errorf("%s: /api/health status %d in %v; want %d within 2 s", what, resp.StatusCode, time.Since(start), want)
		}
	}
	health("with idle connections", 200)

	// Busy connections (WebSocket viewers) up to the per-address cap:
	// nothing idle is left to close.
	var viewers []*websocket.Conn
	defer func() {
		for _, c := range viewers {
			c.Close()
		}
	}()
	for _, c := range held {
		c.Close()
	}
	held = nil
	for len(viewers) < perAddr {
		c, _, err := ts.dial("s1", "", "")
		if err != nil {
			t.Fatalf("viewer %d: %v", len(viewers), err)
		}
		viewers = append(viewers, c)
	}
	eventually(t, "viewers counted", func() bool { _, n := ts.ln.counts("127.0.0.1"); return n == perAddr })
	health("with the address's cap full of WebSockets", 200)
	resp, err := (&http.Client{Timeout: 2 * time.Second}).Get(ts.URL() + "/api/sessions")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("a viewer's GET on a reserve connection: status %d; want 503", resp.StatusCode)
	}
	op := ts.mustDial("s1", testToken, "alice")
	if h := op.read(); h.Role != RoleOperator {
		t.Fatalf("operator on a reserve connection: role %q", h.Role)
	}
	op.send(`{"type":"control","op":"takeover"}`)
	ts.tickFind("s1", op, "alice in control", func(m anyMsg) bool {
		return m.Type == "state" && m.Session.Authority.Holder == "browser:alice"
	})
}

// TestSlowDownloadIsAbandonedAtShutdown: a client reading a LeRobot export
// (which spills its dataset files to the export directory while it
// streams) at a crawl does not hold the shutdown: it ends within its
// bound, returns nil (nothing recorded was lost) and leaves no export file.
func TestSlowDownloadIsAbandonedAtShutdown(t *testing.T) {
	dir := t.TempDir()
	ts := newTestServer(t, func(c *Config) {
		c.NoStore, c.DataDir = false, dir
		c.SocketBuffer = 4096
	})
	ts.tick("s1", 250)
	eventually(t, "six episodes committed", func() bool {
		return len(ts.episodes("complete=true")) == 6
	})
	// Enough rollout episodes that the LeRobot archive cannot fit in the
	// socket buffers: the export stalls with its temporary dataset files
	// on disk, which shutdown must remove.
	addExpertEpisodes(t, ts.Hub().Store(), "push-t", 60)
	// A client with a tiny receive buffer that reads nothing.
	tr := &http.Transport{DialContext: smallReadBufferDial}
	req, _ := http.NewRequest("GET", ts.URL()+"/api/episodes/export?format=lerobot", nil)
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("export: status %d", resp.StatusCode)
	}
	eventually(t, "the export to be in flight", func() bool { return metricValue(ts.metrics.exports) == 1 })
	time.Sleep(200 * time.Millisecond) // let it stall on the full socket
	if metricValue(ts.metrics.exports) != 1 {
		t.Skip("the export fitted in the socket buffers; nothing to abandon")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	if err := ts.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown with a slow download: %v; want nil", err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("shutdown took %v; want at most 10 s", took)
	}
	if err := resp.Body.Close(); err != nil {
		t.Logf("closing the abandoned download: %v", err)
	}
	left, _ := os.ReadDir(dir + "/" + exportDir)
	if len(left) != 0 {
		t.Errorf("%d entries left in %s/%s; want none", len(left), dir, exportDir)
	}
	t.Logf("shutdown with a stalled download took %v", time.Since(start).Round(time.Millisecond))
}

// TestExportGate: viewers may be refused exports, concurrent exports are
// bounded, a symlinked export directory is refused, long id lists are
// 400, and export leftovers are removed at start.
func TestExportGate(t *testing.T) {
	dir := t.TempDir()
	stale := dir + "/" + exportDir + "/export-123"
	if err := os.MkdirAll(stale, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(stale+"/episodes.mcap", []byte("half an export"), 0o644)
	no := false
	ts := newTestServer(t, func(c *Config) {
		c.NoStore, c.DataDir = false, dir
		c.ViewerExport = &no
		c.MaxExports = 1
	})
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale export directory after start: %v; want it removed", err)
	}
	ts.tick("s1", 45)
	eventually(t, "an episode committed", func() bool {
		return len(ts.episodes("complete=true")) == 1
	})
	const path = "/api/episodes/export?format=mcap&complete=true"
	auth := map[string]string{"Authorization": "Bearer " + testToken}
	if code, msg := ts.restWith("GET", path, "", nil); code != http.StatusForbidden {
		t.Errorf("viewer export with --viewer-export=false: %d %q; want 403", code, msg)
	}
	if code, msg := ts.restWith("GET", path, "", auth); code != 200 {
		t.Errorf("operator export: %d %q; want 200", code, msg)
	}
	ts.exportSlots <- struct{}{} // one export in flight: the limit
	code, msg := ts.restWith("GET", path, "", auth)
	<-ts.exportSlots
	if code != http.StatusTooManyRequests {
		t.Errorf("export over the concurrency limit: %d %q; want 429", code, msg)
	}
	ids := "1"
	for i := 2; i <= maxIDs+1; i++ {
		ids += "," + strconv.Itoa(i)
	}
	for _, p := range []string{"/api/episodes?ids=" + ids, "/api/episodes/export?format=mcap&ids=" + ids} {
		if code, _ := ts.restWith("GET", p, "", auth); code != 400 {
			t.Errorf("%d ids: status %d; want 400", maxIDs+1, code)
		}
	}
	outside := t.TempDir()
	os.RemoveAll(dir + "/" + exportDir)
	if err := os.Symlink(outside, dir+"/"+exportDir); err != nil {
		t.Fatal(err)
	}
	if code, msg := ts.restWith("GET", path, "", auth); code != http.StatusInternalServerError {
		t.Errorf("symlinked exports directory: %d %q; want 500", code, msg)
	}
	if ents, _ := os.ReadDir(outside); len(ents) != 0 {
		t.Errorf("%d files written through the symlink; want none", len(ents))
	}
}

// addExpertEpisodes records n expert episodes of task into st, as a
// headless rollout would.
func addExpertEpisodes(t *testing.T, st *demos.Store, task string, n int) {
	t.Helper()
	ctx := context.Background()
	probe, err := tasks.New(task)
	if err != nil {
		t.Fatal(err)
	}
	eps, err := sim.Rollout(ctx, sim.RolloutConfig{
		NewTask: func() sim.Task { tk, _ := tasks.New(task); return tk },
		Controller: func(tk sim.Task, _ int, seed uint64) (sim.Controller, error) {
			return sim.Auto(tk.Expert(1, seed), policies.Expert), nil
		},
		Episodes: n, FirstSeed: 1, Workers: 1, KeepSteps: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, ep := range eps {
		if _, err := st.AddEpisode(ctx, demos.Info{Spec: probe.Spec(), Seed: ep.Seed, Mode: sim.ModeAuto}, ep.Steps); err != nil {
			t.Fatal(err)
		}
	}
}

// lockedBuffer is a log sink the server's goroutines write to at once.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestClientsArrivingDuringShutdown: session and Foxglove WebSockets that
// connect while the server shuts down are either refused or sent away
// with 1001; none holds the shutdown to its deadline, and counting their
// handlers does not race the shutdown's wait (the race detector found an
// upgraded handler counting itself after the HTTP side had let go of it).
func TestClientsArrivingDuringShutdown(t *testing.T) {
	for round := range 12 {
		logs := &lockedBuffer{}
		ts := newTestServer(t, func(c *Config) { c.Log = logs })
		var wg sync.WaitGroup
		for i := range 6 {
			path, sub := "/api/sessions/s1/ws", []string(nil)
			if i%2 == 1 {
				path, sub = "/foxglove", []string{foxSubprotocol}
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				d := websocket.Dialer{Subprotocols: sub, HandshakeTimeout: 5 * time.Second}
				c, resp, err := d.Dial(ts.wsURL(path, url.Values{"token": {testToken}}), nil)
				if err != nil {
					// 503 while shutting down; 404 once the session is gone.
					if resp != nil && resp.StatusCode != http.StatusServiceUnavailable && resp.StatusCode != http.StatusNotFound {
						t.Errorf("round %d: %s refused with %d; want 503 or 404 while shutting down", round, path, resp.StatusCode)
					}
					return // refused, or the listener already closed
				}
				defer c.Close()
				c.SetReadDeadline(time.Now().Add(15 * time.Second))
				for {
					if _, _, err := c.ReadMessage(); err != nil {
						var ce *websocket.CloseError
						if errors.As(err, &ce) && ce.Code != websocket.CloseGoingAway && ce.Code != websocket.CloseTryAgainLater {
							t.Errorf("round %d: %s closed with %d; want 1001 (or 1013 from a session already closed)", round, path, ce.Code)
						}
						if ne, ok := err.(net.Error); ok && ne.Timeout() {
							t.Errorf("round %d: %s still open 15 s after the shutdown began", round, path)
						}
						return
					}
				}
			}()
		}
		time.Sleep(time.Duration(round) * time.Millisecond) // vary where the shutdown meets them
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		if err := ts.Shutdown(ctx); err != nil {
			t.Errorf("round %d: Shutdown: %v", round, err)
		}
		cancel()
		wg.Wait()
		if strings.Contains(logs.String(), "deadline passed") {
			t.Errorf("round %d: the shutdown waited out its deadline:\n%s", round, logs.String())
		}
	}
}
