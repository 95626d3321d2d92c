package policies

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"tandem/policies/nn"
	"tandem/sim"
)

// fitConfig is what the behaviour-cloning learners (bc, hg-dagger, iwr,
// sirius) share: the network, its training and the data budget. Defaults
// and ranges are in docs/algorithms.md and in parseFit.
type fitConfig struct {
	Steps       int
	Batch       int
	LR          float64
	WeightDecay float64
	Clip        float64
	Hidden      []int
	Act         nn.Activation
	LayerNorm   bool
	Head        nn.Head
	FrameStack  int
	Members     int
	Preset      string
	Memory      Memory
	Help        helpConfig
}

// Default network and training, sized for a 2-core machine: about a
// second on 20 reach demonstrations (docs/algorithms.md has the sweep that
// chose them). tanh and weight decay generalise far better than ReLU from
// few demonstrations (reach, 20 demos: success 0.96–1.00 over 8 seeds
// against 0.57–0.78 for ReLU).
var (
	defaultHidden = []int{128, 128}
	// robomimic's low-dim BC-RNN template as Sirius trains it (MLP [1024,
	// 1024] after an LSTM of 400 over 10 steps, ReLU, GMM of 5 modes, Adam
	// 1e-4, batch 256): preset=robomimic, with the LSTM replaced by a stack
	// of 10 frames.
	robomimicHidden = []int{1024, 1024}
)

const (
	defaultSteps       = 1500
	defaultBatch       = 128
	defaultLR          = 3e-3
	defaultWeightDecay = 0.05
	defaultClip        = 1.0
	defaultFrameStack  = 1
	maxSteps           = 10_000_000
	maxBatch           = 1 << 16
	maxMembers         = 16
	maxFrameStack      = 32
	maxLayers          = 8
	maxWidth           = 4096
)

// archKeys are the parameters a warm start inherits from its parent when
// they are not given.
var archKeys = []string{"hidden", "activation", "layer_norm", "head", "modes", "frame_stack", "members"}

// parseFit reads the shared parameters.
func parseFit(p *params, in *TrainInput) (fitConfig, error) {
	c := fitConfig{Steps: defaultSteps, Batch: defaultBatch, LR: defaultLR, WeightDecay: defaultWeightDecay, Clip: defaultClip,
		Hidden: defaultHidden, Act: nn.Tanh, Head: nn.Head{Kind: nn.GMM, Squash: true, Modes: 5}, FrameStack: defaultFrameStack, Members: 1}
	var err error
	set := func(e error) {
		if err == nil {
			err = e
		}
	}
	var e error
	c.Preset, e = p.enum("preset", "", "", "robomimic")
	set(e)
	if c.Preset == "robomimic" {
		c.Hidden, c.Act, c.LR, c.Batch, c.FrameStack, c.WeightDecay, c.Clip = robomimicHidden, nn.ReLU, 1e-4, 256, 10, 0, 0
	}
	c.Steps, e = p.int("steps", c.Steps, 1, maxSteps)
	set(e)
	c.Batch, e = p.int("batch", c.Batch, 1, maxBatch)
	set(e)
	c.LR, e = p.float("lr", c.LR, 0, 1, true)
	set(e)
	c.WeightDecay, e = p.float("weight_decay", c.WeightDecay, 0, 1, false)
	set(e)
	c.Clip, e = p.float("clip", c.Clip, 0, 1e6, false)
	set(e)
	c.Hidden, e = p.widths("hidden", c.Hidden, maxLayers, maxWidth)
	set(e)
	act, e := p.enum("activation", string(c.Act), string(nn.ReLU), string(nn.Tanh))
	set(e)
	c.Act = nn.Activation(act)
	c.LayerNorm, e = p.bool("layer_norm", false)
	set(e)
	head, e := p.enum("head", string(c.Head.Kind), string(nn.GMM), string(nn.Gaussian), string(nn.Deterministic))
	set(e)
	c.Head.Kind = nn.HeadKind(head)
	c.Head.Modes, e = p.int("modes", 5, 1, 64)
	set(e)
	if c.Head.Kind != nn.GMM {
		c.Head.Modes = 0
		if p.set["modes"] {
			set(fmt.Errorf("%s: modes applies to head=gmm only", p.algo))
		}
	}
	c.FrameStack, e = p.int("frame_stack", c.FrameStack, 1, maxFrameStack)
	set(e)
	c.Help, e = parseHelp(p)
	set(e)
	defMembers := 1
	if c.Help.On {
		defMembers = thriftyMembers
	}
	c.Members, e = p.int("members", defMembers, 1, maxMembers)
	set(e)
	c.Memory, e = parseMemory(p)
	set(e)
	if err != nil {
		return c, err
	}
	if in.Parent != nil {
		if err = c.inherit(p, in.Parent); err != nil {
			return c, err
		}
		if c.Head.Kind != nn.GMM && p.set["modes"] {
			return c, fmt.Errorf("%s: modes applies to head=gmm only; the parent's head is %s", p.algo, c.Head.Kind)
		}
	}
	return c, err
}

