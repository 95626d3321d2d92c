package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
	"github.com/spf13/cobra"
)

func init() { commands = append(commands, newLoadtestCmd) }

// Bounds of tandem loadtest: it is a measuring tool for one machine, not
// a way to attack someone else's server.
const (
	maxLoadDuration  = 5 * time.Minute
	maxLoadSessions  = 64
	maxLoadViewers   = 5000 // per session, and for the viewer flood
	maxLoadOperators = 16   // per session
	maxLoadIdle      = 50000
	maxLoadFoxSubs   = 100000
)

type loadFlags struct {
	addr, token, task      string
	pid                    int
	sessions, viewers      int
	operators              int
	duration               time.Duration
	idleConns, viewerFlood int
	resetFlood             time.Duration
	foxSubs                int
	serverNofile           int
	data                   string
	skipBadInput           bool
	holdIdle               int // helper mode: hold this many idle connections to --addr
}

func newLoadtestCmd() *cobra.Command {
	var f loadFlags
	cmd := &cobra.Command{
		Use:   "loadtest",
		Short: "Measure a tandem server on this machine under human load and the abusive patterns of docs/security.md",
		Long: `Loadtest starts tandem serve as a child process on 127.0.0.1 (or, with --addr, uses
a server already listening on a loopback address) and measures it: --sessions
sessions each watched by --viewers viewers and driven by --operators operators at
human rates (commands at 30 Hz in 2 s bursts) for --duration, then the abusive
patterns one at a time while that load goes on: --idle-conns idle TCP connections
(with /api/health timed and an operator taking over through them), a --viewer-flood
of one session followed by an operator taking over, a control --reset-flood,
--fox-subs Foxglove subscriptions on one connection, and out-of-range rates, speeds
and foreign Host headers. It prints one JSON report: per phase, latency (health,
frame, command-to-ack, takeover), ticks and overruns, dropped frames and steps,
the server's peak RSS and descriptors, and refusals.

It refuses targets that are not loopback addresses, and bounds counts and time.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runLoadtest(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.addr, "addr", "", "a running server on a loopback address (default: start one)")
	fl.StringVar(&f.token, "token", "", "its operator token (with --addr; default $TANDEM_TOKEN)")
	fl.IntVar(&f.pid, "pid", 0, "its process id, for RSS and descriptors (with --addr)")
	fl.StringVar(&f.task, "task", "push-t", "task of the sessions")
	fl.IntVar(&f.sessions, "sessions", 4, fmt.Sprintf("sessions under human load (at most %d)", maxLoadSessions))
	fl.IntVar(&f.viewers, "viewers", 8, fmt.Sprintf("viewers per session (at most %d)", maxLoadViewers))
	fl.IntVar(&f.operators, "operators", 1, fmt.Sprintf("operators per session (at most %d)", maxLoadOperators))
	fl.DurationVar(&f.duration, "duration", 10*time.Second, "length of the baseline phase (at most 5m)")
	fl.IntVar(&f.idleConns, "idle-conns", 2000, fmt.Sprintf("idle connections in the idle flood (0 skips it; at most %d)", maxLoadIdle))
	fl.IntVar(&f.viewerFlood, "viewer-flood", 1100, fmt.Sprintf("viewers of one session in the viewer flood (0 skips it; at most %d)", maxLoadViewers))
	fl.DurationVar(&f.resetFlood, "reset-flood", 2*time.Second, "length of the control flood (0 skips it)")
	fl.IntVar(&f.foxSubs, "fox-subs", 40000, fmt.Sprintf("Foxglove subscriptions asked on one connection (0 skips it; at most %d)", maxLoadFoxSubs))
	fl.IntVar(&f.serverNofile, "server-nofile", 20000, "descriptor limit of the server it starts (ulimit -n)")
	fl.StringVar(&f.data, "data", "", "data directory of the server it starts (default: a temporary one, removed after)")
	fl.BoolVar(&f.skipBadInput, "no-bad-input", false, "skip the out-of-range and foreign-Host checks")
	fl.IntVar(&f.holdIdle, "hold-idle", 0, "helper: hold this many idle connections to --addr until stdin closes")
	fl.MarkHidden("hold-idle")
	return cmd
}

// latency summarises a set of durations in milliseconds.
type latency struct {
	N        int     `json:"n"`
	P50      float64 `json:"p50_ms"`
	P99      float64 `json:"p99_ms"`
	Max      float64 `json:"max_ms"`
	Failures int     `json:"failures,omitempty"`
}

func summarise(ds []time.Duration, failures int) latency {
	l := latency{N: len(ds), Failures: failures}
	if len(ds) == 0 {
		return l
	}
	slices.Sort(ds)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	l.P50, l.P99, l.Max = ms(ds[len(ds)/2]), ms(ds[min(len(ds)-1, len(ds)*99/100)]), ms(ds[len(ds)-1])
	return l
}

// loadPhase is what one phase measured.
type loadPhase struct {
	Name            string          `json:"name"`
	Seconds         float64         `json:"seconds"`
	Health          latency         `json:"health"`
	Frames          latency         `json:"frame_latency"`
	Acks            latency         `json:"command_to_ack"`
	TakeoverMS      float64         `json:"takeover_ms,omitempty"`
	Ticks           float64         `json:"ticks"`
	Overruns        float64         `json:"overruns"`
	DroppedFrames   float64         `json:"dropped_frames"`
	DroppedSteps    float64         `json:"recorder_dropped_steps"`
	RSSMaxMB        float64         `json:"server_rss_max_mb,omitempty"`
	FDsMax          int             `json:"server_fds_max,omitempty"`
	ConnsMax        float64         `json:"server_connections_max"`
	ConnsRefused    float64         `json:"connections_refused"`
	ConnsEvicted    float64         `json:"connections_evicted"`
	RateLimited     float64         `json:"rate_limited_messages,omitempty"`
	Counts          map[string]int  `json:"counts,omitempty"`
	Checks          map[string]bool `json:"checks,omitempty"`
	Errors          []string        `json:"errors,omitempty"`
	errMu           sync.Mutex
	healthDurations []time.Duration
	healthFails     int
}

func (p *loadPhase) fail(format string, args ...any) {
	p.errMu.Lock()
	defer p.errMu.Unlock()
	if len(p.Errors) < 20 {
		p.Errors = append(p.Errors, fmt.Sprintf(format, args...))
	}
}

type loadReport struct {
	Target struct {
		Addr     string `json:"addr"`
		PID      int    `json:"pid,omitempty"`
		Nofile   int    `json:"server_nofile,omitempty"`
		Started  bool   `json:"started_by_loadtest"`
		Task     string `json:"task"`
		Sessions int    `json:"sessions"`
		Viewers  int    `json:"viewers_per_session"`
		Ops      int    `json:"operators_per_session"`
	} `json:"target"`
	ClientNofile int          `json:"client_nofile"`
	Phases       []*loadPhase `json:"phases"`
}

// loadTarget is the server under test.
type loadTarget struct {
	addr, token string
	pid         int
	http        *http.Client
	ids         []string // sessions it made
	probe       string   // the one without baseline load
}

func (f *loadFlags) check() error {
	switch {
	case f.duration <= 0 || f.duration > maxLoadDuration:
		return usagef("--duration must be in (0, %v]", maxLoadDuration)
	case f.sessions < 1 || f.sessions > maxLoadSessions:
		return usagef("--sessions must be in [1, %d]", maxLoadSessions)
	case f.viewers < 0 || f.viewers > maxLoadViewers, f.viewerFlood < 0 || f.viewerFlood > maxLoadViewers:
		return usagef("--viewers and --viewer-flood must be in [0, %d]", maxLoadViewers)
	case f.operators < 0 || f.operators > maxLoadOperators:
		return usagef("--operators must be in [0, %d]", maxLoadOperators)
	case f.idleConns < 0 || f.idleConns > maxLoadIdle:
		return usagef("--idle-conns must be in [0, %d]", maxLoadIdle)
	case f.foxSubs < 0 || f.foxSubs > maxLoadFoxSubs:
		return usagef("--fox-subs must be in [0, %d]", maxLoadFoxSubs)
	case f.resetFlood < 0 || f.resetFlood > time.Minute:
		return usagef("--reset-flood must be in [0, 1m]")
	case f.serverNofile < 256 || f.serverNofile > 1<<20:
		return usagef("--server-nofile must be in [256, 1048576]")
	case f.holdIdle < 0 || f.holdIdle > maxLoadIdle:
		return usagef("--hold-idle must be in [0, %d]", maxLoadIdle)
	case f.holdIdle > 0 && f.addr == "":
		return usagef("--hold-idle needs --addr")
	}
	if f.addr != "" {
		host, _, err := net.SplitHostPort(f.addr)
		ip := net.ParseIP(host)
		if err != nil || ip == nil || !ip.IsLoopback() {
			return usagef("--addr %q: loadtest measures servers on a loopback address (127.0.0.1:PORT, [::1]:PORT) only", f.addr)
		}
	}
	return nil
}

func runLoadtest(ctx context.Context, out, log io.Writer, f loadFlags) error {
	if err := f.check(); err != nil {
		return err
	}
	if f.holdIdle > 0 {
		return holdIdle(out, f.addr, f.holdIdle)
	}
	if ctx == nil {
		ctx = context.Background()
	}
	var rep loadReport
	need := f.viewerFlood + f.sessions*(f.viewers+f.operators) + 1024 // idle connections are held by helpers
	rep.ClientNofile = raiseNofile(need)
	if rep.ClientNofile < need {
		fmt.Fprintf(log, "tandem loadtest: this process may open %d descriptors, fewer than the %d the run needs; connections beyond fail and are counted\n", rep.ClientNofile, need)
	}
	tg := &loadTarget{addr: f.addr, token: f.token, pid: f.pid,
		http: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}}
	if tg.token == "" {
		tg.token = os.Getenv("TANDEM_TOKEN")
	}
	if tg.addr == "" {
		stop, err := tg.start(ctx, log, f)
		if err != nil {
			return err
		}
		defer stop()
		rep.Target.Started, rep.Target.Nofile = true, f.serverNofile
	}
	rep.Target.Addr, rep.Target.PID, rep.Target.Task = tg.addr, tg.pid, f.task
	rep.Target.Sessions, rep.Target.Viewers, rep.Target.Ops = f.sessions, f.viewers, f.operators

	// --sessions under human load, and one more for the abuse phases and
	// the takeovers (an operator of the baseline would hold authority).
	for range f.sessions + 1 {
		var in struct{ ID string }
		body := fmt.Sprintf(`{"task":%q,"mode":"shared","idle_pause_s":0}`, f.task)
		if code, err := tg.rest("POST", "/api/sessions", body, &in, nil); err != nil || code != 201 {
			return fmt.Errorf("create session: status %d: %v", code, err)
		}
		tg.ids = append(tg.ids, in.ID)
	}
	tg.probe = tg.ids[f.sessions]
	defer func() {
		for _, id := range tg.ids {
			tg.rest("DELETE", "/api/sessions/"+id, "", nil, nil)
		}
	}()

	// The baseline load runs through every phase.
	load := newHumanLoad(tg, f, tg.ids[:f.sessions])
	defer load.stop()
	settled := 0.0
	run := func(name string, d time.Duration, body func(p *loadPhase)) {
		p := &loadPhase{Name: name, Counts: map[string]int{}, Checks: map[string]bool{}}
		fmt.Fprintf(log, "tandem loadtest: %s\n", name)
		if settled > 0 { // let the previous phase's connections close first
			for end := time.Now().Add(10 * time.Second); time.Now().Before(end) && tg.metrics()["tandem_http_connections"] > settled+2; {
				sleepCtx(ctx, 100*time.Millisecond)
			}
		}
		mon := tg.monitor(p)
		load.reset()
		start := time.Now()
		body(p)
		if rest := d - time.Since(start); rest > 0 {
			sleepCtx(ctx, rest)
		}
		p.Seconds = time.Since(start).Seconds()
		mon.stop()
		load.collect(p)
		p.Health = summarise(p.healthDurations, p.healthFails)
		rep.Phases = append(rep.Phases, p)
	}
	run("baseline", f.duration, func(p *loadPhase) { tg.probeHealth(ctx, p, f.duration, 500*time.Millisecond) })
	settled = tg.metrics()["tandem_http_connections"]
	if f.idleConns > 0 {
		run("idle-connections", 0, func(p *loadPhase) { tg.idleFlood(ctx, p, f.idleConns) })
	}
	if f.viewerFlood > 0 {
		run("viewer-flood", 0, func(p *loadPhase) { tg.viewerFlood(ctx, p, f.viewerFlood) })
	}
	if f.resetFlood > 0 {
		run("reset-flood", 0, func(p *loadPhase) { tg.resetFlood(ctx, p, f.resetFlood) })
	}
	if f.foxSubs > 0 {
		run("foxglove-subscriptions", 0, func(p *loadPhase) { tg.foxFlood(ctx, p, f.foxSubs) })
	}
	if !f.skipBadInput {
		run("bad-input", 0, func(p *loadPhase) { tg.badInput(p) })
	}
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

func sleepCtx(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// selfCommand is how loadtest runs `tandem serve`: this executable (tests
// replace it with the test binary).
var selfCommand = func(args ...string) *exec.Cmd {
	exe, err := os.Executable()
	if err != nil {
		exe = os.Args[0]
	}
	return exec.Command(exe, args...)
}

// start runs tandem serve on 127.0.0.1:0 with --server-nofile descriptors
// and waits until it listens.
func (tg *loadTarget) start(ctx context.Context, log io.Writer, f loadFlags) (stop func(), err error) {
	var b [16]byte
	rand.Read(b[:])
	tg.token = hex.EncodeToString(b[:])
	data := f.data
	cleanup := func() {}
	if data == "" {
		if data, err = os.MkdirTemp("", "tandem-loadtest-"); err != nil {
			return nil, err
		}
		cleanup = func() { os.RemoveAll(data) }
	}
	cmd := selfCommand("serve", "--addr", "127.0.0.1:0", "--data", data, "--task", f.task, "--idle-pause", "0", "--replay-idle", "0")
	limitNofile(cmd, f.serverNofile)
	cmd.Env = append(cmd.Environ(), "TANDEM_TOKEN="+tg.token)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		cleanup()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		cleanup()
		return nil, fmt.Errorf("start tandem serve: %w", err)
	}
	tg.pid = cmd.Process.Pid
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			if a, ok := strings.CutPrefix(line, "tandem: listening on http://"); ok && !sent {
				addrc <- a
				sent = true
			}
			if strings.Contains(line, "level=ERROR") || strings.HasPrefix(line, "tandem: shutdown") {
				fmt.Fprintln(log, "server:", line)
			}
		}
		if !sent {
			close(addrc)
		}
	}()
	select {
	case a, ok := <-addrc:
		if !ok {
			cmd.Wait()
			cleanup()
			return nil, errors.New("tandem serve exited before listening")
		}
		tg.addr = a
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		cleanup()
		return nil, errors.New("tandem serve did not listen within 30 s")
	}
	return func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				fmt.Fprintf(log, "tandem loadtest: server exit: %v\n", err)
			}
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		cleanup()
	}, nil
}

// rest sends a request to the server with the token.
func (tg *loadTarget) rest(method, path, body string, out any, hdr map[string]string) (int, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, "http://"+tg.addr+path, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+tg.token)
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := tg.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && len(b) > 0 {
		json.Unmarshal(b, out)
	}
	return resp.StatusCode, nil
}

// health times one /api/health on a new connection (as a monitoring
// probe or a person reloading would).
func (tg *loadTarget) health() (time.Duration, error) {
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	start := time.Now()
	resp, err := c.Get("http://" + tg.addr + "/api/health")
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return 0, fmt.Errorf("status %d", resp.StatusCode)
	}
	return time.Since(start), nil
}

func (tg *loadTarget) probeHealth(ctx context.Context, p *loadPhase, d, every time.Duration) {
	end := time.Now().Add(d)
	for time.Now().Before(end) && ctx.Err() == nil {
		if dt, err := tg.health(); err != nil {
			p.healthFails++
			p.fail("health: %v", err)
		} else {
			p.healthDurations = append(p.healthDurations, dt)
		}
		sleepCtx(ctx, every)
	}
}

// metrics scrapes /metrics and sums each series over its labels.
func (tg *loadTarget) metrics() map[string]float64 {
	out := map[string]float64{}
	req, _ := http.NewRequest("GET", "http://"+tg.addr+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+tg.token)
	resp, err := tg.http.Do(req)
	if err != nil {
		return out
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		name, val, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil {
			continue
		}
		if i := strings.IndexByte(name, '{'); i >= 0 {
			out[name] = v // the labelled series itself
			name = name[:i]
		}
		out[name] += v
	}
	return out
}

// monitor samples the server's RSS, descriptors and connections while a
// phase runs, and the counters' change over it.
type monitor struct {
	tg     *loadTarget
	p      *loadPhase
	before map[string]float64
	done   chan struct{}
	wg     sync.WaitGroup
}

func (tg *loadTarget) monitor(p *loadPhase) *monitor {
	m := &monitor{tg: tg, p: p, before: tg.metrics(), done: make(chan struct{})}
	m.wg.Go(func() {
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			m.sample()
			select {
			case <-m.done:
				return
			case <-t.C:
			}
		}
	})
	return m
}

func (m *monitor) sample() {
	if m.tg.pid > 0 {
		if rss := procRSSMB(m.tg.pid); rss > m.p.RSSMaxMB {
			m.p.RSSMaxMB = rss
		}
		if n := procFDs(m.tg.pid); n > m.p.FDsMax {
			m.p.FDsMax = n
		}
	}
	if c := m.tg.metrics()["tandem_http_connections"]; c > m.p.ConnsMax {
		m.p.ConnsMax = c
	}
}

func (m *monitor) stop() {
	close(m.done)
	m.wg.Wait()
	m.sample()
	after := m.tg.metrics()
	d := func(name string) float64 { return after[name] - m.before[name] }
	m.p.Ticks, m.p.Overruns = d("tandem_ticks_total"), d("tandem_tick_overruns_total")
	m.p.DroppedFrames, m.p.DroppedSteps = d("tandem_ws_dropped_frames_total"), d("tandem_recorder_dropped_steps_total")
	m.p.ConnsRefused, m.p.ConnsEvicted = d("tandem_http_connections_refused_total"), d("tandem_http_connections_evicted_total")
	// The per-session counters of sessions that ended are gone: a
	// negative change means sessions were deleted, not time reversed.
	m.p.Ticks, m.p.Overruns = max(m.p.Ticks, 0), max(m.p.Overruns, 0)
}

func procRSSMB(pid int) float64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

func procFDs(pid int) int {
	ents, err := os.ReadDir(filepath.Join("/proc", strconv.Itoa(pid), "fd"))
	if err != nil {
		return 0
	}
	return len(ents)
}

// wsMsg is the part of a protocol message loadtest reads.
type wsMsg struct {
	Type    string `json:"type"`
	Wall    int64  `json:"wall"`
	Ack     uint64 `json:"ack"`
	Code    string `json:"code"`
	Session struct {
		Authority struct {
			Holder string `json:"holder"`
		} `json:"authority"`
	} `json:"session"`
}

func (tg *loadTarget) wsURL(id string, q url.Values) string {
	u := url.URL{Scheme: "ws", Host: tg.addr, Path: "/api/sessions/" + id + "/ws", RawQuery: q.Encode()}
	return u.String()
}

// humanLoad is the baseline: viewers reading every frame and operators
// driving in bursts, on every session, until stop.
type humanLoad struct {
	mu      sync.Mutex
	frames  []time.Duration
	acks    []time.Duration
	failed  int
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	dialErr atomic.Int64
}

func newHumanLoad(tg *loadTarget, f loadFlags, ids []string) *humanLoad {
	ctx, cancel := context.WithCancel(context.Background())
	h := &humanLoad{cancel: cancel}
	for _, id := range ids {
		for range f.viewers {
			h.wg.Go(func() { h.viewer(ctx, tg, id) })
		}
		for i := range f.operators {
			h.wg.Go(func() { h.operator(ctx, tg, id, fmt.Sprintf("load%d", i)) })
		}
	}
	return h
}

func (h *humanLoad) reset() {
	h.mu.Lock()
	h.frames, h.acks, h.failed = h.frames[:0], h.acks[:0], 0
	h.mu.Unlock()
}

func (h *humanLoad) collect(p *loadPhase) {
	h.mu.Lock()
	defer h.mu.Unlock()
	p.Frames = summarise(slices.Clone(h.frames), 0)
	p.Acks = summarise(slices.Clone(h.acks), h.failed)
	p.Counts["baseline_dial_failures"] = int(h.dialErr.Load())
}

func (h *humanLoad) stop() {
	h.cancel()
	h.wg.Wait()
}

func (h *humanLoad) viewer(ctx context.Context, tg *loadTarget, id string) {
	c, _, err := websocket.DefaultDialer.DialContext(ctx, tg.wsURL(id, url.Values{"role": {"viewer"}, "token": {tg.token}}), nil)
	if err != nil {
		h.dialErr.Add(1)
		return
	}
	defer c.Close()
	go func() { <-ctx.Done(); c.Close() }()
	for {
		_, b, err := c.ReadMessage()
		if err != nil {
			return
		}
		var m wsMsg
		if json.Unmarshal(b, &m) == nil && m.Type == "frame" && m.Wall > 0 {
			d := time.Since(time.UnixMilli(m.Wall))
			h.mu.Lock()
			if len(h.frames) < 1_000_000 {
				h.frames = append(h.frames, max(d, 0))
			}
			h.mu.Unlock()
		}
	}
}

// operator drives at a person's rate: 2 s engaged with commands at 30 Hz,
// 2 s idle, and times each command until a frame acknowledges it.
func (h *humanLoad) operator(ctx context.Context, tg *loadTarget, id, name string) {
	c, _, err := websocket.DefaultDialer.DialContext(ctx, tg.wsURL(id, url.Values{"token": {tg.token}, "operator": {name}}), nil)
	if err != nil {
		h.dialErr.Add(1)
		return
	}
	defer c.Close()
	var mu sync.Mutex
	sent := map[uint64]time.Time{}
	go func() {
		for {
			_, b, err := c.ReadMessage()
			if err != nil {
				return
			}
			var m wsMsg
			if json.Unmarshal(b, &m) != nil || m.Type != "frame" || m.Ack == 0 {
				continue
			}
			now := time.Now()
			mu.Lock()
			for seq, at := range sent {
				if seq <= m.Ack {
					h.mu.Lock()
					h.acks = append(h.acks, now.Sub(at))
					h.mu.Unlock()
					delete(sent, seq)
				}
			}
			mu.Unlock()
		}
	}()
	var seq uint64
	t := time.NewTicker(time.Second / 30)
	defer t.Stop()
	start := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		engaged := int(time.Since(start)/(2*time.Second))%2 == 0
		if !engaged {
			continue
		}
		seq++
		mu.Lock()
		sent[seq] = time.Now()
		if len(sent) > 1000 { // never acknowledged: the session dropped them
			for k := range sent {
				delete(sent, k)
				h.mu.Lock()
				h.failed++
				h.mu.Unlock()
				break
			}
		}
		mu.Unlock()
		msg := fmt.Sprintf(`{"type":"command","seq":%d,"action":[0.1,0.1],"engaged":true}`, seq)
		c.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if err := c.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
			return
		}
	}
}

// takeover connects an operator to session id, takes over and returns
// how long it took until a state message named it the holder.
func (tg *loadTarget) takeover(ctx context.Context, id, name string) (time.Duration, error) {
	start := time.Now()
	c, resp, err := websocket.DefaultDialer.DialContext(ctx, tg.wsURL(id, url.Values{"token": {tg.token}, "operator": {name}}), nil)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		return 0, fmt.Errorf("dial: %v (status %d)", err, status)
	}
	defer c.Close()
	if err := c.WriteMessage(websocket.TextMessage, []byte(`{"type":"control","op":"takeover"}`)); err != nil {
		return 0, err
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, b, err := c.ReadMessage()
		if err != nil {
			return 0, fmt.Errorf("waiting for the takeover: %v", err)
		}
		var m wsMsg
		if json.Unmarshal(b, &m) == nil && m.Type == "state" && m.Session.Authority.Holder == "browser:"+name {
			d := time.Since(start)
			c.WriteMessage(websocket.TextMessage, []byte(`{"type":"control","op":"handback"}`))
			return d, nil
		}
	}
}

// idleHelperConns is how many idle connections one helper process holds:
// a process's own descriptor limit (20,000 here) is below the floods
// issue 15 asks for, so they are spread over helpers.
const idleHelperConns = 8000

// idleFlood has helper processes open n idle TCP connections, then times
// /api/health and an operator's takeover through them.
func (tg *loadTarget) idleFlood(ctx context.Context, p *loadPhase, n int) {
	start := time.Now()
	type helper struct {
		cmd   *exec.Cmd
		stdin io.WriteCloser
	}
	var helpers []helper
	defer func() {
		for _, h := range helpers {
			h.stdin.Close() // the helper closes its connections and exits
			h.cmd.Wait()
		}
	}()
	opened, failed := 0, 0
	for left := n; left > 0; left -= idleHelperConns {
		k := min(left, idleHelperConns)
		cmd := selfCommand("loadtest", "--addr", tg.addr, "--hold-idle", strconv.Itoa(k))
		stdin, err := cmd.StdinPipe()
		if err != nil {
			p.fail("helper: %v", err)
			break
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			p.fail("helper: %v", err)
			break
		}
		if err := cmd.Start(); err != nil {
			p.fail("helper: %v", err)
			break
		}
		helpers = append(helpers, helper{cmd, stdin})
		var held struct{ Held, Failed int }
		if err := json.NewDecoder(stdout).Decode(&held); err != nil {
			p.fail("helper report: %v", err)
			continue
		}
		opened, failed = opened+held.Held, failed+held.Failed
	}
	p.Counts["idle_opened"], p.Counts["idle_dial_failures"], p.Counts["idle_helpers"] = opened, failed, len(helpers)
	p.Counts["idle_open_ms"] = int(time.Since(start).Milliseconds())
	tg.probeHealth(ctx, p, 3*time.Second, 100*time.Millisecond)
	if dt, err := tg.takeover(ctx, tg.probe, "idle-flood-op"); err != nil {
		p.fail("takeover through the idle flood: %v", err)
	} else {
		p.TakeoverMS = float64(dt.Microseconds()) / 1000
	}
	p.Checks["health within 2 s"] = p.healthFails == 0 && len(p.healthDurations) > 0 && slices.Max(p.healthDurations) <= 2*time.Second
	p.Checks["operator took over"] = p.TakeoverMS > 0
}

// viewerFlood connects n viewers to one session, then an operator takes
// over.
func (tg *loadTarget) viewerFlood(ctx context.Context, p *loadPhase, n int) {
	id := tg.probe
	var conns []*websocket.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	accepted, refused, failed := 0, 0, 0
	for range n {
		c, _, err := websocket.DefaultDialer.DialContext(ctx, tg.wsURL(id, nil), nil)
		if err != nil {
			failed++
			continue
		}
		conns = append(conns, c)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, b, err := c.ReadMessage()
		var ce *websocket.CloseError
		switch {
		case err == nil && strings.Contains(string(b), `"hello"`):
			accepted++
			c.SetReadDeadline(time.Time{})
			go func() { // keep reading so the viewer is not slow
				for {
					if _, _, err := c.ReadMessage(); err != nil {
						return
					}
				}
			}()
		case errors.As(err, &ce) && ce.Code == websocket.CloseTryAgainLater:
			refused++
		default:
			failed++
		}
	}
	p.Counts["viewers_accepted"], p.Counts["viewers_refused_1013"], p.Counts["viewers_failed"] = accepted, refused, failed
	tg.probeHealth(ctx, p, time.Second, 100*time.Millisecond)
	if dt, err := tg.takeover(ctx, id, "viewer-flood-op"); err != nil {
		p.fail("takeover after the viewer flood: %v", err)
	} else {
		p.TakeoverMS = float64(dt.Microseconds()) / 1000
	}
	p.Checks["operator took over"] = p.TakeoverMS > 0
}

// resetFlood sends reset controls as fast as one connection can for d.
func (tg *loadTarget) resetFlood(ctx context.Context, p *loadPhase, d time.Duration) {
	id := tg.probe
	since := time.Now().UTC().Format(time.RFC3339Nano)
	c, _, err := websocket.DefaultDialer.DialContext(ctx, tg.wsURL(id, url.Values{"token": {tg.token}, "operator": {"flood"}}), nil)
	if err != nil {
		p.fail("dial: %v", err)
		return
	}
	defer c.Close()
	var errs, limited atomic.Int64
	go func() {
		for {
			_, b, err := c.ReadMessage()
			if err != nil {
				return
			}
			var m wsMsg
			if json.Unmarshal(b, &m) == nil && m.Type == "error" {
				errs.Add(1)
				if m.Code == "rate_limited" {
					limited.Add(1)
				}
			}
		}
	}()
	before := tg.metrics()["tandem_ws_rejected_messages_total"]
	end := time.Now().Add(d)
	sent := 0
	for time.Now().Before(end) {
		c.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if err := c.WriteMessage(websocket.TextMessage, []byte(`{"type":"control","op":"reset"}`)); err != nil {
			p.fail("write: %v", err)
			break
		}
		sent++
	}
	time.Sleep(500 * time.Millisecond)
	p.RateLimited = tg.metrics()["tandem_ws_rejected_messages_total"] - before
	var eps []json.RawMessage
	tg.rest("GET", "/api/episodes?since="+url.QueryEscape(since), "", &eps, nil)
	p.Counts["resets_sent"], p.Counts["rate_limited_errors_received"] = sent, int(limited.Load())
	p.Counts["episodes_started_everywhere"] = len(eps)
	tg.probeHealth(ctx, p, time.Second, 100*time.Millisecond)
	p.Checks["flood rate limited"] = p.RateLimited >= float64(sent)*0.9 || sent < 100
}

// foxFlood asks for n subscriptions on one Foxglove connection.
func (tg *loadTarget) foxFlood(ctx context.Context, p *loadPhase, n int) {
	d := websocket.Dialer{Subprotocols: []string{"foxglove.websocket.v1"}}
	u := url.URL{Scheme: "ws", Host: tg.addr, Path: "/foxglove", RawQuery: url.Values{"token": {tg.token}}.Encode()}
	c, _, err := d.DialContext(ctx, u.String(), nil)
	if err != nil {
		p.fail("dial: %v", err)
		return
	}
	defer c.Close()
	var limited atomic.Int64
	go func() {
		for {
			_, b, err := c.ReadMessage()
			if err != nil {
				return
			}
			if strings.Contains(string(b), `"op":"status"`) && strings.Contains(string(b), "the limit") {
				limited.Add(1) // one per refusing message
			}
		}
	}()
	const tooLarge = `tandem_ws_rejected_messages_total{reason="too_large"}`
	before := tg.metrics()[tooLarge]
	const perMsg = 300 // under the 16 KiB message limit
	for i := 0; i < n; i += perMsg {
		var subs []string
		for j := i; j < min(n, i+perMsg); j++ {
			subs = append(subs, fmt.Sprintf(`{"id":%d,"channelId":%d}`, j+1, 1+j%4))
		}
		c.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if err := c.WriteMessage(websocket.TextMessage, []byte(`{"op":"subscribe","subscriptions":[`+strings.Join(subs, ",")+`]}`)); err != nil {
			p.fail("write: %v", err)
			break
		}
	}
	tg.probeHealth(ctx, p, 2*time.Second, 100*time.Millisecond)
	p.Counts["subscriptions_asked"], p.Counts["subscriptions_refused"] = n, int(tg.metrics()[tooLarge]-before)
	p.Counts["refusal_statuses_received"] = int(limited.Load())
}

// badInput checks the refusals of issue 15: rates and speeds out of range
// and foreign Host headers.
func (tg *loadTarget) badInput(p *loadPhase) {
	for _, body := range []string{`{"control_hz":1e-300}`, `{"control_hz":1e-6}`, `{"teleop_hz":1e-300}`} {
		code, err := tg.rest("POST", "/api/sessions", body, nil, nil)
		p.Checks["POST /api/sessions "+body+" is 400"] = err == nil && code == 400
	}
	code, err := tg.rest("POST", "/api/replays", `{"episode":1,"speed":1e-300}`, nil, nil)
	p.Checks["replay speed 1e-300 is 400"] = err == nil && code == 400
	_, port, _ := net.SplitHostPort(tg.addr)
	code, err = tg.rest("GET", "/api/health", "", nil, map[string]string{"Host": "evil.example:" + port})
	p.Checks["Host evil.example is 403 (REST)"] = err == nil && code == 403
	h := http.Header{"Host": {"evil.example:" + port}}
	_, resp, _ := websocket.DefaultDialer.Dial(tg.wsURL(tg.ids[0], url.Values{"token": {tg.token}}), h)
	p.Checks["Host evil.example is 403 (session WebSocket)"] = resp != nil && resp.StatusCode == 403
	fd := websocket.Dialer{Subprotocols: []string{"foxglove.websocket.v1"}}
	_, resp, _ = fd.Dial("ws://"+tg.addr+"/foxglove?token="+tg.token, h)
	p.Checks["Host evil.example is 403 (Foxglove)"] = resp != nil && resp.StatusCode == 403
}

// holdIdle is the helper: it opens n TCP connections to addr that send
// nothing, reports {"held":K,"failed":F} on out, and holds them until its
// stdin closes.
func holdIdle(out io.Writer, addr string, n int) error {
	raiseNofile(n + 64)
	d := net.Dialer{Timeout: 3 * time.Second}
	conns := make([]net.Conn, 0, n)
	failed := 0
	for range n {
		c, err := d.Dial("tcp", addr)
		if err != nil {
			failed++
			continue
		}
		conns = append(conns, c)
	}
	json.NewEncoder(out).Encode(map[string]int{"held": len(conns), "failed": failed})
	io.Copy(io.Discard, os.Stdin)
	for _, c := range conns {
		c.Close()
	}
	return nil
}
