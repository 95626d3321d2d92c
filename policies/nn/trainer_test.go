package nn

import (
	"math"
	"sync"
	"testing"
)

// toyData makes episodes of a smooth expert: action = tanh(M·obs) scaled
// to bounds [-2, 2], observations with offsets and scales far from unit.
func toyData(episodes, steps int, seed uint64) (*Dataset, []float64, []float64) {
	const od, ad = 6, 2
	r := NewRand(seed)
	ds := NewDataset(od, ad)
	for range episodes {
		obs, act := make([][]float64, steps), make([][]float64, steps)
		for s := range steps {
			o := make([]float64, od)
			for d := range o {
				o[d] = 10*float64(d) + 3*r.Norm()
			}
			z0 := (o[0] - 0) / 3 * 0.8
			z1 := ((o[1]-10)/3 - (o[2]-20)/3) * 0.5
			obs[s], act[s] = o, []float64{2 * math.Tanh(z0), 2 * math.Tanh(z1)}
		}
		ds.AppendEpisode(obs, act)
	}
	return ds, []float64{-2, -2}, []float64{2, 2}
}

func newToyTrainer(t testing.TB, cfg TrainerConfig) (*Trainer, *Dataset) {
	ds, lo, hi := toyData(20, 50, 1)
	norm, err := NewNormalizer(ds.Obs, ds.ObsDim, lo, hi)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewTrainer(cfg, norm)
	if err != nil {
		t.Fatal(err)
	}
	return tr, ds
}

func TestTrainerLearns(t *testing.T) {
	for _, h := range []Head{{Kind: Deterministic, Squash: true}, {Kind: Gaussian}, {Kind: GMM}} {
		t.Run(string(h.Kind), func(t *testing.T) {
			tr, ds := newToyTrainer(t, TrainerConfig{Hidden: []int{64, 64}, Act: ReLU, Head: h, Batch: 64, Adam: AdamConfig{LR: 3e-3}, Seed: 1})
			r := NewRand(2)
			idx := make([]int, 64)
			var first, last float64
			for step := range 400 {
				for i := range idx {
					idx[i] = r.Intn(ds.Len())
				}
				l := tr.Step(ds, idx, nil)
				if step == 0 {
					first = l
				}
				last = l
			}
			m, err := tr.Model()
			if err != nil {
				t.Fatal(err)
			}
			p := m.NewPolicy()
			var sq float64
			dst := make([]float64, 2)
			obs := make([]float64, 6)
			for i := 0; i < ds.Len(); i += 7 {
				for d := range obs {
					obs[d] = float64(ds.Obs[i*6+d])
				}
				p.Reset(0)
				p.Act(obs, dst)
				for d := range dst {
					e := dst[d] - float64(ds.Act[i*2+d])
					sq += e * e
				}
			}
			rmse := math.Sqrt(sq / float64(2*(ds.Len()+6)/7))
			t.Logf("loss %.4g → %.4g, action RMSE %.3g (bounds ±2)", first, last, rmse)
			if !(last < first) || rmse > 0.2 {
				t.Fatalf("did not learn: loss %g → %g, RMSE %g", first, last, rmse)
			}
		})
	}
}

// TestStepsAllocateNothing: training steps (one network split across the
// pool, an ensemble of bootstrap members, LayerNorm critics) and Act
// allocate nothing after warm-up.
func TestStepsAllocateNothing(t *testing.T) {
	tr, ds := newToyTrainer(t, TrainerConfig{Hidden: []int{32, 32}, Act: ReLU, Head: Head{Kind: GMM}, Batch: 32, FrameStack: 3})
	idx := make([]int, 32)
	w := make([]float32, 32)
	for i := range idx {
		idx[i], w[i] = i*7, 0.5
	}
	tr.Step(ds, idx, w)
	if n := testing.AllocsPerRun(20, func() { tr.Step(ds, idx, w) }); n != 0 {
		t.Errorf("Trainer.Step: %v allocations; want 0", n)
	}

	ens, _ := newToyTrainer(t, TrainerConfig{Hidden: []int{32, 32}, Act: ReLU, Head: Head{Kind: Deterministic, Squash: true}, Batch: 32, Members: 5})
	idxs, ws := make([][]int, 5), make([][]float32, 5)
	for m := range idxs {
		idxs[m], ws[m] = idx, w
	}
	ens.StepEach(ds, idxs, ws)
	if n := testing.AllocsPerRun(20, func() { ens.StepEach(ds, idxs, ws) }); n != 0 {
		t.Errorf("Trainer.StepEach, 5 members: %v allocations; want 0", n)
	}

	critics, err := NewEnsemble(EnsembleConfig{Net: Config{In: 22, Hidden: []int{32, 32}, Act: ReLU, LayerNorm: true}, Head: Head{Kind: Deterministic}, ActDim: 1, Members: 2, Batch: 32, Adam: AdamConfig{ClipNorm: 1}})
	if err != nil {
		t.Fatal(err)
	}
	r := NewRand(3)
	b := &Batch{X: randSlice(r, 32*22), Y: randSlice(r, 32), Rows: 32}
	critics.Step(b)
	if n := testing.AllocsPerRun(20, func() { critics.Step(b) }); n != 0 {
		t.Errorf("Ensemble.Step, 2 LayerNorm critics: %v allocations; want 0", n)
	}

	m, _ := tr.Model()
	p := m.NewPolicy()
	obs, dst := make([]float64, 6), make([]float64, 2)
	p.Act(obs, dst)
	if n := testing.AllocsPerRun(100, func() { p.Act(obs, dst) }); n != 0 {
		t.Errorf("Policy.Act: %v allocations; want 0", n)
	}
}

