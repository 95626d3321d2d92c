package web

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// hostGuard decides which Host headers the server answers: loopback names
// and addresses, the address it listens on, and Config.PublicHosts. A
// page on a rebinding domain (evil.example resolving to 127.0.0.1) sends
// Host: evil.example, and is refused before any route runs, on REST, the
// session WebSocket, Foxglove, metrics and the console alike. When the
// server listens on the unspecified address (0.0.0.0, ::), an IP literal
// of one of the machine's interfaces is accepted: DNS rebinding needs a
// name, so an address typed by a person is no risk. Safe for concurrent
// use.
type hostGuard struct {
	listen      net.IP // nil until Start; unspecified: any interface address
	port        string
	public      map[string]bool
	mu          sync.Mutex // guards ifaces, ifacesAt
	ifaces      map[string]bool
	ifacesAt    time.Time
	lookupAddrs func() ([]net.Addr, error)
}

func newHostGuard(public []string) *hostGuard {
	g := &hostGuard{public: map[string]bool{}, lookupAddrs: net.InterfaceAddrs}
	for _, h := range public {
		g.public[normHost(h)] = true
	}
	return g
}

// checkPublicHost reports whether h is a host name or address (without a
// port) that --public-host may name.
func checkPublicHost(h string) error {
	if h == "" || strings.ContainsAny(h, "/:@ ") && net.ParseIP(strings.Trim(h, "[]")) == nil {
		return fmt.Errorf("public host %q: want a host name or IP address without scheme or port", h)
	}
	return nil
}

// hostChars is what a Host header may contain: a name or an address
// (IPv6 in brackets) and a port.
var hostChars = regexp.MustCompile(`^[A-Za-z0-9.\-\[\]:]+$`)

// normHost lower-cases a host name and drops brackets and a final dot.
func normHost(h string) string {
	return strings.TrimSuffix(strings.ToLower(strings.Trim(h, "[]")), ".")
}

// bind records the bound listen address.
func (g *hostGuard) bind(addr net.Addr) {
	if ta, ok := addr.(*net.TCPAddr); ok {
		g.listen = ta.IP
		g.port = fmt.Sprint(ta.Port)
	}
}

// allowed reports whether hostport (a Host header or an Origin's host)
// names this server.
func (g *hostGuard) allowed(hostport string) bool {
	if !hostChars.MatchString(hostport) {
		return false // not a name, an address and a port
	}
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = normHost(host)
	if host == "" {
		return false
	}
	if isLoopback(host) || host == "localhost" || strings.HasSuffix(host, ".localhost") || g.public[host] {
		return true
	}
	ip := net.ParseIP(host)
	if ip == nil || g.listen == nil {
		return false
	}
	if !g.listen.IsUnspecified() {
		return ip.Equal(g.listen)
	}
	return g.isInterfaceAddr(ip)
}

// isInterfaceAddr reports whether ip is an address of this machine (the
// list is read again at most every 10 s, so a new DHCP lease is seen).
func (g *hostGuard) isInterfaceAddr(ip net.IP) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ifaces == nil || time.Since(g.ifacesAt) > 10*time.Second {
		g.ifaces, g.ifacesAt = map[string]bool{}, time.Now()
		addrs, _ := g.lookupAddrs()
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				g.ifaces[n.IP.String()] = true
			}
		}
	}
	return g.ifaces[ip.String()]
}

// checkHost is the first middleware: it refuses a request whose Host
// header does not name this server.
func (s *Server) checkHost(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if h := c.Request().Host; !s.hosts.allowed(h) {
			return echo.NewHTTPError(http.StatusForbidden, fmt.Sprintf(
				"host %q is not this server's (allowed: loopback names, the listen address, --public-host)", truncate(h, 64)))
		}
		return next(c)
	}
}

// checkOrigin accepts WebSocket upgrades with no Origin (non-browser
// clients), or an Origin whose host this server answers to (its own
// Host, already checked by checkHost, loopback, --public-host).
func (s *Server) checkOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	return strings.EqualFold(u.Host, r.Host) || s.hosts.allowed(u.Host)
}

// contentSecurityPolicy keeps the console to its own files: no inline or
// foreign scripts, no framing (clickjacking the operator), no plugins;
// fetches and sockets to this origin only. The socket origins are named
// as well as 'self' (older WebKit does not match ws: with 'self'); host
// has passed checkHost.
func contentSecurityPolicy(host string) string {
	return "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"connect-src 'self' ws://" + host + " wss://" + host + "; " +
		"frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
}

// securityHeaders sets the headers every answer carries; it runs after
// checkHost.
func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy(c.Request().Host))
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		return next(c)
	}
}
