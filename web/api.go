package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"tandem/demos"
	"tandem/live"
	"tandem/policies"
	"tandem/sim"
)

// routes builds the echo instance with every route.
func (s *Server) routes() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.errorHandler
	// Host first: a request for another name (DNS rebinding) gets nothing,
	// not even the console.
	e.Use(s.checkHost, securityHeaders, s.reserveOnly, s.limitBody)

	api := e.Group("/api")
	api.GET("/health", s.health)
	api.GET("/tasks", s.listTasks, s.viewer)
	api.GET("/sessions", s.listSessions, s.viewer)
	api.POST("/sessions", s.postSession, s.operator)
	api.GET("/sessions/:id", s.getSession, s.viewer)
	api.DELETE("/sessions/:id", s.deleteSession, s.operator)
	api.POST("/sessions/:id/:action", s.sessionAction, s.operator)
	api.GET("/sessions/:id/ws", s.handleSessionWS)
	api.GET("/episodes", s.listEpisodes, s.viewer, checkIDs)
	api.GET("/episodes/export", s.exportEpisodes, s.viewer, checkIDs, s.exportGate)
	api.GET("/episodes/:id", s.getEpisode, s.viewer)
	api.GET("/episodes/:id/steps", s.getSteps, s.viewer)
	api.POST("/replays", s.postReplay, s.operator)
	api.GET("/policies", s.listPolicies, s.viewer)
	api.POST("/policies/activate", s.activatePolicy, s.operator)
	api.POST("/policies/rollback", s.rollbackPolicy, s.operator)
	api.POST("/policies/promote", s.promotePolicy, s.operator)
	api.GET("/learn", s.learnStatus, s.viewer)
	api.Any("/*", func(c echo.Context) error {
		return echo.NewHTTPError(http.StatusNotFound, "no such endpoint: "+c.Request().Method+" "+c.Request().URL.Path)
	})
	e.GET("/metrics", echo.WrapHandler(s.metricsHandler()), s.viewer)
	e.GET("/foxglove", s.handleFoxglove)
	e.GET("/*", echo.WrapHandler(staticHandler()))
	return e
}

// errorHandler writes every error as {"error": "..."} with its status.
func (s *Server) errorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, msg := http.StatusInternalServerError, err.Error()
	var he *echo.HTTPError
	var mb *http.MaxBytesError
	var re *live.RangeError
	switch {
	case errors.As(err, &re):
		status = http.StatusBadRequest
	case errors.Is(err, live.ErrTooMany):
		status = http.StatusTooManyRequests
	case errors.Is(err, live.ErrClosing):
		status, msg = http.StatusServiceUnavailable, "server is shutting down"
	case errors.As(err, &he):
		status = he.Code
		msg = fmt.Sprint(he.Message)
		if he.Internal != nil {
			msg += ": " + he.Internal.Error()
		}
	case errors.As(err, &mb):
		status, msg = http.StatusRequestEntityTooLarge, fmt.Sprintf("request body larger than %d bytes", mb.Limit)
	}
	route := c.Path()
	s.metrics.httpRequests.WithLabelValues(route, fmt.Sprintf("%dxx", status/100)).Inc()
	if c.Request().Method == http.MethodHead {
		c.NoContent(status)
		return
	}
	c.JSON(status, map[string]string{"error": msg})
}

func writeJSONError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

func (s *Server) limitBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if r.Body != nil {
			r.Body = http.MaxBytesReader(c.Response(), r.Body, s.cfg.MaxBody)
		}
		return next(c)
	}
}

// bindJSON decodes a request body strictly: unknown fields and trailing
// data are errors; an empty body leaves v as it is.
func bindJSON(c echo.Context, v any) error {
	dec := json.NewDecoder(c.Request().Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return nil
		}
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return err
		}
		return echo.NewHTTPError(http.StatusBadRequest, "bad JSON body: "+err.Error())
	}
	if dec.More() {
		return echo.NewHTTPError(http.StatusBadRequest, "bad JSON body: trailing data")
	}
	return nil
}

