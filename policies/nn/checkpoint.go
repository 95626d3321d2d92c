package nn

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/nlpodyssey/safetensors"
)

// Checkpoint format: a safetensors file of float32 tensors and a JSON card
// beside it (docs/policies.md describes both and the forward pass for
// readers in other languages).
const (
	CardFormat        = "tandem-policy"
	CardFormatVersion = 1
	TensorsExt        = ".safetensors"
	CardExt           = ".card.json"
)

// Normalisation tensor names.
const (
	tObsMean = "normalization.obs_mean"
	tObsStd  = "normalization.obs_std"
	tActLow  = "normalization.action_low"
	tActHigh = "normalization.action_high"
)

// Card is the JSON description written beside a checkpoint's tensors. The
// caller fills what the model cannot know (algorithm, task, data,
// evaluation, lineage); Encode fills the rest from the model.
type Card struct {
	Format        string `json:"format"`
	FormatVersion int    `json:"format_version"`
	// Version names this policy version (the registry's id); Parent the
	// version it was trained from ("" for none).
	Version string `json:"version,omitempty"`
	Parent  string `json:"parent,omitempty"`
	// Algorithm ("bc", "hg-dagger", "iwr", "sirius", "rlif", ...) and its
	// hyper-parameters, free-form.
	Algorithm       string         `json:"algorithm"`
	Hyperparameters map[string]any `json:"hyperparameters,omitempty"`
	Task            TaskCard       `json:"task"`
	// Episodes lists the episodes (ids or uids) whose steps trained it.
	Episodes []string `json:"episodes,omitempty"`
	// Evaluation holds evaluation results, free-form (success rate, returns).
	Evaluation map[string]any `json:"evaluation,omitempty"`

	// Filled by Encode from the model.
	Network       NetworkCard       `json:"network"`
	Head          Head              `json:"head"`
	FrameStack    int               `json:"frame_stack"`
	Members       int               `json:"members"`
	Normalization NormalizationCard `json:"normalization"`
}

// TaskCard names the task and its observation and action layout. Spec may
// carry the task's full sim.Spec as JSON; this package does not read it.
type TaskCard struct {
	Name        string          `json:"name"`
	ObsNames    []string        `json:"obs_names,omitempty"`
	ActionNames []string        `json:"action_names,omitempty"`
	Spec        json.RawMessage `json:"spec,omitempty"`
}

// NetworkCard is the architecture with each layer's tensors.
type NetworkCard struct {
	In           int         `json:"in"`
	Hidden       []int       `json:"hidden"`
	Out          int         `json:"out"`
	Activation   Activation  `json:"activation"`
	LayerNorm    bool        `json:"layer_norm"`
	LayerNormEps float64     `json:"layer_norm_eps"`
	Layers       []LayerCard `json:"layers"`
}

// LayerCard is one linear layer: its tensors (names without the member
// prefix), optional LayerNorm tensors, and the activation after it ("none"
// for the output layer).
type LayerCard struct {
	Weight     TensorCard  `json:"weight"`
	Bias       TensorCard  `json:"bias"`
	NormWeight *TensorCard `json:"norm_weight,omitempty"`
	NormBias   *TensorCard `json:"norm_bias,omitempty"`
	Activation string      `json:"activation"`
}

// TensorCard names a tensor and its shape.
type TensorCard struct {
	Name  string `json:"name"`
	Shape []int  `json:"shape"`
}

// NormalizationCard names the normalisation tensors and says what they do.
type NormalizationCard struct {
	ObsMean    string `json:"obs_mean"`
	ObsStd     string `json:"obs_std"`
	ActionLow  string `json:"action_low"`
	ActionHigh string `json:"action_high"`
	Obs        string `json:"obs"`
	Action     string `json:"action"`
}

// memberPrefix is "" for a single network and "members.{m}." in an
// ensemble (a torch nn.ModuleList named members).
func memberPrefix(members, m int) string {
	if members == 1 {
		return ""
	}
	return fmt.Sprintf("members.%d.", m)
}

// fill completes card from the model.
func (m *Model) fill(card *Card) {
	a := m.arch
	card.Format, card.FormatVersion = CardFormat, CardFormatVersion
	card.Head, card.FrameStack, card.Members = m.head, m.frameStack, len(m.members)
	nc := NetworkCard{In: a.In, Hidden: append([]int{}, a.Hidden...), Out: a.Out, Activation: a.Act, LayerNorm: a.LayerNorm, LayerNormEps: LayerNormEps}
	for i, l := range a.layers {
		lc := LayerCard{
			Weight:     TensorCard{fmt.Sprintf("layers.%d.weight", i), []int{l.out, l.in}},
			Bias:       TensorCard{fmt.Sprintf("layers.%d.bias", i), []int{l.out}},
			Activation: string(a.Act),
		}
		if l.g >= 0 {
			lc.NormWeight = &TensorCard{fmt.Sprintf("norms.%d.weight", i), []int{l.out}}
			lc.NormBias = &TensorCard{fmt.Sprintf("norms.%d.bias", i), []int{l.out}}
		}
		if i == len(a.layers)-1 {
			lc.Activation = "none"
		}
		nc.Layers = append(nc.Layers, lc)
	}
	card.Network = nc
	card.Normalization = NormalizationCard{ObsMean: tObsMean, ObsStd: tObsStd, ActionLow: tActLow, ActionHigh: tActHigh,
		Obs:    "x = (obs - obs_mean) / obs_std, per frame",
		Action: "action = action_low + (a + 1) / 2 * (action_high - action_low)"}
}

