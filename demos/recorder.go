package demos

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"tandem/sim"
)

// RecorderConfig configures a Recorder. Zero values mean defaults.
type RecorderConfig struct {
	// CommitInterval is the writer's period (default 100 ms): while steps
	// are queued, a transaction starts at least this often, or right after
	// the previous one when that took longer. See docs/storage.md for what
	// this guarantees after a crash.
	CommitInterval time.Duration
	// MaxPending bounds the steps held in memory waiting for the disk
	// (default 200,000: 10 s of 20 sessions at 1 kHz). Beyond it new steps
	// are dropped, counted on their episode, and the episode is flagged
	// incomplete.
	MaxPending int
	// Buffer is each session subscription's channel size (default 8192).
	Buffer int
	// Logger receives commit failures and drops (default slog.Default()).
	Logger *slog.Logger
	// OnCommit, if set, is called from the writer goroutine after each
	// successful commit that wrote rows.
	OnCommit func(CommitInfo)
	// Tap, if set, hears every row a recording queues (episode begins,
	// steps, labels, ends), in order per episode, as it queues it, from
	// the recording's reader goroutine (a live session) or the caller of
	// RolloutRecording.Add (a whole episode once it is queued: the writer
	// may have committed it already). It must not block; package bus
	// publishes the rows to other processes through it.
	Tap func(Row)

	// onBegin, if set, is called from the writer goroutine when it has
	// taken rows for a transaction, with CommitInfo.Start (crash test).
	onBegin func(start time.Time)
}

// SessionInfo describes a recorded live session.
type SessionInfo struct {
	// Name is the session row's name in the store (default the session's
	// id); a server names it id@instance so that two servers on one data
	// directory never share one.
	Name string
	// Mode of its episodes, when given; otherwise each episode takes the
	// mode its session's reset record carries (sim.Record.Mode), and only
	// records without one (older controllers) derive it from the sources
	// seen, which cannot tell a shared episode without interventions from
	// an auto one.
	Mode sim.Mode
	// Operator is stored for steps whose Decision names no operator.
	Operator string
	Tags     []string
	Note     string
}

// ErrRecorderClosed is returned by Attach and Flush after Close.
var ErrRecorderClosed = errors.New("demos: recorder closed")

// Recorder records live sessions into a Store. Safe for concurrent use.
type Recorder struct {
	store *Store
	cfg   RecorderConfig
	log   *slog.Logger

	mu       sync.Mutex // guards the fields below
	queue    [][]op     // blocks of queueBlock rows, so growth never copies rows
	spare    [][]op     // emptied blocks for reuse
	pending  int        // steps in queue
	oldest   time.Time  // when the oldest queued step arrived
	nextKey  int64
	taps     map[string]*Recording
	keyIDs   map[int64]int64       // episode key → database id, once committed
	onID     map[int64]func(int64) // episode key → told its id at its first commit
	waiters  []chan error
	closed   bool
	lastErr  string
	lastTook time.Duration
	maxTook  time.Duration
	// batchRows caps the rows one transaction takes, sized from the last
	// commit's speed so a commit lasts about commitBudget: a writer that
	// falls behind commits often rather than in ever larger, later batches.
	batchRows int

	wake    chan struct{}
	room    chan struct{} // a commit freed queue space (enqueueEpisode waits on it)
	stop    chan struct{}
	done    chan struct{}
	readers sync.WaitGroup

	ids map[int64]int64 // writer goroutine only

	committedSteps, committedEpisodes atomic.Uint64
	commits, failures, dropped        atomic.Uint64
	lastCommit                        atomic.Int64
}

