package web

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// maxIDs bounds the ids filter (SQLite allows 32,766 variables per
// statement; more gave a 500).
const maxIDs = 1000

// checkIDs is middleware for the episode routes that take filters: an
// ids list longer than maxIDs is refused (400) before any query.
func checkIDs(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		for _, v := range c.Request().URL.Query()["ids"] {
			if n := strings.Count(v, ",") + 1; n > maxIDs {
				return echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("filter ids: %d ids, at most %d per request", n, maxIDs))
			}
		}
		return next(c)
	}
}

// exportGate is middleware for GET /api/episodes/export, the one route
// that can hold a connection, memory and disk for minutes:
//
//   - viewers without a token may export only when Config.ViewerExport
//     allows it (by default on a loopback address only);
//   - at most Config.MaxExports exports run at once (429 with
//     Retry-After beyond);
//   - DATA/exports must be a directory of the data directory, not a
//     symbolic link to somewhere else (500 otherwise);
//   - the request's read deadline is lifted (an export may take longer
//     than ReadTimeout) and each 64 KiB written gets WriteTimeout to make
//     progress, so a slow reader keeps its download and a stalled one is
//     dropped;
//   - shutdown waits for it (bounded) so its temporary files are removed.
func (s *Server) exportGate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if c.Get("role") == RoleViewer && !s.viewerExport {
			return echo.NewHTTPError(http.StatusForbidden, "exports need the operator token on this server (tandem serve --viewer-export allows viewers)")
		}
		if s.store == nil {
			return next(c) // answers 503
		}
		if err := s.checkExportDir(); err != nil {
			s.log.Error("export refused", "err", err)
			return echo.NewHTTPError(http.StatusInternalServerError, err.Error())
		}
		select {
		case s.exportSlots <- struct{}{}:
		default:
			c.Response().Header().Set("Retry-After", strconv.Itoa(5))
			return echo.NewHTTPError(http.StatusTooManyRequests, fmt.Sprintf("%d exports in progress, the limit; try again when one finishes", cap(s.exportSlots)))
		}
		defer func() { <-s.exportSlots }()
		if !s.enter(&s.exportsWG) {
			return echo.NewHTTPError(http.StatusServiceUnavailable, "server is shutting down")
		}
		defer s.exportsWG.Done()
		s.metrics.exports.Inc()
		defer s.metrics.exports.Dec()

		w := c.Response().Writer
		rc := http.NewResponseController(w)
		rc.SetReadDeadline(time.Time{}) //nolint:errcheck // not every writer has a connection (tests)
		c.Response().Writer = &progressWriter{ResponseWriter: w, rc: rc, wait: s.cfg.WriteTimeout}
		return next(c)
	}
}

// progressWriter gives each progressStep bytes of a download their own
// deadline: a download may take as long as it needs while it keeps
// moving (at least progressStep per WriteTimeout, 2 KiB/s by default), and
// a stalled one is dropped. An export writes up to a whole MCAP chunk at
// once; one deadline for all of it would drop a slow reader that is
// making progress.
type progressWriter struct {
	http.ResponseWriter
	rc   *http.ResponseController
	wait time.Duration
}

// progressStep is the most a download writes under one deadline.
const progressStep = 64 << 10

func (w *progressWriter) Write(p []byte) (int, error) {
	if w.wait <= 0 {
		return w.ResponseWriter.Write(p)
	}
	n := 0
	for len(p) > 0 {
		k := min(len(p), progressStep)
		w.rc.SetWriteDeadline(time.Now().Add(w.wait)) //nolint:errcheck // see exportGate
		m, err := w.ResponseWriter.Write(p[:k])
		n += m
		if err != nil {
			return n, err
		}
		p = p[k:]
	}
	return n, nil
}

func (w *progressWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// exportRoot is DATA/exports, where LeRobot streams keep their temporary
// files (MCAP exports write nothing to disk).
func (s *Server) exportRoot() string { return filepath.Join(s.store.Dir(), exportDir) }

// checkExportDir refuses an export root that is a symbolic link or not a
// directory: docs/api.md promises nothing is written outside the data
// directory.
func (s *Server) checkExportDir() error {
	fi, err := os.Lstat(s.exportRoot())
	switch {
	case os.IsNotExist(err):
		return nil // created as a directory by the export
	case err != nil:
		return err
	case fi.Mode()&os.ModeSymlink != 0:
		return fmt.Errorf("%s is a symbolic link: exports are written inside the data directory only; remove it", s.exportRoot())
	case !fi.IsDir():
		return fmt.Errorf("%s is not a directory; remove it", s.exportRoot())
	}
	return nil
}

// cleanExports removes export temporary directories left by a crash (at
// start) or an abandoned download (at shutdown). A symbolic link in
// their place is left alone and reported, never followed.
func (s *Server) cleanExports() {
	if s.store == nil {
		return
	}
	if err := s.checkExportDir(); err != nil {
		s.log.Warn("export directory", "err", err)
		return
	}
	ents, err := os.ReadDir(s.exportRoot())
	if err != nil {
		return
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "export-") && e.Type()&os.ModeSymlink == 0 {
			if err := os.RemoveAll(filepath.Join(s.exportRoot(), e.Name())); err != nil {
				s.log.Warn("removing an old export", "err", err)
			}
		}
	}
}
