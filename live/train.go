package live

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"tandem/demos"
	"tandem/policies"
	"tandem/policies/nn"
	"tandem/sim"
)

// PolicyDir is where checkpoints live inside the data directory.
const PolicyDir = "policies"

// DefaultEvalEpisodes is how many held-out episodes score a new version.
const DefaultEvalEpisodes = 50

// TrainRequest asks for one new version of a task's policy.
type TrainRequest struct {
	Algo string
	Task string
	// Filter selects the training episodes (Task is forced to the task).
	Filter demos.Filter
	// Episodes, when not nil, replaces the store query (an online trainer
	// that already holds them).
	Episodes []policies.Episode
	Params   map[string]string
	// Parent is the version to warm-start from ("": train from scratch).
	Parent string
	// EvalEpisodes held-out episodes score it (DefaultEvalEpisodes; a
	// negative value skips the evaluation).
	EvalEpisodes int
	Seed         uint64
	Note         string
	// Progress hears (done, total) gradient steps.
	Progress func(done, total int)
	// EvalWorkers bounds evaluation goroutines (0: all cores).
	EvalWorkers int
	// Pool is the worker pool training runs on (nil: every core).
	Pool *nn.Pool
}

// TrainResult is what a training produced: the registered version.
type TrainResult struct {
	Version    string               `json:"version"`
	Checkpoint string               `json:"checkpoint"` // absolute path of the safetensors file
	Algo       string               `json:"algo"`
	Task       string               `json:"task"`
	Parent     string               `json:"parent,omitempty"`
	Episodes   int                  `json:"episodes"`
	Steps      int                  `json:"steps"` // training steps (samples seen / batch), as the learner reports
	Eval       *policies.EvalResult `json:"eval,omitempty"`
	TrainSecs  float64              `json:"train_s"`
	EvalSecs   float64              `json:"eval_s"`
	Stats      map[string]any       `json:"stats,omitempty"`
}

// Trainer trains, evaluates and registers policy versions against one
// store, registry and task catalogue. Safe for concurrent use (each Train
// runs on the caller's goroutine; the store serialises writes).
type Trainer struct {
	Store    *demos.Store
	Policies *policies.Registry
	Catalog  Catalog
}