// NewRecorder starts a recorder writing to store.
func NewRecorder(store *Store, cfg RecorderConfig) *Recorder {
	if cfg.CommitInterval <= 0 {
		cfg.CommitInterval = 100 * time.Millisecond
	}
	if cfg.MaxPending <= 0 {
		cfg.MaxPending = 200_000
	}
	if cfg.Buffer <= 0 {
		cfg.Buffer = 8192
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	r := &Recorder{
		store: store, cfg: cfg, log: cfg.Logger,
		taps: map[string]*Recording{}, keyIDs: map[int64]int64{}, ids: map[int64]int64{}, onID: map[int64]func(int64){},
		wake: make(chan struct{}, 1), room: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
	}
	go r.writer()
	return r
}

// Store returns the recorder's store.
func (r *Recorder) Store() *Store { return r.store }

// Stats returns the recorder's counters.
func (r *Recorder) Stats() RecorderStats {
	r.mu.Lock()
	st := RecorderStats{Sessions: len(r.taps), PendingSteps: r.pending, LastError: r.lastErr, LastCommitTook: r.lastTook, MaxCommitTook: r.maxTook}
	if r.pending > 0 {
		st.Lag = time.Since(r.oldest)
	}
	r.mu.Unlock()
	st.CommittedSteps, st.CommittedEpisodes = r.committedSteps.Load(), r.committedEpisodes.Load()
	st.Commits, st.CommitFailures, st.DroppedSteps = r.commits.Load(), r.failures.Load(), r.dropped.Load()
	if ns := r.lastCommit.Load(); ns != 0 {
		st.LastCommit = time.Unix(0, ns)
	}
	return st
}

// Flush waits until every row queued before the call is committed, or the
// commit fails, or ctx ends.
func (r *Recorder) Flush(ctx context.Context) error {
	c := make(chan error, 1)
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return ErrRecorderClosed
	}
	r.waiters = append(r.waiters, c)
	r.mu.Unlock()
	r.nudge()
	select {
	case err := <-c:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (r *Recorder) nudge() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Close stops every recording (running episodes end as cut), commits what
// is queued and stops the writer. The store stays open.
func (r *Recorder) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	taps := make([]*Recording, 0, len(r.taps))
	for _, t := range r.taps {
		taps = append(taps, t)
	}
	r.mu.Unlock()
	for _, t := range taps {
		t.Stop()
	}
	r.readers.Wait()
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	close(r.stop)
	<-r.done
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pending > 0 {
		return errors.New("demos: recorder closed with uncommitted steps: " + r.lastErr)
	}
	return nil
}

// enqueue appends ops; a step is refused (and false returned) when the
// queue holds MaxPending steps.
func (r *Recorder) enqueue(o op) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if o.kind == opStep {
		if r.pending >= r.cfg.MaxPending {
			return false
		}
		if r.pending == 0 {
			r.oldest = time.Now()
		}
		r.pending++
	}
	n := len(r.queue)
	if n == 0 || len(r.queue[n-1]) == cap(r.queue[n-1]) {
		var b []op
		if k := len(r.spare); k > 0 {
			b, r.spare = r.spare[k-1], r.spare[:k-1]
		} else {
			b = make([]op, 0, queueBlock)
		}
		r.queue = append(r.queue, b)
		n++
	}
	r.queue[n-1] = append(r.queue[n-1], o)
	return true
}

// queueBlock is the number of rows per queue block; maxSpare bounds the
// emptied blocks kept for reuse.
const (
	queueBlock = 4096
	maxSpare   = 64
)

func (r *Recorder) newKey() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.nextKey++
	return r.nextKey
}

func (r *Recorder) episodeID(key int64) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.keyIDs[key]
}

func (r *Recorder) writer() {
	defer close(r.done)
	tick := time.NewTicker(r.cfg.CommitInterval)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
		case <-r.wake:
		case <-r.stop:
			// Final commits: retry a few times so a transient failure at
			// shutdown does not lose the tail.
			for range 3 {
				if r.commitOnce() == nil {
					return
				}
				time.Sleep(min(r.cfg.CommitInterval, 100*time.Millisecond))
			}
			return
		}
		// Commit until the queue is empty, one bounded batch at a time.
		for r.commitOnce() == nil && r.queued() {
		}
	}
}

