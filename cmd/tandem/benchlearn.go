package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"tandem/policies/nn"
)

// runBenchLearn is `tandem bench --learn`: training and inference speed of
// the network layer (policies/nn) on its reference networks.
func runBenchLearn(cmd *cobra.Command, seconds float64, asJSON bool) error {
	r, err := nn.Bench(cmd.Context(), nn.BenchOptions{Seconds: seconds})
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	if asJSON {
		return json.NewEncoder(out).Encode(r)
	}
	fmt.Fprintf(out, "kernel %s, %d cores\n", r.Kernel, r.Cores)
	if r.BLASAdvice != "" {
		fmt.Fprintln(out, "warning:", r.BLASAdvice)
	}
	fmt.Fprintf(out, "BC MLP 20→256→256→2, batch 256, Adam: %.0f samples/s, %.2f allocs/step\n", r.SamplesPerS, r.AllocsPerStep)
	fmt.Fprintf(out, "Act, one observation: %.2f µs, %.2f allocs\n", r.ActUs, r.ActAllocs)
	for _, c := range r.Critics {
		fmt.Fprintf(out, "critics %2d × 22→%d→LN→%d→LN→1, batch 256: %.1f updates/s, %.2f allocs/update\n", c.Members, c.Width, c.Width, c.UpdatesPerS, c.AllocsPerUpdate)
	}
	return nil
}
