package demos

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"tandem/sim"
)

const crashChildEnv = "TANDEM_DEMOS_CRASH_CHILD"

// TestCrashChild is the child process of TestCrashSafety: it records a live
// 1 kHz session into the data directory named by the environment until it
// is killed, printing "committed N" after every commit.
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
	rec := NewRecorder(s, RecorderConfig{Logger: quiet, OnCommit: func(n uint64) {
		fmt.Printf("committed %d\n", n)
	}})
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
	sess.Run(ctx) // until SIGKILL
}

func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns child processes")
	}
	dir := t.TempDir()
	ctx := context.Background()
	var committedTotal uint64
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
		var mu sync.Mutex
		var committed uint64
		first := make(chan struct{})
		var once sync.Once
		readDone := make(chan struct{})
		go func() {
			defer close(readDone)
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				line := sc.Text()
				if n, ok := strings.CutPrefix(line, "committed "); ok {
					v, _ := strconv.ParseUint(n, 10, 64)
					mu.Lock()
					committed = v
					mu.Unlock()
					once.Do(func() { close(first) })
				}
			}
		}()
		select {
		case <-first:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("round %d: child never committed", round)
		}
		time.Sleep(after)
		killed := time.Now()
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
		<-readDone
		mu.Lock()
		acked := committed
		mu.Unlock()
		committedTotal += acked

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
		if steps < acked {
			t.Fatalf("round %d: %d steps on disk; the child had %d acknowledged as committed", round, steps, acked)
		}
		loss := killed.Sub(time.Unix(0, newest))
		t.Logf("round %d: killed after %v: %d steps acknowledged, %d on disk, newest step %v before the kill", round, after, acked, steps, loss)
		// Commit interval 100 ms, with generous slack for a loaded machine.
		if loss > 2*time.Second {
			t.Fatalf("round %d: the newest committed step is %v older than the kill; want within the commit interval (+ slack)", round, loss)
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