// Encode returns the checkpoint's tensors (safetensors) and card (JSON),
// completing card from the model.
func Encode(m *Model, card Card) (tensors, cardJSON []byte, err error) {
	m.fill(&card)
	if card.Task.ObsNames != nil && len(card.Task.ObsNames) != m.ObsDim() ||
		card.Task.ActionNames != nil && len(card.Task.ActionNames) != m.ActDim() {
		return nil, nil, fmt.Errorf("nn: encode: task names %d observations and %d actions; the model has %d and %d",
			len(card.Task.ObsNames), len(card.Task.ActionNames), m.ObsDim(), m.ActDim())
	}
	views := map[string]safetensors.TensorView{}
	add := func(name string, shape []int, data []float32) error {
		tv, err := F32View(shape, data)
		views[name] = tv
		return err
	}
	for mi, p := range m.members {
		for _, t := range m.arch.Tensors() {
			if err := add(memberPrefix(len(m.members), mi)+t.Name, t.Shape, p[t.Offset:t.Offset+t.Size()]); err != nil {
				return nil, nil, err
			}
		}
	}
	n := m.norm
	for _, e := range []struct {
		name string
		v    []float32
	}{{tObsMean, n.ObsMean}, {tObsStd, n.ObsStd}, {tActLow, n.ActLow}, {tActHigh, n.ActHigh}} {
		if err := add(e.name, []int{len(e.v)}, e.v); err != nil {
			return nil, nil, err
		}
	}
	tensors, err = safetensors.Serialize(views, map[string]string{"format": "pt", "tandem": CardFormat})
	if err != nil {
		return nil, nil, fmt.Errorf("nn: encode tensors: %w", err)
	}
	cardJSON, err = json.MarshalIndent(card, "", "  ")
	if err != nil {
		return nil, nil, fmt.Errorf("nn: encode card: %w", err)
	}
	return tensors, append(cardJSON, '\n'), nil
}

// CardPath is the card's path for a tensors path: x.safetensors → x.card.json.
func CardPath(tensorsPath string) string {
	return strings.TrimSuffix(tensorsPath, TensorsExt) + CardExt
}

// Save writes m to path (which must end in .safetensors) and its card
// beside it, each through a temporary file renamed into place, the card
// last: a reader that finds the card finds the tensors complete.
func Save(path string, m *Model, card Card) error {
	if !strings.HasSuffix(path, TensorsExt) {
		return fmt.Errorf("nn: save %s: the tensors file must end in %s", path, TensorsExt)
	}
	tensors, cj, err := Encode(m, card)
	if err != nil {
		return err
	}
	if err := WriteFile(path, tensors); err != nil {
		return err
	}
	return WriteFile(CardPath(path), cj)
}

// WriteFile writes data to path as a checkpoint file is written: through
// a temporary file in the same directory, synced and renamed into place,
// so a reader sees the old file or the whole new one.
func WriteFile(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("nn: save: %w", err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("nn: save %s: %w", path, err)
	}
	return nil
}

// Load reads the checkpoint at path (.safetensors) and its card.
func Load(path string) (*Model, *Card, error) {
	tensors, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("nn: load: %w", err)
	}
	cj, err := os.ReadFile(CardPath(path))
	if err != nil {
		return nil, nil, fmt.Errorf("nn: load: card: %w", err)
	}
	m, c, err := Decode(tensors, cj)
	if err != nil {
		return nil, nil, fmt.Errorf("nn: load %s: %w", path, err)
	}
	return m, c, nil
}

