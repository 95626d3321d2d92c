package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"tandem/demos"
	"tandem/policies/nn"
)

// TestTrainRegistersAVersionThatRollsOut records expert reach rollouts,
// trains bc on them, and runs the new version by name.
func TestTrainRegistersAVersionThatRollsOut(t *testing.T) {
	dir := t.TempDir()
	if code, out, errOut := tandem(t, "rollout", "--task", "reach", "--episodes", "6", "--record", "--data", dir, "--seed", "1"); code != 0 {
		t.Fatalf("rollout: %d %s %s", code, out, errOut)
	}
	code, out, errOut := tandem(t, "train", "--algo", "bc", "--task", "reach", "--data", dir, "--json", "--eval-episodes", "5",
		"--param", "steps=200", "--promote")
	if code != 0 {
		t.Fatalf("train: %d %s %s", code, out, errOut)
	}
	var res struct {
		Version, Checkpoint string
		Promoted            bool
		Episodes            int
		Eval                *struct {
			Episodes    int     `json:"episodes"`
			SuccessRate float64 `json:"success_rate"`
		}
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("train --json printed %q: %v", out, err)
	}
	if res.Version != "reach-bc-1" || !res.Promoted || res.Episodes != 6 || res.Eval == nil || res.Eval.Episodes != 5 {
		t.Fatalf("train result %+v; want reach-bc-1 promoted, trained on 6 episodes, evaluated on 5", res)
	}
	if _, card, err := nn.Load(res.Checkpoint); err != nil || card.Algorithm != "bc" || card.Version != "reach-bc-1" || len(card.Episodes) != 6 {
		t.Fatalf("checkpoint %s: card %+v, %v", res.Checkpoint, card, err)
	}
	// The store has it, current, with its digest; rollout takes it by name and as "current".
	st, err := demos.Open(context.Background(), dir, demos.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	cur, ok, err := st.Current(context.Background(), "reach")
	st.Close()
	if err != nil || !ok || cur.Version != "reach-bc-1" || len(cur.Digest) != 64 {
		t.Fatalf("current %+v %v %v", cur, ok, err)
	}
	for _, name := range []string{"reach-bc-1", "current"} {
		code, out, errOut = tandem(t, "rollout", "--task", "reach", "--policy", name, "--episodes", "2", "--data", dir, "--json")
		if code != 0 || !strings.Contains(out, `"policy":"reach-bc-1"`) {
			t.Fatalf("rollout --policy %s: %d %s %s", name, code, out, errOut)
		}
	}
	// policies list, promote and rollback: a second version, promoted,
	// then rolled back to the first, each change kept with its reason.
	if code, out, errOut := tandem(t, "train", "--algo", "bc", "--task", "reach", "--data", dir, "--eval-episodes", "1", "--param", "steps=50"); code != 0 {
		t.Fatalf("second train: %d %s %s", code, out, errOut)
	}
	listed := func() string {
		t.Helper()
		code, out, errOut := tandem(t, "policies", "list", "--data", dir, "--task", "reach", "--json")
		var rows []struct {
			Version, Kind string
			Promoted      bool
		}
		if err := json.Unmarshal([]byte(out), &rows); code != 0 || err != nil {
			t.Fatalf("policies list: %d %q %s: %v", code, out, errOut, err)
		}
		var got []string
		for _, r := range rows {
			got = append(got, fmt.Sprintf("%s/%s/%v", r.Version, r.Kind, r.Promoted))
		}
		return strings.Join(got, " ")
	}
	if got, want := listed(), "expert/builtin/false random/builtin/false reach-bc-1/learned/true reach-bc-2/learned/false"; got != want {
		t.Fatalf("policies list: got %s; want %s", got, want)
	}
	lastReason := func() string {
		t.Helper()
		st, err := demos.Open(context.Background(), dir, demos.Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		var r string
		if err := st.DB().QueryRow(`SELECT reason FROM promotions ORDER BY id DESC LIMIT 1`).Scan(&r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	for _, step := range []struct{ args, version, reason, list string }{
		{"promote reach-bc-2", "reach-bc-2", "tandem policies promote", "reach-bc-1/learned/false reach-bc-2/learned/true"},
		{"rollback reach", "reach-bc-1", "tandem policies rollback", "reach-bc-1/learned/true reach-bc-2/learned/false"},
	} {
		code, out, errOut := tandem(t, append(append([]string{"policies"}, strings.Fields(step.args)...), "--data", dir, "--json")...)
		var v demos.PolicyVersion
		if err := json.Unmarshal([]byte(out), &v); code != 0 || err != nil || v.Version != step.version {
			t.Fatalf("policies %s: %d %q %s: %v; want %s", step.args, code, out, errOut, err, step.version)
		}
		if got := lastReason(); got != step.reason {
			t.Errorf("policies %s: reason %q; want %q", step.args, got, step.reason)
		}
		if got := listed(); !strings.HasSuffix(got, step.list) {
			t.Errorf("after policies %s: list %s; want it to end %s", step.args, got, step.list)
		}
	}

	// A damaged checkpoint is refused by its digest, not loaded.
	b, _ := os.ReadFile(res.Checkpoint)
	b[len(b)-1] ^= 1
	os.WriteFile(res.Checkpoint, b, 0o644)
	code, _, errOut = tandem(t, "rollout", "--task", "reach", "--policy", "reach-bc-1", "--episodes", "1", "--data", dir)
	if code == 0 || !strings.Contains(errOut, "digest") {
		t.Fatalf("rollout of a damaged checkpoint: exit %d, %q; want a digest error", code, errOut)
	}
	if code, _, errOut := tandem(t, "train", "--algo", "telepathy", "--task", "reach", "--data", dir); code != 2 || !strings.Contains(errOut, "bc") {
		t.Fatalf("unknown algorithm: exit %d %q; want 2 naming the valid ones", code, errOut)
	}
}

// TestHITLPrintsOneObjectPerRound runs a tiny hitl: demonstrations, one
// shared round, and checks each round's line and what the store holds.
func TestHITLPrintsOneObjectPerRound(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := tandem(t, "hitl", "--task", "reach", "--algo", "sirius", "--operator", "sim", "--rounds", "1", "--episodes", "3",
		"--eval-episodes", "3", "--seed", "5", "--param", "steps=100", "--data", dir, "--json")
	if code != 0 {
		t.Fatalf("hitl: %d %s %s", code, out, errOut)
	}
	dec := json.NewDecoder(bytes.NewBufferString(out))
	var rounds []map[string]any
	for dec.More() {
		var r map[string]any
		if err := dec.Decode(&r); err != nil {
			t.Fatal(err)
		}
		rounds = append(rounds, r)
	}
	if len(rounds) != 2 {
		t.Fatalf("%d rounds printed; want round 0 and one shared round:\n%s", len(rounds), out)
	}
	for i, r := range rounds {
		for _, k := range []string{"round", "version", "success_rate", "eval_success_rate", "interventions_per_episode", "human_step_share", "wall_s", "env_steps"} {
			if _, ok := r[k]; !ok {
				t.Errorf("round %d lacks %q: %v", i, k, r)
			}
		}
	}
	if rounds[0]["human_step_share"] != 1.0 || rounds[1]["deployed"] != rounds[0]["version"] {
		t.Errorf("round 0 %v, round 1 %v; want demonstrations only, then the round-0 version deployed", rounds[0], rounds[1])
	}
	st, err := demos.Open(context.Background(), dir, demos.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	eps, _ := st.ListEpisodes(context.Background(), demos.Filter{Task: "reach"})
	modes := map[string]int{}
	for _, e := range eps {
		modes[string(e.Mode)+" "+strings.Join(e.Tags, ",")]++
	}
	if modes["teleop round:0"] != 3 || modes["shared round:1"] != 3 {
		t.Fatalf("stored episodes by mode and round tag %v; want 3 teleop round:0 and 3 shared round:1", modes)
	}
	cur, ok, _ := st.Current(context.Background(), "reach")
	if !ok || cur.Version != rounds[1]["version"] || cur.Parent != rounds[0]["version"] {
		t.Fatalf("current %+v; want round 1's version, warm-started from round 0's", cur)
	}
}

// TestDAggerRelabelsVisitedStates: with an operator that never takes over,
// every robot step is stored with the simulated expert's label, and dagger
// trains on about half of them.
func TestDAggerRelabelsVisitedStates(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := tandem(t, "hitl", "--task", "reach", "--algo", "dagger", "--operator", "sim:rule=random,rate=0",
		"--rounds", "1", "--episodes", "3", "--demos", "2", "--eval-episodes", "2", "--seed", "9", "--param", "steps=50", "--data", dir, "--json")
	if code != 0 {
		t.Fatalf("hitl dagger: %d %s %s", code, out, errOut)
	}
	ctx := context.Background()
	st, err := demos.Open(ctx, dir, demos.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	eps, _ := st.ListEpisodes(ctx, demos.Filter{Mode: "shared"})
	robot, labelled := 0, 0
	for _, e := range eps {
		steps, _ := st.Steps(ctx, e.ID)
		for _, s := range steps {
			if s.Source == "robot" {
				robot++
				if len(s.ExpertAction) == 2 {
					labelled++
				}
			}
		}
	}
	if robot == 0 || labelled != robot {
		t.Fatalf("%d robot steps, %d with an expert label; want every one labelled", robot, labelled)
	}
	cur, _, _ := st.Current(ctx, "reach")
	var card struct {
		Hyperparameters map[string]any `json:"hyperparameters"`
	}
	json.Unmarshal(cur.Card, &card)
	if card.Hyperparameters["relabel"] != 0.5 {
		t.Fatalf("card hyper-parameters %v; want relabel 0.5", card.Hyperparameters)
	}
}
