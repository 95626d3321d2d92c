package rl

import (
	"context"
	"errors"
	"fmt"
	"time"

	"tandem/policies"
	"tandem/policies/nn"
	"tandem/sim"
)

// RunnerConfig configures a streaming learner.
type RunnerConfig struct {
	Algo   string // RLIF or RLPD
	Config Config // DefaultConfig(Algo) or ParseParams
	Spec   sim.Spec
	Seed   uint64
	// Episodes, from the store, fill the buffers before the first step
	// arrives (labelled as Train labels them).
	Episodes []policies.Episode
	// Parent and State resume a learner from its checkpoint: the actor
	// and, when State is set, its critics, temperature and counters.
	Parent *nn.Model
	State  []byte
	// Card is the card published with the weights; the runner fills its
	// algorithm, hyper-parameters and task.
	Card nn.Card
	// Pool runs the networks (nil: nn.DefaultPool).
	Pool *nn.Pool
}

// Runner is the streaming learner of the actor/learner seam: it takes
// steps from a StepSource as actors record them, labels them by its
// algorithm, keeps them in the two buffers, updates the agent at the UTD
// ratio (never more than UTD critic updates per transition received) and
// publishes the actor every PublishEvery updates. It runs on one goroutine
// (Run's); actors run on others and meet it only through the seam.
type Runner struct {
	rc       RunnerConfig
	cfg      Config
	grip     []int
	agent    *Agent
	sampler  Sampler
	pending  map[string][]Step // per open episode: the previous and the current step
	received int               // transitions added to the buffers
	updates  int               // updates made by Run
	version  uint64
	buf      []Step
	stats    RunnerStats
}

// RunnerStats count what a Runner did.
type RunnerStats struct {
	Steps       int    `json:"steps"`       // steps taken from the source
	Transitions int    `json:"transitions"` // labelled transitions added
	Updates     int    `json:"updates"`     // critic updates made
	Published   uint64 `json:"published"`   // last version published
	Stale       int    `json:"stale_steps"` // steps out of order, dropped
	UpdateStats
}

