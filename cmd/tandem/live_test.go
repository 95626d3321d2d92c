package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"tandem/demos"
	"tandem/sim"
	"tandem/web"
)

// padRecording is a composed Xbox 360 pad recording: RB held while the
// left stick is pushed, RB released, Y (success) pressed, Start (reset)
// pressed (teleop/evdev/testdata, see its header).
const padRecording = "../../teleop/evdev/testdata/xbox360-takeover-success-reset.events"

// serveLive starts a reach server on the wall clock with the pad attached
// to its default session, recording into dir, as `tandem serve --task reach
// --policy random --device FILE` does.
func serveLive(t *testing.T, dir string, devices ...string) *web.Server {
	t.Helper()
	srv, err := web.New(web.Config{Addr: "127.0.0.1:0", DataDir: dir, Task: "reach", Policy: "random", Token: "live-test-token",
		Devices: devices, OpenDevice: openServeDevice, Log: &bytes.Buffer{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	return srv
}

func shutdown(t *testing.T, srv *web.Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}

// waitEpisodes polls the store read-only until ok holds for its episodes.
func waitEpisodes(t *testing.T, dir, what string, ok func([]demos.Episode) bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		st, err := demos.Open(context.Background(), dir, demos.Options{ReadOnly: true})
		if err == nil {
			eps, err := st.ListEpisodes(context.Background(), demos.Filter{})
			st.Close()
			if err == nil && ok(eps) {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: not within 30 s", what)
}

// TestPadButtonsTakeOverLabelAndReset plays the composed pad recording into
// a live reach session: the store holds human steps by the pad's operator,
// the episode is labelled success by it, and Start began a new episode.
// A browser operator intervenes in the same episode first; the episode
// then replays exactly with `tandem demos replay`.
func TestPadButtonsTakeOverLabelAndReset(t *testing.T) {
	dir := t.TempDir()
	srv := serveLive(t, dir)
	defer shutdown(t, srv)

	// The browser takes over for a moment, then the pad is plugged in.
	u := url.URL{Scheme: "ws", Host: srv.Addr(), Path: "/api/sessions/s1/ws", RawQuery: "token=live-test-token&operator=bob"}
	c, _, err := websocket.DefaultDialer.Dial(u.String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	go func() { // drain
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				return
			}
		}
	}()
	for i := range 5 {
		msg := `{"type":"command","seq":` + strconv.Itoa(i+1) + `,"action":[0.5,0.5],"engaged":true}`
		if err := c.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(30 * time.Millisecond)
	}
	c.WriteMessage(websocket.TextMessage, []byte(`{"type":"command","seq":9,"action":[0,0],"engaged":false}`))
	time.Sleep(100 * time.Millisecond)
	rec, err := filepath.Abs(padRecording)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.AttachDevice("s1", rec); err != nil {
		t.Fatal(err)
	}

	const pad = "dev:xbox360-takeover-success-reset.events"
	waitEpisodes(t, dir, "a labelled episode and the next", func(eps []demos.Episode) bool {
		return len(eps) >= 2 && eps[0].Label != ""
	})
	shutdown(t, srv)

	ctx := context.Background()
	st, err := demos.Open(ctx, dir, demos.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	eps, err := st.ListEpisodes(ctx, demos.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	ep := eps[0]
	if ep.Label != sim.LabelSuccess || ep.LabelBy != pad || ep.Outcome != demos.Cut {
		t.Fatalf("episode 1: label %q by %q, outcome %s; want success by %s, cut by Start", ep.Label, ep.LabelBy, ep.Outcome, pad)
	}
	if eps[1].Start.Before(ep.End) {
		t.Errorf("episode 2 starts %v, before episode 1 ended %v", eps[1].Start, ep.End)
	}
	steps, err := st.Steps(ctx, ep.ID)
	if err != nil {
		t.Fatal(err)
	}
	byOp := map[string]int{}
	for _, s := range steps {
		if s.Source == sim.Human {
			byOp[s.Operator]++
		}
	}
	if byOp[pad] < 5 || byOp["browser:bob"] == 0 {
		t.Fatalf("human steps by operator %v; want several by %s and some by browser:bob", byOp, pad)
	}
	// Wall-clock ticks: a late wake-up may run two ticks back to back and
	// the loop then catches up, so the spacing holds on average.
	span := steps[len(steps)-1].Wall.Sub(steps[0].Wall)
	if per := span / time.Duration(len(steps)-1); per < 45*time.Millisecond || per > 55*time.Millisecond {
		t.Errorf("steps %v apart on average; want 1/ControlHz = 50ms", per)
	}
	code, out, errOut := tandem(t, "demos", "replay", "--data", dir, "--json", strconv.FormatInt(ep.ID, 10))
	if code != 0 || !strings.Contains(out, `"verified"`) {
		t.Fatalf("demos replay of a live episode with browser and pad interventions: exit %d, %s %s", code, out, errOut)
	}
	var res struct {
		Verified int `json:"verified"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.Verified != len(steps) {
		t.Fatalf("replay %s: %v; want all %d steps verified", out, err, len(steps))
	}
}

// TestLiveAndRolloutEpisodesExportTogether records a live reach session
// and a headless rollout of the same task in one store: they share one
// step rate, so a LeRobot export of both succeeds.
func TestLiveAndRolloutEpisodesExportTogether(t *testing.T) {
	dir := t.TempDir()
	rec, err := filepath.Abs(padRecording)
	if err != nil {
		t.Fatal(err)
	}
	srv := serveLive(t, dir, rec)
	waitEpisodes(t, dir, "live steps", func(eps []demos.Episode) bool { return len(eps) >= 1 && eps[0].Length >= 20 })
	shutdown(t, srv)
	if code, out, errOut := tandem(t, "rollout", "--task", "reach", "--episodes", "3", "--record", "--data", dir); code != 0 {
		t.Fatalf("rollout: exit %d: %s %s", code, out, errOut)
	}
	exp := filepath.Join(t.TempDir(), "reach")
	code, out, errOut := tandem(t, "demos", "export", "--data", dir, "--format", "lerobot", "--task", "reach", "--out", exp)
	if code != 0 {
		t.Fatalf("lerobot export of live and rollout reach episodes: exit %d: %s %s", code, out, errOut)
	}
	var info struct {
		FPS           float64 `json:"fps"`
		TotalEpisodes int     `json:"total_episodes"`
	}
	b, err := os.ReadFile(filepath.Join(exp, "meta", "info.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &info); err != nil {
		t.Fatal(err)
	}
	if info.FPS != 20 || info.TotalEpisodes < 4 {
		t.Errorf("dataset fps %g with %d episodes; want 20 fps and the live and rollout episodes", info.FPS, info.TotalEpisodes)
	}
}