// Train runs one training request to a registered, evaluated version.
func (tr *Trainer) Train(ctx context.Context, req TrainRequest) (TrainResult, error) {
	learner, err := policies.NewLearner(req.Algo)
	if err != nil {
		return TrainResult{}, err
	}
	probe, err := tr.Catalog.New(req.Task)
	if err != nil {
		return TrainResult{}, err
	}
	spec := probe.Spec()
	newTask := func() sim.Task {
		t, err := tr.Catalog.New(req.Task)
		if err != nil {
			panic(err) // the catalogue built this task a moment ago
		}
		return t
	}
	eps := req.Episodes
	if eps == nil {
		f := req.Filter
		f.Task = req.Task
		if eps, err = Episodes(ctx, tr.Store, f); err != nil {
			return TrainResult{}, err
		}
	}
	if len(eps) == 0 {
		return TrainResult{}, fmt.Errorf("no finished %s episodes match the filter to train on", req.Task)
	}
	in := policies.TrainInput{Spec: spec, NewTask: newTask, Episodes: eps, Params: req.Params, Seed: req.Seed, Progress: req.Progress, Pool: req.Pool}
	if req.Parent != "" {
		pv, err := tr.Store.Policy(ctx, req.Parent)
		if err != nil {
			return TrainResult{}, err
		}
		if pv.Task != req.Task {
			return TrainResult{}, fmt.Errorf("parent %s was trained for %s, not %s", pv.Version, pv.Task, req.Task)
		}
		parentPath := filepath.Join(tr.Store.Dir(), pv.Path)
		m, card, err := nn.Load(parentPath)
		if err != nil {
			return TrainResult{}, err
		}
		in.Parent, in.ParentCard = m, card
		if sf, ok := learner.(policies.Stateful); ok {
			// The learner's state beside the parent checkpoint: the critics
			// and optimisers the actor was trained with.
			if state, err := os.ReadFile(policies.StatePath(parentPath)); err == nil {
				sf.Resume(state)
			} else if !errors.Is(err, os.ErrNotExist) {
				return TrainResult{}, err
			}
		}
	}
	start := time.Now()
	out, err := learner.Train(ctx, in)
	if err != nil {
		return TrainResult{}, err
	}
	res := TrainResult{Algo: req.Algo, Task: req.Task, Parent: req.Parent, Episodes: len(eps), Stats: out.Stats, TrainSecs: time.Since(start).Seconds()}
	if n, ok := out.Stats["steps"].(int); ok {
		res.Steps = n
	}
	version, err := tr.Store.NextPolicyVersion(ctx, req.Task, req.Algo)
	if err != nil {
		return TrainResult{}, err
	}
	res.Version = version
	card := out.Card
	card.Version, card.Parent = version, req.Parent
	if card.Algorithm == "" {
		card.Algorithm = req.Algo
	}
	if card.Task.Name == "" {
		card.Task.Name = req.Task
	}
	if len(card.Episodes) == 0 {
		for _, e := range eps {
			card.Episodes = append(card.Episodes, e.UID)
		}
	}
	if n := req.EvalEpisodes; n >= 0 {
		if n == 0 {
			n = DefaultEvalEpisodes
		}
		es := time.Now()
		ev, err := policies.Evaluate(ctx, policies.EvalConfig{
			NewTask: newTask, Episodes: n, Version: version, Workers: req.EvalWorkers,
			NewPolicy: func(sim.Task, uint64) (sim.Policy, error) { return policies.NewActor(out.Model, &card) },
		})
		if err != nil {
			return TrainResult{}, fmt.Errorf("evaluate %s: %w", version, err)
		}
		res.Eval, res.EvalSecs = &ev, time.Since(es).Seconds()
		card.Evaluation = map[string]any{"held_out": ev}
	}
	rel := filepath.Join(PolicyDir, version+nn.TensorsExt)
	abs := filepath.Join(tr.Store.Dir(), rel)
	if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
		return TrainResult{}, err
	}
	tensors, cardJSON, err := nn.Encode(out.Model, card)
	if err != nil {
		return TrainResult{}, err
	}
	if err := nn.WriteFile(abs, tensors); err != nil {
		return TrainResult{}, err
	}
	if err := nn.WriteFile(nn.CardPath(abs), cardJSON); err != nil {
		return TrainResult{}, err
	}
	if sf, ok := learner.(policies.Stateful); ok && sf.State() != nil {
		if err := nn.WriteFile(policies.StatePath(abs), sf.State()); err != nil {
			return TrainResult{}, err
		}
	}
	digest := policies.Digest(tensors)
	var evalJSON json.RawMessage
	if res.Eval != nil {
		evalJSON, _ = json.Marshal(res.Eval)
	}
	if err := tr.Store.AddPolicy(ctx, demos.PolicyVersion{
		Version: version, Task: req.Task, Algo: req.Algo, Parent: req.Parent, Path: rel, Digest: digest,
		Card: cardJSON, Eval: evalJSON, Note: req.Note,
	}); err != nil {
		return TrainResult{}, err
	}
	if err := tr.register(ctx, version); err != nil {
		return TrainResult{}, err
	}
	if a, err := filepath.Abs(abs); err == nil {
		abs = a
	}
	res.Checkpoint = abs
	return res, nil
}

// register adds a stored version to the registry (an existing name is
// left as it is).
func (tr *Trainer) register(ctx context.Context, version string) error {
	pv, err := tr.Store.Policy(ctx, version)
	if err != nil {
		return err
	}
	return RegisterStored(tr.Policies, tr.Store.Dir(), pv)
}

// RegisterStored adds one stored version to reg, unless reg already has it.
func RegisterStored(reg *policies.Registry, dataDir string, pv demos.PolicyVersion) error {
	if _, err := reg.Lookup(pv.Version); err == nil {
		return nil
	}
	return reg.RegisterVersion(policies.Version{
		Info: policies.Info{Name: pv.Version, Version: pv.Version, Kind: policies.Learned,
			Description: fmt.Sprintf("%s policy for %s", pv.Algo, pv.Task)},
		Task: pv.Task, Path: filepath.Join(dataDir, pv.Path), Digest: pv.Digest,
	})
}

// LoadVersions registers every version stored in st with reg, so that
// every command and API that takes a policy name accepts them.
func LoadVersions(ctx context.Context, st *demos.Store, reg *policies.Registry) error {
	vs, err := st.Policies(ctx, "")
	if err != nil {
		return err
	}
	var errs []error
	for _, v := range vs {
		if err := RegisterStored(reg, st.Dir(), v); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