// NewRunner builds a runner, filling its buffers from rc.Episodes.
func NewRunner(rc RunnerConfig) (*Runner, error) {
	if rc.Algo != RLIF && rc.Algo != RLPD {
		return nil, fmt.Errorf("rl: unknown algorithm %q (valid: %s, %s)", rc.Algo, RLIF, RLPD)
	}
	if err := rc.Config.validate(rc.Algo); err != nil {
		return nil, err
	}
	od, ad := rc.Spec.ObsSize(), rc.Spec.ActionSize()
	r := &Runner{rc: rc, cfg: rc.Config, pending: map[string][]Step{}, buf: make([]Step, 256),
		sampler: Sampler{Demo: NewBuffer(od, ad, rc.Config.Buffer), Online: NewBuffer(od, ad, rc.Config.Buffer), Ratio: rc.Config.DemoRatio}}
	if rc.Algo == RLPD && rc.Config.GripperPenalty > 0 {
		r.grip = gripperDims(&rc.Spec)
	}
	var ls []Labelled
	for i := range rc.Episodes {
		e := &rc.Episodes[i]
		if err := e.Validate(&rc.Spec); err != nil {
			return nil, err
		}
		ls = Label(ls[:0], rc.Algo, e, &rc.Spec, &r.cfg)
		for j := range ls {
			r.add(&ls[j])
		}
	}
	if rc.Parent != nil {
		var err error
		if rc.State != nil {
			r.agent, err = RestoreAgent(r.cfg, rc.Parent, rc.State, rc.Pool)
		} else if r.agent, err = NewAgent(r.cfg, rc.Parent.Normalizer(), rc.Seed, rc.Pool); err == nil {
			err = r.agent.LoadActor(rc.Parent)
		}
		if err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Agent is the runner's agent (nil before its first update when it
// started without a parent). Run's goroutine only.
func (r *Runner) Agent() *Agent { return r.agent }

// Stats reports what the runner did. Run's goroutine only.
func (r *Runner) Stats() RunnerStats {
	s := r.stats
	s.Updates, s.Published, s.Transitions = r.updates, r.version, r.received
	if r.agent != nil {
		s.UpdateStats = r.agent.Stats()
	}
	return s
}

func (r *Runner) add(l *Labelled) {
	r.sampler.add(l)
	r.received++
}

// Ingest labels steps and adds their transitions to the buffers. A step
// is labelled when its successor arrives (RLIF's reward and expert-step
// rules look one step ahead) or when it ends its episode. Steps of one
// episode must arrive in order; a step that does not follow the previous
// one of its episode restarts that episode's window (the lost step is
// counted as stale). Run's goroutine only.
func (r *Runner) Ingest(steps []Step) {
	for _, s := range steps {
		r.stats.Steps++
		w := r.pending[s.Episode]
		if len(w) > 0 && w[len(w)-1].T != s.T-1 {
			r.stats.Stale++ // the window's last step, still waiting for its successor; the earlier one is labelled
			w = w[:0]
		}
		if len(w) > 0 {
			r.label(append(w, s), len(w)-1) // the previous step, now that its successor is known
		}
		w = append(w, s)
		if len(w) > 2 {
			w = append(w[:0], w[len(w)-2:]...)
		}
		if s.Terminal || s.Truncated {
			r.label(w, len(w)-1)
			delete(r.pending, s.Episode)
			continue
		}
		r.pending[s.Episode] = w
	}
}

// label labels step i of a window of consecutive steps of one episode.
func (r *Runner) label(w []Step, i int) {
	e := policies.Episode{Next: w[len(w)-1].Next}
	last := w[len(w)-1]
	e.Terminal, e.Truncated = last.Terminal, last.Truncated
	for _, s := range w {
		e.Obs = append(e.Obs, s.Obs)
		e.Action = append(e.Action, s.Action)
		e.Source = append(e.Source, s.Source)
		e.InterventionStart = append(e.InterventionStart, s.InterventionStart)
		e.Reward = append(e.Reward, s.Reward)
	}
	if e.Validate(&r.rc.Spec) != nil {
		r.stats.Stale++
		return
	}
	if l, ok := labelAt(r.rc.Algo, &e, i, &r.rc.Spec, &r.cfg, r.grip, rlifLabels(r.rc.Algo, &e)); ok {
		r.add(&l)
	}
}

// canUpdate reports whether the UTD budget allows another update.
func (r *Runner) canUpdate() bool {
	if r.agent == nil && r.sampler.Len() < r.cfg.Start {
		return false
	}
	return r.sampler.Len() > 0 && r.updates < r.cfg.UTD*r.received
}

// Run takes steps from src and trains until ctx ends (it returns ctx's
// error) or src is closed (it finishes the updates the data allows,
// publishes and returns nil). It publishes the actor after its first
// update and every PublishEvery updates after that.
func (r *Runner) Run(ctx context.Context, src StepSource, pub WeightsPublisher) error {
	closed := false
	for {
		if !closed {
			wait := time.Duration(0)
			if !r.canUpdate() {
				wait = 50 * time.Millisecond
			}
			n, err := src.Take(ctx, r.buf, wait)
			r.Ingest(r.buf[:n])
			switch {
			case errors.Is(err, ErrClosed):
				closed = true
			case err != nil:
				return err
			}
		} else if err := ctx.Err(); err != nil {
			return err
		}
		if r.agent == nil && r.sampler.Len() >= r.cfg.Start {
			if err := r.start(); err != nil {
				return err
			}
		}
		for k := 0; k < 16 && r.canUpdate(); k++ {
			r.agent.Update(&r.sampler)
			r.updates++
			if r.updates == 1 || r.updates%r.cfg.PublishEvery == 0 {
				if err := r.publish(ctx, pub); err != nil {
					return err
				}
			}
		}
		if closed && !r.canUpdate() {
			if r.agent != nil && r.updates > 0 && r.updates%r.cfg.PublishEvery != 0 {
				return r.publish(ctx, pub)
			}
			return nil
		}
	}
}

// start builds the agent with a normaliser from the buffered observations.
func (r *Runner) start() error {
	var obs []float32
	for _, b := range []*Buffer{r.sampler.Demo, r.sampler.Online} {
		obs = append(obs, b.obs[:b.Len()*b.od]...)
	}
	norm, err := nn.NewNormalizer(obs, r.rc.Spec.ObsSize(), r.rc.Spec.ActionLow, r.rc.Spec.ActionHigh)
	if err != nil {
		return err
	}
	r.agent, err = NewAgent(r.cfg, norm, r.rc.Seed, r.rc.Pool)
	return err
}

// publish encodes the actor and publishes it as the next version.
func (r *Runner) publish(ctx context.Context, pub WeightsPublisher) error {
	m, err := r.agent.Model()
	if err != nil {
		return err
	}
	card := r.rc.Card
	card.Algorithm = r.rc.Algo
	card.Hyperparameters = r.cfg.Hyperparameters(r.rc.Algo)
	card.Task = nn.TaskCard{Name: r.rc.Spec.Name, ObsNames: r.rc.Spec.ObsNames, ActionNames: r.rc.Spec.ActionNames}
	tensors, cj, err := nn.Encode(m, card)
	if err != nil {
		return err
	}
	r.version++
	return pub.Publish(ctx, Weights{Version: r.version, Updates: r.agent.Updates(), Tensors: tensors, Card: cj})
}
