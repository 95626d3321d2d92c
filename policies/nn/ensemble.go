package nn

import (
	"errors"
	"fmt"
	"math"
)

// EnsembleConfig configures an Ensemble: Members identical networks, each
// with its own parameters (drawn from Seed+m) and Adam state.
type EnsembleConfig struct {
	Net     Config     `json:"net"`
	Head    Head       `json:"head"`
	ActDim  int        `json:"act_dim"` // target size per row (1 for a critic)
	Adam    AdamConfig `json:"adam"`
	Members int        `json:"members"`    // default 1
	Batch   int        `json:"batch_size"` // largest batch Step accepts; default 256
	Seed    uint64     `json:"seed"`
	Pool    *Pool      `json:"-"` // nil: DefaultPool
}

// Ensemble trains Members networks of one architecture, a single network
// being an ensemble of one. A step runs every member's forward and backward
// pass, then its clipping and Adam update, on the pool: members on parallel
// participants, and, when there are fewer members than participants, each
// member's batch split into equal chunks whose gradients are summed in a
// fixed order (results do not depend on scheduling). All memory is allocated
// by NewEnsemble: Step allocates nothing.
//
// An Ensemble is owned by one goroutine (the trainer's); its parameters
// change on every Step. Snapshot them (Params, copy) to publish.
type Ensemble struct {
	arch    *Arch
	head    Head
	actDim  int
	members []*member
	pool    *Pool
	chunks  int
	perRows int // tape capacity per chunk

	train, reduce, adam Job
	batches             []*Batch
	losses              []float64 // per member × chunk
	sq                  []float64 // per member × part: partial Σg² when clipping
}

type member struct {
	params []float32
	opt    *Adam
	tapes  []*Tape
	grads  [][]float32
	hgrad  [][]float32
	norm   float64
}

// NewEnsemble validates cfg and allocates everything a step needs.
func NewEnsemble(cfg EnsembleConfig) (*Ensemble, error) {
	if cfg.Members == 0 {
		cfg.Members = 1
	}
	if cfg.Batch == 0 {
		cfg.Batch = 256
	}
	if cfg.Members < 0 || cfg.Batch < 0 {
		return nil, fmt.Errorf("nn: ensemble: %d members, batch %d", cfg.Members, cfg.Batch)
	}
	if err := cfg.Head.Validate(); err != nil {
		return nil, err
	}
	if err := cfg.Adam.Validate(); err != nil {
		return nil, err
	}
	if cfg.ActDim <= 0 {
		return nil, errors.New("nn: ensemble: ActDim must be positive")
	}
	cfg.Head = cfg.Head.withDefaults()
	if cfg.Net.Out == 0 {
		cfg.Net.Out = cfg.Head.OutSize(cfg.ActDim)
	}
	if want := cfg.Head.OutSize(cfg.ActDim); cfg.Net.Out != want {
		return nil, fmt.Errorf("nn: ensemble: network has %d outputs; the %s head needs %d", cfg.Net.Out, cfg.Head.Kind, want)
	}
	arch, err := NewArch(cfg.Net)
	if err != nil {
		return nil, err
	}
	pool := cfg.Pool
	if pool == nil {
		pool = DefaultPool()
	}
	e := &Ensemble{arch: arch, head: cfg.Head, actDim: cfg.ActDim, pool: pool}
	e.chunks = max(1, (pool.Size()+cfg.Members-1)/cfg.Members)
	e.chunks = min(e.chunks, cfg.Batch)
	e.perRows = (cfg.Batch + e.chunks - 1) / e.chunks
	for m := range cfg.Members {
		mb := &member{params: arch.NewParams(cfg.Seed + uint64(m)), opt: NewAdam(cfg.Adam, arch.nParams)}
		for range e.chunks {
			mb.tapes = append(mb.tapes, arch.NewTape(e.perRows))
			mb.grads = append(mb.grads, make([]float32, arch.nParams))
			mb.hgrad = append(mb.hgrad, make([]float32, e.perRows*arch.Out))
		}
		e.members = append(e.members, mb)
	}
	e.batches = make([]*Batch, cfg.Members)
	e.losses = make([]float64, cfg.Members*e.chunks)
	e.train = Job{Fn: e.trainChunk, N: cfg.Members * e.chunks}
	e.reduce = Job{Fn: e.reducePart, N: cfg.Members * e.chunks}
	e.adam = Job{Fn: e.adamPart, N: cfg.Members * e.chunks}
	e.sq = make([]float64, cfg.Members*e.chunks)
	return e, nil
}

// Arch is the members' architecture.
func (e *Ensemble) Arch() *Arch { return e.arch }

// Head is the members' head (defaults filled in).
func (e *Ensemble) Head() Head { return e.head }

// Members is the number of networks.
func (e *Ensemble) Members() int { return len(e.members) }

// MaxBatch is the largest batch Step accepts.
func (e *Ensemble) MaxBatch() int { return e.perRows * e.chunks }

// Params is member m's live parameter vector (layout: Arch.Tensors). It
// changes on every Step; writing it (to load weights) is allowed between
// steps.
func (e *Ensemble) Params(m int) []float32 { return e.members[m].params }

