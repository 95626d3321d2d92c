package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"tandem/bus"
	"tandem/demos"
	"tandem/policies"
)

func init() { commands = append(commands, newPoliciesCmd) }

func newPoliciesCmd() *cobra.Command {
	var data string
	cmd := &cobra.Command{
		Use:   "policies",
		Short: "List, show, promote and roll back policy versions",
		Long: `Policy versions are trained by tandem train, tandem hitl and the online
trainer of tandem serve --learn, and stored with their checkpoints in the
data directory. The built-ins expert and random are always available. The
current (promoted) version of a task is what sessions running the policy
"current" act with; they switch at their next episode boundary.`,
	}
	cmd.PersistentFlags().StringVar(&data, "data", "./tandem-data", "data directory")
	cmd.AddCommand(newPoliciesListCmd(&data), newPoliciesShowCmd(&data), newPoliciesPromoteCmd(&data, false), newPoliciesPromoteCmd(&data, true))
	for _, c := range cmd.Commands() {
		c.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	}
	return cmd
}

func newPoliciesListCmd(data *string) *cobra.Command {
	var task string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the built-in policies and the stored versions (newest last)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			var vs []demos.PolicyVersion
			if st, err := openReadOnly(ctx, *data); err == nil {
				vs, err = st.Policies(ctx, task)
				st.Close()
				if err != nil {
					return err
				}
			}
			out := cmd.OutOrStdout()
			if asJSON {
				type row struct {
					demos.PolicyVersion
					Kind string `json:"kind"`
				}
				rows := []row{}
				for _, b := range policies.NewRegistry().List() {
					rows = append(rows, row{PolicyVersion: demos.PolicyVersion{Version: b.Name, Algo: policies.Builtin}, Kind: policies.Builtin})
				}
				for _, v := range vs {
					v.Card = nil // show prints it
					rows = append(rows, row{PolicyVersion: v, Kind: policies.Learned})
				}
				return json.NewEncoder(out).Encode(rows)
			}
			w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "VERSION\tTASK\tALGO\tPARENT\tCREATED\tSUCCESS\tPROMOTED")
			for _, b := range policies.NewRegistry().List() {
				fmt.Fprintf(w, "%s\t(any)\tbuilt-in\t\t\t\t\n", b.Name)
			}
			for _, v := range vs {
				succ := ""
				var ev policies.EvalResult
				if json.Unmarshal(v.Eval, &ev) == nil && ev.Episodes > 0 {
					succ = fmt.Sprintf("%.2f [%.2f, %.2f]", ev.SuccessRate, ev.CI95[0], ev.CI95[1])
				}
				prom := ""
				if v.Promoted {
					prom = "current"
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", v.Version, v.Task, v.Algo, v.Parent, v.Created.Local().Format("2006-01-02 15:04:05"), succ, prom)
			}
			return w.Flush()
		},
	}
	cmd.Flags().StringVar(&task, "task", "", "only this task's versions")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON array")
	return cmd
}

func newPoliciesShowCmd(data *string) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "show VERSION",
		Short: "Show one version: its card, checkpoint, lineage and evaluation (JSON)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			st, err := openReadOnly(ctx, *data)
			if err != nil {
				return err
			}
			defer st.Close()
			v, err := st.Policy(ctx, args[0])
			if err != nil {
				return err
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetIndent("", "  ")
			return enc.Encode(v)
		},
	}
	cmd.Flags().Bool("json", true, "JSON output (always)")
	return cmd
}

func newPoliciesPromoteCmd(data *string, rollback bool) *cobra.Command {
	var reason, natsURL string
	var asJSON bool
	use, short := "promote VERSION", "Make a version its task's current policy"
	if rollback {
		use, short = "rollback TASK", "Make the task's previous current version current again"
	}
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := context.WithoutCancel(cmd.Context())
			if reason == "" {
				reason = "tandem policies " + cmd.Name()
			}
			if natsURL != "" {
				return promoteOnBus(cmd, natsURL, args[0], reason, rollback, asJSON)
			}
			st, err := demos.Open(ctx, *data, demos.Options{})
			if err != nil {
				return err
			}
			defer st.Close()
			var v demos.PolicyVersion
			if rollback {
				if v, err = st.Rollback(ctx, args[0], reason); err != nil {
					return err
				}
			} else {
				if err := st.Promote(ctx, args[0], reason); err != nil {
					return err
				}
				if v, err = st.Policy(ctx, args[0]); err != nil {
					return err
				}
			}
			if asJSON {
				v.Card = nil
				return json.NewEncoder(cmd.OutOrStdout()).Encode(v)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s is the current %s policy\n", v.Version, v.Task)
			return nil
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why (kept in the promotion history)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the now current version as JSON")
	cmd.Flags().StringVar(&natsURL, "nats", "", "promote on the bus at this URL[,URL...] instead of in --data: every process that follows the bus switches (docs/deploy.md)")
	return cmd
}

// promoteOnBus promotes (or rolls back) on the bus: every serve, learn and
// work following it mirrors the change.
func promoteOnBus(cmd *cobra.Command, urls, arg, reason string, rollback, asJSON bool) error {
	ctx, cancel := context.WithTimeout(cmd.Context(), 30*time.Second)
	defer cancel()
	b, err := bus.Open(bus.Config{URLs: urls, Name: "policies-" + hostName(),
		Logger: slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		return err
	}
	defer b.Close()
	version := arg
	if rollback {
		if version, err = b.Rollback(ctx, arg, reason); err != nil {
			return err
		}
	} else {
		v, err := b.Version(ctx, arg)
		if err != nil {
			return err
		}
		if err := b.SetCurrent(ctx, v.Task, v.Version, reason); err != nil {
			return err
		}
	}
	v, err := b.Version(ctx, version)
	if err != nil {
		return err
	}
	if asJSON {
		v.Card = nil
		v.Promoted = true
		return json.NewEncoder(cmd.OutOrStdout()).Encode(v)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%s is the current %s policy on the bus\n", v.Version, v.Task)
	return nil
}