func (s *Server) health(c echo.Context) error {
	n := s.hub.Len()
	return c.JSON(http.StatusOK, map[string]any{"status": "ok", "sessions": n, "store": s.store != nil, "viewer_export": s.viewerExport})
}

func (s *Server) listTasks(c echo.Context) error {
	return c.JSON(http.StatusOK, s.cfg.Catalog.Specs())
}

func (s *Server) listSessions(c echo.Context) error {
	return c.JSON(http.StatusOK, s.Sessions())
}

func (s *Server) postSession(c echo.Context) error {
	var o SessionOptions
	if err := bindJSON(c, &o); err != nil {
		return err
	}
	info, err := s.CreateSession(o)
	switch {
	case err == nil:
		return c.JSON(http.StatusCreated, info)
	case errors.Is(err, live.ErrTooMany), errors.Is(err, live.ErrClosing):
		return err // 429, 503 (errorHandler)
	}
	// Every other refusal is the request's: an unknown task, mode or
	// policy, or a rate outside its range (control_hz must be in [1,
	// physics rate] and divide it, sim.Spec.CheckRates), named in err.
	return echo.NewHTTPError(http.StatusBadRequest, err.Error())
}

func (s *Server) getSession(c echo.Context) error {
	sess, err := s.session(c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, sess.info())
}

func (s *Server) deleteSession(c echo.Context) error {
	if err := s.DeleteSession(c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// sessionAction serves POST /api/sessions/{id}/reset|pause|resume|mode.
// reset takes an optional {"seed": n}; mode takes {"mode": "teleop"}.
func (s *Server) sessionAction(c echo.Context) error {
	v, err := s.session(c.Param("id"))
	if err != nil {
		return err
	}
	var body struct {
		Seed *uint64 `json:"seed"`
		Mode string  `json:"mode"`
		On   *bool   `json:"on"`
	}
	if err := bindJSON(c, &body); err != nil {
		return err
	}
	if !v.actions.take(time.Now()) {
		return echo.NewHTTPError(http.StatusTooManyRequests, fmt.Sprintf("more than %g session actions a second", s.cfg.ControlRate))
	}
	sess := v.sess
	switch a := c.Param("action"); a {
	case "reset":
		err = sess.Reset(body.Seed)
	case "pause":
		err = sess.Pause()
	case "resume":
		err = sess.Resume()
	case "learn":
		// {"on": true|false}: take part in online learning.
		err = sess.SetLearning(body.On == nil || *body.On)
	case "mode":
		if !sess.Live() {
			return echo.NewHTTPError(http.StatusConflict, "a replay session has no mode")
		}
		m, perr := sim.ParseMode(body.Mode)
		if perr != nil {
			return echo.NewHTTPError(http.StatusBadRequest, perr.Error())
		}
		err = sess.SetMode(m)
	default:
		return echo.NewHTTPError(http.StatusNotFound, fmt.Sprintf("unknown action %q (valid: reset, pause, resume, mode, learn)", truncate(a, 32)))
	}
	if err != nil {
		return echo.NewHTTPError(http.StatusConflict, err.Error())
	}
	return c.JSON(http.StatusAccepted, map[string]string{"status": "queued"})
}

// policyInfo is one entry of GET /api/policies: a built-in or a stored
// version (with its task, algorithm, lineage, evaluation and whether it is
// its task's current version).
type policyInfo struct {
	Name     string          `json:"name"`
	Version  string          `json:"version"`
	Kind     string          `json:"kind"`
	Algo     string          `json:"algo"`
	Task     string          `json:"task,omitempty"`
	Parent   string          `json:"parent,omitempty"`
	Created  time.Time       `json:"created,omitzero"`
	Promoted bool            `json:"promoted"`
	Eval     json.RawMessage `json:"eval,omitempty"`
}

func (s *Server) listPolicies(c echo.Context) error {
	out := []policyInfo{}
	for _, p := range s.cfg.Policies.List() {
		if p.Kind == policies.Builtin {
			out = append(out, policyInfo{Name: p.Name, Version: p.Version, Kind: p.Kind, Algo: policies.Builtin})
		}
	}
	if s.store != nil {
		vs, err := s.store.Policies(c.Request().Context(), c.QueryParam("task"))
		if err != nil {
			return err
		}
		for _, v := range vs {
			out = append(out, policyInfo{Name: v.Version, Version: v.Version, Kind: policies.Learned, Algo: v.Algo, Task: v.Task,
				Parent: v.Parent, Created: v.Created, Promoted: v.Promoted, Eval: v.Eval})
		}
	}
	return c.JSON(http.StatusOK, out)
}

type policyReq struct {
	Session string `json:"session"` // empty: every live session
	Policy  string `json:"policy"`
	Task    string `json:"task"` // rollback: the task whose current version rolls back
	Reason  string `json:"reason"`
}

// learnStatus serves GET /api/learn: the online trainer's algorithm (""
// when off) and its recent events (trainings, evaluations, promotions).
func (s *Server) learnStatus(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]any{"algo": s.hub.Learning(), "events": s.hub.LearnEvents()})
}

