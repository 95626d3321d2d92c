package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"

	"tandem/live"
	"tandem/sim"
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
	v, err := s.session(c.Param("id"))
	if err != nil {
		return err
	}
	// role=viewer watches read-only even with the token (the console's
	// fleet tiles): it takes a viewer slot, not an operator's, and does
	// not resume an idle session.
	switch want := r.URL.Query().Get("role"); want {
	case "", RoleOperator:
		if want == RoleOperator && role != RoleOperator {
			return echo.NewHTTPError(http.StatusUnauthorized, "role=operator needs the operator token (?token=)")
		}
	case RoleViewer:
		role = RoleViewer
	default:
		return echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("role %q: want operator or viewer", truncate(want, 32)))
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
	if !s.checkOrigin(r) {
		return echo.NewHTTPError(http.StatusForbidden, "origin not allowed")
	}
	if !s.enter(&s.clientsWG) {
		return echo.NewHTTPError(http.StatusServiceUnavailable, "server is shutting down")
	}
	defer s.clientsWG.Done()
	conn, err := s.upgrader.Upgrade(c.Response(), r, nil)
	if err != nil {
		return nil // the upgrader already answered
	}
	cl := newClient(s, v, conn, n, id, role, operator)
	if err := v.addClient(cl); err != nil {
		conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseTryAgainLater, err.Error()), time.Now().Add(closeGrace))
		conn.Close()
		return nil
	}
	s.metrics.clients.WithLabelValues(role).Inc()
	defer s.metrics.clients.WithLabelValues(role).Dec()
	wdone := make(chan struct{})
	go func() {
		defer close(wdone)
		cl.writeLoop(conn, cl.done, s.cfg.PingInterval, cl.write)
	}()
	cl.readLoop()
	v.removeClient(cl)
	close(cl.done)
	<-wdone
	conn.Close()
	return nil
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

// oneShot are the buttons that act on the episode: a press of any of them
// in a command is queued with Session.Press (the path device presses take
// through the arbiter) rather than left in the latch, where a release
// arriving before the next tick would hide it.
const oneShot = teleop.Reset | teleop.MarkSuccess | teleop.MarkFailure | teleop.Help

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
		sess := c.view.sess
		if !sess.Live() {
			c.reject(codeRejected, "a replay session takes no commands", &m.Seq)
			return
		}
		cmd, merr := commandFrom(&m, &c.view.spec)
		if merr != nil {
			c.reject(merr.code, merr.msg, &m.Seq)
			return
		}
		cmd.Operator = c.operator
		cmd.At = c.srv.cfg.Clock.Now()
		cmd.Seq = uint64(m.Seq)
		if pressed := cmd.Buttons & oneShot &^ c.lastButtons; pressed != 0 {
			if !c.allowControl() {
				c.rateLimited(&m.Seq)
			} else if err := sess.Press(c.operator, pressed); err != nil {
				c.reject(codeRejected, err.Error(), &m.Seq)
			}
		}
		c.lastButtons = cmd.Buttons
		cmd.Buttons &^= oneShot
		c.latch.Set(cmd)
	case msgControl:
		if c.role != RoleOperator {
			c.reject(codeForbidden, "viewers cannot send control messages; connect with ?token=", &m.Seq)
			return
		}
		if !c.allowControl() {
			c.rateLimited(&m.Seq)
			return
		}
		if err := c.control(&m); err != nil {
			c.reject(err.code, err.msg, &m.Seq)
		}
	default:
		c.reject(codeBadType, fmt.Sprintf("unknown message type %q (valid: command, control, ping)", truncate(m.Type, 32)), nil)
	}
}

func (c *client) control(m *inMsg) *msgErr {
	sess := c.view.sess
	var err error
	switch m.Op {
	case "reset":
		if !sess.Live() {
			err = sess.Reset(nil) // a replay restarts
			break
		}
		err = sess.Press(c.operator, teleop.Reset)
	case "success", "failure", "help":
		if !sess.Live() {
			return badMsg(codeRejected, "a replay session takes no labels")
		}
		b, _ := teleop.ParseButton(m.Op)
		err = sess.Press(c.operator, b)
	case "pause":
		err = sess.Pause()
	case "resume":
		err = sess.Resume()
	case "step", "speed":
		rp := sess.Replay()
		if rp == nil {
			return badMsg(codeRejected, "%s is a replay control; this is a live session", m.Op)
		}
		if m.Op == "step" {
			err = rp.Step()
			break
		}
		if m.Speed == nil {
			return badMsg(codeBadValue, "speed needs a number in [%g, %g]", live.MinReplaySpeed, float64(live.MaxReplaySpeed))
		}
		x := float64(*m.Speed)
		if err := live.CheckReplaySpeed(x); err != nil {
			return badMsg(codeBadValue, "%v", err)
		}
		err = rp.SetSpeed(x)
	case "takeover", "handback", "request", "mode":
		if !sess.Live() {
			return badMsg(codeRejected, "a replay session has no authority to take")
		}
		switch m.Op {
		case "takeover":
			err = sess.TakeOver(c.operator)
		case "handback":
			err = sess.HandBack(c.operator)
		case "request":
			err = sess.Request(c.operator)
		default:
			mode, perr := sim.ParseMode(m.Mode)
			if perr != nil {
				return badMsg(codeBadValue, "%v", perr)
			}
			err = sess.SetMode(mode)
		}
	default:
		return badMsg(codeBadValue, "unknown op %q (valid: reset, pause, resume, takeover, handback, request, mode, success, failure, help; replays: step, speed)", truncate(m.Op, 32))
	}
	if err != nil {
		return badMsg(codeRejected, "%s", err.Error())
	}
	return nil
}

// allowControl spends one of the client's control tokens (control
// messages and one-shot button presses: reset, labels, help): at most
// Config.ControlRate a second with bursts of twice that. A reset flood
// (9,000 a second) made 89,701 empty episodes in 10 s.
func (c *client) allowControl() bool { return c.ctl.take(time.Now()) }

// rateLimited refuses a message over the client's control rate: each is
// counted, but one error a second at most goes back, so a flood does not
// fill the client's own queue with errors.
func (c *client) rateLimited(ref *int64) {
	now := time.Now()
	if now.Sub(c.lastLimited) < time.Second {
		c.srv.metrics.rejected.WithLabelValues(codeRateLimit).Inc()
		return
	}
	c.lastLimited = now
	c.reject(codeRateLimit, fmt.Sprintf("more than %g control messages a second; this one was dropped", c.srv.cfg.ControlRate), ref)
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
