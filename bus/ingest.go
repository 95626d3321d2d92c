package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"tandem/demos"
)

// IngesterConfig configures an Ingester. Zero values mean defaults.
type IngesterConfig struct {
	// Durable names the consumer (default "learn"). Processes that share
	// a name share the work (each row goes to one of them); a process
	// that needs every row (a second learner with its own store) takes
	// its own name.
	Durable string
	// Batch is the rows fetched, stored in one transaction and
	// acknowledged together (256).
	Batch int
	// MaxAckPending bounds rows delivered and not yet acknowledged (4096).
	MaxAckPending int
	// AckWait is when an unacknowledged row is delivered again (30 s).
	AckWait time.Duration
	// Logger receives failures (slog.Default()).
	Logger *slog.Logger
}

// IngesterStats are an Ingester's counters.
type IngesterStats struct {
	Ingested   uint64 `json:"ingested"`   // rows stored
	Duplicates uint64 `json:"duplicates"` // redeliveries the store already held
	Waiting    uint64 `json:"waiting"`    // rows that came before their episode's begin (delivered again)
	Dropped    uint64 `json:"dropped"`    // malformed rows, or rows whose begin never came
	Batches    uint64 `json:"batches"`
	LastError  string `json:"last_error,omitempty"`
}

// Ingester stores the steps stream in a demos.Store: a durable pull
// consumer with explicit acknowledgements; each fetched batch is stored
// in one transaction (demos.Store.Ingest, idempotent by episode uid and
// (uid, t)) and acknowledged only after it committed. A process that dies
// loses nothing: what it had not acknowledged is delivered again, and a
// redelivered row changes nothing.
type Ingester struct {
	b     *Bus
	st    *demos.Store
	cfg   IngesterConfig
	log   *slog.Logger
	onRow func([]demos.Row, []demos.IngestStatus)

	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	lastErr string

	ingested, duplicates, waiting, dropped, batches atomic.Uint64
}

// maxWaiting is how many times a row whose episode has not begun is
// delivered before it is dropped (its begin was lost: the publisher's
// buffer overflowed).
const maxWaiting = 60

// Ingest starts an ingester storing the steps stream into st. onBatch, if
// set, hears each committed batch and what became of each row, from the
// ingester's goroutine.
func (b *Bus) Ingest(st *demos.Store, cfg IngesterConfig, onBatch func([]demos.Row, []demos.IngestStatus)) *Ingester {
	if cfg.Durable == "" {
		cfg.Durable = "learn"
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 256
	}
	if cfg.MaxAckPending <= 0 {
		cfg.MaxAckPending = 4096
	}
	if cfg.AckWait <= 0 {
		cfg.AckWait = 30 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = b.log
	}
	ctx, cancel := context.WithCancel(context.Background())
	in := &Ingester{b: b, st: st, cfg: cfg, log: cfg.Logger, onRow: onBatch, cancel: cancel, done: make(chan struct{})}
	go in.run(ctx)
	return in
}

// Stats returns the ingester's counters.
func (in *Ingester) Stats() IngesterStats {
	in.mu.Lock()
	st := IngesterStats{LastError: in.lastErr}
	in.mu.Unlock()
	st.Ingested, st.Duplicates, st.Waiting = in.ingested.Load(), in.duplicates.Load(), in.waiting.Load()
	st.Dropped, st.Batches = in.dropped.Load(), in.batches.Load()
	return st
}

// Close stops the ingester after the batch in hand (its rows are stored
// and acknowledged, or left for redelivery).
func (in *Ingester) Close() {
	in.cancel()
	<-in.done
}

func (in *Ingester) fail(err error) {
	in.mu.Lock()
	in.lastErr = err.Error()
	in.mu.Unlock()
}