// commitBudget is the time one commit aims to take; with the ticker's
// interval it keeps every committed step within about two commit intervals
// of its arrival even while the writer is saturated.
const (
	commitBudget   = 60 * time.Millisecond
	minBatchRows   = 1024
	firstBatchRows = 8192
)

func (r *Recorder) queued() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.queue) > 0
}

// commitOnce commits everything queued. On failure the rows go back to the
// front of the queue for the next attempt.
func (r *Recorder) commitOnce() error {
	r.mu.Lock()
	if r.batchRows == 0 {
		r.batchRows = firstBatchRows
	}
	take, rows := 0, 0
	for take < len(r.queue) && (take == 0 || rows+len(r.queue[take]) <= r.batchRows) {
		rows += len(r.queue[take])
		take++
	}
	ops := r.queue[:take:take]
	r.queue = r.queue[take:]
	taken := time.Now()
	drained := len(r.queue) == 0
	var waiters []chan error
	if drained { // a Flush is answered once everything before it is in
		r.queue, waiters, r.waiters = nil, r.waiters, nil
	}
	r.mu.Unlock()
	if r.cfg.onBegin != nil && len(ops) > 0 {
		r.cfg.onBegin(taken)
	}
	steps, ends := 0, 0
	for _, b := range ops {
		for i := range b {
			switch b[i].kind {
			case opStep:
				steps++
			case opEnd:
				ends++
			}
		}
	}
	var err error
	start := taken
	type told struct {
		key, id int64
		fn      func(int64)
	}
	var tell []told
	if len(ops) > 0 {
		err = r.store.commit(context.Background(), ops, r.ids, func(key, id int64) {
			r.mu.Lock()
			r.keyIDs[key] = id
			if fn := r.onID[key]; fn != nil {
				delete(r.onID, key)
				tell = append(tell, told{key, id, fn})
			}
			r.mu.Unlock()
		})
	}
	// In key order: the order the episodes were queued.
	slices.SortFunc(tell, func(a, b told) int { return cmp.Compare(a.key, b.key) })
	for _, t := range tell {
		t.fn(t.id)
	}
	end := time.Now()
	took := end.Sub(start)
	r.mu.Lock()
	if err != nil {
		r.queue = append(ops, r.queue...)
		r.lastErr = err.Error()
		pending := r.pending
		r.mu.Unlock()
		r.failures.Add(1)
		r.log.Error("demos: commit failed; rows kept in memory for retry", "err", err, "pending_steps", pending)
		for _, c := range waiters { // their rows stay queued for the retry
			c <- err
		}
		return err
	}
	for _, b := range ops {
		for i := range b {
			if b[i].kind == opEnd {
				delete(r.keyIDs, b[i].key)
			}
		}
	}
	r.pending -= steps
	select {
	case r.room <- struct{}{}:
	default:
	}
	for _, b := range ops {
		if len(r.spare) < maxSpare {
			clear(b) // drop references to the rows
			r.spare = append(r.spare, b[:0])
		}
	}
	if r.pending > 0 {
		r.oldest = time.Now() // rows queued during the commit are younger than this
	}
	r.lastErr, r.lastTook = "", took
	r.maxTook = max(r.maxTook, took)
	if rows > 0 && took > 0 {
		rate := float64(rows) / took.Seconds()
		r.batchRows = max(minBatchRows, int(rate*commitBudget.Seconds()))
	}
	r.mu.Unlock()
	if len(ops) > 0 {
		r.commits.Add(1)
		r.lastCommit.Store(end.UnixNano())
	}
	total := r.committedSteps.Add(uint64(steps))
	r.committedEpisodes.Add(uint64(ends))
	for _, c := range waiters {
		c <- nil
	}
	if r.cfg.OnCommit != nil && len(ops) > 0 {
		r.cfg.OnCommit(CommitInfo{Start: taken, End: end, Steps: steps, Total: total, Drained: drained})
	}
	return nil
}
