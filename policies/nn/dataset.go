package nn

import "fmt"

// Dataset holds transitions in flat float32 arrays, as a learner keeps them
// in memory: row i is observation Obs[i·ObsDim:], action Act[i·ActDim:],
// both in raw task units, and Start[i], the row of the first step of i's
// episode (frame stacking never reaches across it). Appending is the only
// mutation; a Dataset is not safe for concurrent use while appending.
type Dataset struct {
	ObsDim, ActDim int
	Obs, Act       []float32
	Start          []int32
}

// NewDataset returns an empty dataset.
func NewDataset(obsDim, actDim int) *Dataset { return &Dataset{ObsDim: obsDim, ActDim: actDim} }

// Len is the number of rows.
func (d *Dataset) Len() int { return len(d.Start) }

// AppendEpisode adds one episode's steps (one observation and the action
// taken, in task units) and returns the row of its first step.
func (d *Dataset) AppendEpisode(obs, act [][]float64) (int, error) {
	if len(obs) != len(act) || len(obs) == 0 {
		return 0, fmt.Errorf("nn: dataset: episode of %d observations and %d actions", len(obs), len(act))
	}
	first := d.Len()
	for i := range obs {
		if len(obs[i]) != d.ObsDim || len(act[i]) != d.ActDim {
			return 0, fmt.Errorf("nn: dataset: step %d has %d/%d values; want %d/%d", i, len(obs[i]), len(act[i]), d.ObsDim, d.ActDim)
		}
		for _, v := range obs[i] {
			d.Obs = append(d.Obs, float32(v))
		}
		for _, v := range act[i] {
			d.Act = append(d.Act, float32(v))
		}
		d.Start = append(d.Start, int32(first))
	}
	return first, nil
}

// Batch is a gathered, normalised batch: Rows rows of inputs X (Rows×In),
// targets Y (Rows×target size) and optional per-sample loss weights W
// (Rows; nil means all ones). The slices' capacities are reused.
type Batch struct {
	X, Y, W []float32
	Rows    int
}

// Gather fills b with the rows idx of d: each input is the stack of the last
// stack observations up to the row, oldest first, each normalised by norm,
// the episode's first observation repeating before its start (robomimic's
// frame-stack padding); each target is the row's normalised action. w, when
// not nil, gives each row's loss weight (len(idx) values). It allocates only
// when b's slices are too small.
func (d *Dataset) Gather(b *Batch, idx []int, w []float32, norm *Normalizer, stack int) {
	n := len(idx)
	in := d.ObsDim * stack
	b.X = grow(b.X, n*in)
	b.Y = grow(b.Y, n*d.ActDim)
	b.Rows = n
	if w != nil {
		b.W = grow(b.W, n)
		copy(b.W, w[:n])
	} else {
		b.W = b.W[:0]
	}
	for r, i := range idx {
		start := int(d.Start[i])
		for f := range stack {
			j := max(i-(stack-1-f), start)
			dst := b.X[r*in+f*d.ObsDim : r*in+(f+1)*d.ObsDim]
			norm.NormObs(dst, d.Obs[j*d.ObsDim:(j+1)*d.ObsDim])
		}
		norm.NormAct(b.Y[r*d.ActDim:(r+1)*d.ActDim], d.Act[i*d.ActDim:(i+1)*d.ActDim])
	}
}
