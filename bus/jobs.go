package bus

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"tandem/policies"
)

// Job kinds.
const (
	// JobEval scores a policy acting alone on held-out seeds
	// (policies.Evaluate); its result is an EvalResult.
	JobEval = "eval"
	// JobRollout runs and records episodes (tandem rollout --record); the
	// worker's recorder publishes them, so learners train on them. Its
	// result summarises them as an EvalResult.
	JobRollout = "rollout"
)

// Job is one unit of work for `tandem work`.
type Job struct {
	ID   string `json:"id"` // set by Submit
	Kind string `json:"kind"`
	Task string `json:"task"`
	// Policy is a policy name, a stored version, or "current" (a rollout
	// resolves it at each episode, so a promotion reaches the next one).
	Policy string `json:"policy,omitempty"`
	// Episodes run on seeds FirstSeed, FirstSeed+1, ...
	FirstSeed uint64 `json:"first_seed"`
	Episodes  int    `json:"episodes"`
	// Rollouts only: mode (auto, shared, teleop), simulated operator
	// ("sim:KEY=VALUE,..."), expert skill, tags for the stored episodes.
	Mode     string   `json:"mode,omitempty"`
	Operator string   `json:"operator,omitempty"`
	Skill    *float64 `json:"skill,omitempty"`
	Tags     []string `json:"tags,omitempty"`
	// Submitted and By say when and by which process it was queued.
	Submitted time.Time `json:"submitted"`
	By        string    `json:"by,omitempty"`
}

// Job states.
const (
	JobQueued  = "queued"
	JobRunning = "running"
	JobDone    = "done"
	JobFailed  = "failed"
)

// JobStatus is a job's state and result in the jobs bucket.
type JobStatus struct {
	Job      Job                  `json:"job"`
	State    string               `json:"state"`
	Worker   string               `json:"worker,omitempty"`
	Attempt  int                  `json:"attempt,omitempty"` // deliveries so far (a worker died: more than 1)
	Result   *policies.EvalResult `json:"result,omitempty"`
	Error    string               `json:"error,omitempty"`
	Started  time.Time            `json:"started,omitzero"`
	Finished time.Time            `json:"finished,omitzero"`
}

// Ended reports a final state.
func (s *JobStatus) Ended() bool { return s.State == JobDone || s.State == JobFailed }

// ErrQueueFull is returned by Submit when the job queue holds its maximum
// (Config.JobsMax): the only back-pressure submitters get.
var ErrQueueFull = errors.New("bus: the job queue is full; wait for workers to take jobs, or add workers")

func newID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Submit queues job and returns its id. A full queue refuses it with
// ErrQueueFull.
func (b *Bus) Submit(ctx context.Context, job Job) (string, error) {
	if err := b.WaitReady(ctx); err != nil {
		return "", err
	}
	if job.Kind != JobEval && job.Kind != JobRollout {
		return "", fmt.Errorf("bus: job kind %q (valid: %s, %s)", job.Kind, JobEval, JobRollout)
	}
	if job.Task == "" || job.Episodes < 1 {
		return "", errors.New("bus: a job needs a task and at least one episode")
	}
	job.ID, job.Submitted, job.By = newID(), time.Now().UTC(), b.cfg.Name
	data, err := json.Marshal(job)
	if err != nil {
		return "", err
	}
	st, _ := json.Marshal(JobStatus{Job: job, State: JobQueued})
	if _, err := b.jobs.Create(ctx, job.ID, st); err != nil {
		return "", fmt.Errorf("bus: job %s: %w", job.ID, err)
	}
	if _, err := b.js.PublishMsg(ctx, &nats.Msg{Subject: JobsSubject, Data: data}, jetstream.WithMsgID(job.ID), jetstream.WithExpectStream(JobsStream)); err != nil {
		b.jobs.Delete(context.WithoutCancel(ctx), job.ID)
		if isFull(err) {
			return "", ErrQueueFull
		}
		return "", fmt.Errorf("bus: queue job: %w", err)
	}
	return job.ID, nil
}

// Status returns job id's state.
func (b *Bus) Status(ctx context.Context, id string) (JobStatus, error) {
	if err := b.WaitReady(ctx); err != nil {
		return JobStatus{}, err
	}
	e, err := b.jobs.Get(ctx, id)
	if err != nil {
		return JobStatus{}, fmt.Errorf("bus: job %s: %w", id, err)
	}
	var st JobStatus
	return st, json.Unmarshal(e.Value(), &st)
}

