package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"tandem/demos"
	"tandem/sim"
)

// storeLink is the server's demonstration store and its recorder.
type storeLink struct {
	store *demos.Store
	rec   *demos.Recorder
}

// openStore opens the store in dir and starts a recorder; recorder
// counters are exported as metrics.
func openStore(s *Server, dir string) (*storeLink, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := demos.Open(ctx, dir, demos.Options{})
	if err != nil {
		return nil, err
	}
	rec := demos.NewRecorder(st, demos.RecorderConfig{Logger: slog.New(slog.NewTextHandler(s.cfg.Log, nil))})
	l := &storeLink{store: st, rec: rec}
	stat := func(f func(demos.RecorderStats) float64) func() float64 {
		return func() float64 { return f(rec.Stats()) }
	}
	s.metrics.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "tandem_recorder_lag_seconds", Help: "Age of the oldest step not yet committed."},
			stat(func(st demos.RecorderStats) float64 { return st.Lag.Seconds() })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "tandem_recorder_pending_steps", Help: "Steps waiting to be committed."},
			stat(func(st demos.RecorderStats) float64 { return float64(st.PendingSteps) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "tandem_recorder_dropped_steps_total", Help: "Steps the recorder dropped (queue full or subscription overflow)."},
			stat(func(st demos.RecorderStats) float64 { return float64(st.DroppedSteps) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "tandem_recorder_committed_steps_total", Help: "Steps committed to the store."},
			stat(func(st demos.RecorderStats) float64 { return float64(st.CommittedSteps) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "tandem_recorder_commit_failures_total", Help: "Failed commits (retried)."},
			stat(func(st demos.RecorderStats) float64 { return float64(st.CommitFailures) })),
	)
	return l, nil
}

// record attaches the recorder to a session that has not started running.
func (l *storeLink) record(sess *session) (recorder, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// The session's mode can change while it runs; each episode is stored
	// with the mode it started in (a shared episode in which nobody
	// intervened stays shared).
	t, err := l.rec.Attach(ctx, sess.sim, demos.SessionInfo{ModeOf: func() sim.Mode { return sim.Mode(sess.authority().Mode) }})
	if err != nil {
		return nil, err
	}
	return &recording{t: t, rec: l.rec}, nil
}

// recording is one session's recording.
type recording struct {
	t   *demos.Recording
	rec *demos.Recorder
}

// Close ends the recording (the running episode is stored as cut) and waits
// until its steps are committed.
func (r *recording) Close() error {
	r.t.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.rec.Flush(ctx); err != nil && !errors.Is(err, demos.ErrRecorderClosed) {
		return err
	}
	return nil
}

func (l *storeLink) close() error {
	return errors.Join(l.rec.Close(), l.store.Close())
}

// errNoStore answers episode routes on a server without a store.
var errNoStore = echo.NewHTTPError(http.StatusServiceUnavailable, "this server runs without a store (--data)")

// parseFilter reads episode filters from the query string with
// demos.ParseFilter, the one parser the CLI uses too (same names, formats
// and messages); own names the route's other parameters. A bad filter is
// 400.
func parseFilter(c echo.Context, own ...string) (demos.Filter, error) {
	f, err := demos.ParseFilter(c.QueryParams(), append(own, "token")...)
	if err != nil {
		return f, echo.NewHTTPError(http.StatusBadRequest, err.Error())
	}
	return f, nil
}

func (s *Server) listEpisodes(c echo.Context) error {
	if s.store == nil {
		return errNoStore
	}
	f, err := parseFilter(c)
	if err != nil {
		return err
	}
	eps, err := s.store.store.ListEpisodes(c.Request().Context(), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, eps)
}

func episodeID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("episode id %q is not a positive integer", truncate(c.Param("id"), 40)))
	}
	return id, nil
}

func storeErr(err error) error {
	if errors.Is(err, demos.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, err.Error())
	}
	return err
}

func (s *Server) getEpisode(c echo.Context) error {
	if s.store == nil {
		return errNoStore
	}
	id, err := episodeID(c)
	if err != nil {
		return err
	}
	ep, err := s.store.store.Episode(c.Request().Context(), id)
	if err != nil {
		return storeErr(err)
	}
	return c.JSON(http.StatusOK, ep)
}

func (s *Server) getSteps(c echo.Context) error {
	if s.store == nil {
		return errNoStore
	}
	id, err := episodeID(c)
	if err != nil {
		return err
	}
	steps, err := s.store.store.Steps(c.Request().Context(), id)
	if err != nil {
		return storeErr(err)
	}
	return c.JSON(http.StatusOK, steps)
}
