package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"tandem/demos"
)

// DefaultBuffer bounds a Publisher's unacknowledged rows in memory: 64 MiB
// holds about a minute of 256 sessions at 20 Hz (~700 B a step), far more
// than the 10 s outage or the 4–9 s leader election it must ride out.
const DefaultBuffer = 64 << 20

// PublisherConfig configures a Publisher. Zero values mean defaults.
type PublisherConfig struct {
	// Buffer bounds the bytes of rows not yet acknowledged by the bus
	// (DefaultBuffer). Beyond it new rows are dropped and counted; the
	// store of origin keeps them all.
	Buffer int
	// Logger receives outages and drops (slog.Default()).
	Logger *slog.Logger
}

// PublisherStats are a Publisher's counters.
type PublisherStats struct {
	Published   uint64 `json:"published"`   // rows the bus acknowledged
	Republished uint64 `json:"republished"` // publishes repeated after a failure
	Dropped     uint64 `json:"dropped"`     // rows refused because the buffer was full
	Unencodable uint64 `json:"unencodable"` // rows JSON cannot carry (non-finite numbers)
	Buffered    int    `json:"buffered"`    // rows waiting for an acknowledgement
	BufferBytes int    `json:"buffer_bytes"`
	Connected   bool   `json:"connected"`
	LastError   string `json:"last_error,omitempty"`
}

// Publisher publishes recorded rows (a demos.Recorder's Tap) to the steps
// stream: one subject per session, message id "<episode uid>-<t>" (or
// -begin, -label, -end) so the stream stores a republished row once. Tap
// encodes and queues and never blocks; one goroutine publishes
// asynchronously, a window of acknowledgements outstanding, in order, and
// republishes from the first unacknowledged row after a failure. While the
// bus is away rows wait in the bounded buffer, and go out when it returns.
type Publisher struct {
	b   *Bus
	cfg PublisherConfig
	log *slog.Logger

	mu       sync.Mutex // guards the fields below
	queue    []pending  // unacknowledged rows, oldest first
	head     int        // queue[head:] is live
	bytes    int
	subjects map[string]string // episode uid → subject, from its begin to its end
	closing  bool
	lastErr  string
	dropping bool // logging: a drop run is in progress

	wake chan struct{}
	stop chan struct{}
	done chan struct{}

	published, republished, dropped, unencodable atomic.Uint64
}

type pending struct {
	subject, id string
	data        []byte
}

