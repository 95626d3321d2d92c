package web

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"tandem/demos"
	"tandem/live"
)

// exportDir is where exports are built, inside the data directory; the
// client never names a path, so nothing is written outside it.
const exportDir = "exports"

// exportEpisodes serves GET /api/episodes/export?format=mcap|lerobot&FILTERS:
// MCAP as one file, LeRobot as a .tar.gz of the datasets (one per task and
// rate; see demos.ExportLeRobot). Both are built in a temporary directory
// under DATA/exports and removed after the download. Episodes still
// running are left out unless include_running=true; each export reads one
// snapshot of the store.
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
	root := filepath.Join(s.store.Dir(), exportDir)
	if err := os.MkdirAll(root, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(root, "export-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	stamp := time.Now().UTC().Format("20060102-150405")
	failed := func(err error) error {
		if errors.Is(err, demos.ErrNoEpisodes) {
			return echo.NewHTTPError(http.StatusNotFound, "no episodes match the filter")
		}
		return echo.NewHTTPError(http.StatusUnprocessableEntity, err.Error())
	}
	if format == "mcap" {
		path := filepath.Join(tmp, "episodes.mcap")
		file, err := os.Create(path)
		if err != nil {
			return err
		}
		_, err = demos.ExportMCAP(ctx, s.store, f, file, demos.ExportOptions{Lookup: s.cfg.Catalog.New})
		if cerr := file.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return failed(err)
		}
		return c.Attachment(path, "tandem-"+stamp+".mcap")
	}
	dir := filepath.Join(tmp, "dataset")
	if _, err := demos.ExportLeRobot(ctx, s.store, f, dir, demos.ExportOptions{}); err != nil {
		return failed(err)
	}
	name := "tandem-lerobot-" + stamp
	w := c.Response()
	w.Header().Set(echo.HeaderContentType, "application/gzip")
	w.Header().Set(echo.HeaderContentDisposition, fmt.Sprintf("attachment; filename=%q", name+".tar.gz"))
	w.WriteHeader(http.StatusOK)
	return writeTarGz(ctx, w, dir, name)
}

// writeTarGz writes the regular files under dir as a gzipped tar whose
// entries start with prefix/. Links and special files are skipped, so an
// archive never points outside the export.
func writeTarGz(ctx context.Context, w io.Writer, dir, prefix string) error {
	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil || strings.HasPrefix(rel, "..") {
			return errors.New("export: file outside the export directory")
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		hdr := &tar.Header{Name: prefix + "/" + filepath.ToSlash(rel), Mode: 0o644, Size: info.Size(), ModTime: info.ModTime(), Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		fh, err := os.Open(path)
		if err != nil {
			return err
		}
		defer fh.Close()
		_, err = io.Copy(tw, fh)
		return err
	})
	if err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
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