// Decode rebuilds a model from checkpoint bytes. It checks the card, that
// the tensors are exactly those the card names with the shapes it gives,
// all float32, and that every value is finite; errors say which tensor or
// field is wrong.
func Decode(tensors, cardJSON []byte) (*Model, *Card, error) {
	var card Card
	dec := json.NewDecoder(bytes.NewReader(cardJSON))
	if err := dec.Decode(&card); err != nil {
		return nil, nil, fmt.Errorf("card: %w", err)
	}
	if card.Format != CardFormat || card.FormatVersion != CardFormatVersion {
		return nil, nil, fmt.Errorf("card: format %q version %d; want %q version %d", card.Format, card.FormatVersion, CardFormat, CardFormatVersion)
	}
	nc := card.Network
	arch, err := NewArch(Config{In: nc.In, Hidden: nc.Hidden, Out: nc.Out, Act: nc.Activation, LayerNorm: nc.LayerNorm})
	if err != nil {
		return nil, nil, fmt.Errorf("card: network: %w", err)
	}
	if nc.LayerNorm && nc.LayerNormEps != LayerNormEps {
		return nil, nil, fmt.Errorf("card: layer_norm_eps %g; this build computes with %g", nc.LayerNormEps, LayerNormEps)
	}
	if card.Members < 1 || card.Members > 1024 || card.FrameStack < 1 || card.FrameStack > 1024 {
		return nil, nil, fmt.Errorf("card: %d members, frame stack %d", card.Members, card.FrameStack)
	}
	// The card's layer list must be the one the architecture implies.
	var want Card
	(&Model{arch: arch, head: card.Head, norm: &Normalizer{}, frameStack: card.FrameStack, members: make([][]float32, card.Members)}).fill(&want)
	if !sameLayers(want.Network.Layers, nc.Layers) {
		return nil, nil, errors.New("card: the layer list does not match in/hidden/out/layer_norm")
	}

	st, _, err := ParseSafetensors(tensors)
	if err != nil {
		return nil, nil, fmt.Errorf("tensors: %w", err)
	}
	used := map[string]bool{}
	get := func(name string, shape []int) ([]float32, error) {
		used[name] = true
		out := make([]float32, elements(shape))
		if err := ReadF32(st, name, shape, out); err != nil {
			return nil, fmt.Errorf("tensors (named by the card): %w", err)
		}
		return out, nil
	}
	if need := uint64(arch.NumParams()) * uint64(card.Members) * 4; need > uint64(len(tensors)) {
		return nil, nil, fmt.Errorf("tensors: the card's network needs %d bytes of weights; the file has %d", need, len(tensors))
	}
	params := make([][]float32, card.Members)
	for mi := range params {
		p := make([]float32, arch.NumParams())
		for _, t := range arch.Tensors() {
			v, err := get(memberPrefix(card.Members, mi)+t.Name, t.Shape)
			if err != nil {
				return nil, nil, err
			}
			copy(p[t.Offset:], v)
		}
		params[mi] = p
	}
	if card.FrameStack > 0 && nc.In%card.FrameStack != 0 {
		return nil, nil, fmt.Errorf("card: input %d is not a multiple of frame stack %d", nc.In, card.FrameStack)
	}
	if err := card.Head.Validate(); err != nil {
		return nil, nil, fmt.Errorf("card: %w", err)
	}
	obsDim := nc.In / card.FrameStack
	nm := card.Normalization
	if nm.ObsMean != tObsMean || nm.ObsStd != tObsStd || nm.ActionLow != tActLow || nm.ActionHigh != tActHigh {
		return nil, nil, errors.New("card: normalization names unknown tensors")
	}
	actTV, ok := st.Tensor(tActLow)
	if !ok || len(actTV.Shape()) != 1 {
		return nil, nil, fmt.Errorf("tensors: %q missing or not a vector", tActLow)
	}
	actDim := int(actTV.Shape()[0])
	norm := &Normalizer{}
	for _, e := range []struct {
		name string
		n    int
		dst  *[]float32
	}{{tObsMean, obsDim, &norm.ObsMean}, {tObsStd, obsDim, &norm.ObsStd}, {tActLow, actDim, &norm.ActLow}, {tActHigh, actDim, &norm.ActHigh}} {
		if *e.dst, err = get(e.name, []int{e.n}); err != nil {
			return nil, nil, err
		}
	}
	if len(used) != st.Len() {
		var extra []string
		for _, n := range st.Names() {
			if !used[n] {
				extra = append(extra, n)
			}
		}
		sort.Strings(extra)
		return nil, nil, fmt.Errorf("tensors: %v not named by the card", extra)
	}
	if card.Task.ObsNames != nil && len(card.Task.ObsNames) != obsDim || card.Task.ActionNames != nil && len(card.Task.ActionNames) != actDim {
		return nil, nil, fmt.Errorf("card: task names %d observations and %d actions; the tensors have %d and %d", len(card.Task.ObsNames), len(card.Task.ActionNames), obsDim, actDim)
	}
	m, err := NewModel(arch, card.Head, norm, card.FrameStack, params)
	if err != nil {
		return nil, nil, err
	}
	return m, &card, nil
}

func sameShape(a []uint64, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != uint64(b[i]) {
			return false
		}
	}
	return true
}

func sameLayers(a, b []LayerCard) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}
