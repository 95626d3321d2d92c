package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"tandem/tasks"
)

func init() { commands = append(commands, newTasksCmd) }

func newTasksCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "tasks",
		Short: "List the task catalogue",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			specs := tasks.Specs()
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				return enc.Encode(specs)
			}
			w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "NAME\tKIND\tOBS\tACT\tCONTROL HZ\tHORIZON\tUNITS\tDESCRIPTION")
			for _, s := range specs {
				fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%g\t%d\t%s\t%s\n", s.Name, s.Kind, s.ObsSize(), s.ActionSize(), s.ControlHz, s.Horizon, s.Units, s.Description)
			}
			return w.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON array of task specs")
	return cmd
}
