package nn

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// trainedModel trains briefly so weights are not just their initial
// values, then snapshots.
func trainedModel(t testing.TB, cfg TrainerConfig) (*Model, *Dataset) {
	tr, ds := newToyTrainer(t, cfg)
	r := NewRand(4)
	idx := make([]int, 32)
	w := make([]float32, 32)
	for range 20 {
		for i := range idx {
			idx[i], w[i] = r.Intn(ds.Len()), float32(0.5+r.Float64())
		}
		tr.Step(ds, idx, w)
	}
	m, err := tr.Model()
	if err != nil {
		t.Fatal(err)
	}
	return m, ds
}

var checkpointCases = []struct {
	name string
	cfg  TrainerConfig
}{
	{"mlp-deterministic", TrainerConfig{Hidden: []int{16, 16}, Act: ReLU, Head: Head{Kind: Deterministic, Squash: true}, Batch: 32}},
	{"ln-tanh-gaussian-stack3", TrainerConfig{Hidden: []int{12, 10}, Act: Tanh, LayerNorm: true, Head: Head{Kind: Gaussian}, FrameStack: 3, Batch: 32}},
	{"gmm-stack2", TrainerConfig{Hidden: []int{20}, Act: ReLU, Head: Head{Kind: GMM, Squash: true}, FrameStack: 2, Batch: 32}},
	{"ensemble-ln", TrainerConfig{Hidden: []int{16, 16}, Act: ReLU, LayerNorm: true, Head: Head{Kind: Deterministic, Squash: true}, Members: 3, Batch: 32}},
}

func testCard() Card {
	return Card{Algorithm: "bc", Hyperparameters: map[string]any{"lr": 1e-3}, Version: "v2", Parent: "v1",
		Task:     TaskCard{Name: "toy", ObsNames: []string{"a", "b", "c", "d", "e", "f"}, ActionNames: []string{"x", "y"}, Spec: json.RawMessage(`{"name":"toy"}`)},
		Episodes: []string{"ep-1", "ep-2"}, Evaluation: map[string]any{"success": 0.5}}
}

// actions runs a fresh policy of m over the episodes' observations.
func actions(m *Model, episodes [][][]float64) [][][]float64 {
	var out [][][]float64
	p := m.NewPolicy()
	for _, ep := range episodes {
		p.Reset(0)
		var acts [][]float64
		for _, o := range ep {
			a := make([]float64, m.ActDim())
			p.Act(o, a)
			acts = append(acts, a)
		}
		out = append(out, acts)
	}
	return out
}

func toyEpisodes(ds *Dataset, n, steps int) [][][]float64 {
	var eps [][][]float64
	for e := range n {
		var ep [][]float64
		for s := range steps {
			i := e*50 + s
			o := make([]float64, ds.ObsDim)
			for d := range o {
				o[d] = float64(ds.Obs[i*ds.ObsDim+d])
			}
			ep = append(ep, o)
		}
		eps = append(eps, ep)
	}
	return eps
}

// TestCheckpointRoundTrip: Save then Load gives the same parameters,
// normalisation and card, and the same actions bit for bit.
func TestCheckpointRoundTrip(t *testing.T) {
	for _, c := range checkpointCases {
		t.Run(c.name, func(t *testing.T) {
			m, ds := trainedModel(t, c.cfg)
			path := filepath.Join(t.TempDir(), "policy.safetensors")
			if err := Save(path, m, testCard()); err != nil {
				t.Fatal(err)
			}
			got, card, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			if card.Algorithm != "bc" || card.Parent != "v1" || card.Task.Name != "toy" || len(card.Episodes) != 2 || card.Members != m.Members() || card.FrameStack != m.FrameStack() {
				t.Fatalf("card fields lost: %+v", card)
			}
			for i := range m.Members() {
				a, b := m.Params(i), got.Params(i)
				for j := range a {
					if math.Float32bits(a[j]) != math.Float32bits(b[j]) {
						t.Fatalf("member %d param %d: saved %g, loaded %g", i, j, a[j], b[j])
					}
				}
			}
			eps := toyEpisodes(ds, 2, 6)
			want, have := actions(m, eps), actions(got, eps)
			for e := range want {
				for s := range want[e] {
					for d := range want[e][s] {
						if want[e][s][d] != have[e][s][d] {
							t.Fatalf("episode %d step %d: saved model acts %v, loaded %v", e, s, want[e][s], have[e][s])
						}
					}
				}
			}
		})
	}
}

// corrupt returns the checkpoint with its header JSON edited by f.
func corruptHeader(t *testing.T, tensors []byte, f func(h map[string]any)) []byte {
	n := int(tensors[0]) | int(tensors[1])<<8 | int(tensors[2])<<16
	var h map[string]any
	if err := json.Unmarshal(tensors[8:8+n], &h); err != nil {
		t.Fatal(err)
	}
	f(h)
	hb, _ := json.Marshal(h)
	out := make([]byte, 8, 8+len(hb)+len(tensors))
	out[0], out[1], out[2] = byte(len(hb)), byte(len(hb)>>8), byte(len(hb)>>16)
	out = append(out, hb...)
	return append(out, tensors[8+n:]...)
}

