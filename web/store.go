package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"tandem/demos"
)

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
	eps, err := s.store.ListEpisodes(c.Request().Context(), f)
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
	ep, err := s.store.Episode(c.Request().Context(), id)
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
	steps, err := s.store.Steps(c.Request().Context(), id)
	if err != nil {
		return storeErr(err)
	}
	return c.JSON(http.StatusOK, steps)
}
