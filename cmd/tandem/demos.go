package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
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

// filterFlags binds the episode filters of demos.FilterParams as flags
// (dashes for underscores: --min-interventions), so the CLI and the REST
// API take the same filters, parsed by the same demos.ParseFilter.
type filterFlags struct {
	cmd  *cobra.Command
	vals map[string]*string
}

func flagName(param string) string { return strings.ReplaceAll(param, "_", "-") }

func (f *filterFlags) add(cmd *cobra.Command) {
	f.cmd, f.vals = cmd, map[string]*string{}
	for _, p := range demos.FilterParams() {
		f.vals[p.Name] = cmd.Flags().String(flagName(p.Name), "", p.Help)
	}
}

// given reports whether any filter flag was set.
func (f *filterFlags) given() bool {
	for name := range f.vals {
		if f.cmd.Flags().Changed(flagName(name)) {
			return true
		}
	}
	return false
}

func (f *filterFlags) filter() (demos.Filter, error) {
	q := map[string][]string{}
	for name, v := range f.vals {
		if f.cmd.Flags().Changed(flagName(name)) {
			q[name] = []string{*v}
		}
	}
	flt, err := demos.ParseFilter(q)
	if fe, ok := errors.AsType[*demos.FilterError](err); ok {
		v := fe.Value
		if len(v) > 40 {
			v = v[:40] + "…"
		}
		return flt, usagef("--%s %q: %s", flagName(fe.Name), v, fe.Want)
	}
	return flt, err
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
				return usagef("--pre-intervention must be at least 0 steps, got %d (default %d, Sirius)", window, sim.DefaultPreIntervention)
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
	cmd.Flags().IntVar(&window, "pre-intervention", sim.DefaultPreIntervention, "pre-intervention window in steps (Sirius)")
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
	var ff filterFlags
	cmd := &cobra.Command{
		Use:   "replay [ID...]",
		Short: "Re-simulate episodes from their seeds and actions and check every recorded observation",
		Long: `Re-simulate episodes from their seeds and recorded actions and check every
recorded observation, reward and end flag bit for bit: the episodes named, or
those the filters select (all, without either). Exit status 1 when an episode
diverges or its stored steps do not match its length (a step missing or out of
order). --json prints one line per episode: {"id","verified"},
{"id","diverged":{"step","field","recorded","replayed"}} or
{"id","invalid":{"step","problem"}}. A progress bar shows on a terminal when
more than one episode is replayed.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ids := make([]int64, len(args))
			for i, a := range args {
				id, err := parseID(a)
				if err != nil {
					return err
				}
				ids[i] = id
			}
			s, f, err := openFiltered(cmd.Context(), *data, &ff)
			if err != nil {
				return err
			}
			defer s.Close()
			if len(ids) == 0 {
				eps, err := s.ListEpisodes(cmd.Context(), f)
				if err != nil {
					return err
				}
				if len(eps) == 0 {
					return errors.New("no episodes match the filter")
				}
				for _, e := range eps {
					ids = append(ids, e.ID)
				}
			} else if ff.given() {
				return usagef("name episodes by ID or by filters, not both")
			}
			out := cmd.OutOrStdout()
			bar := (*progress)(nil)
			if len(ids) > 1 {
				bar = newProgress(cmd, "replay", "episodes", len(ids), asJSON)
			}
			defer bar.Done()
			failed := 0
			var firstErr error
			for i, id := range ids {
				err := replayOne(cmd, s, id, asJSON, bar)
				if errors.Is(err, demos.ErrNotFound) {
					bar.Done()
					return usageError{err}
				}
				if err != nil {
					var de *demos.DivergenceError
					var se *demos.StepsError
					if !errors.As(err, &de) && !errors.As(err, &se) {
						return err
					}
					failed++
					if firstErr == nil {
						firstErr = err
					}
					if len(ids) > 1 && !asJSON {
						bar.Println(out, fmt.Sprintf("episode %d: %v", id, err))
					}
				}
				bar.Set(i + 1)
			}
			bar.Done()
			switch {
			case len(ids) == 1:
				return firstErr
			case !asJSON:
				fmt.Fprintf(out, "verified %d of %d episodes; %d failed\n", len(ids)-failed, len(ids), failed)
			}
			if failed > 0 {
				return fmt.Errorf("%d of %d episodes failed to replay; first: %w", failed, len(ids), firstErr)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result of each episode as one JSON line")
	ff.add(cmd)
	return cmd
}

// replayOne verifies episode id and prints its result; it returns the
// verification error.
func replayOne(cmd *cobra.Command, s *demos.Store, id int64, asJSON bool, bar *progress) error {
	n, err := demos.Verify(cmd.Context(), s, id, taskLookup)
	if errors.Is(err, demos.ErrNotFound) {
		return err
	}
	out := cmd.OutOrStdout()
	var de *demos.DivergenceError
	var se *demos.StepsError
	var line any
	switch {
	case err == nil && asJSON:
		line = map[string]any{"id": id, "verified": n}
	case err == nil:
		bar.Println(out, fmt.Sprintf("episode %d: verified %d steps", id, n))
	case asJSON && errors.As(err, &de):
		line = map[string]any{"id": id, "diverged": map[string]any{
			"step": de.T, "field": de.Field, "recorded": jsonFloat(de.Recorded), "replayed": jsonFloat(de.Replayed),
		}}
	case asJSON && errors.As(err, &se):
		line = map[string]any{"id": id, "invalid": map[string]any{"step": se.T, "problem": se.Problem}}
	}
	if line != nil {
		js, jerr := json.Marshal(line)
		if jerr != nil {
			return jerr
		}
		bar.Println(out, string(js))
	}
	return err
}

// jsonFloat is v, or nil where JSON has no number for it (NaN, ±Inf).
func jsonFloat(v float64) any {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return v
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
