package policies

import (
	"fmt"
	"slices"
	"sort"
)

// Memory-management rules (Sirius, RSS 2023, §memory management;
// UT-Austin-RPL/sirius, robomimic/utils/dataset.py, SequenceDataset.
// sort_demos: sort the episodes, keep the first num_eps). tandem keeps
// episodes in the rule's order while they fit the size bound:
//
//   - fifo: first in, first out — the newest rounds are kept (the oldest
//     leave first).
//   - filo: first in, last out — the oldest rounds are kept.
//   - lfi: least-frequently-intervened first out — the episodes with the
//     largest share of robot steps leave first, so those with the most
//     human control (interventions, demonstrations) are kept.
//   - mfi: most-frequently-intervened first out — the episodes with the
//     smallest share of robot steps leave first.
//
// The share of robot steps is Sirius's rollout_p (steps that are neither
// demo nor intervention). LFI and MFI follow the names as the paper
// defines them (which episodes go out first); Sirius's code sorts the
// other way round (its "LFI" sorts by rollout_p descending and keeps the
// head, i.e. keeps the least-intervened episodes), so tandem's lfi is the
// code's MFI and vice versa. Ties (same round, or same share) are broken
// by recency, newer kept first, where Sirius shuffles at random; under
// filo older episodes of a round are kept first. Episode recency is the
// order of TrainInput.Episodes (oldest first).
const (
	MemoryAll  = "all"
	MemoryFIFO = "fifo"
	MemoryFILO = "filo"
	MemoryLFI  = "lfi"
	MemoryMFI  = "mfi"
)

// MemoryRules lists the memory-management rules.
var MemoryRules = []string{MemoryAll, MemoryFIFO, MemoryFILO, MemoryLFI, MemoryMFI}

// Memory is a memory-management rule with its size bound: at most
// Episodes episodes (0: no bound) and at most Steps steps (0: no bound).
type Memory struct {
	Rule     string `json:"rule"`
	Episodes int    `json:"episodes,omitempty"`
	Steps    int    `json:"steps,omitempty"`
}

// Keep returns the indices into eps (ascending) of the episodes the rule
// keeps: in the rule's order, episodes are taken while both bounds hold;
// the first episode that would break a bound ends the selection (Sirius
// keeps a prefix of its sorted list). Rule "all" (or "") keeps everything,
// whatever the bounds.
func (m Memory) Keep(eps []Episode) ([]int, error) {
	order := make([]int, len(eps))
	for i := range order {
		order[i] = i
	}
	switch m.Rule {
	case "", MemoryAll:
		return order, nil
	case MemoryFIFO:
		sort.SliceStable(order, func(a, b int) bool {
			ea, eb := &eps[order[a]], &eps[order[b]]
			if ea.Round != eb.Round {
				return ea.Round > eb.Round
			}
			return order[a] > order[b]
		})
	case MemoryFILO:
		sort.SliceStable(order, func(a, b int) bool {
			ea, eb := &eps[order[a]], &eps[order[b]]
			if ea.Round != eb.Round {
				return ea.Round < eb.Round
			}
			return order[a] < order[b]
		})
	case MemoryLFI, MemoryMFI:
		share := make([]float64, len(eps))
		for i := range eps {
			share[i] = robotFraction(&eps[i])
		}
		lfi := m.Rule == MemoryLFI
		sort.SliceStable(order, func(a, b int) bool {
			sa, sb := share[order[a]], share[order[b]]
			if sa != sb {
				if lfi {
					return sa < sb // the least robot (most human) control first
				}
				return sa > sb
			}
			return order[a] > order[b]
		})
	default:
		return nil, fmt.Errorf("policies: unknown memory rule %q (valid: %v)", m.Rule, MemoryRules)
	}
	var keep []int
	steps := 0
	for _, i := range order {
		if m.Episodes > 0 && len(keep) >= m.Episodes || m.Steps > 0 && steps+eps[i].Len() > m.Steps {
			break
		}
		keep = append(keep, i)
		steps += eps[i].Len()
	}
	slices.Sort(keep)
	return keep, nil
}
