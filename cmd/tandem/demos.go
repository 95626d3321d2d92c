package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"tandem/demos"
	"tandem/sim"
	"tandem/tasks"
)

func init() { commands = append(commands, newDemosCmd) }

// taskLookup builds tasks for replay and export.
func taskLookup(name string) (sim.Task, error) { return tasks.New(name) }

func newDemosCmd() *cobra.Command {
	var data string
	cmd := &cobra.Command{
		Use:   "demos",
		Short: "List, inspect, replay, export and import recorded episodes",
	}
	cmd.PersistentFlags().StringVar(&data, "data", "./tandem-data", "data directory")
	cmd.AddCommand(newDemosListCmd(&data), newDemosShowCmd(&data), newDemosReplayCmd(&data),
		newDemosExportCmd(&data), newDemosImportCmd(&data), newDemosStatsCmd(&data))
	for _, c := range cmd.Commands() {
		c.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	}
	return cmd
}

// filterFlags are the episode filters every listing and export takes.
type filterFlags struct {
	task, operator, since, until, success, complete, mode, policy string
	minInterventions                                              int
}

func (f *filterFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.task, "task", "", "only episodes of this task")
	fl.StringVar(&f.operator, "operator", "", "only episodes in which this operator acted")
	fl.StringVar(&f.since, "since", "", "only episodes started at or after this time (RFC 3339 or YYYY-MM-DD)")
	fl.StringVar(&f.until, "until", "", "only episodes started before this time (RFC 3339 or YYYY-MM-DD)")
	fl.StringVar(&f.success, "success", "", "true or false: only successful or failed episodes")
	fl.StringVar(&f.complete, "complete", "", "true or false: only complete or incomplete episodes")
	fl.StringVar(&f.mode, "mode", "", "only episodes of this mode ("+strings.Join(demos.Modes(), ", ")+")")
	fl.StringVar(&f.policy, "policy-version", "", "only episodes in which this policy version acted")
	fl.IntVar(&f.minInterventions, "min-interventions", 0, "only episodes with at least this many interventions")
}

func (f *filterFlags) filter() (demos.Filter, error) {
	out := demos.Filter{Task: f.task, Operator: f.operator, Mode: f.mode, PolicyVersion: f.policy, MinInterventions: f.minInterventions}
	var err error
	if out.Since, err = parseWhen("--since", f.since); err != nil {
		return out, err
	}
	if out.Until, err = parseWhen("--until", f.until); err != nil {
		return out, err
	}
	if out.Success, err = parseTri("--success", f.success); err != nil {
		return out, err
	}
	if out.Complete, err = parseTri("--complete", f.complete); err != nil {
		return out, err
	}
	if f.minInterventions < 0 {
		return out, usagef("--min-interventions must be at least 0, got %d", f.minInterventions)
	}
	if f.mode != "" && !demos.ValidMode(f.mode) {
		return out, usagef("unknown --mode %q (valid: %s)", f.mode, strings.Join(demos.Modes(), ", "))
	}
	if !out.Since.IsZero() && !out.Until.IsZero() && !out.Since.Before(out.Until) {
		return out, usagef("--since %s is not before --until %s: the range selects nothing (want since < until)", f.since, f.until)
	}
	return out, nil
}

// checkTask refuses a --task that names no task tandem knows and none the
// store holds (an episode of a task since removed can still be listed).
func checkTask(ctx context.Context, s *demos.Store, task string) error {
	if task == "" {
		return nil
	}
	valid := tasks.Names()
	stored, err := s.Tasks(ctx)
	if err != nil {
		return err
	}
	for _, t := range stored {
		if !slices.Contains(valid, t) {
			valid = append(valid, t)
		}
	}
	if slices.Contains(valid, task) {
		return nil
	}
	return usagef("unknown --task %q (valid: %s)", task, strings.Join(valid, ", "))
}

func parseWhen(flag, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, usagef("%s %q: want RFC 3339 (2025-03-01T12:00:00Z) or YYYY-MM-DD", flag, s)
}

