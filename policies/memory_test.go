package policies_test

import (
	"slices"
	"testing"

	"tandem/policies"
)

func TestMemoryRulesKeepTheRightEpisodes(t *testing.T) {
	// Oldest first. Robot shares: d0 0, a1 0.75, b1 0.25, c2 0.5, e2 1.
	eps := []policies.Episode{
		toyEpisode("d0", 0, "dddd"),
		toyEpisode("a1", 1, "rrrh"),
		toyEpisode("b1", 1, "rhhh"),
		toyEpisode("c2", 2, "rrhh"),
		toyEpisode("e2", 2, "rrrr"),
	}
	uids := func(keep []int) []string {
		var s []string
		for _, i := range keep {
			s = append(s, eps[i].UID)
		}
		return s
	}
	for _, tc := range []struct {
		m    policies.Memory
		want []string
	}{
		{policies.Memory{Rule: "all"}, []string{"d0", "a1", "b1", "c2", "e2"}},
		{policies.Memory{Rule: "all", Episodes: 1}, []string{"d0", "a1", "b1", "c2", "e2"}},
		{policies.Memory{Rule: "fifo"}, []string{"d0", "a1", "b1", "c2", "e2"}},
		// FIFO keeps the newest rounds; within a round the newer first.
		{policies.Memory{Rule: "fifo", Episodes: 3}, []string{"b1", "c2", "e2"}},
		{policies.Memory{Rule: "fifo", Steps: 10}, []string{"c2", "e2"}},
		// FILO keeps the oldest.
		{policies.Memory{Rule: "filo", Episodes: 2}, []string{"d0", "a1"}},
		{policies.Memory{Rule: "filo", Steps: 12}, []string{"d0", "a1", "b1"}},
		// LFI: the least-intervened (most robot) go first.
		{policies.Memory{Rule: "lfi", Episodes: 3}, []string{"d0", "b1", "c2"}},
		// MFI: the most-intervened (least robot) go first.
		{policies.Memory{Rule: "mfi", Episodes: 2}, []string{"a1", "e2"}},
		{policies.Memory{Rule: "mfi", Episodes: 2, Steps: 4}, []string{"e2"}},
		{policies.Memory{Rule: "lfi", Steps: 3}, nil},
	} {
		keep, err := tc.m.Keep(eps)
		if err != nil {
			t.Fatal(err)
		}
		if got := uids(keep); !slices.Equal(got, tc.want) {
			t.Errorf("%+v keeps %v; want %v", tc.m, got, tc.want)
		}
	}
	if _, err := (policies.Memory{Rule: "lru"}).Keep(eps); err == nil {
		t.Error("unknown rule accepted")
	}
	// Through a learner: memory=fifo memory_episodes=2 trains on c2 and e2.
	out := train(t, "sirius", policies.TrainInput{Spec: toySpec(), Episodes: eps, Seed: 1,
		Params: map[string]string{"steps": "5", "memory": "fifo", "memory_episodes": "2"}})
	if !slices.Equal(out.Card.Episodes, []string{"c2", "e2"}) || out.Card.Hyperparameters["memory"] != "fifo" {
		t.Errorf("sirius with fifo/2 used %v (%v)", out.Card.Episodes, out.Card.Hyperparameters["memory"])
	}
}
