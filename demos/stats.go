package demos

import (
	"context"
	"sort"
)

// Group aggregates a set of episodes.
type Group struct {
	Name                    string  `json:"name"`
	Episodes                int     `json:"episodes"`
	Steps                   int     `json:"steps"`
	SuccessRate             float64 `json:"success_rate"`
	MeanReturn              float64 `json:"mean_return"`
	InterventionsPerEpisode float64 `json:"interventions_per_episode"`
	Incomplete              int     `json:"incomplete"`
}

// Stats summarises the episodes a filter selects.
type Stats struct {
	Group
	ByTask     []Group `json:"by_task"`
	ByOperator []Group `json:"by_operator"`
	ByPolicy   []Group `json:"by_policy_version"`
}

// Summary computes Stats over the episodes f selects. An episode with
// several operators (or policy versions) counts in each of their groups;
// one with none counts under "".
func (s *Store) Summary(ctx context.Context, f Filter) (Stats, error) {
	eps, err := s.ListEpisodes(ctx, f)
	if err != nil {
		return Stats{}, err
	}
	return summarizeEpisodes(eps), nil
}

func summarizeEpisodes(eps []Episode) Stats {
	var st Stats
	st.Name = "all"
	type acc struct {
		g                    Group
		success, ret, interv float64
	}
	add := func(a *acc, e *Episode) {
		a.g.Episodes++
		a.g.Steps += e.Length
		if e.Success {
			a.success++
		}
		if !e.Complete {
			a.g.Incomplete++
		}
		a.ret += e.Return
		a.interv += float64(e.Interventions)
	}
	finish := func(a *acc) Group {
		g := a.g
		if n := float64(g.Episodes); n > 0 {
			g.SuccessRate, g.MeanReturn, g.InterventionsPerEpisode = a.success/n, a.ret/n, a.interv/n
		}
		return g
	}
	var all acc
	tasks, ops, pols := map[string]*acc{}, map[string]*acc{}, map[string]*acc{}
	group := func(m map[string]*acc, name string) *acc {
		a := m[name]
		if a == nil {
			a = &acc{g: Group{Name: name}}
			m[name] = a
		}
		return a
	}
	for i := range eps {
		e := &eps[i]
		add(&all, e)
		add(group(tasks, e.Task), e)
		for _, o := range orNone(e.Operators) {
			add(group(ops, o), e)
		}
		for _, p := range orNone(e.PolicyVersion) {
			add(group(pols, p), e)
		}
	}
	st.Group = finish(&all)
	st.Name = "all"
	list := func(m map[string]*acc) []Group {
		out := make([]Group, 0, len(m))
		for _, a := range m {
			out = append(out, finish(a))
		}
		sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
		return out
	}
	st.ByTask, st.ByOperator, st.ByPolicy = list(tasks), list(ops), list(pols)
	return st
}

func orNone(v []string) []string {
	if len(v) == 0 {
		return []string{""}
	}
	return v
}