func parseTri(flag, s string) (*bool, error) {
	if s == "" {
		return nil, nil
	}
	v, err := strconv.ParseBool(s)
	if err != nil {
		return nil, usagef("%s %q: want true or false", flag, s)
	}
	return &v, nil
}

func parseID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, usagef("episode id %q: want a positive integer", s)
	}
	return id, nil
}

func openReadOnly(ctx context.Context, dir string) (*demos.Store, error) {
	return demos.Open(ctx, dir, demos.Options{ReadOnly: true})
}

// openFiltered reads the filter flags and opens the store read-only,
// refusing a --task that is neither in the catalogue nor in the store.
// The caller closes the store.
func openFiltered(ctx context.Context, dir string, ff *filterFlags) (*demos.Store, demos.Filter, error) {
	f, err := ff.filter()
	if err != nil {
		return nil, f, err
	}
	s, err := openReadOnly(ctx, dir)
	if err != nil {
		return nil, f, err
	}
	if err := checkTask(ctx, s, f.Task); err != nil {
		s.Close()
		return nil, f, err
	}
	return s, f, nil
}

func newDemosListCmd(data *string) *cobra.Command {
	var ff filterFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List recorded episodes",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, f, err := openFiltered(cmd.Context(), *data, &ff)
			if err != nil {
				return err
			}
			defer s.Close()
			eps, err := s.ListEpisodes(cmd.Context(), f)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return json.NewEncoder(out).Encode(eps)
			}
			w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tTASK\tSEED\tMODE\tLENGTH\tRETURN\tSUCCESS\tINTERVENTIONS\tOUTCOME\tCOMPLETE\tSTART")
			for _, e := range eps {
				fmt.Fprintf(w, "%d\t%s\t%d\t%s\t%d\t%.3f\t%v\t%d\t%s\t%v\t%s\n", e.ID, e.Task, e.Seed, e.Mode, e.Length,
					e.Return, e.Success, e.Interventions, e.Outcome, e.Complete, e.Start.Local().Format(time.DateTime))
			}
			return w.Flush()
		},
	}
	ff.add(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON array of episodes")
	return cmd
}

