package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"tandem/demos"
)

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
