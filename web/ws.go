package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"tandem/sim"
	"time"

	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"

	"tandem/demos"
	"tandem/teleop"
)

// handleSessionWS upgrades GET /api/sessions/{id}/ws and serves the session
// protocol until the connection ends.
func (s *Server) handleSessionWS(c echo.Context) error {
	r := c.Request()
	role, herr := s.role(r)
	if herr != nil {
		return herr
	}
	sess, err := s.session(c.Param("id"))
	if err != nil {
		return err
	}
	n := s.connSeq.Add(1)
	id := "c" + strconv.FormatUint(n, 10)
	operator := ""
	if role == RoleOperator {
		operator = "browser:" + id
		if name := r.URL.Query().Get("operator"); name != "" {
			if !operatorName.MatchString(name) {
				return echo.NewHTTPError(http.StatusBadRequest, "operator must be 1-64 letters, digits or -_.@")
			}
			operator = "browser:" + name
		}
	}
	if !checkOrigin(r) {
		return echo.NewHTTPError(http.StatusForbidden, "origin not allowed")
	}
	conn, err := s.upgrader.Upgrade(c.Response(), r, nil)
	if err != nil {
		return nil // the upgrader already answered
	}
	s.setSocketBuffer(conn)
	cl := newClient(s, sess, conn, n, id, role, operator)
	if err := sess.addClient(cl); err != nil {
		conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseTryAgainLater, err.Error()), time.Now().Add(closeGrace))
		conn.Close()
		return nil
	}
	s.clientsWG.Add(1)
	defer s.clientsWG.Done()
	s.metrics.clients.WithLabelValues(role).Inc()
	defer s.metrics.clients.WithLabelValues(role).Dec()
	wdone := make(chan struct{})
	go func() {
		defer close(wdone)
		cl.writeLoop()
	}()
	cl.readLoop()
	sess.removeClient(cl)
	close(cl.done)
	<-wdone
	conn.Close()
	return nil
}

func (s *Server) setSocketBuffer(conn *websocket.Conn) {
	if s.cfg.SocketBuffer <= 0 {
		return
	}
	if tc, ok := conn.NetConn().(*net.TCPConn); ok {
		tc.SetWriteBuffer(s.cfg.SocketBuffer)
	}
}

// readLoop reads client messages until the connection fails. Messages
// above MaxMessage are refused with an error and the connection stays;
// above the hard limit gorilla closes it (1009).
func (c *client) readLoop() {
	conn := c.conn
	conn.SetReadLimit(defaultHardMessage)
	wait := c.srv.cfg.PongWait
	conn.SetReadDeadline(time.Now().Add(wait))
	conn.SetPongHandler(func(string) error { return conn.SetReadDeadline(time.Now().Add(wait)) })
	max := c.srv.cfg.MaxMessage
	buf := make([]byte, 0, 512)
	for {
		typ, r, err := conn.NextReader()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				c.kick(closePingTimeout, "ping timeout")
			}
			return
		}
		conn.SetReadDeadline(time.Now().Add(wait))
		buf = buf[:0]
		buf, err = readAtMost(buf, r, max+1)
		if err != nil {
			return
		}
		if len(buf) > max {
			if _, err := io.Copy(io.Discard, r); err != nil {
				return
			}
			c.reject(codeTooLarge, fmt.Sprintf("message larger than %d bytes", max), nil)
			continue
		}
		if typ != websocket.TextMessage {
			c.reject(codeBadType, "binary messages are not part of the protocol", nil)
			continue
		}
		c.handle(buf)
	}
}

// readAtMost appends up to n bytes of r to dst.
func readAtMost(dst []byte, r io.Reader, n int) ([]byte, error) {
	for len(dst) < n {
		if len(dst) == cap(dst) {
			dst = append(dst, 0)[:len(dst)]
		}
		end := min(cap(dst), n)
		k, err := r.Read(dst[len(dst):end])
		dst = dst[:len(dst)+k]
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst, err
		}
	}
	return dst, nil
}

