package rl

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/nlpodyssey/safetensors"

	"tandem/policies"
	"tandem/policies/nn"
)

// The resume state is a safetensors file beside the policy checkpoint
// (docs/algorithms.md, "Resuming: the state file"): everything an actor-critic needs besides the
// actor itself, which is the checkpoint. Its tensors, all float32, named
// as torch state dicts where they are networks:
//
//	critics.{m}.layers.{i}.weight …         live critic m (nn.Arch.Tensors names)
//	target_critics.{m}.layers.{i}.weight …  its Polyak target
//	optim.critics.{m}.exp_avg, .exp_avg_sq  critic m's Adam moments, flat [n]
//	optim.actor.exp_avg, .exp_avg_sq        the actor's Adam moments, flat [n]
//
// and its metadata (strings): format and version, the algorithm, the
// architecture (width, critics), the counters, the temperature (log α and
// its Adam state, float64 in Go's shortest exact form), the random
// generator's state, and actor_sha256, the digest of the actor parameters
// it belongs with (little-endian float32 bytes), which Decode checks
// against the checkpoint it is resumed with.
const (
	StateFormat        = "tandem-rl-state"
	StateFormatVersion = 1
	// StateExt is the state file's suffix (policies.StatePath):
	// x.safetensors has its state in x.state.safetensors.
	StateExt = policies.StateExt
)

// stateMeta is the metadata, JSON-encoded under the key "state".
type stateMeta struct {
	Format        string `json:"format"`
	FormatVersion int    `json:"format_version"`
	Algorithm     string `json:"algorithm"`
	Width         int    `json:"width"`
	Critics       int    `json:"critics"`
	ObsDim        int    `json:"obs_dim"`
	ActDim        int    `json:"act_dim"`
	Updates       int    `json:"updates"`
	ActorUpdates  int    `json:"actor_updates"`
	ActorSteps    int    `json:"actor_adam_steps"`
	CriticSteps   []int  `json:"critic_adam_steps"`
	// Temperature state as exact decimal strings.
	LogAlpha string `json:"log_alpha"`
	AlphaM   string `json:"log_alpha_exp_avg"`
	AlphaV   string `json:"log_alpha_exp_avg_sq"`
	AlphaT   int    `json:"log_alpha_steps"`
	RNG      string `json:"rng"`
	ActorSHA string `json:"actor_sha256"`
}

// ParamsDigest is the sha256 (hex) of a parameter vector's little-endian
// float32 bytes.
func ParamsDigest(p []float32) string {
	h := sha256.New()
	var b [4]byte
	for _, v := range p {
		binary.LittleEndian.PutUint32(b[:], math.Float32bits(v))
		h.Write(b[:])
	}
	return hex.EncodeToString(h.Sum(nil))
}