func parseMemory(p *params) (Memory, error) {
	var m Memory
	var err error
	if m.Rule, err = p.enum("memory", MemoryAll, MemoryRules...); err != nil {
		return m, err
	}
	if m.Episodes, err = p.int("memory_episodes", 0, 0, 1<<30); err != nil {
		return m, err
	}
	if m.Steps, err = p.int("memory_steps", 0, 0, 1<<40); err != nil {
		return m, err
	}
	if m.Rule == MemoryAll && (m.Episodes > 0 || m.Steps > 0) {
		return m, fmt.Errorf("%s: memory_episodes and memory_steps bound a memory rule: give memory=fifo, filo, lfi or mfi", p.algo)
	}
	return m, nil
}

// inherit takes the parent's architecture for every architecture key not
// given, and refuses one given differently: a warm start continues the
// parent's network.
func (c *fitConfig) inherit(p *params, parent *nn.Model) error {
	a, h := parent.Arch(), parent.Head()
	pc := fitConfig{Hidden: a.Hidden, Act: a.Act, LayerNorm: a.LayerNorm, Head: nn.Head{Kind: h.Kind, Squash: h.Squash}, FrameStack: parent.FrameStack(), Members: parent.Members()}
	if h.Kind == nn.GMM {
		pc.Head.Modes = h.Modes
	}
	for _, k := range archKeys {
		mine, theirs := c.archValue(k), pc.archValue(k)
		if mine == theirs {
			continue
		}
		if p.set[k] {
			return fmt.Errorf("%s: warm start: %s=%s but the parent has %s (leave %s out to continue the parent's network)", p.algo, k, mine, theirs, k)
		}
		switch k {
		case "hidden":
			c.Hidden = pc.Hidden
		case "activation":
			c.Act = pc.Act
		case "layer_norm":
			c.LayerNorm = pc.LayerNorm
		case "head":
			c.Head.Kind, c.Head.Modes = pc.Head.Kind, pc.Head.Modes
		case "modes":
			c.Head.Modes = pc.Head.Modes
		case "frame_stack":
			c.FrameStack = pc.FrameStack
		case "members":
			c.Members = pc.Members
		}
	}
	if !h.Squash {
		return fmt.Errorf("%s: warm start: the parent's head does not squash its actions; these learners train squashed heads", p.algo)
	}
	return nil
}

func (c *fitConfig) archValue(k string) string {
	switch k {
	case "hidden":
		return widthsString(c.Hidden)
	case "activation":
		return string(c.Act)
	case "layer_norm":
		return strconv.FormatBool(c.LayerNorm)
	case "head":
		return string(c.Head.Kind)
	case "modes":
		return strconv.Itoa(c.Head.Modes)
	case "frame_stack":
		return strconv.Itoa(c.FrameStack)
	case "members":
		return strconv.Itoa(c.Members)
	}
	return ""
}

func widthsString(w []int) string {
	s := ""
	for i, v := range w {
		if i > 0 {
			s += "x"
		}
		s += strconv.Itoa(v)
	}
	return s
}