// Wait waits until job id has ended and returns its status.
func (b *Bus) Wait(ctx context.Context, id string) (JobStatus, error) {
	if err := b.WaitReady(ctx); err != nil {
		return JobStatus{}, err
	}
	w, err := b.jobs.Watch(ctx, id)
	if err != nil {
		return JobStatus{}, err
	}
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return JobStatus{}, fmt.Errorf("bus: job %s: %w", id, ctx.Err())
		case e, ok := <-w.Updates():
			if !ok {
				return b.Status(ctx, id)
			}
			if e == nil || e.Operation() != jetstream.KeyValuePut {
				continue
			}
			var st JobStatus
			if err := json.Unmarshal(e.Value(), &st); err != nil {
				return st, err
			}
			if st.Ended() {
				return st, nil
			}
		}
	}
}

// Evaluate scores policy on task over episodes held-out episodes from
// firstSeed (policies.EvalSeedBase when 0), split into jobs of chunk
// episodes that the workers share, and merges their results: the same
// score one policies.Evaluate over every seed gives.
func (b *Bus) Evaluate(ctx context.Context, task, policy string, episodes, chunk int, firstSeed uint64) (policies.EvalResult, error) {
	if episodes < 1 || chunk < 1 {
		return policies.EvalResult{}, errors.New("bus: an evaluation needs episodes and a chunk size ≥ 1")
	}
	if firstSeed == 0 {
		firstSeed = policies.EvalSeedBase
	}
	var ids []string
	for done := 0; done < episodes; done += chunk {
		id, err := b.Submit(ctx, Job{Kind: JobEval, Task: task, Policy: policy, FirstSeed: firstSeed + uint64(done), Episodes: min(chunk, episodes-done)})
		if err != nil {
			return policies.EvalResult{}, err
		}
		ids = append(ids, id)
	}
	sts, err := b.WaitAll(ctx, ids)
	if err != nil {
		return policies.EvalResult{}, err
	}
	for i, st := range sts {
		if st.Result == nil {
			return policies.EvalResult{}, fmt.Errorf("job %s: no result", ids[i])
		}
	}
	return MergeResults(sts), nil
}

// WaitAll waits for every job in ids to end and returns their states in
// the order of ids; the error joins one for each job that failed or could
// not be waited for.
func (b *Bus) WaitAll(ctx context.Context, ids []string) ([]JobStatus, error) {
	sts := make([]JobStatus, len(ids))
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() {
			st, err := b.Wait(ctx, id)
			switch {
			case err != nil:
				errs[i] = err
			case st.State == JobFailed:
				errs[i] = fmt.Errorf("job %s failed on %s: %s", id, st.Worker, st.Error)
			}
			sts[i] = st
		})
	}
	wg.Wait()
	return sts, errors.Join(errs...)
}

// MergeResults combines the results of the ended jobs sts, evaluations
// of disjoint seed ranges, into one (jobs without a result are left out).
func MergeResults(sts []JobStatus) policies.EvalResult {
	var r policies.EvalResult
	first := true
	for _, st := range sts {
		p := st.Result
		if p == nil {
			continue
		}
		if first || p.FirstSeed < r.FirstSeed {
			r.FirstSeed, first = p.FirstSeed, false
		}
		r.Episodes += p.Episodes
		r.Successes += p.Successes
		r.EnvSteps += p.EnvSteps
		r.MeanReturn += p.MeanReturn * float64(p.Episodes) // a sum until Finish
	}
	r.Finish()
	return r
}

// WorkerConfig configures a worker. Zero values mean defaults.
type WorkerConfig struct {
	// Name identifies the worker in job states (the bus client's name).
	Name string
	// Slots is how many jobs this worker runs at once (1).
	Slots int
	// PoolSlots is the consumer's MaxAckPending: how many jobs all workers
	// together may hold (64; the sum of their Slots is the natural value).
	PoolSlots int
	// AckWait is how long a job may go without a sign of life before
	// another worker gets it (30 s); a running job reports progress every
	// third of it, so only a dead worker's jobs move.
	AckWait time.Duration
	// MaxAttempts is how many deliveries a job gets before it is failed
	// (5): a job that kills its workers does not kill them all.
	MaxAttempts int
	Logger      *slog.Logger
}

// Runner runs one job and returns its result; an error fails the job (it
// is not retried: jobs are deterministic). It must return promptly when
// ctx ends, with ctx's error.
type Runner func(ctx context.Context, job Job) (*policies.EvalResult, error)

