package rl

import (
	"fmt"

	"tandem/policies/nn"
)

// Transition is one learning step: observation, executed action, reward,
// next observation and whether the value of the next state counts (Done:
// the task ended the episode, no bootstrap; a truncated episode or an
// intervention does not end it). Values are in task units.
type Transition struct {
	Obs, Action, Next []float64
	Reward            float64
	Done              bool
}

// Buffer is a replay buffer of fixed capacity in flat float32 arrays (task
// units): appending past capacity overwrites the oldest transition. It is
// owned by one goroutine.
type Buffer struct {
	od, ad, cap int
	n, head     int // transitions held; next slot to write
	obs, act    []float32
	next        []float32
	rew, mask   []float32
}

// NewBuffer returns an empty buffer for transitions of the given sizes.
// Its memory is allocated as it fills, up to capacity.
func NewBuffer(obsDim, actDim, capacity int) *Buffer {
	return &Buffer{od: obsDim, ad: actDim, cap: capacity}
}

// Len is the number of transitions held.
func (b *Buffer) Len() int { return b.n }

// Reset empties the buffer, keeping its memory.
func (b *Buffer) Reset() { b.n, b.head = 0, 0 }

// Add appends t.
func (b *Buffer) Add(t *Transition) error {
	if len(t.Obs) != b.od || len(t.Next) != b.od || len(t.Action) != b.ad {
		return fmt.Errorf("rl: transition of %d/%d/%d values; want %d observations and %d actions", len(t.Obs), len(t.Action), len(t.Next), b.od, b.ad)
	}
	i := b.head
	if i == len(b.rew) { // still growing
		b.obs = append(b.obs, make([]float32, b.od)...)
		b.next = append(b.next, make([]float32, b.od)...)
		b.act = append(b.act, make([]float32, b.ad)...)
		b.rew = append(b.rew, 0)
		b.mask = append(b.mask, 0)
	}
	put(b.obs[i*b.od:(i+1)*b.od], t.Obs)
	put(b.next[i*b.od:(i+1)*b.od], t.Next)
	put(b.act[i*b.ad:(i+1)*b.ad], t.Action)
	b.rew[i] = float32(t.Reward)
	b.mask[i] = 1
	if t.Done {
		b.mask[i] = 0
	}
	b.head = (i + 1) % b.cap
	b.n = min(b.n+1, b.cap)
	return nil
}

func put(dst []float32, src []float64) {
	for i, v := range src {
		dst[i] = float32(v)
	}
}

// batch is a gathered, normalised batch: rows of observation, action
// (normalised to [-1, 1]), reward, mask (0 where the next state's value is
// not counted) and next observation, plus which buffer each row came from.
type batch struct {
	rows      int
	obs, next []float32 // rows × od, normalised
	act       []float32 // rows × ad, normalised
	rew, mask []float32
	fromDemo  []bool
}

func newBatch(rows, od, ad int) *batch {
	return &batch{rows: rows, obs: make([]float32, rows*od), next: make([]float32, rows*od),
		act: make([]float32, rows*ad), rew: make([]float32, rows), mask: make([]float32, rows), fromDemo: make([]bool, rows)}
}

// gather copies transition i of b into row r of out, normalised.
func (b *Buffer) gather(out *batch, r, i int, norm *nn.Normalizer, demo bool) {
	od, ad := b.od, b.ad
	norm.NormObs(out.obs[r*od:(r+1)*od], b.obs[i*od:(i+1)*od])
	norm.NormObs(out.next[r*od:(r+1)*od], b.next[i*od:(i+1)*od])
	norm.NormAct(out.act[r*ad:(r+1)*ad], b.act[i*ad:(i+1)*ad])
	for j := r * ad; j < (r+1)*ad; j++ { // executed actions are within bounds; rounding may not be
		out.act[j] = min(max(out.act[j], -1), 1)
	}
	out.rew[r], out.mask[r], out.fromDemo[r] = b.rew[i], b.mask[i], demo
}

// Sampler draws batches symmetrically: the first round(DemoRatio·rows)
// rows uniformly from the demonstration-and-intervention buffer, the rest
// uniformly from the online buffer (RLPD's symmetric sampling; HIL-SERL's
// 128 + 128). When one buffer is empty every row comes from the other.
type Sampler struct {
	Demo, Online *Buffer
	Ratio        float64
}

// split is how many of rows come from the demo buffer.
func (s *Sampler) split(rows int) int {
	switch {
	case s.Demo.Len() == 0:
		return 0
	case s.Online.Len() == 0:
		return rows
	}
	return int(s.Ratio*float64(rows) + 0.5)
}

// sample fills out (out.rows rows) from the buffers with draws from r. It
// allocates nothing.
func (s *Sampler) sample(out *batch, r *nn.Rand, norm *nn.Normalizer) {
	nd := s.split(out.rows)
	for row := range out.rows {
		if row < nd {
			s.Demo.gather(out, row, r.Intn(s.Demo.Len()), norm, true)
		} else {
			s.Online.gather(out, row, r.Intn(s.Online.Len()), norm, false)
		}
	}
}

// add puts a labelled transition into its destination buffers. Its size
// is the buffers' (Label's episodes are validated against the spec).
func (s *Sampler) add(l *Labelled) {
	if l.InDemo() {
		s.Demo.Add(&l.Transition)
	}
	if l.InOnline() {
		s.Online.Add(&l.Transition)
	}
}

// Len is the number of transitions the sampler can draw from.
func (s *Sampler) Len() int { return s.Demo.Len() + s.Online.Len() }