// TestCheckpointBadFiles: each kind of damage gives an error that names
// the problem, never a panic or a silently wrong model.
func TestCheckpointBadFiles(t *testing.T) {
	m, _ := trainedModel(t, checkpointCases[1].cfg)
	tensors, card, err := Encode(m, testCard())
	if err != nil {
		t.Fatal(err)
	}
	editCard := func(f func(c map[string]any)) []byte {
		var c map[string]any
		json.Unmarshal(card, &c)
		f(c)
		b, _ := json.Marshal(c)
		return b
	}
	nan := append([]byte(nil), tensors...)
	{ // the last 4 bytes are the last float of the data section
		copy(nan[len(nan)-4:], []byte{0, 0, 0xc0, 0x7f})
	}
	cases := []struct {
		name            string
		tensors, card   []byte
		wantErrContains string
	}{
		{"truncated tensors", tensors[:len(tensors)-10], card, "tensors"},
		{"header only", tensors[:6], card, "header"},
		{"empty card", tensors, nil, "card"},
		{"card not JSON", tensors, []byte("{"), "card"},
		{"wrong format", tensors, editCard(func(c map[string]any) { c["format"] = "other" }), "format"},
		{"NaN weight", nan, card, "NaN"},
		{"card hidden differs", tensors, editCard(func(c map[string]any) { c["network"].(map[string]any)["hidden"] = []int{12, 11} }), "layer list"},
		{"card frame stack differs", tensors, editCard(func(c map[string]any) { c["frame_stack"] = 2 }), "obs_mean"},
		{"card members differs", tensors, editCard(func(c map[string]any) { c["members"] = 2 }), "needs"},
		{"unknown activation", tensors, editCard(func(c map[string]any) { c["network"].(map[string]any)["activation"] = "gelu" }), "activation"},
		{"tensor transposed", corruptHeader(t, tensors, func(h map[string]any) {
			h["layers.0.weight"].(map[string]any)["shape"] = []int{18, 12}
		}), card, "layers.0.weight"},
		{"tensor missing", corruptHeader(t, tensors, func(h map[string]any) {
			h["renamed"] = h["norms.1.bias"]
			delete(h, "norms.1.bias")
		}), card, "norms.1.bias"},
		{"wrong dtype", corruptHeader(t, tensors, func(h map[string]any) {
			e := h["layers.1.bias"].(map[string]any)
			e["dtype"] = "I32"
		}), card, "I32"},
		{"task names differ", tensors, editCard(func(c map[string]any) { c["task"].(map[string]any)["action_names"] = []string{"x"} }), "task names"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := Decode(c.tensors, c.card)
			if err == nil {
				t.Fatalf("Decode succeeded; want an error about %q", c.wantErrContains)
			}
			if !strings.Contains(err.Error(), c.wantErrContains) {
				t.Fatalf("error %q; want it to mention %q", err, c.wantErrContains)
			}
		})
	}
	if _, _, err := Load(filepath.Join(t.TempDir(), "none.safetensors")); err == nil {
		t.Fatal("Load of a missing file succeeded")
	}
}

// pythonWithNumpy finds a python3 that imports numpy: $TANDEM_PYTHON,
// python3 on PATH, then Debian's /usr/bin/python3 (python3-numpy).
func pythonWithNumpy() string {
	for _, p := range []string{os.Getenv("TANDEM_PYTHON"), "python3", "/usr/bin/python3"} {
		if p == "" {
			continue
		}
		if err := exec.Command(p, "-c", "import numpy").Run(); err == nil {
			return p
		}
	}
	return ""
}

// TestNumpyReader is the check by a reader that is not ours: a numpy
// script (testdata/forward.py) parses the safetensors file and the card
// itself, computes the forward pass docs/policies.md describes, and must
// agree with Go's actions. It skips without numpy unless TANDEM_PYTHON
// names a Python (CI does), which must then import numpy.
func TestNumpyReader(t *testing.T) {
	py := pythonWithNumpy()
	if want := os.Getenv("TANDEM_PYTHON"); want != "" && py != want {
		t.Fatalf("TANDEM_PYTHON=%s does not import numpy (Debian: apt-get install python3-numpy)", want)
	}
	if py == "" {
		t.Skip("no python3 with numpy (Debian: apt-get install python3-numpy)")
	}
	for _, c := range checkpointCases {
		t.Run(c.name, func(t *testing.T) {
			m, ds := trainedModel(t, c.cfg)
			dir := t.TempDir()
			path := filepath.Join(dir, "policy.safetensors")
			if err := Save(path, m, testCard()); err != nil {
				t.Fatal(err)
			}
			eps := toyEpisodes(ds, 2, 5)
			epsJSON, _ := json.Marshal(eps)
			obsPath := filepath.Join(dir, "episodes.json")
			os.WriteFile(obsPath, epsJSON, 0o644)
			var stderr bytes.Buffer
			cmd := exec.Command(py, "testdata/forward.py", path, CardPath(path), obsPath)
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("forward.py: %v\n%s", err, stderr.String())
			}
			var np [][][]float64
			if err := json.Unmarshal(out, &np); err != nil {
				t.Fatalf("forward.py output: %v", err)
			}
			goActs := actions(m, eps)
			for e := range goActs {
				for s := range goActs[e] {
					for d, g := range goActs[e][s] {
						p := np[e][s][d]
						if math.Abs(g-p) > 1e-4*(1+math.Abs(p)) {
							t.Fatalf("episode %d step %d dim %d: Go %.7g, numpy %.7g", e, s, d, g, p)
						}
					}
				}
			}
		})
	}
}
