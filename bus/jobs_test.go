package bus

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"tandem/policies"
	"tandem/sim"
	"tandem/tasks"
)

// evalRunner scores the expert of job.Task as a worker would.
func evalRunner(ctx context.Context, job Job) (*policies.EvalResult, error) {
	if job.Policy != policies.Expert {
		return nil, errors.New("unknown policy " + job.Policy)
	}
	r, err := policies.Evaluate(ctx, policies.EvalConfig{
		NewTask:   func() sim.Task { tk, _ := tasks.New(job.Task); return tk },
		NewPolicy: func(tk sim.Task, seed uint64) (sim.Policy, error) { return tk.Expert(0.5, seed), nil },
		Version:   job.Policy, Episodes: job.Episodes, FirstSeed: job.FirstSeed, Workers: 1,
	})
	return &r, err
}

func TestEvaluateOnWorkersMatchesOneEvaluation(t *testing.T) {
	b := embedded(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error, 2)
	for range 2 {
		go func() { done <- b.Work(wctx, WorkerConfig{Slots: 2, Logger: quiet}, evalRunner) }()
	}
	got, err := b.Evaluate(ctx, "reach", policies.Expert, 12, 5, 0)
	if err != nil {
		t.Fatal(err)
	}
	want, err := evalRunner(ctx, Job{Task: "reach", Policy: policies.Expert, Episodes: 12, FirstSeed: policies.EvalSeedBase})
	if err != nil {
		t.Fatal(err)
	}
	// Sums of floats in another order may differ in the last bit.
	if d := got.MeanReturn - want.MeanReturn; d > 1e-9 || d < -1e-9 {
		t.Fatalf("mean return %v; want %v", got.MeanReturn, want.MeanReturn)
	}
	got.MeanReturn = want.MeanReturn
	if !reflect.DeepEqual(got, *want) {
		t.Fatalf("merged %+v\n  want %+v", got, *want)
	}
	// A job that fails reports why.
	id, err := b.Submit(ctx, Job{Kind: JobEval, Task: "reach", Policy: "nope", Episodes: 1})
	if err != nil {
		t.Fatal(err)
	}
	st, err := b.Wait(ctx, id)
	if err != nil || st.State != JobFailed || st.Error != "unknown policy nope" {
		t.Fatalf("status %+v, %v: want failed with the runner's error", st, err)
	}
	stop()
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

func TestAFullQueueRefusesJobs(t *testing.T) {
	b, err := Open(Config{Embedded: &ServerConfig{StoreDir: filepath.Join(t.TempDir(), "nats"), Logger: quiet}, Logger: quiet, JobsMax: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for i := range 3 {
		if _, err := b.Submit(ctx, Job{Kind: JobEval, Task: "reach", Policy: policies.Expert, Episodes: 1}); err != nil {
			t.Fatalf("job %d: %v", i, err)
		}
	}
	if _, err := b.Submit(ctx, Job{Kind: JobEval, Task: "reach", Policy: policies.Expert, Episodes: 1}); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("got %v; want ErrQueueFull", err)
	}
	// A worker frees room.
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	go b.Work(wctx, WorkerConfig{Slots: 3, Logger: quiet}, evalRunner)
	eventually(t, 15*time.Second, "room in the queue", func() bool {
		_, err := b.Submit(ctx, Job{Kind: JobEval, Task: "reach", Policy: policies.Expert, Episodes: 1})
		return err == nil
	})
}

// TestIsFull: the server reports every failed store as error 10077; only
// the one for the message limit is a full queue.
func TestIsFull(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"message limit", &jetstream.APIError{Code: 503, ErrorCode: 10077, Description: "maximum messages exceeded"}, true},
		{"wrapped", fmt.Errorf("publish: %w", &jetstream.APIError{Code: 503, ErrorCode: 10077, Description: "maximum messages exceeded"}), true},
		{"byte limit", &jetstream.APIError{Code: 503, ErrorCode: 10077, Description: "maximum bytes exceeded"}, false},
		{"disk", &jetstream.APIError{Code: 503, ErrorCode: 10077, Description: "write /data/nats/jobs: no space left on device"}, false},
		{"timeout", context.DeadlineExceeded, false},
	} {
		if got := isFull(tc.err); got != tc.want {
			t.Errorf("%s: got %v; want %v", tc.name, got, tc.want)
		}
	}
}

// TestADeadWorkersJobRunsElsewhere: a worker whose connection dies
// mid-job (no acknowledgement, no progress) loses the job to another
// worker once AckWait passes.
func TestADeadWorkersJobRunsElsewhere(t *testing.T) {
	srv := startServer(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "nats"))
	defer srv.Shutdown()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dying, alive := client(t, srv.ClientURL()), client(t, srv.ClientURL())
	waitReady(t, dying)
	waitReady(t, alive)
	started := make(chan struct{})
	release := make(chan struct{})
	defer close(release)
	go dying.Work(ctx, WorkerConfig{Name: "dying", AckWait: 2 * time.Second, Logger: quiet}, func(context.Context, Job) (*policies.EvalResult, error) {
		close(started)
		<-release // hangs, as a worker that lost its machine
		return nil, errors.New("unreachable")
	})
	id, err := alive.Submit(ctx, Job{Kind: JobEval, Task: "reach", Policy: policies.Expert, Episodes: 2})
	if err != nil {
		t.Fatal(err)
	}
	<-started
	dying.Conn().Close() // the process is gone: no progress, no acknowledgement
	var runs atomic.Int32
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	go alive.Work(wctx, WorkerConfig{Name: "alive", AckWait: 2 * time.Second, Logger: quiet}, func(ctx context.Context, job Job) (*policies.EvalResult, error) {
		runs.Add(1)
		return evalRunner(ctx, job)
	})
	st, err := alive.Wait(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if st.State != JobDone || st.Worker != "alive" || st.Attempt != 2 || runs.Load() != 1 {
		t.Fatalf("status %+v after %d runs: want done by alive on attempt 2", st, runs.Load())
	}
}
