package nn_test

import (
	"fmt"
	"os"
	"path/filepath"

	"tandem/policies/nn"
)

// A BC-style learner: per-sample weights (Sirius's class weights), a GMM
// head, a stack of two frames, then a checkpoint saved and loaded back.
func Example() {
	// Two episodes of a 3-dimensional observation and a 1-dimensional action.
	ds := nn.NewDataset(3, 1)
	for e := range 2 {
		var obs, act [][]float64
		for t := range 40 {
			x := float64(t)/40 + float64(e)
			obs = append(obs, []float64{x, 2 * x, 5})
			act = append(act, []float64{0.5 * x})
		}
		ds.AppendEpisode(obs, act)
	}
	norm, _ := nn.NewNormalizer(ds.Obs, ds.ObsDim, []float64{-1}, []float64{1}) // task's action bounds
	tr, err := nn.NewTrainer(nn.TrainerConfig{
		Hidden: []int{64, 64}, Act: nn.ReLU,
		Head:       nn.Head{Kind: nn.GMM}, // 5 modes, min std 1e-4
		Adam:       nn.AdamConfig{LR: 1e-3},
		FrameStack: 2, Batch: 16, Seed: 1,
	}, norm)
	if err != nil {
		panic(err)
	}
	rng := nn.NewRand(1)
	idx, w := make([]int, 16), make([]float32, 16)
	for range 200 {
		rng.Indices(idx, ds.Len())
		for i, row := range idx {
			w[i] = 1
			if row%10 == 0 {
				w[i] = 3 // e.g. an intervention step's class weight
			}
		}
		tr.Step(ds, idx, w)
	}
	model, err := tr.Model() // an immutable snapshot, safe to publish
	if err != nil {
		panic(err)
	}
	dir, _ := os.MkdirTemp("", "policy")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "v1.safetensors")
	card := nn.Card{Algorithm: "sirius", Task: nn.TaskCard{Name: "toy"}, Episodes: []string{"e0", "e1"}}
	if err := nn.Save(path, model, card); err != nil {
		panic(err)
	}
	loaded, c, err := nn.Load(path)
	if err != nil {
		panic(err)
	}
	p := loaded.NewPolicy() // one per session: Act allocates nothing
	p.Reset(0)
	a := make([]float64, 1)
	p.Act([]float64{0.5, 1, 5}, a)
	fmt.Println(c.Algorithm, c.Head.Kind, c.Head.Modes, c.FrameStack, len(a))
	// Output: sirius gmm 5 2 1
}