// Optimizer is member m's Adam state.
func (e *Ensemble) Optimizer(m int) *Adam { return e.members[m].opt }

// GradNorm is member m's gradient norm before clipping at the last step (0
// when clipping is off).
func (e *Ensemble) GradNorm(m int) float64 { return e.members[m].norm }

// Step makes one update of every member on the same batch and returns the
// members' mean loss, each member's loss being Σ_r W[r]·ℓ_r / Rows.
func (e *Ensemble) Step(b *Batch) float64 {
	for m := range e.batches {
		e.batches[m] = b
	}
	return e.run()
}

// StepEach makes one update of member m on bs[m] (bootstrap resamples,
// one per member) and returns the members' mean loss.
func (e *Ensemble) StepEach(bs []*Batch) float64 {
	if len(bs) != len(e.members) {
		panic(fmt.Sprintf("nn: StepEach: %d batches for %d members", len(bs), len(e.members)))
	}
	copy(e.batches, bs)
	return e.run()
}

func (e *Ensemble) run() float64 {
	for _, b := range e.batches {
		if b.Rows <= 0 || b.Rows > e.MaxBatch() || len(b.X) < b.Rows*e.arch.In || len(b.Y) < b.Rows*e.actDim || (len(b.W) != 0 && len(b.W) < b.Rows) {
			panic(fmt.Sprintf("nn: Step: batch of %d rows (max %d), X %d, Y %d, W %d", b.Rows, e.MaxBatch(), len(b.X), len(b.Y), len(b.W)))
		}
	}
	e.pool.Run(&e.train)
	if e.chunks > 1 {
		// Fewer members than cores: the chunks' gradients are summed and
		// Adam applied by parameter ranges, one per chunk, in parallel;
		// with clipping the global norm needs every range's sum first.
		for _, mb := range e.members {
			mb.opt.t++
		}
		e.pool.Run(&e.reduce)
		if e.members[0].opt.cfg.ClipNorm > 0 {
			for m, mb := range e.members {
				var s float64
				for c := range e.chunks {
					s += e.sq[m*e.chunks+c]
				}
				mb.norm = math.Sqrt(s)
			}
			e.pool.Run(&e.adam)
		}
	}
	var total float64
	for m, b := range e.batches {
		var l float64
		for c := range e.chunks {
			l += e.losses[m*e.chunks+c]
		}
		total += l / float64(b.Rows)
	}
	return total / float64(len(e.members))
}

// trainChunk runs forward, loss and backward for one member's chunk; with
// one chunk per member it also makes the member's update.
func (e *Ensemble) trainChunk(i int) {
	m, c := i/e.chunks, i%e.chunks
	mb, b := e.members[m], e.batches[m]
	per := (b.Rows + e.chunks - 1) / e.chunks
	lo, hi := min(c*per, b.Rows), min((c+1)*per, b.Rows)
	g := mb.grads[c]
	clear(g)
	e.losses[i] = 0
	if hi > lo {
		rows := hi - lo
		in, out := e.arch.In, e.arch.Out
		y := e.arch.Forward(mb.params, mb.tapes[c], b.X[lo*in:hi*in], rows)
		var w []float32
		if len(b.W) != 0 {
			w = b.W[lo:hi]
		}
		hg := mb.hgrad[c][:rows*out]
		e.losses[i] = e.head.Loss(y, b.Y[lo*e.actDim:hi*e.actDim], rows, e.actDim, w, 1/float32(b.Rows), hg)
		e.arch.Backward(mb.params, mb.tapes[c], hg, g, nil)
	}
	if e.chunks == 1 {
		e.updateMember(m)
	}
}

// updateMember applies Adam to a member trained in one chunk.
func (e *Ensemble) updateMember(m int) {
	mb := e.members[m]
	mb.norm = mb.opt.Step(mb.params, mb.grads[0])
}

// partRange is part c's share of the parameter vector.
func (e *Ensemble) partRange(c int) (lo, hi int) {
	n := e.arch.nParams
	per := (n + e.chunks - 1) / e.chunks
	return min(c*per, n), min((c+1)*per, n)
}

// reducePart sums the chunks' gradients over one parameter range, in chunk
// order, then either records the range's Σg² (clipping: adamPart follows)
// or applies Adam to the range.
func (e *Ensemble) reducePart(i int) {
	m, c := i/e.chunks, i%e.chunks
	mb := e.members[m]
	lo, hi := e.partRange(c)
	g := mb.grads[0][lo:hi]
	for k := 1; k < e.chunks; k++ {
		addTo(g, mb.grads[k][lo:hi])
	}
	if mb.opt.cfg.ClipNorm > 0 {
		e.sq[i] = sumSquares(g)
		return
	}
	mb.opt.apply(mb.params, mb.grads[0], 1, lo, hi)
}

// adamPart applies Adam with the clipping scale to one parameter range.
func (e *Ensemble) adamPart(i int) {
	m, c := i/e.chunks, i%e.chunks
	mb := e.members[m]
	lo, hi := e.partRange(c)
	mb.opt.apply(mb.params, mb.grads[0], mb.opt.clipScale(mb.norm), lo, hi)
}
