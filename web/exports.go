package web

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"tandem/demos"
	"tandem/live"
)

// exportDir, inside the data directory, holds the temporary files of
// LeRobot streams (see exportEpisodes); the client never names a path, so
// nothing is written outside it.
const exportDir = "exports"

// exportDataFileMB is the size at which a streamed LeRobot dataset's data
// (and episode-metadata) files roll over to the next: each is written to a
// temporary file before it goes into the tar stream (a tar entry states
// its size first), so this bounds the disk a download holds. LeRobot's own
// writer rolls at 100 MB; 16 MB files load the same.
const exportDataFileMB = 16

// exportEpisodes serves GET /api/episodes/export?format=mcap|lerobot&FILTERS.
// Both formats stream: MCAP straight into the response as it is made;
// LeRobot as a .tar.gz of the datasets (one per task and rate, see
// demos.WriteLeRobotTarGz), each file going into the stream when it is
// complete, so DATA/exports holds at most two files of exportDataFileMB
// per download. Memory holds one episode at a time. Episodes still running
// are left out unless include_running=true. A selection of nothing is 404
// and an export that fails before its first byte 422; one that fails
// after (the store, or the client went away) is cut off: the connection
// closes without the end of the chunked body, so no client takes a
// truncated file for a whole one.
func (s *Server) exportEpisodes(c echo.Context) error {
	if s.store == nil {
		return errNoStore
	}
	format := c.QueryParam("format")
	if format != "mcap" && format != "lerobot" {
		return echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("unknown format %q (valid: mcap, lerobot)", truncate(format, 32)))
	}
	f, err := parseFilter(c, "format", "include_running")
	if err != nil {
		return err
	}
	if v := c.QueryParam("include_running"); v != "" {
		inc, err := strconv.ParseBool(v)
		if err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("include_running %q: want true or false", truncate(v, 32)))
		}
		f.Ended = !inc
	} else {
		f.Ended = true
	}
	ctx := c.Request().Context()
	stamp := time.Now().UTC().Format("20060102-150405")
	out := &attachment{c: c}
	if format == "mcap" {
		out.name, out.ctype = "tandem-"+stamp+".mcap", "application/octet-stream"
		_, err = demos.ExportMCAP(ctx, s.store, f, out, demos.ExportOptions{Lookup: s.cfg.Catalog.New})
	} else {
		root := s.exportRoot() // checked by exportGate: not a symbolic link
		if err := os.MkdirAll(root, 0o755); err != nil {
			return err
		}
		tmp, terr := os.MkdirTemp(root, "export-*")
		if terr != nil {
			return terr
		}
		defer os.RemoveAll(tmp)
		name := "tandem-lerobot-" + stamp
		out.name, out.ctype = name+".tar.gz", "application/gzip"
		_, err = demos.WriteLeRobotTarGz(ctx, s.store, f, out, name, demos.ExportOptions{TempDir: tmp, DataFileMB: exportDataFileMB})
	}
	switch {
	case err == nil:
		return nil
	case !c.Response().Committed:
		if errors.Is(err, demos.ErrNoEpisodes) {
			return echo.NewHTTPError(http.StatusNotFound, "no episodes match the filter")
		}
		if ctx.Err() != nil {
			return nil // the client left before anything was sent
		}
		return echo.NewHTTPError(http.StatusUnprocessableEntity, err.Error())
	}
	if ctx.Err() == nil {
		s.log.Warn("export cut off", "format", format, "err", err)
	}
	// The status and part of the body went out: cut the connection rather
	// than end the body as if it were whole.
	panic(http.ErrAbortHandler)
}

// attachment writes a download: its headers (the file name) go out with
// the first byte, so an export that fails before it has anything to send
// can still answer with an error status (echo's Response.Committed tells
// which).
type attachment struct {
	c           echo.Context
	name, ctype string
}

func (a *attachment) Write(p []byte) (int, error) {
	w := a.c.Response()
	if !w.Committed {
		w.Header().Set(echo.HeaderContentType, a.ctype)
		w.Header().Set(echo.HeaderContentDisposition, fmt.Sprintf("attachment; filename=%q", a.name))
	}
	return w.Write(p) // the first write sends 200 and the headers
}

// replayReq is the body of POST /api/replays.
type replayReq struct {
	Episode int64   `json:"episode"`
	Speed   float64 `json:"speed"`  // playback speed factor in [0.05, 20] (0: 1)
	Paused  bool    `json:"paused"` // start paused on the first frame
}

// postReplay serves POST /api/replays: a live session that re-simulates a
// stored episode from its seed and recorded actions, for viewers. Its
// clients may pause, resume and reset (restart); it takes no commands.
func (s *Server) postReplay(c echo.Context) error {
	if s.store == nil {
		return errNoStore
	}
	var req replayReq
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	if req.Episode <= 0 {
		return echo.NewHTTPError(http.StatusBadRequest, "episode must be a positive episode id")
	}
	if req.Speed != 0 { // 0: the default, 1
		if err := live.CheckReplaySpeed(req.Speed); err != nil {
			return err // 400 naming speed and its range
		}
	}
	sess, err := s.hub.CreateReplay(c.Request().Context(), req.Episode, req.Speed, req.Paused)
	if err != nil {
		if errors.Is(err, live.ErrClosing) {
			return echo.NewHTTPError(http.StatusServiceUnavailable, "server is shutting down")
		}
		return storeErr(err)
	}
	v, err := s.session(sess.ID())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, v.info())
}
