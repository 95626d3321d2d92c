package policies

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"

	"tandem/policies/nn"
	"tandem/sim"
)

// Help requests after ThriftyDAgger (Hoque et al., CoRL 2021;
// ryanhoque/thriftydagger, thrifty/algos/thriftydagger.py and core.py):
// a policy asks for a human when its ensemble disagrees (novelty: the mean
// per-dimension variance of the members' actions above β_H) or when a
// learned critic gives its action a low chance of success (risk: Q(s, a_π)
// below ε_H). Both thresholds are fitted to a target request rate. The
// constants are ThriftyDAgger's unless noted.
const (
	thriftyMembers     = 5      // num_nets
	thriftyRate        = 0.01   // target_rate
	thriftyGamma       = 0.9999 // gamma of the risk critic
	thriftyPosFraction = 0.1    // qbuffer.sample_batch(pos_fraction=0.1)
	thriftyCriticBatch = 50     // batch_size // 2 with batch_size 100
	thriftyCriticLR    = 1e-3   // pi_lr, shared by the critics' Adam
	thriftyCriticSteps = 12500  // bc_epochs (5) × grad_steps (500) × 5
	thriftyPolyak      = 0.005  // ac_targ = 0.995·ac_targ + 0.005·ac …
	thriftyPolyakEvery = 2      // … every second critic update
	thriftyMinStates   = 25     // thresholds refit once > 25 estimates
	helpKey            = "help" // the card's hyper-parameter holding HelpCard
)

// defaultRiskHidden is the critics' hidden layers. ThriftyDAgger's
// critics are 256×256 like its actors; tandem defaults to 64×64 because
// the critic travels inside the JSON card (about 55 kB at 64×64 on reach,
// 0.8 MB at 256×256) and trains in under a second. risk_hidden=256x256
// restores the reference.
var defaultRiskHidden = []int{64, 64}

type helpConfig struct {
	On          bool
	Rate        float64
	Risk        bool
	Steps       int
	Batch       int
	Hidden      []int
	Gamma       float64
	PosFraction float64
	LR          float64
}

func parseHelp(p *params) helpConfig {
	c := helpConfig{
		On:          p.bool("help", false),
		Rate:        p.float("help_rate", thriftyRate, 0, 0.5, true),
		Risk:        p.bool("risk", true),
		Steps:       p.int("risk_steps", thriftyCriticSteps, 1, maxSteps),
		Batch:       p.int("risk_batch", thriftyCriticBatch, 2, maxBatch),
		Hidden:      p.widths("risk_hidden", defaultRiskHidden, maxLayers, maxWidth),
		Gamma:       p.float("risk_gamma", thriftyGamma, 0, 1, true),
		PosFraction: p.float("risk_pos", thriftyPosFraction, 0, 1, false),
		LR:          p.float("risk_lr", thriftyCriticLR, 0, 1, true),
	}
	if !c.On {
		for _, k := range []string{"help_rate", "risk", "risk_steps", "risk_batch", "risk_hidden", "risk_gamma", "risk_pos", "risk_lr"} {
			if p.set[k] {
				p.fail(fmt.Errorf("%s: %s applies with help=true", p.algo, k))
				break
			}
		}
	}
	if !c.Risk {
		c.Steps = 0
	}
	return c
}

// HelpCard is a policy's help-request configuration, stored on its card
// under hyperparameters.help: the thresholds and the risk critic's
// weights. NewActor reads it.
type HelpCard struct {
	// TargetRate is the share of steps the thresholds were fitted to ask
	// for help on, per condition (ThriftyDAgger's target_rate).
	TargetRate float64 `json:"target_rate"`
	// Novelty is β_H: help when the ensemble's novelty (nn.Policy.Novelty)
	// exceeds it. Absent for a single network.
	Novelty *float64 `json:"novelty_threshold,omitempty"`
	// Risk is ε_H: help when the critics' success probability of the
	// policy's action, min(Q1, Q2), falls below it. Absent without critic.
	Risk *float64 `json:"risk_threshold,omitempty"`
	// Calibration describes the states the thresholds were fitted on and
	// the rates they give there.
	Calibration HelpCalibration `json:"calibration"`
	// Critic is the risk critic (nil: none).
	Critic *RiskCritic `json:"risk_critic,omitempty"`
}