// Work takes jobs from the queue and runs them until ctx ends: a durable
// pull consumer ("work") shared by every worker, explicit
// acknowledgements, each job acknowledged after its result is stored. A
// worker stopped by ctx hands its running jobs back at once; one that dies
// hands them back when AckWait passes.
func (b *Bus) Work(ctx context.Context, cfg WorkerConfig, run Runner) error {
	if cfg.Slots <= 0 {
		cfg.Slots = 1
	}
	if cfg.PoolSlots <= 0 {
		cfg.PoolSlots = 64
	}
	if cfg.AckWait <= 0 {
		cfg.AckWait = 30 * time.Second
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 5
	}
	if cfg.Name == "" {
		cfg.Name = b.cfg.Name
	}
	if cfg.Logger == nil {
		cfg.Logger = b.log
	}
	if err := b.WaitReady(ctx); err != nil {
		return err
	}
	cons, err := b.consumer(ctx, JobsStream, jetstream.ConsumerConfig{
		Durable: "work", AckPolicy: jetstream.AckExplicitPolicy, AckWait: cfg.AckWait,
		MaxAckPending: cfg.PoolSlots, Description: "tandem work: evaluation and rollout jobs",
	}, cfg.Logger, func(error) {})
	if err != nil {
		return err
	}
	slots := make(chan struct{}, cfg.Slots)
	failing := false // log the first failure of a run of them
	var wg sync.WaitGroup
	defer wg.Wait()
	for ctx.Err() == nil {
		// Fetch only as many jobs as there are free slots.
		slots <- struct{}{}
		free := 1
	more:
		for free < cfg.Slots {
			select {
			case slots <- struct{}{}:
				free++
			default:
				break more
			}
		}
		batch, err := cons.Fetch(free, jetstream.FetchMaxWait(time.Second))
		got := 0
		if err == nil {
			for m := range batch.Messages() {
				got++
				wg.Go(func() {
					defer func() { <-slots }()
					b.runJob(ctx, cfg, m, run)
				})
			}
		}
		for range free - got {
			<-slots
		}
		if err != nil && ctx.Err() == nil {
			if !failing {
				cfg.Logger.Warn("bus: fetching jobs failed; retrying", "err", err)
			}
			failing = true
			sleep(ctx, 250*time.Millisecond)
		} else if err == nil {
			failing = false
		}
	}
	return nil
}

// runJob runs one delivered job, keeping it alive while it runs.
func (b *Bus) runJob(ctx context.Context, cfg WorkerConfig, m jetstream.Msg, run Runner) {
	var job Job
	if err := json.Unmarshal(m.Data(), &job); err != nil {
		cfg.Logger.Error("bus: dropping a malformed job", "err", err)
		m.Term()
		return
	}
	attempt := 1
	if md, err := m.Metadata(); err == nil {
		attempt = int(md.NumDelivered)
	}
	st := JobStatus{Job: job, State: JobRunning, Worker: cfg.Name, Attempt: attempt, Started: time.Now().UTC()}
	if attempt > cfg.MaxAttempts {
		st.State, st.Error, st.Finished = JobFailed, fmt.Sprintf("given up after %d attempts (workers died running it)", attempt-1), st.Started
		b.putStatus(ctx, st)
		m.Term()
		return
	}
	b.putStatus(ctx, st)
	jctx, cancel := context.WithCancel(ctx)
	alive := make(chan struct{})
	go func() {
		t := time.NewTicker(cfg.AckWait / 3)
		defer t.Stop()
		for {
			select {
			case <-alive:
				return
			case <-t.C:
				m.InProgress()
			}
		}
	}()
	res, err := run(jctx, job)
	close(alive)
	cancel()
	if ctx.Err() != nil {
		// Stopping: hand the job to another worker now.
		m.Nak()
		st.State, st.Error = JobQueued, ""
		b.putStatus(context.WithoutCancel(ctx), st)
		return
	}
	st.Finished = time.Now().UTC()
	if err != nil {
		st.State, st.Error = JobFailed, err.Error()
	} else {
		st.State, st.Result = JobDone, res
	}
	if err := b.putStatus(ctx, st); err != nil {
		cfg.Logger.Error("bus: cannot store a job's result; it will run again", "job", job.ID, "err", err)
		m.Nak()
		return
	}
	m.Ack()
}

func (b *Bus) putStatus(ctx context.Context, st JobStatus) error {
	data, _ := json.Marshal(st)
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err := b.jobs.Put(ctx, st.Job.ID, data)
	return err
}

// isFull reports a publish refused because a stream with discard-new
// policy is at its message limit. The server sends it as error 10077,
// JSStreamStoreFailedF, which it uses for every failed store (disk
// errors, a message too large, the byte limit) with the cause as its
// description: only the description tells a full queue.
func isFull(err error) bool {
	return strings.Contains(err.Error(), "maximum messages exceeded")
}
