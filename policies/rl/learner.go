package rl

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"tandem/policies"
	"tandem/policies/nn"
	"tandem/sim"
)

func init() {
	for _, algo := range []string{RLIF, RLPD} {
		policies.RegisterLearner(algo, func() policies.Learner { return NewLearner(algo) })
		policies.RegisterExplorer(algo, func(m *nn.Model, seed uint64) (sim.Policy, error) { return NewExplorer(m, seed) })
	}
}

// Learner is the round-based RLIF or RLPD learner (policies.Learner): each
// Train rebuilds the two buffers from every episode it is given, makes
// UTD critic updates per new transition (bounded by min_updates and
// max_updates) and returns the actor. Between calls it keeps its agent, so
// a Train whose Parent is the model the previous Train returned continues
// with the same critics; a learner restarted from a checkpoint continues
// through Resume (the state file beside the checkpoint). A Learner is used
// by one goroutine at a time.
type Learner struct {
	algo   string
	agent  *Agent    // the last Train's agent, nil after a failed Train
	model  *nn.Model // the model it returned
	state  []byte    // its encoded resume state
	resume []byte    // state given by Resume for the next Train
}

// NewLearner returns a learner for algo (RLIF or RLPD).
func NewLearner(algo string) *Learner { return &Learner{algo: algo} }

// Name implements policies.Learner.
func (l *Learner) Name() string { return l.algo }

// State is the resume state of the last successful Train (nil before):
// write it beside the checkpoint, at policies.StatePath of the tensors' path. Its
// sha256 is in the card (hyperparameters.resume_state.sha256).
func (l *Learner) State() []byte { return l.state }

// Resume gives the state file of the checkpoint the next Train's Parent
// was loaded from. Train uses it when the state belongs to that actor and
// otherwise warm-starts the actor alone (and says so in its stats).
func (l *Learner) Resume(state []byte) { l.resume = state }

// episodeKey identifies an episode in cards: its uid, else its store id,
// else "" (unidentified: always counted as new).
func episodeKey(e *policies.Episode) string {
	switch {
	case e.UID != "":
		return e.UID
	case e.ID != 0:
		return strconv.FormatInt(e.ID, 10)
	}
	return ""
}

// Train implements policies.Learner.
func (l *Learner) Train(ctx context.Context, in policies.TrainInput) (policies.TrainOutput, error) {
	start := time.Now()
	cfg, err := ParseParams(l.algo, in.Params)
	if err != nil {
		return policies.TrainOutput{}, err
	}
	spec := &in.Spec
	od, ad := spec.ObsSize(), spec.ActionSize()
	seen := map[string]bool{}
	if in.Parent != nil && in.ParentCard != nil {
		for _, k := range in.ParentCard.Episodes {
			seen[k] = true
		}
	}
	var (
		labelled []Labelled
		keys     []string
		fresh    int // transitions from episodes the parent did not train on
		obsRows  []float32
	)
	for i := range in.Episodes {
		e := &in.Episodes[i]
		if err := e.Validate(spec); err != nil {
			return policies.TrainOutput{}, err
		}
		n0 := len(labelled)
		labelled = Label(labelled, l.algo, e, spec, &cfg)
		k := episodeKey(e)
		if k == "" || !seen[k] {
			fresh += len(labelled) - n0
		}
		if k != "" && len(labelled) > n0 {
			keys = append(keys, k)
		}
		if in.Parent == nil {
			for _, o := range e.Obs {
				for _, v := range o {
					obsRows = append(obsRows, float32(v))
				}
			}
		}
	}
	if len(labelled) == 0 {
		return policies.TrainOutput{}, policies.ErrNoData
	}

	agent, resumed, err := l.agentFor(cfg, in, obsRows)
	l.agent, l.resume = nil, nil // rebuilt below on success
	if err != nil {
		return policies.TrainOutput{}, err
	}
	if agent.od != od || agent.ad != ad {
		return policies.TrainOutput{}, fmt.Errorf("%s: parent acts on %d/%d values; task %s has %d observations and %d actions", l.algo, agent.od, agent.ad, spec.Name, od, ad)
	}
	if resumed == "actor" {
		// Fresh critics learn from every transition, not only the new ones,
		// and the temperature continues from the parent's card when it
		// records one.
		fresh = len(labelled)
		if t, ok := cardTemperature(in.ParentCard); ok {
			agent.logAlpha = math.Log(t)
		}
	}
	demo, online := NewBuffer(od, ad, cfg.Buffer), NewBuffer(od, ad, cfg.Buffer)
	s := &Sampler{Demo: demo, Online: online, Ratio: cfg.DemoRatio}
	var nHuman, nNeg int
	for i := range labelled {
		t := &labelled[i]
		s.add(t)
		if t.InDemo() && t.InOnline() {
			nHuman++
		}
		if t.Reward < 0 {
			nNeg++
		}
	}
	updates := min(max(cfg.UTD*fresh, cfg.MinUpdates), cfg.MaxUpdates)
	u0 := agent.Updates()
	for i := range updates {
		if i%32 == 0 {
			if err := ctx.Err(); err != nil {
				return policies.TrainOutput{}, err
			}
			if in.Progress != nil {
				in.Progress(i, updates)
			}
		}
		agent.Update(s)
	}
	if in.Progress != nil {
		in.Progress(updates, updates)
	}
	model, err := agent.Model()
	if err != nil {
		return policies.TrainOutput{}, err
	}
	state, err := agent.EncodeState(l.algo)
	if err != nil {
		return policies.TrainOutput{}, err
	}
	hp := cfg.Hyperparameters(l.algo)
	hp["target_entropy"] = cfg.targetEntropy(ad)
	hp["seed"] = in.Seed
	hp["resume_state"] = map[string]any{"file_suffix": StateExt, "sha256": policies.Digest(state), "format": StateFormat,
		"temperature": agent.Temperature()}
	card := nn.Card{
		Algorithm: l.algo, Hyperparameters: hp, Episodes: keys,
		Task: nn.TaskCard{Name: spec.Name, ObsNames: spec.ObsNames, ActionNames: spec.ActionNames},
	}
	el := time.Since(start).Seconds()
	st := agent.Stats()
	stats := map[string]any{
		"updates": updates, "total_updates": agent.Updates(), "actor_updates": agent.ActorUpdates(),
		"new_transitions": fresh, "transitions": len(labelled), "demo_buffer": demo.Len(), "online_buffer": online.Len(),
		"intervention_transitions": nHuman, "negative_rewards": nNeg,
		"critic_loss": st.CriticLoss, "actor_loss": st.ActorLoss, "temperature": agent.Temperature(),
		"entropy": st.Entropy, "q": st.Q, "target_q": st.Target, "resumed": resumed,
		"seconds": el, "updates_per_s": float64(agent.Updates()-u0) / el, "kernel": nn.KernelName(),
	}
	l.agent, l.model, l.state = agent, model, state
	return policies.TrainOutput{Model: model, Card: card, Stats: stats}, nil
}