// hyper is the card's record of the shared parameters as resolved.
func (c *fitConfig) hyper(seed uint64) map[string]any {
	h := map[string]any{
		"steps": c.Steps, "batch": c.Batch, "lr": c.LR, "weight_decay": c.WeightDecay, "clip": c.Clip,
		"hidden": widthsString(c.Hidden), "activation": string(c.Act), "layer_norm": c.LayerNorm,
		"head": string(c.Head.Kind), "frame_stack": c.FrameStack, "members": c.Members, "seed": seed,
		"memory": c.Memory.Rule,
	}
	if c.Head.Kind == nn.GMM {
		h["modes"] = c.Head.Modes
	}
	if c.Preset != "" {
		h["preset"] = c.Preset
	}
	if c.Memory.Episodes > 0 {
		h["memory_episodes"] = c.Memory.Episodes
	}
	if c.Memory.Steps > 0 {
		h["memory_steps"] = c.Memory.Steps
	}
	return h
}

// trainData is the episodes a learner trains from after memory
// management, as one dataset with each row's source and Sirius class.
type trainData struct {
	spec   *sim.Spec
	eps    []*Episode
	ds     *nn.Dataset
	first  []int // first row of each episode
	source []sim.Source
	class  []int
}

// episodeOf returns the index into d.eps of the episode holding row.
func (d *trainData) episodeOf(row int) int {
	i, found := slices.BinarySearch(d.first, row)
	if !found {
		i--
	}
	return i
}

// plan is how a learner uses the data: the rows it trains on, grouped in
// strata drawn with the given probabilities (one stratum: uniform over
// rows), and each row's loss weight.
type plan struct {
	strata [][]int
	prob   []float64 // per stratum; nil for a single stratum
	names  []string  // per stratum, when prob is set: Stats reports drawn_NAME
	weight []float32 // per dataset row; nil: all 1
	hyper  map[string]any
	stats  map[string]any
}

func (pl *plan) rows() int {
	n := 0
	for _, s := range pl.strata {
		n += len(s)
	}
	return n
}

// prepare validates the episodes, applies memory management and builds the
// dataset with its labels.
func prepare(in *TrainInput, mem Memory, window int) (*trainData, error) {
	var nonEmpty []Episode
	for i := range in.Episodes {
		e := &in.Episodes[i]
		if err := e.Validate(&in.Spec); err != nil {
			return nil, err
		}
		if e.Len() > 0 {
			nonEmpty = append(nonEmpty, *e)
		}
	}
	keep, err := mem.Keep(nonEmpty)
	if err != nil {
		return nil, err
	}
	d := &trainData{spec: &in.Spec, ds: nn.NewDataset(in.Spec.ObsSize(), in.Spec.ActionSize())}
	for _, i := range keep {
		e := &nonEmpty[i]
		first, err := d.ds.AppendEpisode(e.Obs, e.Action)
		if err != nil {
			return nil, fmt.Errorf("policies: episode %d: %w", e.ID, err)
		}
		d.eps = append(d.eps, e)
		d.first = append(d.first, first)
		d.source = append(d.source, e.Source...)
		d.class = append(d.class, SiriusClasses(e, window)...)
	}
	if len(d.eps) == 0 {
		return nil, ErrNoData
	}
	return d, nil
}

