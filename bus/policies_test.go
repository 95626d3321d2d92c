package bus

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tandem/demos"
	"tandem/policies"
	"tandem/policies/nn"
	"tandem/sim"
	"tandem/tasks"
)

// trainVersion trains a small reach policy on a few expert episodes and
// stores it in st as version name.
func trainVersion(t testing.TB, st *demos.Store, name string) demos.PolicyVersion {
	t.Helper()
	ctx := context.Background()
	l, err := policies.NewLearner("bc")
	if err != nil {
		t.Fatal(err)
	}
	probe, _ := tasks.New("reach")
	eps, err := sim.Rollout(ctx, sim.RolloutConfig{
		NewTask: func() sim.Task { tk, _ := tasks.New("reach"); return tk },
		Controller: func(tk sim.Task, _ int, seed uint64) (sim.Controller, error) {
			return sim.Auto(tk.Expert(1, seed), "expert"), nil
		},
		Episodes: 2, FirstSeed: 1, Workers: 1, KeepSteps: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	in := policies.TrainInput{Spec: probe.Spec(), Params: map[string]string{"steps": "20", "hidden": "32"}}
	for _, ep := range eps {
		pe := policies.Episode{UID: name}
		for _, r := range ep.Steps {
			pe.Obs = append(pe.Obs, r.Obs.Append(nil))
			pe.Action = append(pe.Action, r.Action.Append(nil))
			pe.Source = append(pe.Source, r.Source)
			pe.InterventionStart = append(pe.InterventionStart, false)
			pe.Reward = append(pe.Reward, r.Reward)
		}
		in.Episodes = append(in.Episodes, pe)
	}
	out, err := l.Train(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	rel := filepath.Join("policies", name+nn.TensorsExt)
	abs := filepath.Join(st.Dir(), rel)
	if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
		t.Fatal(err)
	}
	out.Card.Version = name
	if err := nn.Save(abs, out.Model, out.Card); err != nil {
		t.Fatal(err)
	}
	d, err := policies.FileDigest(abs)
	if err != nil {
		t.Fatal(err)
	}
	card, _ := os.ReadFile(nn.CardPath(abs))
	v := demos.PolicyVersion{Version: name, Task: "reach", Algo: "bc", Path: rel, Digest: d, Card: card, Note: "test"}
	if err := st.AddPolicy(ctx, v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestMirrorFollowsPublishedVersions(t *testing.T) {
	b := embedded(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	learner, serve := openStore(t), openStore(t)
	v1 := trainVersion(t, learner, "reach-bc-1")
	// A learner's state beside the checkpoint (as an RL learner writes).
	statePath := func(st *demos.Store, v demos.PolicyVersion) string {
		return policies.StatePath(filepath.Join(st.Dir(), v.Path))
	}
	if err := os.WriteFile(statePath(learner, v1), []byte("critics"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := b.PublishVersion(ctx, learner.Dir(), v1); err != nil {
		t.Fatal(err)
	}
	if err := b.SetCurrent(ctx, "reach", v1.Version, "first"); err != nil {
		t.Fatal(err)
	}
	changed := make(chan string, 4)
	m := b.MirrorPolicies(serve, MirrorConfig{OnCurrent: func(task, version string) { changed <- task + "=" + version }})
	defer m.Close()
	if err := m.Synced(ctx); err != nil {
		t.Fatal(err)
	}
	wantChange(ctx, t, changed, "reach=reach-bc-1")
	cur, ok, err := serve.Current(ctx, "reach")
	if err != nil || !ok || cur.Version != v1.Version || cur.Digest != v1.Digest {
		t.Fatalf("serve's current %+v %v %v; want %s", cur, ok, err, v1.Version)
	}
	// The learner state goes only where asked for (another learner).
	if _, err := os.Stat(statePath(serve, cur)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("serve's mirror copied the learner state: %v", err)
	}
	other := openStore(t)
	lm := b.MirrorPolicies(other, MirrorConfig{LearnerState: true})
	eventually(t, 10*time.Second, "learner state mirrored", func() bool {
		got, err := os.ReadFile(statePath(other, cur))
		return err == nil && string(got) == "critics"
	})
	lm.Close()

	// The mirrored checkpoint loads through the registry, digest checked.
	reg := policies.NewRegistry()
	if err := reg.RegisterVersion(policies.Version{Info: policies.Info{Name: cur.Version}, Task: "reach",
		Path: filepath.Join(serve.Dir(), cur.Path), Digest: cur.Digest}); err != nil {
		t.Fatal(err)
	}
	task, _ := tasks.New("reach")
	if _, err := reg.New(cur.Version, task, policies.Options{}); err != nil {
		t.Fatal(err)
	}

	// A second version and a promotion reach the running mirror.
	v2 := trainVersion(t, learner, "reach-bc-2")
	if err := b.PublishVersion(ctx, learner.Dir(), v2); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := b.SetCurrent(ctx, "reach", v2.Version, "better"); err != nil {
		t.Fatal(err)
	}
	wantChange(ctx, t, changed, "reach=reach-bc-2")
	t.Logf("promotion mirrored in %v", time.Since(start))
	if cur, _, _ := serve.Current(ctx, "reach"); cur.Version != v2.Version || !strings.HasPrefix(promotionReason(t, serve), "bus: better") {
		t.Fatalf("serve's current %s; want %s", cur.Version, v2.Version)
	}

	// A rollback on the bus goes back to the version before.
	if prev, err := b.Rollback(ctx, "reach", "worse"); err != nil || prev != v1.Version {
		t.Fatalf("rollback: %q, %v; want %s", prev, err, v1.Version)
	}
	wantChange(ctx, t, changed, "reach=reach-bc-1")
	if _, err := b.Version(ctx, "nope"); !errors.Is(err, demos.ErrNoPolicy) {
		t.Fatalf("got %v; want ErrNoPolicy", err)
	}

	// Publishing the same version again is a no-op; another checkpoint
	// under a published name is refused.
	if err := b.PublishVersion(ctx, learner.Dir(), v2); err != nil {
		t.Fatal(err)
	}
	other = openStore(t)
	clash := trainVersion(t, other, "reach-bc-2")
	clash.Digest = strings.Repeat("0", 64)
	if err := b.PublishVersion(ctx, other.Dir(), clash); err == nil || !strings.Contains(err.Error(), "another checkpoint") {
		t.Fatalf("got %v; want a refusal", err)
	}
}

func TestMirrorRefusesACheckpointThatDoesNotMatchItsDigest(t *testing.T) {
	b := embedded(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	learner, serve := openStore(t), openStore(t)
	v := trainVersion(t, learner, "reach-bc-1")
	if err := b.PublishVersion(ctx, learner.Dir(), v); err != nil {
		t.Fatal(err)
	}
	// Corrupt the object behind the row's back.
	if _, err := b.objects.PutBytes(ctx, v.Version+nn.TensorsExt, []byte("not the checkpoint")); err != nil {
		t.Fatal(err)
	}
	m := b.MirrorPolicies(serve, MirrorConfig{})
	defer m.Close()
	// Synced: the mirror has tried every entry the bus held.
	if err := m.Synced(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := serve.Policy(ctx, v.Version); err == nil {
		t.Fatal("a checkpoint with the wrong digest was mirrored")
	}
}

// wantChange fails unless the next change a mirror reports, before ctx
// ends, is want ("task=version").
func wantChange(ctx context.Context, t testing.TB, changed <-chan string, want string) {
	t.Helper()
	select {
	case c := <-changed:
		if c != want {
			t.Fatalf("got change %s; want %s", c, want)
		}
	case <-ctx.Done():
		t.Fatalf("change %s not reported", want)
	}
}

func promotionReason(t testing.TB, st *demos.Store) string {
	var r string
	if err := st.DB().QueryRow(`SELECT reason FROM promotions ORDER BY id DESC LIMIT 1`).Scan(&r); err != nil {
		t.Fatal(err)
	}
	return r
}
