package rl

import (
	"context"
	"errors"
	"sync"
	"time"

	"tandem/sim"
)

// The actor/learner seam. Actors (live sessions, headless rollout workers)
// and the learner exchange two things only, each a plain value that a bus
// can carry as JSON or bytes:
//
//   - Steps, actor → learner: every control step as it is recorded, with
//     its source, so the learner labels it by its own algorithm (RLIF's
//     reward needs the next step's source, which is why steps and not
//     transitions cross the seam).
//   - Weights, learner → actors: the actor network as checkpoint bytes
//     (nn.Encode) with an increasing version, published every
//     PublishEvery updates.
//
// In one process Pipe and Board carry them over channels and a mutex; the
// scale-out issue adds NATS JetStream implementations of the same four
// interfaces (a work stream of steps, acknowledged after ingest and
// deduplicated by (episode, t); a key-value or object-store entry for the
// latest weights) without touching the algorithms.

// Step is one recorded control step as an actor publishes it.
type Step struct {
	// Episode identifies the episode across actors (a uid); T is the
	// step's index in it, from 0.
	Episode string `json:"episode"`
	T       int    `json:"t"`
	// Obs is the observation the action was chosen from and Next the one
	// after the step; Action the executed action (task units).
	Obs    []float64 `json:"obs"`
	Action []float64 `json:"action"`
	Next   []float64 `json:"next"`
	// Source is who acted (demo, robot, human); InterventionStart marks the
	// first human step of an intervention.
	Source            sim.Source `json:"source"`
	InterventionStart bool       `json:"intervention_start,omitempty"`
	Reward            float64    `json:"reward"`
	// Terminal: the task ended the episode at this step; Truncated: the
	// horizon did.
	Terminal  bool `json:"terminal,omitempty"`
	Truncated bool `json:"truncated,omitempty"`
	// PolicyVersion is the weights version that acted ("" for none).
	PolicyVersion string `json:"policy_version,omitempty"`
}

// StepOf copies a step record of a session or rollout (Kind StepRecord)
// into a Step of episode.
func StepOf(episode string, r *sim.Record) Step {
	return Step{
		Episode: episode, T: r.T,
		Obs: append([]float64(nil), r.Obs.Slice()...), Action: append([]float64(nil), r.Action.Slice()...),
		Next: append([]float64(nil), r.Next.Slice()...), Source: r.Source, InterventionStart: r.InterventionStart,
		Reward: r.Reward, Terminal: r.Terminal, Truncated: r.Truncated, PolicyVersion: r.PolicyVersion,
	}
}

// StepSink is the actors' side of the step channel.
type StepSink interface {
	// Put hands steps to the learner, in order. It may block while the
	// learner's inbox is full, until ctx ends (then it returns ctx's error
	// and the steps not yet taken are dropped). Safe for concurrent use.
	Put(ctx context.Context, steps []Step) error
}

// StepSource is the learner's side.
type StepSource interface {
	// Take moves up to len(dst) steps into dst and returns how many. When
	// none is waiting it waits up to wait for the first (0: not at all).
	// It returns ctx's error when ctx ends, and ErrClosed once the source
	// is closed and drained.
	Take(ctx context.Context, dst []Step, wait time.Duration) (int, error)
}

// Weights is a published actor: the checkpoint bytes nn.Encode writes
// (nn.Decode reads them back) with the learner's version counter.
type Weights struct {
	Version uint64 `json:"version"` // increases with every publication of one learner
	Updates int    `json:"updates"` // critic updates made when published
	Tensors []byte `json:"-"`       // safetensors
	Card    []byte `json:"-"`       // the card's JSON
}

// WeightsPublisher is the learner's side of the weights channel.
type WeightsPublisher interface {
	// Publish makes w the newest weights. The publisher must not modify
	// w's slices afterwards.
	Publish(ctx context.Context, w Weights) error
}

// WeightsSubscriber is the actors' side.
type WeightsSubscriber interface {
	// Latest returns the newest weights published, without waiting; ok is
	// false before the first. Safe for concurrent use.
	Latest() (w Weights, ok bool)
}

// ErrClosed is returned by a closed Pipe.
var ErrClosed = errors.New("rl: closed")

// Pipe is the in-process step channel: a bounded FIFO that implements
// StepSink and StepSource. Put blocks while it is full (back-pressure on
// headless workers; a live session should Put with a short deadline or
// from its recorder's goroutine, never from its loop).
type Pipe struct {
	ch        chan Step
	closeOnce sync.Once
	done      chan struct{}
}

// NewPipe returns a pipe holding up to capacity steps.
func NewPipe(capacity int) *Pipe {
	return &Pipe{ch: make(chan Step, max(capacity, 1)), done: make(chan struct{})}
}

// Put implements StepSink.
func (p *Pipe) Put(ctx context.Context, steps []Step) error {
	for _, s := range steps {
		select {
		case <-p.done:
			return ErrClosed
		default:
		}
		select {
		case p.ch <- s:
		case <-ctx.Done():
			return ctx.Err()
		case <-p.done:
			return ErrClosed
		}
	}
	return nil
}

// Close ends the pipe: Put fails from now on and Take returns ErrClosed
// once the steps already in it are taken.
func (p *Pipe) Close() { p.closeOnce.Do(func() { close(p.done) }) }

// Take implements StepSource.
func (p *Pipe) Take(ctx context.Context, dst []Step, wait time.Duration) (int, error) {
	n := 0
	for n < len(dst) {
		select {
		case s := <-p.ch:
			dst[n] = s
			n++
			continue
		default:
		}
		if n > 0 {
			return n, nil
		}
		select {
		case <-p.done:
			return 0, ErrClosed
		default:
		}
		if wait <= 0 {
			return 0, ctx.Err()
		}
		t := time.NewTimer(wait)
		select {
		case s := <-p.ch:
			t.Stop()
			dst[n] = s
			n++
		case <-t.C:
			return 0, ctx.Err()
		case <-ctx.Done():
			t.Stop()
			return 0, ctx.Err()
		case <-p.done:
			t.Stop()
		}
	}
	return n, nil
}

// Board is the in-process weights channel: it keeps the newest weights
// (WeightsPublisher and WeightsSubscriber). Safe for concurrent use.
type Board struct {
	mu     sync.Mutex
	w      Weights
	ok     bool
	notify chan struct{} // closed and replaced at every Publish
}

// NewBoard returns an empty board.
func NewBoard() *Board { return &Board{notify: make(chan struct{})} }

// Publish implements WeightsPublisher. An older version than the newest is
// ignored.
func (b *Board) Publish(_ context.Context, w Weights) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ok && w.Version <= b.w.Version {
		return nil
	}
	b.w, b.ok = w, true
	close(b.notify)
	b.notify = make(chan struct{})
	return nil
}

// Latest implements WeightsSubscriber.
func (b *Board) Latest() (Weights, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.w, b.ok
}

// Wait blocks until weights newer than version are published or ctx ends.
func (b *Board) Wait(ctx context.Context, version uint64) (Weights, error) {
	for {
		b.mu.Lock()
		w, ok, ch := b.w, b.ok, b.notify
		b.mu.Unlock()
		if ok && w.Version > version {
			return w, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return Weights{}, ctx.Err()
		}
	}
}