// HelpCalibration records how the thresholds were fitted.
type HelpCalibration struct {
	// States is the number of states; From says which: "robot" (the robot
	// steps of the training data, as ThriftyDAgger refits on the states
	// the robot visits, when there are more than 25) or "all".
	States int    `json:"states"`
	From   string `json:"from"`
	// NoveltyRate, RiskRate and Rate are the shares of those states on
	// which each condition, and either, asks for help.
	NoveltyRate float64 `json:"novelty_rate"`
	RiskRate    float64 `json:"risk_rate"`
	Rate        float64 `json:"rate"`
}

// RiskCritic is ThriftyDAgger's pair of success critics Q1, Q2 (MLPs with
// ReLU and a sigmoid output). Input: the policy's normalised current
// observation (its normalisation, one frame) followed by the action mapped
// to [-1, 1] by the task's bounds. Output q = (1 + tanh(z))/2 of the last
// linear layer's z, which is sigmoid(2z). Params holds each critic's
// parameters as base64 of little-endian float32 in the order of
// nn.Arch.Tensors (layers.{i}.weight [out, in], layers.{i}.bias).
type RiskCritic struct {
	In         int           `json:"in"`
	Hidden     []int         `json:"hidden"`
	Activation nn.Activation `json:"activation"`
	Gamma      float64       `json:"gamma"`
	Params     []string      `json:"params"`
}