func (in *Ingester) run(ctx context.Context) {
	defer close(in.done)
	if err := in.b.WaitReady(ctx); err != nil {
		return
	}
	cons, err := in.b.consumer(ctx, StepsStream, jetstream.ConsumerConfig{
		Durable: in.cfg.Durable, AckPolicy: jetstream.AckExplicitPolicy, DeliverPolicy: jetstream.DeliverAllPolicy,
		AckWait: in.cfg.AckWait, MaxAckPending: in.cfg.MaxAckPending, FilterSubject: StepsSubjects,
		Description: "tandem learn: steps into a local store",
	}, in.log, in.fail)
	if err != nil {
		return
	}
	// An iterator keeps up to two batches in flight; a batch is what has
	// arrived when the first row came plus whatever follows within
	// gatherWait, so a trickle is stored at once and a flood in large
	// transactions.
	var it jetstream.MessagesContext
	defer func() {
		if it != nil {
			it.Stop()
		}
	}()
	for ctx.Err() == nil {
		if it == nil {
			if it, err = cons.Messages(jetstream.PullMaxMessages(2 * in.cfg.Batch)); err != nil {
				in.fail(err)
				sleep(ctx, 250*time.Millisecond)
				continue
			}
		}
		m, err := it.Next(jetstream.NextContext(ctx))
		if err != nil {
			if ctx.Err() == nil {
				if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
					it = nil
				}
				in.fail(err)
				sleep(ctx, 100*time.Millisecond)
			}
			continue
		}
		msgs := []jetstream.Msg{m}
		for len(msgs) < in.cfg.Batch {
			m, err := it.Next(jetstream.NextMaxWait(gatherWait))
			if err != nil {
				break
			}
			msgs = append(msgs, m)
		}
		in.store(ctx, msgs)
	}
}

// gatherWait is how long a batch waits for one more row.
const gatherWait = 2 * time.Millisecond

// consumer creates or updates a durable consumer on stream, retrying
// (each failure to fail and log) until it succeeds or ctx ends.
func (b *Bus) consumer(ctx context.Context, stream string, cfg jetstream.ConsumerConfig, log *slog.Logger, fail func(error)) (jetstream.Consumer, error) {
	wait := 250 * time.Millisecond
	for {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		cons, err := b.js.CreateOrUpdateConsumer(cctx, stream, cfg)
		cancel()
		if err == nil {
			return cons, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		fail(err)
		log.Warn("bus: cannot create a consumer; retrying", "stream", stream, "durable", cfg.Durable, "err", err)
		sleep(ctx, wait)
		wait = min(2*wait, 5*time.Second)
	}
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// store ingests one fetched batch and acknowledges what it stored.
func (in *Ingester) store(ctx context.Context, msgs []jetstream.Msg) {
	rows := make([]demos.Row, 0, len(msgs))
	keep := msgs[:0:0]
	for _, m := range msgs {
		var r demos.Row
		if err := json.Unmarshal(m.Data(), &r); err != nil {
			in.drop(m, fmt.Errorf("decode: %w", err))
			continue
		}
		rows = append(rows, r)
		keep = append(keep, m)
	}
	msgs = keep
	for len(rows) > 0 {
		// The store outlives a cancelled fetch loop: a batch in hand is
		// stored and acknowledged before Close returns.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		sts, err := in.st.Ingest(sctx, rows)
		cancel()
		var bad *demos.BadRowError
		if errors.As(err, &bad) {
			in.drop(msgs[bad.Index], bad)
			rows = append(rows[:bad.Index], rows[bad.Index+1:]...)
			msgs = append(msgs[:bad.Index], msgs[bad.Index+1:]...)
			continue
		}
		if err != nil {
			// The store failed (disk full, locked too long): deliver the
			// batch again later.
			in.fail(err)
			in.log.Error("bus: storing steps failed; they will be delivered again", "rows", len(rows), "err", err)
			for _, m := range msgs {
				m.NakWithDelay(time.Second)
			}
			sleep(ctx, time.Second)
			return
		}
		in.batches.Add(1)
		for i, s := range sts {
			m := msgs[i]
			switch s {
			case demos.Ingested:
				in.ingested.Add(1)
				m.Ack()
			case demos.Duplicate:
				in.duplicates.Add(1)
				m.Ack()
			case demos.Waiting:
				md, err := m.Metadata()
				if err == nil && md.NumDelivered >= maxWaiting {
					in.drop(m, fmt.Errorf("episode %s never began here", rows[i].UID))
					continue
				}
				in.waiting.Add(1)
				m.NakWithDelay(500 * time.Millisecond)
			}
		}
		if in.onRow != nil {
			in.onRow(rows, sts)
		}
		return
	}
}

// drop terminates a row that can never be stored.
func (in *Ingester) drop(m jetstream.Msg, err error) {
	in.dropped.Add(1)
	in.fail(err)
	in.log.Error("bus: dropping a row that cannot be stored", "subject", m.Subject(), "err", err)
	m.Term()
}
