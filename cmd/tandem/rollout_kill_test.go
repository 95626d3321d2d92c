package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"tandem/demos"
)

const rolloutChildEnv = "TANDEM_ROLLOUT_CHILD"

// TestRolloutChild is the child process of the kill tests: a recorded
// push-t rollout of 100,000 episodes into the data directory named by the
// environment, reporting each commit on stdout as "commit TOTAL_STEPS".
func TestRolloutChild(t *testing.T) {
	dir := os.Getenv(rolloutChildEnv)
	if dir == "" {
		t.Skip("child process of the rollout kill tests")
	}
	out := &syncWriter{w: os.Stdout} // episode lines and the writer goroutine's commit lines
	rolloutOnCommit = func(c demos.CommitInfo) { fmt.Fprintf(out, "commit %d\n", c.Total) }
	code := run([]string{"rollout", "--task", "push-t", "--episodes", "100000", "--seed", "1", "--workers", "2",
		"--record", "--data", dir, "--json"}, out, os.Stderr)
	os.Exit(code)
}

// startRolloutChild starts the child on dir and returns it with a channel
// of the total steps of each commit it reports.
func startRolloutChild(t *testing.T, dir string) (*exec.Cmd, <-chan int, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run", "^TestRolloutChild$", "-test.v=false")
	cmd.Env = append(os.Environ(), rolloutChildEnv+"="+dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	commits := make(chan int, 1<<16)
	go func() {
		defer close(commits)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if n, ok := strings.CutPrefix(sc.Text(), "commit "); ok {
				v, _ := strconv.Atoi(n)
				commits <- v
			}
		}
	}()
	return cmd, commits, &stderr
}

// checkKept opens the store the child left and checks that it holds whole
// episodes only: seeds in increasing order from 1 (consecutive unless gaps
// are allowed: an interrupt drops the episodes running, and keeps those that
// finished after them), every one complete with all its steps, at least
// minSteps steps in all, and a sample replaying exactly.
func checkKept(t *testing.T, dir string, minSteps int, gaps bool) []demos.Episode {
	t.Helper()
	ctx := context.Background()
	s, err := demos.Open(ctx, dir, demos.Options{}) // recovers what the child left running
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
	if n := s.Recovered(); n != 0 {
		t.Errorf("%d episodes were left running; want whole episodes only", n)
	}
	eps, err := s.ListEpisodes(ctx, demos.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	steps := 0
	prev := uint64(0)
	for i, e := range eps {
		want := prev + 1
		if gaps && e.Seed > prev {
			want = e.Seed
		}
		prev = e.Seed
		if e.Seed != want || !e.Complete || e.Outcome == demos.Running || e.Outcome == demos.Crashed || e.Mode != "auto" {
			t.Fatalf("episode %d (id %d): seed %d complete %v outcome %s mode %s; want seed %d, complete", i, e.ID, e.Seed, e.Complete, e.Outcome, e.Mode, want)
		}
		var stored int
		s.DB().QueryRow("SELECT count(*) FROM steps WHERE episode_id = ?", e.ID).Scan(&stored)
		if stored != e.Length {
			t.Fatalf("episode %d: %d steps stored; summary says %d", e.ID, stored, e.Length)
		}
		steps += e.Length
	}
	if steps < minSteps {
		t.Fatalf("%d steps in complete episodes; the child saw %d committed", steps, minSteps)
	}
	for _, i := range []int{0, len(eps) / 2, len(eps) - 1} {
		if i < 0 || i >= len(eps) {
			continue
		}
		if _, err := demos.Verify(ctx, s, eps[i].ID, taskLookup); err != nil {
			t.Errorf("episode %d does not replay: %v", eps[i].ID, err)
		}
	}
	return eps
}

// TestRolloutKilledKeepsCommittedEpisodes: a push-t rollout --record of
// 100,000 episodes SIGKILLed after 3 s leaves every episode committed
// before the kill in the store, whole, and nothing half-written.
func TestRolloutKilledKeepsCommittedEpisodes(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a child after 3 s")
	}
	dir := filepath.Join(t.TempDir(), "data")
	cmd, commits, stderr := startRolloutChild(t, dir)
	time.Sleep(3 * time.Second)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	last := 0
	for n := range commits {
		last = n
	}
	cmd.Wait()
	if last == 0 {
		t.Fatalf("the child committed nothing in 3 s; stderr: %s", stderr)
	}
	eps := checkKept(t, dir, last, false)
	t.Logf("kept %d episodes, %d steps seen committed", len(eps), last)
}

// TestRolloutInterruptKeepsFinishedEpisodes: SIGINT stops the workers,
// keeps every finished episode and exits 1 with one line saying what was
// kept.
func TestRolloutInterruptKeepsFinishedEpisodes(t *testing.T) {
	if testing.Short() {
		t.Skip("interrupts a child")
	}
	dir := filepath.Join(t.TempDir(), "data")
	cmd, commits, stderr := startRolloutChild(t, dir)
	for n := range commits { // wait for the first commit
		if n > 0 {
			break
		}
	}
	time.Sleep(500 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	for range commits {
	}
	err := cmd.Wait()
	code := -1
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	}
	line := strings.TrimSpace(stderr.String())
	eps := checkKept(t, dir, 0, true)
	want := fmt.Sprintf("tandem: rollout interrupted: kept %d of 100000 episodes (stored in %s as episodes 1-%d)", len(eps), dir, len(eps))
	if code != 1 || strings.Count(line, "\n") != 0 || !strings.HasPrefix(line, want) {
		t.Fatalf("exit %d, stderr %q; want exit 1 and one line starting %q", code, line, want)
	}
}
