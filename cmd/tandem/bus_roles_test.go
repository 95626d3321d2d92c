package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"tandem/bus"
	"tandem/web"
)

// The multi-process tests run tandem's roles as separate processes on
// loopback: the test binary re-executed as the tandem binary, so no build
// step is needed.

const busChildEnv = "TANDEM_BUS_CHILD"

// TestBusChild is the child process: run(args) with args from the
// environment as JSON.
func TestBusChild(t *testing.T) {
	spec := os.Getenv(busChildEnv)
	if spec == "" {
		t.Skip("child process of the multi-process bus tests")
	}
	var args []string
	if err := json.Unmarshal([]byte(spec), &args); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	os.Exit(run(args, os.Stdout, os.Stderr))
}

// proc is one role process.
type proc struct {
	t    *testing.T
	name string
	args []string
	cmd  *exec.Cmd
	done chan struct{}
	err  error

	mu    sync.Mutex
	lines []string
	cond  chan struct{} // closed and replaced at each new line
}

// start runs tandem args as a child process named name.
func start(t *testing.T, name string, args ...string) *proc {
	t.Helper()
	spec, _ := json.Marshal(args)
	cmd := exec.Command(os.Args[0], "-test.run", "^TestBusChild$", "-test.v=false")
	cmd.Env = append(os.Environ(), busChildEnv+"="+string(spec), "GOMAXPROCS=2")
	// Anything a role writes to a default path lands in the test's own
	// directory, never in the source tree.
	cmd.Dir = t.TempDir()
	r, w := io.Pipe()
	cmd.Stdout, cmd.Stderr = w, w
	p := &proc{t: t, name: name, args: args, cmd: cmd, done: make(chan struct{}), cond: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			p.mu.Lock()
			p.lines = append(p.lines, sc.Text())
			close(p.cond)
			p.cond = make(chan struct{})
			p.mu.Unlock()
		}
	}()
	go func() {
		p.err = cmd.Wait()
		w.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() || os.Getenv("TANDEM_BUS_LOGS") != "" {
			p.dump(40)
		}
	})
	return p
}

func (p *proc) dump(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	from := max(0, len(p.lines)-n)
	p.t.Logf("--- %s (%s), last %d lines:\n%s", p.name, strings.Join(p.args, " "), len(p.lines)-from, strings.Join(p.lines[from:], "\n"))
}

// waitLine waits for an output line matching re (from the start) and
// returns its submatches.
func (p *proc) waitLine(re *regexp.Regexp, d time.Duration) []string {
	p.t.Helper()
	deadline := time.After(d)
	seen := 0
	for {
		p.mu.Lock()
		for ; seen < len(p.lines); seen++ {
			if m := re.FindStringSubmatch(p.lines[seen]); m != nil {
				p.mu.Unlock()
				return m
			}
		}
		c := p.cond
		p.mu.Unlock()
		select {
		case <-c:
		case <-p.done:
			p.mu.Lock()
			n := len(p.lines)
			p.mu.Unlock()
			if seen == n {
				time.Sleep(50 * time.Millisecond) // the last lines may still be in the pipe
				p.mu.Lock()
				n = len(p.lines)
				p.mu.Unlock()
				if seen == n {
					p.t.Fatalf("%s exited (%v) before printing %q", p.name, p.err, re)
				}
			}
		case <-deadline:
			p.t.Fatalf("%s: no line matching %q within %v", p.name, re, d)
		}
	}
}

