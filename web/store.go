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

// Pages of GET /api/episodes (issue 15: the list of 89,701 episodes was
// one answer): defaultEpisodePage episodes unless limit says otherwise, at
// most maxEpisodePage.
const (
	defaultEpisodePage = 500
	maxEpisodePage     = 5000
)

// episodePage is GET /api/episodes's answer: one page of the episodes the
// filters select, and the cursor of the next page.
type episodePage struct {
	Episodes []demos.Episode `json:"episodes"`
	// Next is the cursor of the next page, absent on the last: ask again
	// with the same query and cursor=Next.
	Next string `json:"next,omitempty"`
}

// pageQuery reads the filters and the page parameters of GET
// /api/episodes: limit (the page size: 0 or absent is
// defaultEpisodePage), order (asc, the default: oldest first; desc: newest
// first) and cursor (a page's next; offset is ignored with it). It
// returns the filter that selects one row more than the page, and the
// page size.
func pageQuery(c echo.Context) (demos.Filter, int, error) {
	f, err := parseFilter(c, "cursor", "order")
	if err != nil {
		return f, 0, err
	}
	bad := func(format string, args ...any) error {
		return echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf(format, args...))
	}
	size := f.Limit
	switch {
	case size == 0:
		size = defaultEpisodePage
	case size > maxEpisodePage:
		return f, 0, bad("limit %d: at most %d episodes a page (follow next for more)", size, maxEpisodePage)
	}
	switch o := c.QueryParam("order"); o {
	case "", "asc":
	case "desc":
		f.Desc = true
	default:
		return f, 0, bad("order %q: want asc or desc", truncate(o, 32))
	}
	if v := c.QueryParam("cursor"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return f, 0, bad("cursor %q: pass back a page's next as it came", truncate(v, 32))
		}
		f.Offset = 0
		if f.Desc {
			f.Before = id
		} else {
			f.After = id
		}
	}
	f.Limit = size + 1 // one more tells whether a next page exists
	return f, size, nil
}

func (s *Server) listEpisodes(c echo.Context) error {
	if s.store == nil {
		return errNoStore
	}
	f, size, err := pageQuery(c)
	if err != nil {
		return err
	}
	eps, err := s.store.ListEpisodes(c.Request().Context(), f)
	if err != nil {
		return err
	}
	page := episodePage{Episodes: eps}
	if len(eps) > size {
		page.Episodes = eps[:size]
		page.Next = strconv.FormatInt(eps[size-1].ID, 10)
	}
	return c.JSON(http.StatusOK, page)
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
