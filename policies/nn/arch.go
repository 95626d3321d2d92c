package nn

import (
	"errors"
	"fmt"
	"math"
)

// Activation names a hidden-layer non-linearity.
type Activation string

// Activations.
const (
	ReLU Activation = "relu"
	Tanh Activation = "tanh"
)

// LayerNormEps is the ε added to the variance in every LayerNorm: torch's
// nn.LayerNorm default, so a checkpoint loads into torch unchanged (flax,
// which RLPD uses, defaults to 1e-6; the difference is far below float32
// noise for unit-scale activations).
const LayerNormEps = 1e-5

// Limits that keep sizes read from a checkpoint card far from overflow.
const (
	maxWidth  = 1 << 20
	maxLayers = 64
)

// Config describes a multi-layer perceptron: In inputs, one linear layer per
// entry of Hidden followed by an optional LayerNorm and the activation, and a
// final linear layer of Out outputs with no activation (a Head interprets
// them).
type Config struct {
	In        int        `json:"in"`
	Hidden    []int      `json:"hidden"`
	Out       int        `json:"out"`
	Act       Activation `json:"activation"`
	LayerNorm bool       `json:"layer_norm"` // after each hidden linear layer, before the activation (RLPD's critics)
}

// Validate reports the first problem with c.
func (c Config) Validate() error {
	if c.In <= 0 || c.Out <= 0 || c.In > maxWidth || c.Out > maxWidth {
		return fmt.Errorf("nn: sizes in %d, out %d must be in 1..%d", c.In, c.Out, maxWidth)
	}
	if len(c.Hidden) > maxLayers {
		return fmt.Errorf("nn: %d hidden layers; at most %d", len(c.Hidden), maxLayers)
	}
	for i, h := range c.Hidden {
		if h <= 0 || h > maxWidth {
			return fmt.Errorf("nn: hidden layer %d has width %d; want 1..%d", i, h, maxWidth)
		}
	}
	switch c.Act {
	case ReLU, Tanh:
	case "":
		return errors.New("nn: no activation (relu or tanh)")
	default:
		return fmt.Errorf("nn: unknown activation %q (relu, tanh)", c.Act)
	}
	return nil
}

// linear locates one linear layer (and its LayerNorm, when present) in a
// flat parameter vector.
type linear struct {
	in, out int
	w, b    int // offsets of weight [out, in] and bias [out]
	g, beta int // offsets of LayerNorm gain and shift [out]; -1 without
}

// Arch is a validated Config with the layout of its parameters in one flat
// float32 vector: for each layer i in order, layers.i.weight ([out, in],
// row-major, as torch stores nn.Linear), layers.i.bias, then, for hidden
// layers with LayerNorm, norms.i.weight and norms.i.bias. An Arch is
// immutable and safe for concurrent use.
type Arch struct {
	Config
	layers   []linear
	nParams  int
	maxWidth int
}

// NewArch validates c and lays out its parameters.
func NewArch(c Config) (*Arch, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	c.Hidden = append([]int(nil), c.Hidden...)
	a := &Arch{Config: c, maxWidth: max(c.In, c.Out)}
	in, off := c.In, 0
	widths := append(append([]int(nil), c.Hidden...), c.Out)
	for i, out := range widths {
		l := linear{in: in, out: out, w: off, b: off + in*out, g: -1, beta: -1}
		off += in*out + out
		if c.LayerNorm && i < len(c.Hidden) {
			l.g, l.beta = off, off+out
			off += 2 * out
		}
		a.layers = append(a.layers, l)
		a.maxWidth = max(a.maxWidth, out)
		in = out
	}
	a.nParams = off
	return a, nil
}

// NumParams is the length of the flat parameter vector.
func (a *Arch) NumParams() int { return a.nParams }

// NumLayers is the number of linear layers (hidden layers + output).
func (a *Arch) NumLayers() int { return len(a.layers) }

// Tensor is one named parameter tensor's place in the flat vector.
type Tensor struct {
	Name   string `json:"name"`
	Shape  []int  `json:"shape"`
	Offset int    `json:"-"`
}

// Size is the number of elements.
func (t Tensor) Size() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// Tensors lists the parameter tensors in flat-vector order with
// torch-state-dict names: layers.{i}.weight [out, in], layers.{i}.bias [out],
// norms.{i}.weight [out], norms.{i}.bias [out].
func (a *Arch) Tensors() []Tensor {
	var ts []Tensor
	for i, l := range a.layers {
		ts = append(ts,
			Tensor{Name: fmt.Sprintf("layers.%d.weight", i), Shape: []int{l.out, l.in}, Offset: l.w},
			Tensor{Name: fmt.Sprintf("layers.%d.bias", i), Shape: []int{l.out}, Offset: l.b})
		if l.g >= 0 {
			ts = append(ts,
				Tensor{Name: fmt.Sprintf("norms.%d.weight", i), Shape: []int{l.out}, Offset: l.g},
				Tensor{Name: fmt.Sprintf("norms.%d.bias", i), Shape: []int{l.out}, Offset: l.beta})
		}
	}
	return ts
}

// Init fills params (len NumParams) as torch initialises nn.Linear
// (weights and biases uniform in ±1/√fan_in, kaiming_uniform with a = √5)
// and LayerNorm (gain 1, shift 0), drawing from rng.
func (a *Arch) Init(params []float32, rng *Rand) {
	if len(params) != a.nParams {
		panic(fmt.Sprintf("nn: Init: %d params, want %d", len(params), a.nParams))
	}
	for _, l := range a.layers {
		bound := 1 / math.Sqrt(float64(l.in))
		for i := range l.in*l.out + l.out { // weight then bias, contiguous
			params[l.w+i] = float32((2*rng.Float64() - 1) * bound)
		}
		if l.g >= 0 {
			for i := range l.out {
				params[l.g+i] = 1
				params[l.beta+i] = 0
			}
		}
	}
}

// NewParams returns freshly initialised parameters drawn from seed.
func (a *Arch) NewParams(seed uint64) []float32 {
	p := make([]float32, a.nParams)
	a.Init(p, NewRand(seed))
	return p
}

// Rand is a small seeded generator (splitmix64) so that initialisation and
// bootstrap resampling repeat across Go versions. Not safe for concurrent use.
type Rand struct{ s uint64 }

// NewRand returns a generator seeded with seed.
func NewRand(seed uint64) *Rand { return &Rand{s: seed} }

// State returns the generator's state: NewRand(r.State()) draws what r
// draws next (learners save it in checkpoints to resume exactly).
func (r *Rand) State() uint64 { return r.s }

// Uint64 returns the next 64 random bits.
func (r *Rand) Uint64() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Float64 returns a uniform value in [0, 1).
func (r *Rand) Float64() float64 { return float64(r.Uint64()>>11) / (1 << 53) }

// Intn returns a uniform value in [0, n).
func (r *Rand) Intn(n int) int { return int(r.Uint64() % uint64(n)) }

// Indices fills dst with uniform draws from [0, n): a batch, or one
// member's bootstrap resample (ThriftyDAgger draws each member's batches
// with replacement).
func (r *Rand) Indices(dst []int, n int) {
	for i := range dst {
		dst[i] = r.Intn(n)
	}
}

// Norm returns a standard normal value (Box–Muller).
func (r *Rand) Norm() float64 {
	u := 1 - r.Float64()
	return math.Sqrt(-2*math.Log(u)) * math.Cos(2*math.Pi*r.Float64())
}