func f64s(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

// EncodeState serialises everything but the actor's parameters (and the
// normalisation, which the checkpoint holds).
func (g *Agent) EncodeState(algo string) ([]byte, error) {
	meta := stateMeta{Format: StateFormat, FormatVersion: StateFormatVersion, Algorithm: algo,
		Width: g.cfg.Width, Critics: g.cfg.Critics, ObsDim: g.od, ActDim: g.ad,
		Updates: g.updates, ActorUpdates: g.actorUpdates,
		LogAlpha: f64s(g.logAlpha), AlphaM: f64s(g.alphaM), AlphaV: f64s(g.alphaV), AlphaT: g.alphaT,
		RNG: strconv.FormatUint(g.rng.State(), 10), ActorSHA: ParamsDigest(g.aParams)}
	views := map[string]safetensors.TensorView{}
	var err error
	add := func(name string, shape []int, data []float32) {
		if err != nil {
			return
		}
		views[name], err = nn.F32View(shape, data)
	}
	arch := g.critics.Arch()
	for m := range g.cfg.Critics {
		for _, t := range arch.Tensors() {
			p := g.critics.Params(m)
			add(fmt.Sprintf("critics.%d.%s", m, t.Name), t.Shape, p[t.Offset:t.Offset+t.Size()])
			add(fmt.Sprintf("target_critics.%d.%s", m, t.Name), t.Shape, g.target[m][t.Offset:t.Offset+t.Size()])
		}
		mm, vv, steps := g.critics.Optimizer(m).State()
		add(fmt.Sprintf("optim.critics.%d.exp_avg", m), []int{len(mm)}, mm)
		add(fmt.Sprintf("optim.critics.%d.exp_avg_sq", m), []int{len(vv)}, vv)
		meta.CriticSteps = append(meta.CriticSteps, steps)
	}
	mm, vv, steps := g.aOpt.State()
	add("optim.actor.exp_avg", []int{len(mm)}, mm)
	add("optim.actor.exp_avg_sq", []int{len(vv)}, vv)
	meta.ActorSteps = steps
	if err != nil {
		return nil, err
	}
	mj, err := json.Marshal(meta)
	if err != nil {
		return nil, err
	}
	return safetensors.Serialize(views, map[string]string{"tandem": StateFormat, "state": string(mj)})
}

// ErrStateMismatch is returned by RestoreAgent for a state saved with
// another actor than the checkpoint's.
var ErrStateMismatch = errors.New("rl: the state belongs to another actor (actor_sha256 differs from the checkpoint's parameters)")

// RestoreAgent rebuilds an agent from a checkpointed actor and its state
// file: the actor's parameters and normalisation from model, critics,
// targets, optimisers, temperature, counters and random state from state.
// cfg's width and critics must be those the state was saved with; its
// other settings (learning rate, UTD, …) take effect from here on.
func RestoreAgent(cfg Config, model *nn.Model, state []byte, pool *nn.Pool) (*Agent, error) {
	st, md, err := nn.ParseSafetensors(state)
	if err != nil {
		return nil, fmt.Errorf("rl: state: %w", err)
	}
	var meta stateMeta
	if err := json.Unmarshal([]byte(md["state"]), &meta); err != nil {
		return nil, fmt.Errorf("rl: state: metadata: %w", err)
	}
	if meta.Format != StateFormat || meta.FormatVersion != StateFormatVersion {
		return nil, fmt.Errorf("rl: state: format %q version %d; want %q version %d", meta.Format, meta.FormatVersion, StateFormat, StateFormatVersion)
	}
	if meta.Width != cfg.Width || meta.Critics != cfg.Critics {
		return nil, fmt.Errorf("rl: state has %d critics of width %d; the parameters ask for %d of width %d (keep them, or train without the parent)", meta.Critics, meta.Width, cfg.Critics, cfg.Width)
	}
	if model.ObsDim() != meta.ObsDim || model.ActDim() != meta.ActDim {
		return nil, fmt.Errorf("rl: state is for %d observations and %d actions; the checkpoint has %d and %d", meta.ObsDim, meta.ActDim, model.ObsDim(), model.ActDim())
	}
	if got := ParamsDigest(model.Params(0)); got != meta.ActorSHA {
		return nil, ErrStateMismatch
	}
	g, err := NewAgent(cfg, model.Normalizer(), 0, pool)
	if err != nil {
		return nil, err
	}
	if err := g.LoadActor(model); err != nil {
		return nil, err
	}
	used := 0
	get := func(name string, dst []float32, shape []int) error {
		used++
		if err := nn.ReadF32(st, name, shape, dst); err != nil {
			return fmt.Errorf("rl: state: tensor %w", err)
		}
		return nil
	}
	arch := g.critics.Arch()
	np := arch.NumParams()
	if len(meta.CriticSteps) != cfg.Critics {
		return nil, fmt.Errorf("rl: state: %d critic step counts for %d critics", len(meta.CriticSteps), cfg.Critics)
	}
	for m := range cfg.Critics {
		for _, t := range arch.Tensors() {
			if err := get(fmt.Sprintf("critics.%d.%s", m, t.Name), g.critics.Params(m)[t.Offset:], t.Shape); err != nil {
				return nil, err
			}
			if err := get(fmt.Sprintf("target_critics.%d.%s", m, t.Name), g.target[m][t.Offset:], t.Shape); err != nil {
				return nil, err
			}
		}
		mm, vv := make([]float32, np), make([]float32, np)
		if err := get(fmt.Sprintf("optim.critics.%d.exp_avg", m), mm, []int{np}); err != nil {
			return nil, err
		}
		if err := get(fmt.Sprintf("optim.critics.%d.exp_avg_sq", m), vv, []int{np}); err != nil {
			return nil, err
		}
		if err := g.critics.Optimizer(m).SetState(mm, vv, meta.CriticSteps[m]); err != nil {
			return nil, err
		}
	}
	na := g.actor.NumParams()
	mm, vv := make([]float32, na), make([]float32, na)
	if err := get("optim.actor.exp_avg", mm, []int{na}); err != nil {
		return nil, err
	}
	if err := get("optim.actor.exp_avg_sq", vv, []int{na}); err != nil {
		return nil, err
	}
	if err := g.aOpt.SetState(mm, vv, meta.ActorSteps); err != nil {
		return nil, err
	}
	if used != st.Len() {
		return nil, fmt.Errorf("rl: state: %d tensors, %d expected", st.Len(), used)
	}
	var perr error
	parse := func(s string) float64 {
		x, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			perr = fmt.Errorf("rl: state: temperature value %q", s)
		}
		return x
	}
	g.logAlpha, g.alphaM, g.alphaV, g.alphaT = parse(meta.LogAlpha), parse(meta.AlphaM), parse(meta.AlphaV), meta.AlphaT
	if perr != nil {
		return nil, perr
	}
	rs, err := strconv.ParseUint(meta.RNG, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("rl: state: rng %q", meta.RNG)
	}
	g.rng = *nn.NewRand(rs)
	if meta.Updates < 0 || meta.ActorUpdates < 0 || meta.ActorSteps < 0 || meta.AlphaT < 0 {
		return nil, errors.New("rl: state: negative counters")
	}
	g.updates, g.actorUpdates = meta.Updates, meta.ActorUpdates
	return g, nil
}

// StateAlgorithm reads the algorithm a state file was saved by.
func StateAlgorithm(state []byte) (string, error) {
	_, md, err := safetensors.ReadMetadata(state)
	if err != nil {
		return "", err
	}
	var meta stateMeta
	if err := json.Unmarshal([]byte(md.Metadata()["state"]), &meta); err != nil {
		return "", err
	}
	return meta.Algorithm, nil
}