// promotePolicy makes a stored version its task's current one; sessions
// running the policy "current" switch at their next episode boundary.
func (s *Server) promotePolicy(c echo.Context) error {
	if s.store == nil {
		return errNoStore
	}
	var req policyReq
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	reason := req.Reason
	if reason == "" {
		reason = "POST /api/policies/promote"
	}
	ctx := c.Request().Context()
	if err := s.store.Promote(ctx, req.Policy, reason); err != nil {
		if errors.Is(err, demos.ErrNoPolicy) {
			return echo.NewHTTPError(http.StatusNotFound, err.Error())
		}
		return err
	}
	s.hub.FollowPromotions(nil)
	v, err := s.store.Policy(ctx, req.Policy)
	if err != nil {
		return err
	}
	v.Card = nil
	return c.JSON(http.StatusOK, v)
}

// activatePolicy hot-swaps a session's policy for any registered one.
func (s *Server) activatePolicy(c echo.Context) error {
	var req policyReq
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	if _, err := s.cfg.Policies.Lookup(req.Policy); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, err.Error())
	}
	return s.swapPolicies(c, req.Session, func(sess *live.Session) (string, error) { return req.Policy, nil })
}

// rollbackPolicy returns sessions to the policy they ran before the last
// activation.
func (s *Server) rollbackPolicy(c echo.Context) error {
	var req policyReq
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	if req.Task != "" {
		// The task's current version goes back to the previous one; sessions
		// following it switch at their next episode boundary.
		if s.store == nil {
			return errNoStore
		}
		reason := req.Reason
		if reason == "" {
			reason = "POST /api/policies/rollback"
		}
		v, err := s.store.Rollback(c.Request().Context(), req.Task, reason)
		if err != nil {
			return echo.NewHTTPError(http.StatusConflict, err.Error())
		}
		s.hub.FollowPromotions(nil)
		v.Card = nil
		return c.JSON(http.StatusOK, v)
	}
	return s.swapPolicies(c, req.Session, func(sess *live.Session) (string, error) {
		prev := sess.PreviousPolicy()
		if prev == "" {
			return "", echo.NewHTTPError(http.StatusConflict, "session "+sess.ID()+" has no earlier policy to roll back to")
		}
		return prev, nil
	})
}

func (s *Server) swapPolicies(c echo.Context, id string, pick func(*live.Session) (string, error)) error {
	var list []*view
	if id != "" {
		v, err := s.session(id)
		if err != nil {
			return err
		}
		list = []*view{v}
	} else {
		list = s.viewList()
	}
	out := []SessionInfo{}
	for _, v := range list {
		if !v.sess.Live() {
			continue
		}
		name, err := pick(v.sess)
		if err != nil {
			if id != "" {
				return err
			}
			continue
		}
		if err := v.sess.SetPolicy(name); err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, err.Error())
		}
		out = append(out, v.info())
	}
	return c.JSON(http.StatusOK, out)
}