// stop sends sig and waits for the exit; it returns the exit error.
func (p *proc) stop(sig os.Signal, d time.Duration) error {
	p.t.Helper()
	p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
		return p.err
	case <-time.After(d):
		p.t.Fatalf("%s did not exit within %v of %v", p.name, d, sig)
		return nil
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

var (
	listeningRE = regexp.MustCompile(`listening on (http://\S+)`)
	busURLRE    = regexp.MustCompile(`bus embedded NATS at (nats://\S+)`)
	trainedRE   = regexp.MustCompile(`^reach: (reach-bc-\d+) on \d+ episodes.*promoted`)
	anyTrainRE  = regexp.MustCompile(`^reach: reach-bc-\d+ on \d+ episodes`)
	trainingRE  = regexp.MustCompile(`msg="online training started" task=reach`)
)

// learnArgs are the learner's flags in these tests: behaviour cloning with
// a small network and few steps, quick to start a training, promoting
// whatever the first version scores.
func learnArgs(url, data string) []string {
	return []string{"learn", "--nats", url, "--data", data, "--algo", "bc", "--task", "reach",
		"--min-episodes", "3", "--eval-episodes", "5", "--promote-min", "0", "--every", "300ms",
		"--param", "steps=600", "--param", "hidden=32", "--ack-wait", "3s"}
}

// serveArgs run one reach session in auto mode on the task's current
// policy (the expert until a version is promoted), fixed seed.
func serveArgs(data string, extra ...string) []string {
	return append([]string{"serve", "--data", data, "--addr", "127.0.0.1:0", "--task", "reach", "--mode", "auto",
		"--policy", "current", "--seed", "1", "--token", testToken}, extra...)
}

// sessionVersion asks a serve which policy version its first session runs.
func sessionVersion(t *testing.T, base string) string {
	t.Helper()
	resp, err := http.Get(base + "/api/sessions")
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	var ss []web.SessionInfo
	if err := json.NewDecoder(resp.Body).Decode(&ss); err != nil || len(ss) == 0 {
		return ""
	}
	return ss[0].PolicyVersion
}

// episodesOf reads uid → (outcome, length, steps) from the store in dir.
func episodesOf(t *testing.T, dir string) map[string]string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "tandem.db")+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT uid, outcome, length, (SELECT count(*) FROM steps s WHERE s.episode_id = e.id) FROM episodes e`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var uid, outcome string
		var length, n int
		if err := rows.Scan(&uid, &outcome, &length, &n); err != nil {
			t.Fatal(err)
		}
		out[uid] = fmt.Sprintf("%s/%d/%d", outcome, length, n)
	}
	return out
}

func stepCount(t *testing.T, dir string) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "tandem.db")+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM steps`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// sameAsOrigins waits until the learner's store holds exactly the
// episodes of the origin stores (by uid: outcome, length and stored
// steps), every step once.
func sameAsOrigins(t *testing.T, learnDir string, origins ...string) {
	t.Helper()
	want := map[string]string{}
	wantSteps := 0
	for _, d := range origins {
		for uid, v := range episodesOf(t, d) {
			want[uid] = v
		}
		wantSteps += stepCount(t, d)
	}
	var got map[string]string
	deadline := time.Now().Add(60 * time.Second)
	for {
		got = episodesOf(t, learnDir)
		if fmt.Sprint(got) == fmt.Sprint(want) {
			break
		}
		if time.Now().After(deadline) {
			var diff []string
			for uid, w := range want {
				if got[uid] != w {
					diff = append(diff, fmt.Sprintf("%s: got %q want %q", uid, got[uid], w))
				}
			}
			for uid := range got {
				if _, ok := want[uid]; !ok {
					diff = append(diff, uid+": not in any origin")
				}
			}
			t.Fatalf("learner's store differs from the origins in %d of %d episodes: %s", len(diff), len(want), strings.Join(diff[:min(len(diff), 5)], "; "))
		}
		time.Sleep(200 * time.Millisecond)
	}
	if n := stepCount(t, learnDir); n != wantSteps {
		t.Fatalf("learner holds %d steps; the origins %d", n, wantSteps)
	}
	t.Logf("learner holds the %d episodes and %d steps of %d origin stores", len(want), wantSteps, len(origins))
}