func newDemosShowCmd(data *string) *cobra.Command {
	var asJSON, withSteps bool
	var window int
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show one episode (and its steps with learning labels)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID(args[0])
			if err != nil {
				return err
			}
			if window < 0 {
				return usagef("--pre-intervention must be at least 0 steps, got %d (default %d, Sirius)", window, demos.DefaultPreIntervention)
			}
			s, err := openReadOnly(cmd.Context(), *data)
			if err != nil {
				return err
			}
			defer s.Close()
			ep, err := s.Episode(cmd.Context(), id)
			if err != nil {
				return notFoundUsage(err)
			}
			var steps []demos.Step
			var labels []demos.Labels
			if withSteps {
				if steps, err = s.Steps(cmd.Context(), id); err != nil {
					return err
				}
				labels = demos.LabelSteps(steps, window)
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return json.NewEncoder(out).Encode(map[string]any{"episode": ep, "spec": ep.Spec, "steps": steps, "labels": labels})
			}
			printEpisode(out, &ep)
			if withSteps {
				w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
				fmt.Fprintln(w, "T\tSOURCE\tCLASS\tRLIF\tREWARD\tSUCCESS\tOPERATOR\tPOLICY\tACTION")
				for i, st := range steps {
					fmt.Fprintf(w, "%d\t%s\t%d\t%g\t%.4f\t%v\t%s\t%s\t%s\n", st.T, st.Source, labels[i].Class, labels[i].RLIFReward,
						st.Reward, st.Success, st.Operator, st.PolicyVersion, demoVec(st.Action))
				}
				return w.Flush()
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().BoolVar(&withSteps, "steps", false, "also print every step with its labels")
	cmd.Flags().IntVar(&window, "pre-intervention", demos.DefaultPreIntervention, "pre-intervention window in steps (Sirius)")
	return cmd
}

func printEpisode(w io.Writer, e *demos.Episode) {
	fmt.Fprintf(w, "episode %d (session %d)\n", e.ID, e.SessionID)
	fmt.Fprintf(w, "  task          %s v%d, seed %d, %g Hz\n", e.Task, e.TaskVersion, e.Seed, e.ControlHz)
	fmt.Fprintf(w, "  mode          %s\n", e.Mode)
	fmt.Fprintf(w, "  operators     %s\n", strings.Join(e.Operators, ", "))
	fmt.Fprintf(w, "  policy        %s\n", strings.Join(e.PolicyVersion, ", "))
	fmt.Fprintf(w, "  time          %s .. %s\n", e.Start.Local().Format(time.DateTime+".000"), e.End.Local().Format(time.DateTime+".000"))
	fmt.Fprintf(w, "  outcome       %s (complete %v, dropped %d)\n", e.Outcome, e.Complete, e.Dropped)
	fmt.Fprintf(w, "  length        %d steps, return %.4f, success %v, interventions %d\n", e.Length, e.Return, e.Success, e.Interventions)
	if len(e.Tags) > 0 || e.Note != "" {
		fmt.Fprintf(w, "  tags          %s\n  note          %s\n", strings.Join(e.Tags, ", "), e.Note)
	}
}

func demoVec(v []float64) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = strconv.FormatFloat(x, 'f', 3, 64)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func notFoundUsage(err error) error {
	if errors.Is(err, demos.ErrNotFound) {
		return usageError{err}
	}
	return err
}

func newDemosReplayCmd(data *string) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "replay ID",
		Short: "Re-simulate an episode from its seed and actions and check every recorded observation",
		Long: `Re-simulate an episode from its seed and recorded actions and check every
recorded observation, reward and end flag bit for bit. Exit status 1 when the
episode diverges or its stored steps do not match its length (a step missing
or out of order). --json prints {"id","verified"}, {"id","diverged":{"step",
"field","recorded","replayed"}} or {"id","invalid":{"step","problem"}}.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID(args[0])
			if err != nil {
				return err
			}
			s, err := openReadOnly(cmd.Context(), *data)
			if err != nil {
				return err
			}
			defer s.Close()
			n, err := demos.Verify(cmd.Context(), s, id, taskLookup)
			if errors.Is(err, demos.ErrNotFound) {
				return usageError{err}
			}
			out := cmd.OutOrStdout()
			var de *demos.DivergenceError
			var se *demos.StepsError
			switch {
			case err == nil && asJSON:
				return json.NewEncoder(out).Encode(map[string]any{"id": id, "verified": n})
			case err == nil:
				fmt.Fprintf(out, "episode %d: verified %d steps\n", id, n)
				return nil
			case asJSON && errors.As(err, &de):
				if jerr := json.NewEncoder(out).Encode(map[string]any{"id": id, "diverged": map[string]any{
					"step": de.T, "field": de.Field, "recorded": jsonFloat(de.Recorded), "replayed": jsonFloat(de.Replayed),
				}}); jerr != nil {
					return jerr
				}
			case asJSON && errors.As(err, &se):
				if jerr := json.NewEncoder(out).Encode(map[string]any{"id": id, "invalid": map[string]any{
					"step": se.T, "problem": se.Problem,
				}}); jerr != nil {
					return jerr
				}
			}
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}

// jsonFloat is v, or nil where JSON has no number for it (NaN, ±Inf).
func jsonFloat(v float64) any {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return v
}

func newDemosExportCmd(data *string) *cobra.Command {
	var ff filterFlags
	var format, out string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Export episodes as MCAP (Foxglove, Lichtblick) or a LeRobot v3.0 dataset",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "mcap" && format != "lerobot" {
				return usagef("unknown --format %q (valid: mcap, lerobot)", format)
			}
			if out == "" {
				return usagef("--out is required: the MCAP file or LeRobot directory to write")
			}
			ctx := cmd.Context()
			s, f, err := openFiltered(ctx, *data, &ff)
			if err != nil {
				return err
			}
			defer s.Close()
			var st demos.ExportStats
			if format == "mcap" {
				st, err = exportMCAPFile(ctx, s, f, out)
			} else {
				st, err = demos.ExportLeRobot(ctx, s, f, out)
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
				return json.NewEncoder(cmd.OutOrStdout()).Encode(map[string]any{
					"format": format, "out": out, "episodes": st.Episodes, "steps": st.Steps, "bytes": st.Bytes, "warnings": warnings,
				})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "exported %d episodes (%d steps, %.2f MB) to %s\n", st.Episodes, st.Steps, float64(st.Bytes)/1e6, out)
			return nil
		},
	}
	ff.add(cmd)
	cmd.Flags().StringVar(&format, "format", "mcap", "mcap or lerobot")
	cmd.Flags().StringVar(&out, "out", "", "output file (mcap) or directory (lerobot)")
	cmd.Flags().BoolVar(&asJSON, "json", false, `print {"format","out","episodes","steps","bytes","warnings"}`)
	return cmd
}

// exportMCAPFile writes to a temporary file and renames it into place, so
// a failed export never leaves a half-written PATH.
func exportMCAPFile(ctx context.Context, s *demos.Store, f demos.Filter, path string) (demos.ExportStats, error) {
	tmp := path + ".partial"
	file, err := os.Create(tmp)
	if err != nil {
		return demos.ExportStats{}, err
	}
	st, err := demos.ExportMCAP(ctx, s, f, file, taskLookup)
	if cerr := file.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return st, err
	}
	return st, os.Rename(tmp, path)
}

func newDemosImportCmd(data *string) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "import FILE.mcap",
		Short: "Import an MCAP file exported by tandem into the store",
		Long: `Import an MCAP file exported by tandem into the store. Episodes the store
already holds (same episode UID: the file imported before, or an export of this
store) are skipped and listed, so importing twice stores nothing twice.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := demos.Open(cmd.Context(), *data, demos.Options{})
			if err != nil {
				return err
			}
			defer s.Close()
			res, err := demos.ImportMCAP(cmd.Context(), s, args[0])
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return json.NewEncoder(out).Encode(res)
			}
			strs := make([]string, len(res.IDs))
			for i, id := range res.IDs {
				strs[i] = strconv.FormatInt(id, 10)
			}
			fmt.Fprintf(out, "imported %d episodes (%d steps)", len(res.IDs), res.Steps)
			if len(strs) > 0 {
				fmt.Fprint(out, ": ", strings.Join(strs, " "))
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

func newDemosStatsCmd(data *string) *cobra.Command {
	var ff filterFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "stats",
		Short: "Episodes, steps, success rate and interventions, per operator and policy version",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, f, err := openFiltered(cmd.Context(), *data, &ff)
			if err != nil {
				return err
			}
			defer s.Close()
			st, err := s.Summary(cmd.Context(), f)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return json.NewEncoder(out).Encode(st)
			}
			w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "GROUP\tNAME\tEPISODES\tSTEPS\tSUCCESS RATE\tMEAN RETURN\tINTERVENTIONS/EP\tINCOMPLETE")
			row := func(kind string, g demos.Group) {
				name := g.Name
				if name == "" {
					name = "-"
				}
				fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%.3f\t%.3f\t%.2f\t%d\n", kind, name, g.Episodes, g.Steps, g.SuccessRate, g.MeanReturn, g.InterventionsPerEpisode, g.Incomplete)
			}
			row("all", st.Group)
			for _, g := range st.ByTask {
				row("task", g)
			}
			for _, g := range st.ByOperator {
				row("operator", g)
			}
			for _, g := range st.ByPolicy {
				row("policy", g)
			}
			return w.Flush()
		},
	}
	ff.add(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
