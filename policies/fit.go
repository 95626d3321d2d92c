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

// trainData is the episodes a learner trains from after memory
// management, as one dataset with each row's source and Sirius class.
type trainData struct {
	spec   *sim.Spec
	eps    []*Episode
	ds     *nn.Dataset
	first  []int // first row of each episode
	source []sim.Source
	class  []sim.Class
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
		FrameStack: c.FrameStack, Batch: c.Batch, Members: c.Members, Seed: in.Seed, Pool: in.Pool,
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
