package nn

import "fmt"

// TrainerConfig configures a behaviour-cloning-style learner: a policy
// network (or an ensemble of them) on normalised, frame-stacked
// observations with a head's loss on normalised actions.
type TrainerConfig struct {
	Hidden     []int      `json:"hidden"`
	Act        Activation `json:"activation"`
	LayerNorm  bool       `json:"layer_norm"`
	Head       Head       `json:"head"`
	Adam       AdamConfig `json:"adam"`
	FrameStack int        `json:"frame_stack"` // default 1
	Batch      int        `json:"batch_size"`  // largest batch; default 256
	Members    int        `json:"members"`     // default 1
	Seed       uint64     `json:"seed"`
	Pool       *Pool      `json:"-"`
}

// Trainer owns an Ensemble, a Normalizer and its gather buffers. It is
// owned by one goroutine; Model snapshots it for others.
type Trainer struct {
	cfg   TrainerConfig
	norm  *Normalizer
	ens   *Ensemble
	batch []Batch
	bptrs []*Batch
}

// NewTrainer builds a trainer for the normalizer's observation and action
// sizes.
func NewTrainer(cfg TrainerConfig, norm *Normalizer) (*Trainer, error) {
	if cfg.FrameStack == 0 {
		cfg.FrameStack = 1
	}
	if cfg.FrameStack < 0 || norm == nil {
		return nil, fmt.Errorf("nn: trainer: frame stack %d, normalizer %v", cfg.FrameStack, norm != nil)
	}
	if err := norm.validate(); err != nil {
		return nil, err
	}
	ens, err := NewEnsemble(EnsembleConfig{
		Net:  Config{In: norm.ObsDim() * cfg.FrameStack, Hidden: cfg.Hidden, Act: cfg.Act, LayerNorm: cfg.LayerNorm},
		Head: cfg.Head, ActDim: norm.ActDim(), Adam: cfg.Adam, Members: cfg.Members, Batch: cfg.Batch, Seed: cfg.Seed, Pool: cfg.Pool,
	})
	if err != nil {
		return nil, err
	}
	t := &Trainer{cfg: cfg, norm: norm, ens: ens, batch: make([]Batch, ens.Members())}
	for i := range t.batch {
		b := &t.batch[i]
		n := ens.MaxBatch()
		b.X, b.Y, b.W = make([]float32, 0, n*ens.arch.In), make([]float32, 0, n*norm.ActDim()), make([]float32, 0, n)
		t.bptrs = append(t.bptrs, b)
	}
	return t, nil
}

// Ensemble is the trainer's networks (live parameters, optimiser state).
func (t *Trainer) Ensemble() *Ensemble { return t.ens }

// Normalizer is the trainer's normalisation.
func (t *Trainer) Normalizer() *Normalizer { return t.norm }

// Config is the configuration with defaults filled in.
func (t *Trainer) Config() TrainerConfig { return t.cfg }

// Step gathers rows idx of ds (every member sees the same rows) with
// per-sample loss weights w (nil: all ones; Sirius's class weights), makes
// one update and returns the weighted mean loss. It allocates nothing.
func (t *Trainer) Step(ds *Dataset, idx []int, w []float32) float64 {
	ds.Gather(&t.batch[0], idx, w, t.norm, t.cfg.FrameStack)
	return t.ens.Step(&t.batch[0])
}

// StepEach gives member m the rows idx[m] with weights w[m] (w nil: all
// ones), as ThriftyDAgger's bootstrap resampling does.
func (t *Trainer) StepEach(ds *Dataset, idx [][]int, w [][]float32) float64 {
	for m := range t.batch {
		var wm []float32
		if w != nil {
			wm = w[m]
		}
		ds.Gather(&t.batch[m], idx[m], wm, t.norm, t.cfg.FrameStack)
	}
	return t.ens.StepEach(t.bptrs)
}

// Model snapshots the current parameters into an immutable Model (it
// allocates a copy). It fails when training has diverged (a parameter is
// not finite).
func (t *Trainer) Model() (*Model, error) {
	ps := make([][]float32, t.ens.Members())
	for m := range ps {
		ps[m] = t.ens.Params(m)
	}
	return NewModel(t.ens.arch, t.ens.head, t.norm, t.cfg.FrameStack, ps)
}
