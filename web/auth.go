package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"net"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// newToken returns 128 random bits as hex.
func newToken() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// isLoopback reports whether host (an IP or name, no port) is a loopback
// address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// requestToken returns the token a request carries: the Authorization
// bearer header (the scheme is case-insensitive, RFC 9110 §11.1), or the
// token query parameter (WebSockets cannot set headers from browsers). A
// header with another scheme carries no valid token.
func requestToken(r *http.Request) (string, bool) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, t, _ := strings.Cut(strings.TrimSpace(h), " ")
		if !strings.EqualFold(scheme, "Bearer") {
			return "", true
		}
		return strings.TrimSpace(t), true
	}
	if r.URL.Query().Has("token") {
		return r.URL.Query().Get("token"), true
	}
	return "", false
}

// role decides what a request may do: operator with the right token,
// viewer without one when viewers are open (loopback bind), otherwise an
// HTTP error (401 for a wrong or missing token).
func (s *Server) role(r *http.Request) (string, *echo.HTTPError) {
	tok, given := requestToken(r)
	if given {
		if subtle.ConstantTimeCompare([]byte(tok), []byte(s.token)) == 1 {
			return RoleOperator, nil
		}
		return "", echo.NewHTTPError(http.StatusUnauthorized, "invalid token")
	}
	if s.openViewers {
		return RoleViewer, nil
	}
	return "", echo.NewHTTPError(http.StatusUnauthorized, "token required: this server is not on a loopback address")
}

// viewer is middleware for read-only routes.
func (s *Server) viewer(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		role, err := s.role(c.Request())
		if err != nil {
			return err
		}
		c.Set("role", role)
		return next(c)
	}
}

// operator is middleware for routes that change state.
func (s *Server) operator(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		role, err := s.role(c.Request())
		if err != nil {
			return err
		}
		if role != RoleOperator {
			return echo.NewHTTPError(http.StatusUnauthorized, "operator token required (Authorization: Bearer TOKEN)")
		}
		c.Set("role", role)
		return next(c)
	}
}
