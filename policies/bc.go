package policies

import (
	"context"
	"slices"
	"strings"

	"tandem/sim"
)

// BC is behaviour cloning on chosen sources: every step whose source is
// in the sources parameter (default all three: demo, human, robot) is a
// training sample, sampled uniformly, weight 1. All sources by default
// because that is the plain-BC baseline Sirius compares against (the same
// aggregated data, no weighting), and tandem records a robot step only
// while an operator supervised it and let it act.
type bc struct{}

func init() { RegisterLearner("bc", func() Learner { return bc{} }) }

// Name implements Learner.
func (bc) Name() string { return "bc" }

// Train implements Learner.
func (bc) Train(ctx context.Context, in TrainInput) (TrainOutput, error) {
	var srcs []sim.Source
	c, err := parseLearner("bc", &in, func(p *params) { srcs = parseSources(p) })
	if err != nil {
		return TrainOutput{}, err
	}
	d, err := prepare(&in, c.Memory, sim.DefaultPreIntervention)
	if err != nil {
		return TrainOutput{}, err
	}
	var rows []int
	for r, s := range d.source {
		if slices.Contains(srcs, s) {
			rows = append(rows, r)
		}
	}
	names := make([]string, len(srcs))
	for i, s := range srcs {
		names[i] = string(s)
	}
	pl := &plan{strata: [][]int{rows}, hyper: map[string]any{"sources": strings.Join(names, ",")}}
	return fit(ctx, "bc", &in, c, d, pl)
}

// allSources lists the step sources in the order cards print them.
var allSources = []sim.Source{sim.Demo, sim.Human, sim.Robot}

// parseSources reads bc's sources=demo,human,robot (any non-empty subset).
func parseSources(p *params) []sim.Source {
	v, ok := p.raw("sources")
	if !ok {
		return allSources
	}
	want := "a non-empty list of demo, human, robot (such as demo+human)"
	var out []sim.Source
	for _, s := range splitList(strings.ToLower(v)) {
		src := sim.Source(s)
		if !slices.Contains(allSources, src) {
			p.bad("sources", v, want)
			return nil
		}
		if !slices.Contains(out, src) {
			out = append(out, src)
		}
	}
	if len(out) == 0 {
		p.bad("sources", v, want)
		return nil
	}
	slices.SortFunc(out, func(a, b sim.Source) int { return slices.Index(allSources, a) - slices.Index(allSources, b) })
	return out
}
