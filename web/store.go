package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"tandem/demos"
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
	t, err := l.rec.Attach(ctx, sess.sim, demos.SessionInfo{})
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

// parseFilter reads episode filters from a query string: task, operator,
// since, until (RFC 3339 or Unix seconds), success, complete (true|false),
// mode, min_interventions, policy_version, limit, offset, ids (comma
// separated).
func parseFilter(c echo.Context) (demos.Filter, error) {
	var f demos.Filter
	q := c.QueryParams()
	bad := func(name, why string) error {
		return echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("filter %s=%q: %s", name, truncate(q.Get(name), 40), why))
	}
	for name := range q {
		switch name {
		case "task", "operator", "since", "until", "success", "complete", "mode", "min_interventions",
			"policy_version", "limit", "offset", "ids", "format", "token":
		default:
			return f, echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("unknown filter %q (valid: task, operator, since, until, success, complete, mode, min_interventions, policy_version, limit, offset, ids)", truncate(name, 40)))
		}
	}
	f.Task, f.Operator, f.Mode, f.PolicyVersion = q.Get("task"), q.Get("operator"), q.Get("mode"), q.Get("policy_version")
	if f.Mode != "" && !demos.ValidMode(f.Mode) {
		return f, echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("unknown mode %q (valid: %s)", truncate(f.Mode, 40), strings.Join(demos.Modes(), ", ")))
	}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		v := q.Get(p.name)
		if v == "" {
			continue
		}
		t, err := parseTime(v)
		if err != nil {
			return f, bad(p.name, "want RFC 3339 or Unix seconds")
		}
		*p.dst = t
	}
	for _, p := range []struct {
		name string
		dst  **bool
	}{{"success", &f.Success}, {"complete", &f.Complete}} {
		v := q.Get(p.name)
		if v == "" {
			continue
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			return f, bad(p.name, "want true or false")
		}
		*p.dst = &b
	}
	for _, p := range []struct {
		name string
		dst  *int
	}{{"min_interventions", &f.MinInterventions}, {"limit", &f.Limit}, {"offset", &f.Offset}} {
		v := q.Get(p.name)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return f, bad(p.name, "want a non-negative integer")
		}
		*p.dst = n
	}
	if v := q.Get("ids"); v != "" {
		for _, part := range strings.Split(v, ",") {
			id, err := strconv.ParseInt(strings.TrimSpace(part), 10, 64)
			if err != nil || id <= 0 {
				return f, bad("ids", "want comma-separated positive integers")
			}
			f.IDs = append(f.IDs, id)
		}
	}
	return f, nil
}

func parseTime(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	sec, err := strconv.ParseFloat(v, 64)
	if err != nil || !finite(sec) {
		return time.Time{}, errors.New("bad time")
	}
	return time.Unix(0, int64(sec*1e9)).UTC(), nil
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
