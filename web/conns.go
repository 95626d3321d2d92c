package web

import (
	"container/list"
	"context"
	"net"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/labstack/echo/v4"
)

// connLimiter is the listener behind the HTTP server: it bounds the
// connections held at once, overall (max) and per remote IP address
// (perAddr), so that no client, authenticated or not, can exhaust the
// process's descriptors and lock everyone out (issue 15: 10,000 idle
// keep-alive connections stopped /api/health).
//
// When a new connection would pass a cap, the oldest idle connection
// (accepted but no request yet, or between keep-alive requests) of that
// address, or of anyone for the overall cap, is closed to make room: a
// legitimate client sends its request at once and is busy, not idle, when
// the next arrival looks for a victim. With nothing idle to close (every
// connection busy or a WebSocket), up to reserve more are accepted as
// reserve connections, which serve only /api/health and requests carrying
// the operator token, then close (Connection: close); beyond that a
// connection is closed at once. Safe for concurrent use; the lock guards
// the counts and the idle lists.
type connLimiter struct {
	net.Listener
	max, perAddr, reserve int
	sendBuffer            int               // kernel send buffer of each connection, if positive
	onRefuse              func(addr string) // counts and logs a refusal (may be nil)
	onEvict               func()

	mu     sync.Mutex
	total  int
	byAddr map[string]int
	idle   *list.List            // of *limitedConn, oldest first
	idleBy map[string]*list.List // per address, oldest first

	refused, evicted atomic.Uint64
}

func newConnLimiter(ln net.Listener, maxConns, perAddr, reserve int) *connLimiter {
	return &connLimiter{Listener: ln, max: maxConns, perAddr: perAddr, reserve: reserve,
		byAddr: map[string]int{}, idle: list.New(), idleBy: map[string]*list.List{}}
}

// limitedConn is an accepted connection the limiter counts until Close.
type limitedConn struct {
	net.Conn
	l       *connLimiter
	addr    string
	reserve bool // accepted beyond a cap: health checks and token holders only
	// guarded by l.mu
	counted  bool
	el, elBy *list.Element // in the idle lists while idle
	closeOne sync.Once
}

func remoteIP(c net.Conn) string {
	if ta, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		return ta.IP.String()
	}
	return c.RemoteAddr().String()
}

// Accept returns the next connection within the caps.
func (l *connLimiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		addr := remoteIP(c)
		l.mu.Lock()
		overAddr, overAll := l.byAddr[addr] >= l.perAddr, l.total >= l.max
		reserve := false
		var victim *limitedConn
		if overAddr || overAll {
			victim = l.oldestIdleLocked(addr, overAddr)
			if victim != nil {
				l.uncountLocked(victim)
			} else if l.total < l.max+l.reserve && l.byAddr[addr] < l.perAddr+l.reserve {
				reserve = true
			} else {
				l.mu.Unlock()
				c.Close()
				l.refused.Add(1)
				if l.onRefuse != nil {
					l.onRefuse(addr)
				}
				continue
			}
		}
		if tc, ok := c.(*net.TCPConn); ok && l.sendBuffer > 0 {
			tc.SetWriteBuffer(l.sendBuffer)
		}
		lc := &limitedConn{Conn: c, l: l, addr: addr, reserve: reserve, counted: true}
		l.total++
		l.byAddr[addr]++
		l.mu.Unlock()
		if victim != nil {
			victim.Conn.Close()
			l.evicted.Add(1)
			if l.onEvict != nil {
				l.onEvict()
			}
		}
		return lc, nil
	}
}

// oldestIdleLocked returns the oldest idle connection of addr (sameAddr)
// or of anyone, or nil.
func (l *connLimiter) oldestIdleLocked(addr string, sameAddr bool) *limitedConn {
	var e *list.Element
	if sameAddr {
		if lst := l.idleBy[addr]; lst != nil {
			e = lst.Front()
		}
	} else {
		e = l.idle.Front()
	}
	if e == nil {
		return nil
	}
	return e.Value.(*limitedConn)
}

// uncountLocked removes c from the counts and the idle lists (once).
func (l *connLimiter) uncountLocked(c *limitedConn) {
	if !c.counted {
		return
	}
	c.counted = false
	l.total--
	if l.byAddr[c.addr]--; l.byAddr[c.addr] <= 0 {
		delete(l.byAddr, c.addr)
	}
	l.busyLocked(c)
}

func (l *connLimiter) busyLocked(c *limitedConn) {
	if c.el != nil {
		l.idle.Remove(c.el)
		c.el = nil
	}
	if c.elBy != nil {
		lst := l.idleBy[c.addr]
		lst.Remove(c.elBy)
		c.elBy = nil
		if lst.Len() == 0 {
			delete(l.idleBy, c.addr)
		}
	}
}

// connState is the http.Server's ConnState hook: it keeps the idle lists.
func (l *connLimiter) connState(nc net.Conn, st http.ConnState) {
	c, ok := nc.(*limitedConn)
	if !ok {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	switch st {
	case http.StateNew, http.StateIdle:
		if !c.counted || c.el != nil {
			return
		}
		c.el = l.idle.PushBack(c)
		lst := l.idleBy[c.addr]
		if lst == nil {
			lst = list.New()
			l.idleBy[c.addr] = lst
		}
		c.elBy = lst.PushBack(c)
	default: // active, hijacked (a WebSocket), closed
		l.busyLocked(c)
	}
}

// Close closes the connection and gives its place back.
func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.closeOne.Do(func() {
		c.l.mu.Lock()
		c.l.uncountLocked(c)
		c.l.mu.Unlock()
	})
	return err
}

// counts reports the connections held now, overall and from addr.
func (l *connLimiter) counts(addr string) (total, fromAddr int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total, l.byAddr[addr]
}

type connKey struct{}

// connContext puts the connection in its requests' context (the
// http.Server's ConnContext hook).
func connContext(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, c)
}

// reserveOnly is middleware: on a reserve connection only /api/health and
// requests carrying the right token are served, and the connection closes
// after the answer.
func (s *Server) reserveOnly(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		lc, _ := r.Context().Value(connKey{}).(*limitedConn)
		if lc == nil || !lc.reserve {
			return next(c)
		}
		c.Response().Header().Set("Connection", "close")
		if r.URL.Path == "/api/health" {
			return next(c)
		}
		if role, err := s.role(r); err == nil && role == RoleOperator {
			if _, given := requestToken(r); given {
				return next(c)
			}
		}
		s.metrics.connRefused.WithLabelValues("reserve").Inc()
		return echo.NewHTTPError(http.StatusServiceUnavailable,
			"the server is at its connection limit; only /api/health and requests with the operator token are served")
	}
}