// agentFor finds the agent a Train continues: this learner's own when the
// parent is the model it returned last (and the architecture is
// unchanged), else one restored from a resume state that belongs to the
// parent, else a fresh one with the parent's actor (warm start), else a
// fresh one. It reports which ("agent", "state", "actor", "none"). The
// agent runs on in.Pool (nil: nn.DefaultPool); a kept agent built on
// another pool is restored from its state onto this one.
func (l *Learner) agentFor(cfg Config, in policies.TrainInput, obsRows []float32) (*Agent, string, error) {
	pool := in.Pool
	if pool == nil {
		pool = nn.DefaultPool()
	}
	if in.Parent == nil {
		norm, err := nn.NewNormalizer(obsRows, in.Spec.ObsSize(), in.Spec.ActionLow, in.Spec.ActionHigh)
		if err != nil {
			return nil, "", err
		}
		g, err := NewAgent(cfg, norm, in.Seed, pool)
		return g, "none", err
	}
	if l.agent != nil && l.model == in.Parent && l.agent.cfg.same(cfg) && l.agent.pool == pool {
		return l.agent, "agent", nil
	}
	for _, state := range [][]byte{l.resume, l.stateFor(in.Parent)} {
		if state == nil {
			continue
		}
		if algo, err := StateAlgorithm(state); err != nil || algo != l.algo {
			continue
		}
		g, err := RestoreAgent(cfg, in.Parent, state, pool)
		if errors.Is(err, ErrStateMismatch) {
			continue
		}
		if err != nil {
			return nil, "", err
		}
		return g, "state", nil
	}
	g, err := NewAgent(cfg, in.Parent.Normalizer(), in.Seed, pool)
	if err != nil {
		return nil, "", err
	}
	if err := g.LoadActor(in.Parent); err != nil {
		return nil, "", fmt.Errorf("%s: cannot warm-start from the parent: %w", l.algo, err)
	}
	return g, "actor", nil
}

// cardTemperature reads the temperature a card of this package records
// (hyperparameters.resume_state.temperature).
func cardTemperature(c *nn.Card) (float64, bool) {
	if c == nil {
		return 0, false
	}
	rs, ok := c.Hyperparameters["resume_state"].(map[string]any)
	if !ok {
		return 0, false
	}
	t, ok := rs["temperature"].(float64)
	if !ok || !(t > 0) || math.IsInf(t, 0) {
		return 0, false
	}
	return t, true
}

// stateFor is this learner's last state when it belongs to m.
func (l *Learner) stateFor(m *nn.Model) []byte {
	if l.model == m {
		return l.state
	}
	return nil
}
