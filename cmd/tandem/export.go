package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"tandem/demos"
)

// errNoMatch is what every export and replay says when the filters select
// nothing (exit 1, nothing written); the REST API answers 404.
var errNoMatch = errors.New("no episodes match the filter; nothing written")

func newDemosExportCmd(data *string) *cobra.Command {
	var ff filterFlags
	var format, out string
	var asJSON, force, includeRunning bool
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Export episodes as MCAP (Foxglove, Lichtblick) or LeRobot v3.0 datasets",
		Long: `Export the episodes the filters select (all without filters) as one MCAP file or
as LeRobot v3.0 datasets, one consistent picture of the store (a server may
keep recording meanwhile). Episodes still running are left out unless
--include-running. A LeRobot dataset holds one task at one rate: when the
selection holds several, --out gets one dataset per task (and rate) in
subdirectories, and the command lists them.

An existing --out is refused unless --force (which replaces an MCAP file or a
directory tandem exported before, nothing else). The output is written under a
temporary name next to --out and renamed into place when complete, so a failed
or interrupted export leaves nothing behind. A selection of no episodes writes
nothing and exits 1.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "mcap" && format != "lerobot" {
				return usagef("unknown --format %q (valid: mcap, lerobot)", format)
			}
			if out == "" {
				return usagef("--out is required: the MCAP file or LeRobot directory to write")
			}
			if err := checkOutput(format, out, force); err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			s, f, err := openFiltered(ctx, *data, &ff)
			if err != nil {
				return err
			}
			defer s.Close()
			f.Ended = !includeRunning
			bar := newProgress(cmd, "export "+format, "episodes", 0, asJSON)
			opts := demos.ExportOptions{Lookup: taskLookup, Progress: func(done, total int) {
				bar.SetTotal(total)
				bar.Set(done)
			}}
			var st demos.ExportStats
			if format == "mcap" {
				st, err = exportMCAPFile(ctx, s, f, out, opts)
			} else {
				st, err = exportLeRobotDir(ctx, s, f, out, opts)
			}
			bar.Done()
			if errors.Is(err, demos.ErrNoEpisodes) {
				return errNoMatch
			}
			if err != nil {
				return err
			}
			for _, w := range st.Warnings {
				fmt.Fprintln(cmd.ErrOrStderr(), "warning:", w)
			}
			if asJSON {
				warnings := st.Warnings
				if warnings == nil {
					warnings = []string{}
				}
				res := map[string]any{
					"format": format, "out": out, "episodes": st.Episodes, "steps": st.Steps, "bytes": st.Bytes, "warnings": warnings,
				}
				if format == "lerobot" {
					res["datasets"] = st.Datasets
				}
				return json.NewEncoder(cmd.OutOrStdout()).Encode(res)
			}
			msg := fmt.Sprintf("exported %d episodes (%d steps, %.2f MB) to %s", st.Episodes, st.Steps, float64(st.Bytes)/1e6, out)
			if len(st.Datasets) > 1 {
				parts := make([]string, len(st.Datasets))
				for i, d := range st.Datasets {
					parts[i] = fmt.Sprintf("%s (%s at %d fps, %d episodes)", d.Dir, d.Task, d.FPS, d.Episodes)
				}
				msg += fmt.Sprintf(" as %d LeRobot datasets, one per task and rate: %s", len(st.Datasets), strings.Join(parts, ", "))
			}
			fmt.Fprintln(cmd.OutOrStdout(), msg)
			return nil
		},
	}
	ff.add(cmd)
	cmd.Flags().StringVar(&format, "format", "mcap", "mcap or lerobot")
	cmd.Flags().StringVar(&out, "out", "", "output file (mcap) or directory (lerobot)")
	cmd.Flags().BoolVar(&force, "force", false, "replace an existing output (an MCAP file, or a directory tandem exported)")
	cmd.Flags().BoolVar(&includeRunning, "include-running", false, "also export episodes still being recorded (as far as they are committed)")
	cmd.Flags().BoolVar(&asJSON, "json", false, `print {"format","out","episodes","steps","bytes","warnings"} (and "datasets" for lerobot)`)
	return cmd
}

// checkOutput refuses an existing output unless force, and with force
// anything but an MCAP file or a directory tandem exported.
func checkOutput(format, out string, force bool) error {
	fi, err := os.Stat(out)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	switch {
	case format == "mcap" && fi.IsDir():
		return usagef("--out %s is a directory; name the MCAP file to write", out)
	case format == "lerobot" && !fi.IsDir():
		return usagef("--out %s exists and is not a directory", out)
	case format == "lerobot" && isEmptyDir(out):
		return nil
	case !force:
		return usagef("--out %s already exists; pass --force to replace it", out)
	case format == "lerobot" && !isLeRobotExport(out):
		return usagef("--out %s is not a LeRobot export (no meta/info.json); refusing to replace it, even with --force", out)
	}
	return nil
}

func isEmptyDir(dir string) bool {
	entries, err := os.ReadDir(dir)
	return err == nil && len(entries) == 0
}

// isLeRobotExport reports whether dir is a dataset tandem wrote, or a
// directory of them.
func isLeRobotExport(dir string) bool {
	if _, err := os.Stat(filepath.Join(dir, "meta", "info.json")); err == nil {
		return true
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) == 0 {
		return false
	}
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join(dir, e.Name(), "meta", "info.json")); err != nil || !e.IsDir() {
			return false
		}
	}
	return true
}

// partialPattern is the temporary name an output is built under, next to it.
func partialPattern(out string) (dir, pattern string) {
	return filepath.Dir(out), "." + filepath.Base(out) + ".*.partial"
}

// exportMCAPFile writes to a temporary file next to path and renames it
// into place, so a failed or interrupted export never leaves a
// half-written file.
func exportMCAPFile(ctx context.Context, s *demos.Store, f demos.Filter, path string, opts demos.ExportOptions) (demos.ExportStats, error) {
	dir, pattern := partialPattern(path)
	file, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return demos.ExportStats{}, err
	}
	tmp := file.Name()
	st, err := demos.ExportMCAP(ctx, s, f, file, opts)
	if cerr := file.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return st, err
}

// exportLeRobotDir builds the datasets in a temporary directory next to
// out and renames it into place (replacing an earlier export only once the
// new one is complete).
func exportLeRobotDir(ctx context.Context, s *demos.Store, f demos.Filter, out string, opts demos.ExportOptions) (demos.ExportStats, error) {
	parent, pattern := partialPattern(out)
	tmp, err := os.MkdirTemp(parent, pattern)
	if err != nil {
		return demos.ExportStats{}, err
	}
	defer os.RemoveAll(tmp) // nothing left once renamed
	st, err := demos.ExportLeRobot(ctx, s, f, tmp, opts)
	if err != nil {
		return st, err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return st, err
	}
	if _, err := os.Stat(out); err == nil {
		// Replace (checkOutput allowed it): move the old one aside first.
		old, err := os.MkdirTemp(parent, "."+filepath.Base(out)+".*.old")
		if err != nil {
			return st, err
		}
		os.Remove(old)
		if err := os.Rename(out, old); err != nil {
			return st, err
		}
		if err := os.Rename(tmp, out); err != nil {
			os.Rename(old, out)
			return st, err
		}
		os.RemoveAll(old)
	} else if err := os.Rename(tmp, out); err != nil {
		return st, err
	}
	for i := range st.Datasets {
		if rel, err := filepath.Rel(tmp, st.Datasets[i].Dir); err == nil {
			st.Datasets[i].Dir = filepath.Join(out, rel)
		}
	}
	return st, nil
}

func newDemosImportCmd(data *string) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "import FILE.mcap",
		Short: "Import an MCAP file exported by tandem into the store",
		Long: `Import an MCAP file exported by tandem into the store. Episodes the store
already holds (same episode UID: the file imported before, or an export of this
store) are skipped and listed, so importing twice stores nothing twice. A file
that cannot be read is refused before the data directory is created.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if fi, err := os.Stat(args[0]); err != nil {
				return usagef("%v", err)
			} else if fi.IsDir() {
				return usagef("%s is a directory, not an MCAP file", args[0])
			}
			s, err := demos.Open(cmd.Context(), *data, demos.Options{})
			if err != nil {
				return err
			}
			defer s.Close()
			bar := newProgress(cmd, "import", "episodes", 0, asJSON)
			res, err := demos.ImportMCAP(cmd.Context(), s, args[0], func(done, total int) {
				bar.SetTotal(total)
				bar.Set(done)
			})
			bar.Done()
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return json.NewEncoder(out).Encode(res)
			}
			fmt.Fprintf(out, "imported %d episodes (%d steps)", len(res.IDs), res.Steps)
			if len(res.IDs) > 0 {
				fmt.Fprint(out, ": ", idRanges(res.IDs))
			}
			fmt.Fprintln(out)
			if len(res.Skipped) > 0 {
				skipped := make([]string, len(res.Skipped))
				for i, sk := range res.Skipped {
					skipped[i] = fmt.Sprintf("file episode %d (stored as %d)", sk.SourceID, sk.Existing)
				}
				fmt.Fprintf(out, "skipped %d episodes already in the store: %s\n", len(res.Skipped), strings.Join(skipped, ", "))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, `print {"episodes":[new ids],"steps","skipped":[{"source_id","uid","existing_id"}]}`)
	return cmd
}