// handle dispatches one message.
func (c *client) handle(b []byte) {
	m, merr := decodeMsg(b)
	if merr != nil {
		c.reject(merr.code, merr.msg, nil)
		return
	}
	switch m.Type {
	case msgPing:
		pb, _ := json.Marshal(pongMsg{Type: msgPong, ID: m.ID, Sent: m.Sent, Server: time.Now().UnixMilli()})
		c.pushMsg(pb)
	case msgCommand:
		if c.role != RoleOperator {
			c.reject(codeForbidden, "viewers cannot send commands; connect with ?token=", &m.Seq)
			return
		}
		if c.sess.arb == nil {
			c.reject(codeRejected, "a replay session takes no commands", &m.Seq)
			return
		}
		cmd, merr := commandFrom(&m, &c.sess.spec)
		if merr != nil {
			c.reject(merr.code, merr.msg, &m.Seq)
			return
		}
		cmd.Operator = c.operator
		cmd.At = c.srv.cfg.Clock.Now()
		if cmd.Buttons.Has(teleop.Reset) && !c.lastButtons.Has(teleop.Reset) {
			c.sess.sim.Reset()
		}
		c.lastButtons = cmd.Buttons
		c.latch.Set(cmd)
		if m.Seq > 0 && uint64(m.Seq) > c.cmdSeq.Load() {
			c.cmdSeq.Store(uint64(m.Seq))
		}
	case msgControl:
		if c.role != RoleOperator {
			c.reject(codeForbidden, "viewers cannot send control messages; connect with ?token=", &m.Seq)
			return
		}
		if err := c.control(&m); err != nil {
			c.reject(err.code, err.msg, &m.Seq)
			return
		}
		c.sess.pokeState()
	default:
		c.reject(codeBadType, fmt.Sprintf("unknown message type %q (valid: command, control, ping)", truncate(m.Type, 32)), nil)
	}
}

func (c *client) control(m *inMsg) *msgErr {
	s := c.sess
	var err error
	switch m.Op {
	case "reset":
		err = s.reset(nil)
	case "pause":
		err = s.sim.Pause()
	case "resume":
		err = s.sim.Resume()
	case "step", "speed":
		rp := s.opts.replay
		if rp == nil {
			return badMsg(codeRejected, "%s is a replay control; this is a live session", m.Op)
		}
		if m.Op == "step" {
			err = rp.Step()
			break
		}
		if m.Speed == nil {
			return badMsg(codeBadValue, "speed needs a number in (0, %d]", demos.MaxSpeed)
		}
		x := float64(*m.Speed)
		if !(x > 0 && x <= demos.MaxSpeed) {
			return badMsg(codeBadValue, "speed %v not in (0, %d]", x, demos.MaxSpeed)
		}
		err = rp.SetSpeed(x)
	case "takeover", "handback", "request", "mode":
		if s.arb == nil {
			return badMsg(codeRejected, "a replay session has no authority to take")
		}
		switch m.Op {
		case "takeover":
			err = s.arb.TakeOver(c.operator)
		case "handback":
			err = s.arb.HandBack(c.operator)
		case "request":
			err = s.arb.Request(c.operator)
		default:
			if _, err := sim.ParseMode(m.Mode); err != nil {
				return badMsg(codeBadValue, "%v", err)
			}
			err = s.arb.SetMode(m.Mode)
		}
	default:
		return badMsg(codeBadValue, "unknown op %q (valid: reset, pause, resume, takeover, handback, request, mode; replays: step, speed)", truncate(m.Op, 32))
	}
	if err != nil {
		return badMsg(codeRejected, "%s", err.Error())
	}
	return nil
}

// reject answers a refused message with an error and counts it.
func (c *client) reject(code, msg string, ref *int64) {
	c.srv.metrics.rejected.WithLabelValues(code).Inc()
	e := errorMsg{Type: msgError, Error: msg, Code: code}
	if ref != nil && *ref != 0 {
		r := *ref
		e.Ref = &r
	}
	b, _ := json.Marshal(e)
	c.pushMsg(b)
}
