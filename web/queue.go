package web

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// outMsg is one queued message: a shared session frame, a complete text
// message, or a binary (Foxglove data) message. Frames and binary messages
// are data: a full queue drops its oldest data message first.
type outMsg struct {
	f      *frame
	b      []byte
	binary bool
}

func (m outMsg) data() bool { return m.f != nil || m.binary }

// sendQueue is a client's bounded outgoing queue, the one type behind
// session and Foxglove clients. Pushes never block: when the queue is full
// the oldest data message is dropped and counted (a control message only
// when nothing else is queued), and a queue that stays full for slowAfter
// gets the client kicked with closeSlow. The writer waits on notify. Safe
// for concurrent use.
type sendQueue struct {
	mu         sync.Mutex
	q          []outMsg // ring
	head, size int
	fullSince  time.Time
	kicked     bool
	kickCode   int
	kickReason string
	notify     chan struct{}
	dropped    atomic.Uint64
	slowAfter  time.Duration
	onDrop     func() // counts a drop in metrics; may be nil
	onSlow     func() // counts a slow kick; may be nil
	onKick     func() // closes the connection later (kick's grace); may be nil
}

func newSendQueue(capacity int, slowAfter time.Duration) *sendQueue {
	return &sendQueue{q: make([]outMsg, max(capacity, 1)), notify: make(chan struct{}, 1), slowAfter: slowAfter}
}

// push queues m; now is the time the data was made (a frame's session
// time), used by the slow-client rule; zero for control messages.
func (c *sendQueue) push(m outMsg, now time.Time) {
	c.mu.Lock()
	if c.kicked {
		c.mu.Unlock()
		return
	}
	capacity := len(c.q)
	if c.size == capacity {
		c.dropOldestLocked()
		if m.data() && c.slowAfter > 0 && !now.IsZero() {
			if c.fullSince.IsZero() {
				c.fullSince = now
			} else if now.Sub(c.fullSince) >= c.slowAfter {
				c.kickLocked(closeSlow, "too slow: send queue full for "+c.slowAfter.String())
				if c.onSlow != nil {
					c.onSlow()
				}
			}
		}
	} else if m.data() {
		c.fullSince = time.Time{}
	}
	if !c.kicked {
		c.q[(c.head+c.size)%capacity] = m
		c.size++
	}
	c.mu.Unlock()
	c.wake()
}

// dropOldestLocked removes the oldest data message (or, if the queue holds
// none, the oldest message) and counts it.
func (c *sendQueue) dropOldestLocked() {
	capacity := len(c.q)
	at := 0
	for i := range c.size {
		if c.q[(c.head+i)%capacity].data() {
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
	if c.onDrop != nil {
		c.onDrop()
	}
}

// pop takes the oldest message.
func (c *sendQueue) pop() (outMsg, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.size == 0 {
		return outMsg{}, false
	}
	m := c.q[c.head]
	c.q[c.head] = outMsg{}
	c.head = (c.head + 1) % len(c.q)
	c.size--
	return m, true
}

func (c *sendQueue) wake() {
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

// kick disconnects the client with a close code and reason: queued
// messages are discarded and the writer sends the close frame.
func (c *sendQueue) kick(code int, reason string) {
	c.mu.Lock()
	c.kickLocked(code, reason)
	c.mu.Unlock()
	c.wake()
}

func (c *sendQueue) kickLocked(code int, reason string) {
	if c.kicked {
		return
	}
	c.kicked, c.kickCode, c.kickReason = true, code, reason
	for c.size > 0 {
		c.q[c.head] = outMsg{}
		c.head = (c.head + 1) % len(c.q)
		c.size--
	}
	if c.onKick != nil {
		c.onKick()
	}
}

// kickState reports whether the client was kicked, with code and reason.
func (c *sendQueue) kickState() (bool, int, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.kicked, c.kickCode, c.kickReason
}

// writeLoop is the writer goroutine of every client, session or Foxglove:
// it writes the queued messages with write, and a ping every interval,
// until done is closed (the reader ended), the client is kicked or a
// write fails. A kicked client gets its close frame, also when the kick
// ended the reader (a ping timeout) and done is closed first.
func (c *sendQueue) writeLoop(conn *websocket.Conn, done <-chan struct{}, interval time.Duration, write func(outMsg) error) {
	ping := time.NewTicker(interval)
	defer ping.Stop()
	for {
		select {
		case <-done:
			c.sendClose(conn)
			return
		case <-ping.C:
			conn.SetWriteDeadline(time.Now().Add(defaultWriteWait))
			if err := conn.WriteMessage(websocket.PingMessage, nil); err != nil {
				conn.Close()
				return
			}
		case <-c.notify:
		}
		for {
			if c.sendClose(conn) {
				return
			}
			m, ok := c.pop()
			if !ok {
				break
			}
			if err := write(m); err != nil {
				conn.Close()
				return
			}
		}
	}
}

// sendClose writes a kicked client's close frame and closes the
// connection after closeGrace; it reports whether the client was kicked.
func (c *sendQueue) sendClose(conn *websocket.Conn) bool {
	kicked, code, reason := c.kickState()
	if !kicked {
		return false
	}
	conn.SetWriteDeadline(time.Now().Add(closeGrace))
	conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason))
	time.AfterFunc(closeGrace, func() { conn.Close() })
	return true
}

// writeMsg writes one complete message: text, or binary (Foxglove data).
func writeMsg(conn *websocket.Conn, m outMsg) error {
	typ := websocket.TextMessage
	if m.binary {
		typ = websocket.BinaryMessage
	}
	conn.SetWriteDeadline(time.Now().Add(defaultWriteWait))
	return conn.WriteMessage(typ, m.b)
}