// fit trains a policy on the rows plan chooses from d: the shared loop of
// every learner in this package.
func fit(ctx context.Context, algo string, in *TrainInput, c fitConfig, d *trainData, pl *plan) (TrainOutput, error) {
	start := time.Now()
	if pl.rows() == 0 {
		return TrainOutput{}, ErrNoData
	}
	spec := &in.Spec
	var norm *nn.Normalizer
	if in.Parent != nil {
		if in.Parent.ObsDim() != spec.ObsSize() || in.Parent.ActDim() != spec.ActionSize() {
			return TrainOutput{}, fmt.Errorf("%s: warm start: the parent has %d observations and %d actions; task %s has %d and %d",
				algo, in.Parent.ObsDim(), in.Parent.ActDim(), spec.Name, spec.ObsSize(), spec.ActionSize())
		}
		norm = in.Parent.Normalizer() // the parent's weights expect its normalisation
		for i := range norm.ActLow {
			if float64(norm.ActLow[i]) != float64(float32(spec.ActionLow[i])) || float64(norm.ActHigh[i]) != float64(float32(spec.ActionHigh[i])) {
				return TrainOutput{}, fmt.Errorf("%s: warm start: the parent's action %d bounds [%g, %g] are not task %s's [%g, %g]",
					algo, i, norm.ActLow[i], norm.ActHigh[i], spec.Name, spec.ActionLow[i], spec.ActionHigh[i])
			}
		}
	} else {
		obs := make([]float32, 0, pl.rows()*d.ds.ObsDim)
		for _, s := range pl.strata {
			for _, r := range s {
				obs = append(obs, d.ds.Obs[r*d.ds.ObsDim:(r+1)*d.ds.ObsDim]...)
			}
		}
		var err error
		if norm, err = nn.NewNormalizer(obs, d.ds.ObsDim, spec.ActionLow, spec.ActionHigh); err != nil {
			return TrainOutput{}, fmt.Errorf("%s: %w", algo, err)
		}
	}
	tr, err := nn.NewTrainer(nn.TrainerConfig{
		Hidden: c.Hidden, Act: c.Act, LayerNorm: c.LayerNorm, Head: c.Head,
		Adam:       nn.AdamConfig{LR: c.LR, WeightDecay: c.WeightDecay, ClipNorm: c.Clip},
		FrameStack: c.FrameStack, Batch: c.Batch, Members: c.Members, Seed: in.Seed,
	}, norm)
	if err != nil {
		return TrainOutput{}, fmt.Errorf("%s: %w", algo, err)
	}
	if in.Parent != nil {
		for m := range c.Members {
			copy(tr.Ensemble().Params(m), in.Parent.Params(m))
		}
	}
	total := c.Steps
	if c.Help.On {
		total += c.Help.Steps
	}
	progress := func(done int) {
		if in.Progress != nil {
			in.Progress(done, total)
		}
	}

	smp := newSampler(pl, c.Members, c.Batch, in.Seed)
	every := max(1, c.Steps/100)
	var first, tail float64
	tailN := min(100, c.Steps)
	for step := range c.Steps {
		if step%64 == 0 {
			if err := ctx.Err(); err != nil {
				return TrainOutput{}, err
			}
		}
		smp.draw()
		var loss float64
		if c.Members == 1 {
			loss = tr.Step(d.ds, smp.idx[0], smp.w0())
		} else {
			loss = tr.StepEach(d.ds, smp.idx, smp.wAll())
		}
		if step == 0 {
			first = loss
		}
		if step >= c.Steps-tailN {
			tail += loss
		}
		if (step+1)%every == 0 {
			progress(step + 1)
		}
	}
	model, err := tr.Model()
	if err != nil {
		return TrainOutput{}, fmt.Errorf("%s: training diverged: %w", algo, err)
	}
	out := TrainOutput{Model: model, Stats: map[string]any{
		"loss_first": first, "loss_final": tail / float64(tailN), "rows": pl.rows(),
		"episodes": len(d.eps), "steps": c.Steps, "train_seconds": time.Since(start).Seconds(),
	}}
	for k, v := range pl.stats {
		out.Stats[k] = v
	}
	for k, name := range pl.names {
		out.Stats["drawn_"+name] = float64(smp.drawn[k]) / float64(c.Steps*c.Batch*c.Members)
	}
	hyper := c.hyper(in.Seed)
	for k, v := range pl.hyper {
		hyper[k] = v
	}
	used := pl.usedEpisodes(d)
	if c.Help.On {
		hstart := time.Now()
		hc, hstats, err := fitHelp(ctx, c.Help, model, d, in, c.Steps, progress)
		if err != nil {
			return TrainOutput{}, fmt.Errorf("%s: help: %w", algo, err)
		}
		hyper[helpKey] = hc
		for k, v := range hstats {
			out.Stats["help_"+k] = v
		}
		out.Stats["help_seconds"] = time.Since(hstart).Seconds()
		for i := range used {
			used[i] = true // the risk critic learns from every kept step
		}
	}
	progress(total)
	out.Card = card(algo, in, hyper, d, used)
	return out, nil
}

