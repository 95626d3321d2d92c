package web

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"tandem/teleop"
)

// Close codes sent by the server (docs/protocol.md).
const (
	closeSlow        = 4000
	closePingTimeout = 4001
	closeReplaced    = 4002
	closeGrace       = time.Second // how long a kicked client has to answer the close
)

// outMsg is one queued message: a shared frame or a complete JSON message.
type outMsg struct {
	f *frame
	b []byte
}

// client is one WebSocket connection to a session. Its handler goroutine
// reads (readLoop) and its writer goroutine writes (writeLoop); nothing
// else touches conn except Close. Frames reach it through pushFrame from
// the session's fan-out goroutine, which never blocks: a full queue drops
// its oldest frame.
type client struct {
	srv      *Server
	sess     *session
	conn     *websocket.Conn
	n        uint64
	id       string
	role     string
	operator string
	latch    *teleop.Latch // operators only
	cmdSeq   atomic.Uint64 // newest command seq set into latch
	acks     ackRing

	qmu        sync.Mutex // guards the queue and kick state
	q          []outMsg   // ring of capacity cfg.SendQueue
	head, size int
	fullSince  time.Time // session clock when pushes started finding the queue full
	kicked     bool
	kickCode   int
	kickReason string
	notify     chan struct{}
	dropped    atomic.Uint64

	done chan struct{} // closed when the reader ended

	// reader goroutine state
	lastButtons teleop.Buttons
	// writer goroutine state
	lastAck uint64
	tail    []byte
}

func newClient(srv *Server, sess *session, conn *websocket.Conn, n uint64, id, role, operator string) *client {
	c := &client{
		srv: srv, sess: sess, conn: conn, n: n, id: id, role: role, operator: operator,
		q: make([]outMsg, srv.cfg.SendQueue), notify: make(chan struct{}, 1), done: make(chan struct{}),
		tail: make([]byte, 0, 64),
	}
	if role == RoleOperator {
		c.latch = teleop.NewLatch(operator)
	}
	return c
}

// pushFrame queues f; when the queue is full the oldest frame is dropped,
// and a queue that stays full for SlowAfter of session time gets the client
// disconnected. Called from the session's fan-out goroutine; never blocks.
func (c *client) pushFrame(f *frame) {
	c.push(outMsg{f: f}, f.wall)
}

// pushMsg queues a complete message (hello, state, error, pong).
func (c *client) pushMsg(b []byte) { c.push(outMsg{b: b}, time.Time{}) }

func (c *client) push(m outMsg, now time.Time) {
	c.qmu.Lock()
	if c.kicked {
		c.qmu.Unlock()
		return
	}
	capacity := len(c.q)
	if c.size == capacity {
		c.dropOldestLocked()
		if m.f != nil {
			if c.fullSince.IsZero() {
				c.fullSince = now
			} else if now.Sub(c.fullSince) >= c.srv.cfg.SlowAfter {
				c.kickLocked(closeSlow, "too slow: send queue full for "+c.srv.cfg.SlowAfter.String())
				c.srv.metrics.slowKicks.Inc()
			}
		}
	} else if m.f != nil {
		c.fullSince = time.Time{}
	}
	c.q[(c.head+c.size)%capacity] = m
	c.size++
	c.qmu.Unlock()
	c.wake()
}

// dropOldestLocked removes the oldest frame (or, if the queue holds no
// frame, the oldest message) and counts it.
func (c *client) dropOldestLocked() {
	capacity := len(c.q)
	at := 0
	for i := range c.size {
		if c.q[(c.head+i)%capacity].f != nil {
			at = i
			break
		}
	}
	for i := at; i > 0; i-- { // shift the newer-than-dropped prefix up by one
		c.q[(c.head+i)%capacity] = c.q[(c.head+i-1)%capacity]
	}
	c.q[c.head] = outMsg{}
	c.head = (c.head + 1) % capacity
	c.size--
	c.dropped.Add(1)
	c.srv.metrics.dropped.WithLabelValues(c.sess.id).Inc()
}