// helpCardOf reads the card's help configuration (nil when none).
func helpCardOf(card *nn.Card) (*HelpCard, error) {
	if card == nil || card.Hyperparameters == nil {
		return nil, nil
	}
	v, ok := card.Hyperparameters[helpKey]
	if !ok || v == nil {
		return nil, nil
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var h HelpCard
	if err := json.Unmarshal(raw, &h); err != nil {
		return nil, fmt.Errorf("policies: card: help: %w", err)
	}
	return &h, nil
}

// HelpActor is a learned policy that can ask for a human: after each Act,
// NeedsHelp reports whether the novelty or the risk of that step crossed
// its card's threshold (the method teleop's arbiter looks for). It belongs
// to one goroutine; Act allocates nothing.
type HelpActor struct {
	p       *nn.Policy
	norm    *nn.Normalizer
	novelty float64 // β_H; +Inf when off
	risk    float64 // ε_H; -Inf when off
	critic  *critic
	x       []float32
	tape    *nn.Tape
	safety  [1]float64
	need    bool
}

// Act implements sim.Policy.
func (a *HelpActor) Act(obs, dst []float64) {
	a.p.Act(obs, dst)
	a.need = a.p.Novelty() > a.novelty
	if a.critic != nil {
		criticInput(a.x, a.norm, obs, dst)
		a.critic.safety(a.x, 1, a.tape, a.safety[:])
		if a.safety[0] < a.risk {
			a.need = true
		}
	}
}

// Reset implements sim.Resetter.
func (a *HelpActor) Reset(seed uint64) {
	a.p.Reset(seed)
	a.need, a.safety[0] = false, 1
}

// NeedsHelp reports whether the last Act crossed a threshold.
func (a *HelpActor) NeedsHelp() bool { return a.need }

// Novelty is the ensemble's novelty at the last Act.
func (a *HelpActor) Novelty() float64 { return a.p.Novelty() }

// Safety is the critics' success probability of the last action (1
// without critic).
func (a *HelpActor) Safety() float64 { return a.safety[0] }

// newHelpActor builds the actor for h.
func newHelpActor(model *nn.Model, h *HelpCard) (*HelpActor, error) {
	a := &HelpActor{p: model.NewPolicy(), norm: model.Normalizer(), novelty: math.Inf(1), risk: math.Inf(-1), safety: [1]float64{1}}
	if h.Novelty != nil {
		if model.Members() < 2 {
			return nil, errors.New("policies: card: a novelty threshold needs an ensemble")
		}
		a.novelty = *h.Novelty
	}
	if h.Risk != nil {
		if h.Critic == nil {
			return nil, errors.New("policies: card: a risk threshold without its critic")
		}
		a.risk = *h.Risk
	}
	if h.Critic != nil {
		c, err := h.Critic.decode(model.ObsDim(), model.ActDim())
		if err != nil {
			return nil, err
		}
		a.critic, a.x, a.tape = c, make([]float32, c.arch.In), c.arch.NewTape(1)
	}
	return a, nil
}

// quantile returns sorted v's element at int(f·len) (ThriftyDAgger's
// sorted(estimates)[int((1 − rate)·n)]), clamped to the last.
func quantile(sorted []float64, f float64) float64 {
	return sorted[min(int(f*float64(len(sorted))), len(sorted)-1)]
}

// fitHelp trains the risk critic on d's transitions and fits the
// thresholds on d's states (see HelpCard and docs/algorithms.md).
func fitHelp(ctx context.Context, c helpConfig, model *nn.Model, d *trainData, in *TrainInput, done int, progress func(int)) (*HelpCard, map[string]any, error) {
	norm := model.Normalizer()
	od, ad := model.ObsDim(), model.ActDim()
	// The policy's action and novelty at every state (with its real frame
	// history), and at each episode's final observation.
	acts := make([][]float64, len(d.eps))
	nov := make([]float64, 0, d.ds.Len())
	pol := model.NewPolicy()
	for i, e := range d.eps {
		pol.Reset(0)
		acts[i] = make([]float64, (e.Len()+1)*ad)
		for t := range e.Len() {
			pol.Act(e.Obs[t], acts[i][t*ad:(t+1)*ad])
			nov = append(nov, pol.Novelty())
		}
		if e.Next != nil {
			pol.Act(e.Next, acts[i][e.Len()*ad:])
		}
	}
	h := &HelpCard{TargetRate: c.Rate}
	stats := map[string]any{}
	var safety []float64
	if c.Risk {
		cr, st, err := fitCritic(ctx, c, model, d, in, acts, done, progress)
		if err != nil {
			return nil, nil, err
		}
		stats = st
		h.Critic = encodeCritic(cr.arch, cr.params, c.Gamma)
		x := make([]float32, d.ds.Len()*(od+ad))
		for i, e := range d.eps {
			for t := range e.Len() {
				r := d.first[i] + t
				criticInput(x[r*(od+ad):(r+1)*(od+ad)], norm, e.Obs[t], acts[i][t*ad:(t+1)*ad])
			}
		}
		// One state at a time, as the actor evaluates it, so that the
		// thresholds split the states exactly as the actor will.
		safety = make([]float64, d.ds.Len())
		tape := cr.arch.NewTape(1)
		for r := range safety {
			cr.safety(x[r*(od+ad):(r+1)*(od+ad)], 1, tape, safety[r:r+1])
		}
	}
	// Calibration states: the robot's when there are enough.
	var states []int
	for r, s := range d.source {
		if s == sim.Robot {
			states = append(states, r)
		}
	}
	h.Calibration.From = "robot"
	if len(states) <= thriftyMinStates {
		h.Calibration.From = "all"
		states = states[:0]
		for r := range d.source {
			states = append(states, r)
		}
	}
	h.Calibration.States = len(states)
	vals := make([]float64, len(states))
	n := float64(len(states))
	askN := make([]bool, len(states))
	if model.Members() > 1 {
		for i, r := range states {
			vals[i] = nov[r]
		}
		sort.Float64s(vals)
		beta := quantile(vals, 1-c.Rate)
		if math.IsNaN(beta) || math.IsInf(beta, 0) {
			return nil, nil, fmt.Errorf("the ensemble's novelty is %g on the training data", beta)
		}
		h.Novelty = &beta
		k := 0
		for i, r := range states {
			if askN[i] = nov[r] > beta; askN[i] {
				k++
			}
		}
		h.Calibration.NoveltyRate = float64(k) / n
	}
	either := 0
	for _, a := range askN {
		if a {
			either++
		}
	}
	if safety != nil {
		for i, r := range states {
			vals[i] = safety[r]
		}
		sort.Float64s(vals)
		// ThriftyDAgger: sorted(estimates2, reverse=True)[int((1 − rate)·n)].
		eps := vals[len(vals)-1-min(int((1-c.Rate)*n), len(vals)-1)]
		h.Risk = &eps
		k := 0
		for i, r := range states {
			if safety[r] < eps {
				k++
				if !askN[i] {
					either++
				}
			}
		}
		h.Calibration.RiskRate = float64(k) / n
		stats["safety_mean"] = mean(safety)
	}
	h.Calibration.Rate = float64(either) / n
	return h, stats, nil
}

func mean(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}
