package nn

import (
	"context"
	"fmt"
	"runtime"
	"time"
)

// BenchOptions configures Bench.
type BenchOptions struct {
	// Seconds is the measuring time of each part (default 1).
	Seconds float64
	// NoCritics skips the critic-ensemble part.
	NoCritics bool
}

// BenchReport is what `tandem bench --learn` prints; the JSON names are its
// --json schema.
type BenchReport struct {
	Kernel     string `json:"kernel"`    // matrix kernel: avx2, gonum, purego, openblas/<core>
	BLASCore   string `json:"blas_core"` // OpenBLAS's kernel set in the openblas build, else ""
	BLASAdvice string `json:"blas_advice,omitempty"`
	Cores      int    `json:"cores"` // GOMAXPROCS: pool participants
	// The reference network: MLP 20→256→256→2, ReLU, batch 256, Adam, MSE.
	SamplesPerS    float64       `json:"bc_samples_per_s"`
	SamplesPerCPUS float64       `json:"bc_samples_per_cpu_s"` // per CPU-second of the whole process
	AllocsPerStep  float64       `json:"bc_allocs_per_step"`
	ActUs          float64       `json:"act_us"` // one observation through Policy.Act
	ActAllocs      float64       `json:"act_allocs"`
	Critics        []CriticBench `json:"critics,omitempty"`
}

// CriticBench is one critic-ensemble figure: Members LayerNorm Q networks
// 22→Width→LN→Width→LN→1 updated together on a batch of 256.
type CriticBench struct {
	Members         int     `json:"members"`
	Width           int     `json:"width"`
	UpdatesPerS     float64 `json:"updates_per_s"`
	UpdatesPerCPUS  float64 `json:"updates_per_cpu_s"`
	AllocsPerUpdate float64 `json:"allocs_per_update"`
}

// Bench measures training and inference speed on the reference networks
// (docs/benchmarks.md); the CLI's `bench --learn` prints it.
func Bench(ctx context.Context, opts BenchOptions) (BenchReport, error) {
	if opts.Seconds == 0 {
		opts.Seconds = 1
	}
	if !(opts.Seconds > 0) {
		return BenchReport{}, fmt.Errorf("nn: bench: seconds %g", opts.Seconds)
	}
	d := time.Duration(opts.Seconds * float64(time.Second))
	r := BenchReport{Kernel: KernelName(), BLASCore: BLASCore(), BLASAdvice: blasAdvice(), Cores: DefaultPool().Size()}
	rng := NewRand(1)

	bc, err := NewEnsemble(EnsembleConfig{Net: Config{In: 20, Hidden: []int{256, 256}, Act: ReLU}, Head: Head{Kind: Deterministic}, ActDim: 2, Batch: 256})
	if err != nil {
		return r, err
	}
	batch := &Batch{X: benchSlice(rng, 256*20), Y: benchSlice(rng, 256*2), Rows: 256}
	n, el, cpu, allocs := timeLoop(ctx, d, func() { bc.Step(batch) })
	r.SamplesPerS, r.SamplesPerCPUS, r.AllocsPerStep = float64(n)*256/el.Seconds(), perSecond(n*256, cpu), allocs

	m, err := NewModel(bc.Arch(), bc.Head(), Identity(20, 2), 1, [][]float32{bc.Params(0)})
	if err != nil {
		return r, err
	}
	p := m.NewPolicy()
	obs, act := make([]float64, 20), make([]float64, 2)
	for i := range obs {
		obs[i] = rng.Norm()
	}
	n, el, _, allocs = timeLoop(ctx, d/2, func() { p.Act(obs, act) })
	r.ActUs, r.ActAllocs = el.Seconds()*1e6/float64(n), allocs

	if opts.NoCritics {
		return r, ctx.Err()
	}
	for _, members := range []int{2, 10} {
		for _, width := range []int{128, 256} {
			e, err := NewEnsemble(EnsembleConfig{Net: Config{In: 22, Hidden: []int{width, width}, Act: ReLU, LayerNorm: true},
				Head: Head{Kind: Deterministic}, ActDim: 1, Members: members, Batch: 256, Adam: AdamConfig{LR: 3e-4}})
			if err != nil {
				return r, err
			}
			cb := &Batch{X: benchSlice(rng, 256*22), Y: benchSlice(rng, 256), Rows: 256}
			n, el, cpu, allocs := timeLoop(ctx, d/2, func() { e.Step(cb) })
			r.Critics = append(r.Critics, CriticBench{Members: members, Width: width, UpdatesPerS: float64(n) / el.Seconds(),
				UpdatesPerCPUS: perSecond(n, cpu), AllocsPerUpdate: allocs})
		}
	}
	return r, ctx.Err()
}

// timeLoop warms fn up, runs it for about d and returns the iterations,
// the wall and CPU time they took and the heap allocations per iteration.
func timeLoop(ctx context.Context, d time.Duration, fn func()) (int, time.Duration, time.Duration, float64) {
	for range 3 {
		fn()
	}
	runtime.GC() // a collection during the loop would empty the runtime's caches
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	n := 0
	cpu0 := CPUTime()
	start := time.Now()
	for time.Since(start) < d && ctx.Err() == nil || n == 0 {
		fn()
		n++
	}
	el := time.Since(start)
	cpu := CPUTime() - cpu0
	runtime.ReadMemStats(&after)
	return n, el, cpu, float64(after.Mallocs-before.Mallocs) / float64(n)
}

func perSecond(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

func benchSlice(r *Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.Norm())
	}
	return s
}