// NewPublisher starts a publisher on b.
func (b *Bus) NewPublisher(cfg PublisherConfig) *Publisher {
	if cfg.Buffer <= 0 {
		cfg.Buffer = DefaultBuffer
	}
	if cfg.Logger == nil {
		cfg.Logger = b.log
	}
	p := &Publisher{b: b, cfg: cfg, log: cfg.Logger, subjects: map[string]string{},
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go p.run()
	return p
}

// Subject is the steps subject of a session row name: tandem.steps.<name>
// with the characters NATS reserves replaced by '_'.
func Subject(session string) string {
	return "tandem.steps." + strings.Map(func(r rune) rune {
		switch {
		case r == '.' || r == '*' || r == '>' || r <= ' ' || r == 0x7f:
			return '_'
		}
		return r
	}, session)
}

// Tap queues a row for publishing. It never blocks: a full buffer drops
// the row (counted). Safe for concurrent use; rows of one episode must
// come from one goroutine, in order (as a Recorder calls it).
func (p *Publisher) Tap(r demos.Row) {
	data, err := json.Marshal(r)
	if err != nil {
		p.unencodable.Add(1)
		p.log.Warn("bus: row not published", "uid", r.UID, "kind", r.Kind, "err", err)
		return
	}
	p.mu.Lock()
	subj := p.subjects[r.UID]
	switch r.Kind {
	case demos.RowBegin:
		subj = Subject(r.Begin.Session)
		p.subjects[r.UID] = subj
	case demos.RowEnd:
		delete(p.subjects, r.UID)
	}
	if subj == "" {
		subj = Subject("unknown")
	}
	if p.closing || p.bytes+len(data) > p.cfg.Buffer {
		first := !p.dropping
		p.dropping = true
		p.mu.Unlock()
		p.dropped.Add(1)
		if first {
			p.log.Error("bus: publish buffer full; dropping rows (the local store keeps them)", "buffer_bytes", p.cfg.Buffer)
		}
		return
	}
	p.dropping = false
	p.queue = append(p.queue, pending{subject: subj, id: r.UID + "-" + r.ID(), data: data})
	p.bytes += len(data)
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Stats returns the publisher's counters.
func (p *Publisher) Stats() PublisherStats {
	p.mu.Lock()
	st := PublisherStats{Buffered: len(p.queue) - p.head, BufferBytes: p.bytes, LastError: p.lastErr}
	p.mu.Unlock()
	st.Published, st.Republished = p.published.Load(), p.republished.Load()
	st.Dropped, st.Unencodable = p.dropped.Load(), p.unencodable.Load()
	st.Connected = p.b.Connected()
	return st
}

// Flush waits until every row queued before the call is acknowledged, or
// ctx ends.
func (p *Publisher) Flush(ctx context.Context) error {
	p.mu.Lock()
	target := p.published.Load() + uint64(len(p.queue)-p.head)
	p.mu.Unlock()
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for p.published.Load() < target {
		select {
		case <-ctx.Done():
			st := p.Stats()
			return fmt.Errorf("bus: %d rows not acknowledged (last error: %s): %w", st.Buffered, st.LastError, ctx.Err())
		case <-t.C:
		}
	}
	return nil
}

// Close refuses new rows, waits until the buffer is published or ctx
// ends, and stops. It reports rows left unpublished.
func (p *Publisher) Close(ctx context.Context) error {
	p.mu.Lock()
	if p.closing {
		p.mu.Unlock()
		<-p.done
		return nil
	}
	p.closing = true
	p.mu.Unlock()
	err := p.Flush(ctx)
	close(p.stop)
	<-p.done
	return err
}

// take returns the queued row i places after the first unacknowledged one.
func (p *Publisher) take(i int) (pending, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.head+i >= len(p.queue) {
		return pending{}, false
	}
	return p.queue[p.head+i], true
}

// ack drops the first unacknowledged row and counts it published, both
// under mu: Flush reads the two together.
func (p *Publisher) ack() {
	p.mu.Lock()
	p.published.Add(1)
	p.bytes -= len(p.queue[p.head].data)
	p.queue[p.head] = pending{}
	p.head++
	if p.head == len(p.queue) {
		p.queue, p.head = p.queue[:0], 0
	} else if p.head >= 4096 && p.head*2 >= len(p.queue) {
		n := copy(p.queue, p.queue[p.head:])
		clear(p.queue[n:])
		p.queue, p.head = p.queue[:n], 0
	}
	p.mu.Unlock()
}

func (p *Publisher) fail(err error) {
	p.mu.Lock()
	p.lastErr = err.Error()
	p.mu.Unlock()
}

// run publishes in order with up to publishWindow acknowledgements
// outstanding. A failure (timeout, no responders, disconnected) rewinds
// to the first unacknowledged row after a backoff; the stream's duplicate
// window drops the rows that had in fact been stored.
func (p *Publisher) run() {
	defer close(p.done)
	select {
	case <-p.b.Ready():
	case <-p.stop:
		return
	}
	var inflight []jetstream.PubAckFuture
	var epochs []uint64 // the connection epoch each in flight was sent in
	check := time.NewTicker(100 * time.Millisecond)
	defer check.Stop()
	backoff := time.Duration(0)
	var retry <-chan time.Time
	outage := time.Time{}
	pause := func(err error) {
		p.fail(err)
		p.republished.Add(uint64(len(inflight)))
		inflight, epochs = nil, nil // republished from the first unacknowledged row
		backoff = min(max(2*backoff, 50*time.Millisecond), time.Second)
		retry = time.After(backoff)
		if outage.IsZero() {
			outage = time.Now()
			p.log.Warn("bus: publishing paused; buffering rows", "err", err)
		}
	}
	for {
		// Fill the window.
		for retry == nil && len(inflight) < publishWindow {
			m, ok := p.take(len(inflight))
			if !ok {
				break
			}
			epoch := p.b.epoch.Load()
			msg := &nats.Msg{Subject: m.subject, Data: m.data, Header: nats.Header{}}
			f, err := p.b.js.PublishMsgAsync(msg, jetstream.WithMsgID(m.id), jetstream.WithExpectStream(StepsStream))
			if err != nil {
				pause(err)
				break
			}
			inflight, epochs = append(inflight, f), append(epochs, epoch)
		}
		var okc <-chan *jetstream.PubAck
		var errc <-chan error
		if len(inflight) > 0 {
			okc, errc = inflight[0].Ok(), inflight[0].Err()
		}
		select {
		case <-okc:
			p.ack()
			inflight, epochs = inflight[1:], epochs[1:]
			backoff = 0
			if !outage.IsZero() {
				p.log.Info("bus: publishing resumed", "after", time.Since(outage).Round(time.Millisecond), "buffered", p.Stats().Buffered)
				outage = time.Time{}
			}
		case err := <-errc:
			pause(err)
		case <-check.C:
			if len(inflight) > 0 && p.b.epoch.Load() != epochs[0] {
				pause(errors.New("bus: connection lost with publishes awaiting acknowledgement"))
			}
		case <-retry:
			retry = nil
		case <-p.wake:
		case <-p.stop:
			return
		}
	}
}