func (c *client) pop() (outMsg, bool) {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	if c.size == 0 {
		return outMsg{}, false
	}
	m := c.q[c.head]
	c.q[c.head] = outMsg{}
	c.head = (c.head + 1) % len(c.q)
	c.size--
	return m, true
}

func (c *client) wake() {
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

// kick disconnects the client with a close code and reason: queued
// messages are discarded and the writer sends the close frame.
func (c *client) kick(code int, reason string) {
	c.qmu.Lock()
	c.kickLocked(code, reason)
	c.qmu.Unlock()
	c.wake()
}

func (c *client) kickLocked(code int, reason string) {
	if c.kicked {
		return
	}
	c.kicked, c.kickCode, c.kickReason = true, code, reason
	for c.size > 0 {
		c.q[c.head] = outMsg{}
		c.head = (c.head + 1) % len(c.q)
		c.size--
	}
	// A writer stuck on a stalled socket is unblocked by its write
	// deadline; this bounds the wait for everything else.
	time.AfterFunc(defaultWriteWait+closeGrace, func() { c.conn.Close() })
}

func (c *client) kickState() (bool, int, string) {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	return c.kicked, c.kickCode, c.kickReason
}

// writeLoop writes queued messages and pings until the reader ends or the
// client is kicked.
func (c *client) writeLoop() {
	ping := time.NewTicker(c.srv.cfg.PingInterval)
	defer ping.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-ping.C:
			c.conn.SetWriteDeadline(time.Now().Add(defaultWriteWait))
			if err := c.conn.WriteMessage(websocket.PingMessage, nil); err != nil {
				c.conn.Close()
				return
			}
		case <-c.notify:
		}
		for {
			if kicked, code, reason := c.kickState(); kicked {
				c.conn.SetWriteDeadline(time.Now().Add(closeGrace))
				c.conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason))
				time.AfterFunc(closeGrace, func() { c.conn.Close() })
				return
			}
			m, ok := c.pop()
			if !ok {
				break
			}
			if err := c.write(m); err != nil {
				c.conn.Close()
				return
			}
		}
	}
}

func (c *client) write(m outMsg) error {
	c.conn.SetWriteDeadline(time.Now().Add(defaultWriteWait))
	if m.f == nil {
		return c.conn.WriteMessage(websocket.TextMessage, m.b)
	}
	f := m.f
	ack := c.lastAck
	if c.role == RoleOperator {
		ack = max(ack, c.acks.lookup(uint64(f.episode)<<32|uint64(f.t)))
		c.lastAck = ack
	}
	w, err := c.conn.NextWriter(websocket.TextMessage)
	if err != nil {
		return err
	}
	w.Write(f.body)
	c.tail = appendFrameTail(c.tail[:0], c.dropped.Load(), ack)
	w.Write(c.tail)
	if err := w.Close(); err != nil {
		return err
	}
	c.srv.metrics.frameLatency.Observe(c.srv.cfg.Clock.Now().Sub(f.wall).Seconds())
	return nil
}

// ackRing remembers, for the last few changes of an operator's command
// seq, the step key (episode<<32 | steps taken) at which the loop first
// sampled it. Written by the loop goroutine, read by the writer.
type ackRing struct {
	mu   sync.Mutex
	n    int
	keys [32]uint64
	seqs [32]uint64
}

func (r *ackRing) note(key, seq uint64) {
	r.mu.Lock()
	if r.n == 0 || r.seqs[(r.n-1)%len(r.seqs)] != seq {
		i := r.n % len(r.seqs)
		r.keys[i], r.seqs[i] = key, seq
		r.n++
	}
	r.mu.Unlock()
}

// lookup returns the seq sampled at or before key (0 if none is known).
func (r *ackRing) lookup(key uint64) uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := r.n - 1; i >= 0 && i >= r.n-len(r.seqs); i-- {
		j := i % len(r.seqs)
		if r.keys[j] <= key {
			return r.seqs[j]
		}
	}
	return 0
}