// usedEpisodes marks the episodes with at least one training row.
func (pl *plan) usedEpisodes(d *trainData) []bool {
	used := make([]bool, len(d.eps))
	for _, s := range pl.strata {
		for _, r := range s {
			used[d.episodeOf(r)] = true
		}
	}
	return used
}

// card fills what a learner knows: algorithm, hyper-parameters, task,
// episodes used (uids, or store ids when a uid is missing) and parent.
func card(algo string, in *TrainInput, hyper map[string]any, d *trainData, used []bool) nn.Card {
	c := nn.Card{Algorithm: algo, Hyperparameters: hyper,
		Task: nn.TaskCard{Name: in.Spec.Name, ObsNames: in.Spec.ObsNames, ActionNames: in.Spec.ActionNames}}
	if raw, err := json.Marshal(in.Spec); err == nil {
		c.Task.Spec = raw
	}
	for i, e := range d.eps {
		if !used[i] {
			continue
		}
		id := e.UID
		if id == "" {
			id = strconv.FormatInt(e.ID, 10)
		}
		c.Episodes = append(c.Episodes, id)
	}
	if in.ParentCard != nil {
		c.Parent = in.ParentCard.Version
	}
	if in.Parent != nil {
		hyper["warm_start"] = true
	}
	return c
}

// sampler draws each step's batch rows (and their weights) per ensemble
// member. With several members each draws from its own bootstrap resample
// of every stratum (ThriftyDAgger: each member trains on a resample with
// replacement of the data), so their disagreement measures novelty.
type sampler struct {
	pl   *plan
	pop  [][][]int // [member][stratum] rows
	cum  []float64 // cumulative stratum probabilities
	rng  *nn.Rand
	idx  [][]int
	w    [][]float32
	unit bool
	// drawn counts the rows drawn from each stratum.
	drawn []int
}

func newSampler(pl *plan, members, batch int, seed uint64) *sampler {
	s := &sampler{pl: pl, rng: nn.NewRand(seed ^ 0x5a3b1e0c7d9f2468), unit: pl.weight == nil, drawn: make([]int, len(pl.strata))}
	if pl.prob != nil {
		var c float64
		for _, p := range pl.prob {
			c += p
			s.cum = append(s.cum, c)
		}
	}
	for range members {
		pop := pl.strata
		if members > 1 {
			pop = make([][]int, len(pl.strata))
			for k, rows := range pl.strata {
				r := make([]int, len(rows))
				for i := range r {
					r[i] = rows[s.rng.Intn(len(rows))]
				}
				pop[k] = r
			}
		}
		s.pop = append(s.pop, pop)
		s.idx = append(s.idx, make([]int, batch))
		s.w = append(s.w, make([]float32, batch))
	}
	return s
}

func (s *sampler) draw() {
	for m, pop := range s.pop {
		idx, w := s.idx[m], s.w[m]
		for i := range idx {
			k := 0
			if s.cum != nil {
				u := s.rng.Float64() * s.cum[len(s.cum)-1]
				for k < len(s.cum)-1 && u >= s.cum[k] {
					k++
				}
				for len(pop[k]) == 0 { // an empty stratum has probability 0
					k = (k + 1) % len(pop)
				}
			}
			rows := pop[k]
			idx[i] = rows[s.rng.Intn(len(rows))]
			s.drawn[k]++
			if !s.unit {
				w[i] = s.pl.weight[idx[i]]
			}
		}
	}
}

func (s *sampler) w0() []float32 {
	if s.unit {
		return nil
	}
	return s.w[0]
}

func (s *sampler) wAll() [][]float32 {
	if s.unit {
		return nil
	}
	return s.w
}