// TestDeterministic: the same seed and batches give the same parameters,
// bit for bit, however the pool schedules the chunks.
func TestDeterministic(t *testing.T) {
	run := func() []float32 {
		tr, ds := newToyTrainer(t, TrainerConfig{Hidden: []int{16}, Act: Tanh, Head: Head{Kind: Gaussian}, Batch: 40, Seed: 5})
		r := NewRand(9)
		idx := make([]int, 40)
		for range 30 {
			for i := range idx {
				idx[i] = r.Intn(ds.Len())
			}
			tr.Step(ds, idx, nil)
		}
		return tr.Ensemble().Params(0)
	}
	a, b := run(), run()
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			t.Fatalf("param %d: %g then %g", i, a[i], b[i])
		}
	}
}

// TestFrameStack: a Policy stepping through an episode sees the same
// stacked input as Dataset.Gather gives for those rows (oldest first, the
// first observation repeated before the start), so it acts as trained.
func TestFrameStack(t *testing.T) {
	tr, ds := newToyTrainer(t, TrainerConfig{Hidden: []int{8}, Act: ReLU, Head: Head{Kind: Deterministic}, Batch: 50, FrameStack: 4})
	m, _ := tr.Model()
	idx := make([]int, 50)
	for i := range idx {
		idx[i] = 50 + i // the second episode
	}
	var b Batch
	ds.Gather(&b, idx, nil, m.Normalizer(), 4)
	p := m.NewPolicy()
	p.Reset(1)
	obs, dst := make([]float64, 6), make([]float64, 2)
	want := make([]float32, 2)
	tape := m.Arch().NewTape(1)
	for r, i := range idx {
		for d := range obs {
			obs[d] = float64(ds.Obs[i*6+d])
		}
		p.Act(obs, dst)
		x := b.X[r*24 : (r+1)*24]
		for j := range x {
			if math.Abs(float64(x[j]-p.x[j])) > 1e-6 {
				t.Fatalf("row %d: policy input[%d] %g; gathered %g", r, j, p.x[j], x[j])
			}
		}
		out := m.Arch().Forward(m.Params(0), tape, x, 1)
		m.Head().Predict(out, 2, want)
		got := make([]float64, 2)
		m.Normalizer().DenormAct(got, want)
		if got[0] != dst[0] || got[1] != dst[1] {
			t.Fatalf("row %d: Act %v; forward of gathered row %v", r, dst, got)
		}
	}
	// The first row repeats the episode's first observation in every frame.
	for f := 1; f < 4; f++ {
		for d := range 6 {
			if b.X[f*6+d] != b.X[d] {
				t.Fatalf("episode start: frame %d differs from frame 0", f)
			}
		}
	}
}

// TestActWhileTraining runs Act on published snapshots in session
// goroutines while the trainer keeps stepping (run with -race).
func TestActWhileTraining(t *testing.T) {
	tr, ds := newToyTrainer(t, TrainerConfig{Hidden: []int{16, 16}, Act: ReLU, Head: Head{Kind: Deterministic}, Batch: 16})
	m0, _ := tr.Model()
	var mu sync.Mutex
	current := m0
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			obs, dst := make([]float64, 6), make([]float64, 2)
			for {
				select {
				case <-stop:
					return
				default:
				}
				mu.Lock()
				m := current
				mu.Unlock()
				p := m.NewPolicy()
				for range 10 {
					p.Act(obs, dst)
				}
			}
		}()
	}
	idx := make([]int, 16)
	for step := range 60 {
		for i := range idx {
			idx[i] = (step*16 + i) % ds.Len()
		}
		tr.Step(ds, idx, nil)
		if step%10 == 0 {
			m, err := tr.Model()
			if err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			current = m
			mu.Unlock()
		}
	}
	close(stop)
	wg.Wait()
}

// TestEnsembleNovelty: identical members agree (novelty 0); members trained
// on different bootstrap resamples disagree somewhere, and their action is
// the members' mean.
func TestEnsembleNovelty(t *testing.T) {
	tr, ds := newToyTrainer(t, TrainerConfig{Hidden: []int{16}, Act: ReLU, Head: Head{Kind: Deterministic, Squash: true}, Batch: 32, Members: 3})
	m, _ := tr.Model()
	same, err := NewModel(m.Arch(), m.Head(), m.Normalizer(), 1, [][]float32{m.Params(0), m.Params(0)})
	if err != nil {
		t.Fatal(err)
	}
	obs, dst := make([]float64, 6), make([]float64, 2)
	for d := range obs {
		obs[d] = float64(10 * d)
	}
	p := same.NewPolicy()
	p.Act(obs, dst)
	if p.Novelty() != 0 {
		t.Fatalf("identical members: novelty %g; want 0", p.Novelty())
	}
	r := NewRand(3)
	idx := [][]int{make([]int, 32), make([]int, 32), make([]int, 32)}
	for range 50 {
		for _, ix := range idx {
			r.Indices(ix, ds.Len())
		}
		tr.StepEach(ds, idx, nil)
	}
	m, _ = tr.Model()
	p = m.NewPolicy()
	p.Act(obs, dst)
	if !(p.Novelty() > 0) {
		t.Fatalf("bootstrapped members: novelty %g; want > 0", p.Novelty())
	}
	var mean [2]float64
	for i := range 3 {
		one, _ := NewModel(m.Arch(), m.Head(), m.Normalizer(), 1, [][]float32{m.Params(i)})
		a := make([]float64, 2)
		one.NewPolicy().Act(obs, a)
		mean[0] += a[0] / 3
		mean[1] += a[1] / 3
	}
	if math.Abs(mean[0]-dst[0]) > 1e-5 || math.Abs(mean[1]-dst[1]) > 1e-5 {
		t.Fatalf("ensemble action %v; members' mean %v", dst, mean)
	}
}
