package web

import (
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

// client is one WebSocket connection to a session. Its handler goroutine
// reads (readLoop) and its writer goroutine writes (writeLoop); nothing
// else touches conn except Close. Frames reach it through its sendQueue
// from the session's fan-out goroutine, which never blocks.
type client struct {
	*sendQueue
	srv      *Server
	view     *view
	conn     *websocket.Conn
	n        uint64
	id       string
	role     string
	operator string
	latch    *teleop.Latch // operators only

	done chan struct{} // closed when the reader ended

	// reader goroutine state
	lastButtons teleop.Buttons
	ctl         bucket    // control messages and one-shot presses
	lastLimited time.Time // last rate_limited error sent
	// writer goroutine state
	lastAck uint64
	tail    []byte
}

func newClient(srv *Server, v *view, conn *websocket.Conn, n uint64, id, role, operator string) *client {
	c := &client{
		sendQueue: newSendQueue(srv.cfg.SendQueue, srv.cfg.SlowAfter),
		srv:       srv, view: v, conn: conn, n: n, id: id, role: role, operator: operator,
		done: make(chan struct{}), tail: make([]byte, 0, 64), ctl: newBucket(srv.cfg.ControlRate),
	}
	dropped := srv.metrics.dropped.WithLabelValues(v.id)
	c.onDrop = dropped.Inc
	c.onSlow = srv.metrics.slowKicks.Inc
	// A writer stuck on a stalled socket is unblocked by its write
	// deadline; this bounds the wait for everything else.
	c.onKick = func() { time.AfterFunc(defaultWriteWait+closeGrace, func() { conn.Close() }) }
	if role == RoleOperator {
		c.latch = teleop.NewLatch(operator)
	}
	return c
}

// pushFrame queues f (dropping the oldest frame when full). Called from
// the session's fan-out goroutine; never blocks.
func (c *client) pushFrame(f *frame) { c.push(outMsg{f: f}, f.wall) }

// pushMsg queues a complete message (hello, state, error, pong).
func (c *client) pushMsg(b []byte) { c.push(outMsg{b: b}, time.Time{}) }

// write writes one queued message (the writer is sendQueue.writeLoop).
func (c *client) write(m outMsg) error {
	if m.f == nil {
		return writeMsg(c.conn, m)
	}
	c.conn.SetWriteDeadline(time.Now().Add(defaultWriteWait))
	f := m.f
	// The frame's record lists the newest command seq it applied per
	// operator: this client's is its ack.
	if c.role == RoleOperator {
		for _, in := range f.inputs {
			if in.Operator == c.operator {
				c.lastAck = max(c.lastAck, in.Seq)
				break
			}
		}
	}
	w, err := c.conn.NextWriter(websocket.TextMessage)
	if err != nil {
		return err
	}
	w.Write(f.body)
	c.tail = appendFrameTail(c.tail[:0], c.dropped.Load(), c.lastAck)
	w.Write(c.tail)
	if err := w.Close(); err != nil {
		return err
	}
	c.srv.metrics.frameLatency.Observe(c.srv.cfg.Clock.Now().Sub(f.wall).Seconds())
	return nil
}