// runRoles is the scenario both bus variants share: a serve recording a
// session that follows the current policy, a learner, two workers; a
// version is learned, published and picked up by the session; eval and
// rollout jobs run on the workers; the learner is killed mid-run and
// restarted; at the end the learner's store equals the serve's plus the
// workers'. url is how learn and work reach the bus; the serve is started
// by the caller (on dir/serve) and endRecording ends its recording;
// onRunning, if set, runs while everything is running (fault injection).
func runRoles(t *testing.T, dir, url, serveURL, replicas string, endRecording, onRunning func()) {
	learnDir := filepath.Join(dir, "learn")
	busArgs := []string{"--nats-replicas", replicas}
	learn := start(t, "learn", append(learnArgs(url, learnDir), busArgs...)...)
	var workers []*proc
	for i := range 2 {
		workers = append(workers, start(t, fmt.Sprintf("work%d", i), append([]string{"work", "--nats", url,
			"--data", filepath.Join(dir, fmt.Sprintf("work%d", i)), "--slots", "1", "--ack-wait", "3s"}, busArgs...)...))
	}
	// A version is learned from the serve's episodes, published, and the
	// serve's session runs it from its next episode.
	v := learn.waitLine(trainedRE, 90*time.Second)[1]
	deadline := time.Now().Add(30 * time.Second)
	for sessionVersion(t, serveURL) != v {
		if time.Now().After(deadline) {
			t.Fatalf("the serve's session runs %q; want the learned %s", sessionVersion(t, serveURL), v)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("learned %s; the serve's session switched to it", v)

	// Jobs on the workers: an evaluation of the learned version split in
	// four, a rollout whose episodes go to the learner.
	b, err := bus.Open(bus.Config{URLs: url, Name: "test", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ev, err := b.Evaluate(ctx, "reach", v, 8, 2, 0)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Episodes != 8 {
		t.Fatalf("evaluation of %d episodes; want 8", ev.Episodes)
	}
	rid, err := b.Submit(ctx, bus.Job{Kind: bus.JobRollout, Task: "reach", Policy: "current", Episodes: 3, FirstSeed: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if st, err := b.Wait(ctx, rid); err != nil || st.State != bus.JobDone {
		t.Fatalf("rollout job: %+v, %v", st, err)
	}

	// Kill the learner in the middle of a training (a long one: this
	// learner takes 300,000 gradient steps), go on recording, restart it.
	if err := learn.stop(syscall.SIGTERM, 20*time.Second); err != nil {
		t.Fatalf("learn: %v", err)
	}
	slow := append(learnArgs(url, learnDir), busArgs...)
	for i, a := range slow {
		if a == "steps=600" {
			slow[i] = "steps=300000"
		}
	}
	learn = start(t, "learn (slow)", slow...)
	learn.waitLine(trainingRE, 60*time.Second)
	time.Sleep(200 * time.Millisecond)
	learn.cmd.Process.Kill()
	<-learn.done
	learn.mu.Lock()
	for _, l := range learn.lines {
		if anyTrainRE.MatchString(l) {
			t.Fatalf("the slow learner finished a training before it was killed: %s", l)
		}
	}
	learn.mu.Unlock()
	if onRunning != nil {
		onRunning()
	}
	time.Sleep(time.Second)
	learn = start(t, "learn (restarted)", append(learnArgs(url, learnDir), busArgs...)...)
	learn.waitLine(anyTrainRE, 60*time.Second) // training resumes

	// End the recording (the last episode is stored cut and published),
	// then everything recorded anywhere is in the learner's store, once.
	endRecording()
	sameAsOrigins(t, learnDir, filepath.Join(dir, "serve"), filepath.Join(dir, "work0"), filepath.Join(dir, "work1"))
	if err := learn.stop(syscall.SIGTERM, 20*time.Second); err != nil {
		t.Fatalf("learn: %v", err)
	}
	for _, w := range workers {
		if err := w.stop(syscall.SIGTERM, 20*time.Second); err != nil {
			t.Fatalf("%s: %v", w.name, err)
		}
	}
}

// TestRolesOnTheEmbeddedBus: serve runs the bus (embedded, listening on
// loopback); learn and two workers connect to it.
func TestRolesOnTheEmbeddedBus(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process")
	}
	dir := t.TempDir()
	serve := start(t, "serve", serveArgs(filepath.Join(dir, "serve"), "--nats-listen", "127.0.0.1:0")...)
	url := serve.waitLine(busURLRE, 60*time.Second)[1]
	base := serve.waitLine(listeningRE, 60*time.Second)[1]
	// The serve hosts the bus: its session is deleted (recording ends)
	// while the bus stays up.
	runRoles(t, dir, url, base, "1", func() { deleteSession(t, base) }, nil)
	if err := serve.stop(syscall.SIGTERM, 30*time.Second); err != nil {
		t.Fatalf("serve: %v", err)
	}
}

const testToken = "test-token-1234"

// deleteSession ends a serve's first session (its recording flushes).
func deleteSession(t *testing.T, base string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodDelete, base+"/api/sessions/s1", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("DELETE session: %s", resp.Status)
	}
}

// cluster starts three `tandem bus` nodes forming a cluster and returns
// them and their client URLs, comma-joined.
func cluster(t *testing.T, dir string) ([]*proc, string) {
	t.Helper()
	var client, route []int
	for range 3 {
		client, route = append(client, freePort(t)), append(route, freePort(t))
	}
	var nodes []*proc
	var urls []string
	for i := range 3 {
		var routes []string
		for j := range 3 {
			if j != i {
				routes = append(routes, fmt.Sprintf("nats://127.0.0.1:%d", route[j]))
			}
		}
		nodes = append(nodes, start(t, fmt.Sprintf("nats%d", i), "bus", "--name", fmt.Sprintf("n%d", i),
			"--listen", fmt.Sprintf("127.0.0.1:%d", client[i]), "--store", filepath.Join(dir, fmt.Sprintf("nats%d", i)),
			"--cluster", "tandem", "--cluster-listen", fmt.Sprintf("127.0.0.1:%d", route[i]),
			"--routes", strings.Join(routes, ",")))
		urls = append(urls, fmt.Sprintf("nats://127.0.0.1:%d", client[i]))
	}
	for _, n := range nodes {
		n.waitLine(regexp.MustCompile(`listening on nats://`), 30*time.Second)
	}
	return nodes, strings.Join(urls, ",")
}

// TestRolesOnAThreeNodeCluster: the bus is a cluster of three NATS
// processes with replicated streams; one node is killed while everything
// runs, and nothing is lost.
func TestRolesOnAThreeNodeCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process")
	}
	dir := t.TempDir()
	nodes, urls := cluster(t, dir)
	serve := start(t, "serve", serveArgs(filepath.Join(dir, "serve"), "--nats", urls, "--nats-replicas", "3")...)
	base := serve.waitLine(listeningRE, 60*time.Second)[1]
	runRoles(t, dir, urls, base, "3", func() {
		if err := serve.stop(syscall.SIGTERM, 30*time.Second); err != nil {
			t.Fatalf("serve: %v", err)
		}
	}, func() {
		// A node dies (no clean stop): its streams elect new leaders on
		// the two left, and publishing goes on after a pause.
		nodes[0].cmd.Process.Kill()
		<-nodes[0].done
		t.Logf("killed bus node n0")
	})
}

// metric reads one unlabelled value from a serve's /metrics.
func metric(t *testing.T, base, name string) float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			var f float64
			fmt.Sscan(v, &f)
			return f
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// sessionTicks reads a serve's first session's tick and overrun counts
// and its tick (teleoperation) rate.
func sessionTicks(t *testing.T, base string) (ticks, overruns uint64, hz float64) {
	t.Helper()
	resp, err := http.Get(base + "/api/sessions")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ss []web.SessionInfo
	if err := json.NewDecoder(resp.Body).Decode(&ss); err != nil || len(ss) == 0 {
		t.Fatalf("sessions: %v", err)
	}
	return ss[0].Ticks, ss[0].Overruns, ss[0].TeleopHz
}

// TestServeRidesOutABusOutage stops the bus (a separate NATS process) for
// 10 s: the serve's session keeps ticking at its rate and recording, its
// rows wait in the publisher's buffer, and after the bus returns the
// learner's store holds every step, once.
func TestServeRidesOutABusOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process")
	}
	dir := t.TempDir()
	port := freePort(t)
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	busArgs := []string{"bus", "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--store", filepath.Join(dir, "nats")}
	node := start(t, "nats", busArgs...)
	node.waitLine(regexp.MustCompile(`listening on nats://`), 30*time.Second)
	serve := start(t, "serve", serveArgs(filepath.Join(dir, "serve"), "--nats", url)...)
	base := serve.waitLine(listeningRE, 60*time.Second)[1]
	learnDir := filepath.Join(dir, "learn")
	learn := start(t, "learn", learnArgs(url, learnDir)...)
	learn.waitLine(anyTrainRE, 60*time.Second)

	if err := node.stop(syscall.SIGTERM, 20*time.Second); err != nil {
		t.Fatalf("bus: %v", err)
	}
	outage := 10 * time.Second
	ticks0, over0, hz := sessionTicks(t, base)
	time.Sleep(outage)
	ticks1, over1, _ := sessionTicks(t, base)
	buffered := metric(t, base, "tandem_bus_buffered_rows")
	// Ticks are sub-ticks at the teleoperation rate.
	if got, want := ticks1-ticks0, uint64(hz*outage.Seconds()); got < want*3/4 {
		t.Fatalf("the session ticked %d times in %v without the bus; want about %d", got, outage, want)
	}
	if buffered == 0 {
		t.Fatal("nothing buffered while the bus was down")
	}
	t.Logf("bus down %v: session ticked %d times (overruns %d), %g rows buffered", outage, ticks1-ticks0, over1-over0, buffered)
	node = start(t, "nats (restarted)", busArgs...)
	node.waitLine(regexp.MustCompile(`listening on nats://`), 30*time.Second)
	deadline := time.Now().Add(30 * time.Second)
	for metric(t, base, "tandem_bus_buffered_rows") > 100 {
		if time.Now().After(deadline) {
			t.Fatal("the buffer did not drain within 30 s of the bus's return")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := serve.stop(syscall.SIGTERM, 30*time.Second); err != nil {
		t.Fatalf("serve: %v", err)
	}
	sameAsOrigins(t, learnDir, filepath.Join(dir, "serve"))
	if err := learn.stop(syscall.SIGTERM, 20*time.Second); err != nil {
		t.Fatalf("learn: %v", err)
	}
}

// TestRolesOnAnExternalNATSServer runs the roles against a nats-server
// binary that is not tandem's (TANDEM_NATS_SERVER names it, e.g. Debian's
// /usr/sbin/nats-server); skipped without one.
func TestRolesOnAnExternalNATSServer(t *testing.T) {
	bin := os.Getenv("TANDEM_NATS_SERVER")
	if bin == "" || testing.Short() {
		t.Skip("TANDEM_NATS_SERVER names no nats-server binary")
	}
	dir := t.TempDir()
	port := freePort(t)
	cmd := exec.Command(bin, "-js", "-a", "127.0.0.1", "-p", fmt.Sprint(port), "-sd", filepath.Join(dir, "nats"))
	out, err := os.Create(filepath.Join(dir, "nats-server.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait(); out.Close() })
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	for deadline := time.Now().Add(10 * time.Second); ; {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not listen", bin)
		}
		time.Sleep(50 * time.Millisecond)
	}
	serve := start(t, "serve", serveArgs(filepath.Join(dir, "serve"), "--nats", url)...)
	base := serve.waitLine(listeningRE, 60*time.Second)[1]
	runRoles(t, dir, url, base, "1", func() {
		if err := serve.stop(syscall.SIGTERM, 30*time.Second); err != nil {
			t.Fatalf("serve: %v", err)
		}
	}, nil)
}
