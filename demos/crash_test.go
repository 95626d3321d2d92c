package demos

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"tandem/sim"
)

const crashChildEnv = "TANDEM_DEMOS_CRASH_CHILD"

// crashInterval is the child's CommitInterval. crashAllowance is the
// scheduling allowance of the loss bound (docs/storage.md): the delay
// between a step's wall stamp and its arrival in the recorder's queue, and
// the writer goroutine's wake-up after its tick, on a loaded machine under
// -race.
const (
	crashInterval  = 100 * time.Millisecond
	crashAllowance = 150 * time.Millisecond
)

// TestCrashChild is the child process of TestCrashSafety: it records a live
// 1 kHz session into the data directory named by the environment until it
// is killed. It reports on stdout, in the writer goroutine, "begin START"
// when a transaction takes its rows and "commit START END TOTAL DRAINED"
// when it has committed (times in Unix ns).
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashChildEnv)
	if dir == "" {
		t.Skip("child process of TestCrashSafety")
	}
	ctx := context.Background()
	s, err := Open(ctx, dir, Options{})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(3)
	}
	rec := NewRecorder(s, RecorderConfig{
		Logger: quiet, CommitInterval: crashInterval,
		onBegin: func(start time.Time) { fmt.Printf("begin %d\n", start.UnixNano()) },
		OnCommit: func(c CommitInfo) {
			fmt.Printf("commit %d %d %d %v\n", c.Start.UnixNano(), c.End.UnixNano(), c.Total, c.Drained)
		},
	})
	task := newDot(6, 1000)
	sess, err := sim.NewSession(task, sim.SessionConfig{
		ID: "crash", Controller: sim.Demonstrate(task.Expert(1, 0), "child"), Clock: sim.WallClock{}, Seed: uint64(os.Getpid()),
	})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(3)
	}
	if _, err := rec.Attach(ctx, sess, SessionInfo{}); err != nil {
		fmt.Println("error", err)
		os.Exit(3)
	}
	sess.Run(ctx) // until killed
}

// childCommit is a commit the child reported.
type childCommit struct {
	start, end time.Time
	total      uint64
	drained    bool
}

// childLog is what the child reported before it died.
type childLog struct {
	mu      sync.Mutex
	commits []childCommit
	begins  []time.Time
	first   chan struct{}
	once    sync.Once
}

func (l *childLog) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		ns := func(i int) time.Time {
			v, _ := strconv.ParseInt(f[i], 10, 64)
			return time.Unix(0, v)
		}
		l.mu.Lock()
		switch {
		case len(f) == 2 && f[0] == "begin":
			l.begins = append(l.begins, ns(1))
		case len(f) == 5 && f[0] == "commit":
			total, err := strconv.ParseUint(f[3], 10, 64)
			if err == nil { // a line cut by the kill is ignored
				l.commits = append(l.commits, childCommit{start: ns(1), end: ns(2), total: total, drained: f[4] == "true"})
				l.once.Do(func() { close(l.first) })
			}
		}
		l.mu.Unlock()
	}
}

// TestCrashSafety kills a recording child process at several points and
// checks what docs/storage.md promises: the file is intact, every commit
// the child saw complete is on disk, the cut episode is kept and marked
// crashed, and the loss is bounded by the commit interval plus the commit
// in flight.
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns child processes")
	}
	dir := t.TempDir()
	ctx := context.Background()
	var lastMaxID int64
	crashedTotal := 0
	for round, after := range []time.Duration{150 * time.Millisecond, 400 * time.Millisecond, 900 * time.Millisecond} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		log := &childLog{first: make(chan struct{})}
		readDone := make(chan struct{})
		go func() {
			defer close(readDone)
			log.read(out)
		}()
		select {
		case <-log.first:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("round %d: child never committed", round)
		}
		time.Sleep(after)
		killed := time.Now()
		if err := cmd.Process.Kill(); err != nil { // SIGKILL on Unix
			t.Fatal(err)
		}
		cmd.Wait()
		<-readDone
		last := log.commits[len(log.commits)-1]
		// The commit in flight at the kill: taken after the last reported
		// commit started, and before the kill.
		var inflight time.Duration
		for _, b := range log.begins {
			if b.After(last.start) && !b.After(killed) {
				inflight = killed.Sub(b)
			}
		}
		s, err := Open(ctx, dir, Options{})
		if err != nil {
			t.Fatalf("round %d: reopen: %v", round, err)
		}
		if err := s.IntegrityCheck(ctx); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		crashed := s.Recovered()
		if crashed > 1 {
			t.Fatalf("round %d: %d episodes marked crashed; want at most the one running", round, crashed)
		}
		crashedTotal += crashed
		var steps uint64
		var newest int64
		s.DB().QueryRowContext(ctx, "SELECT count(*), coalesce(max(wall), 0) FROM steps WHERE episode_id > ?", lastMaxID).Scan(&steps, &newest)
		// Exact: the last commit the child saw complete took every step
		// that had reached the recorder when it started (drained), and
		// all of them, with every earlier one, are on disk.
		if !last.drained {
			t.Fatalf("round %d: the child's last commit left rows queued at 1 kHz; want every commit to drain the queue", round)
		}
		if steps < last.total {
			t.Fatalf("round %d: %d steps on disk; the child had %d committed", round, steps, last.total)
		}
		// The bound: steps older than max(interval, last commit's
		// duration) + the commit in flight + the allowance are on disk.
		loss := killed.Sub(time.Unix(0, newest))
		took := last.end.Sub(last.start)
		bound := max(crashInterval, took) + inflight + crashAllowance
		t.Logf("round %d: killed after %v: %d commits, %d steps committed, %d on disk; newest step %v before the kill (bound %v: last commit took %v, in flight %v)",
			round, after, len(log.commits), last.total, steps, loss, bound, took, inflight)
		if loss > bound {
			t.Fatalf("round %d: the newest step on disk is %v older than the kill; want at most %v (interval %v, last commit %v, in flight %v, allowance %v)",
				round, loss, bound, crashInterval, took, inflight, crashAllowance)
		}
		eps, err := s.ListEpisodes(ctx, Filter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, ep := range eps {
			var n, maxT int
			s.DB().QueryRowContext(ctx, "SELECT count(*), coalesce(max(t), -1) FROM steps WHERE episode_id = ?", ep.ID).Scan(&n, &maxT)
			if n != ep.Length || maxT != n-1 {
				t.Fatalf("episode %d: %d steps, max t %d, length %d; want contiguous steps 0..length-1", ep.ID, n, maxT, ep.Length)
			}
			switch ep.Outcome {
			case Crashed:
				if ep.Complete {
					t.Fatalf("crashed episode %d marked complete", ep.ID)
				}
			case Running:
				t.Fatalf("episode %d still running after recovery", ep.ID)
			default:
				if !ep.Complete || ep.Length != 50 {
					t.Fatalf("episode %d: outcome %s complete %v length %d; want a complete 50-step episode", ep.ID, ep.Outcome, ep.Complete, ep.Length)
				}
			}
		}
		var minID, maxID int64
		s.DB().QueryRowContext(ctx, "SELECT coalesce(min(id), 0), coalesce(max(id), 0) FROM episodes WHERE session_id = (SELECT max(id) FROM sessions)").Scan(&minID, &maxID)
		if minID <= lastMaxID {
			t.Fatalf("round %d: episode ids start at %d; want new ids above %d", round, minID, lastMaxID)
		}
		lastMaxID = maxID
		s.Close()
	}
	if crashedTotal == 0 {
		t.Fatal("no episode was cut by the kills; want the running ones marked crashed")
	}
}
