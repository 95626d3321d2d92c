package policies

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"

	"tandem/policies/nn"
)

// critic is a decoded risk critic.
type critic struct {
	arch   *nn.Arch
	params [][]float32
}

func (r *RiskCritic) decode(obsDim, actDim int) (*critic, error) {
	if r.In != obsDim+actDim {
		return nil, fmt.Errorf("policies: risk critic takes %d inputs; the policy has %d observations and %d actions", r.In, obsDim, actDim)
	}
	arch, err := nn.NewArch(nn.Config{In: r.In, Hidden: r.Hidden, Out: 1, Act: r.Activation})
	if err != nil {
		return nil, fmt.Errorf("policies: risk critic: %w", err)
	}
	if len(r.Params) != 2 {
		return nil, fmt.Errorf("policies: risk critic: %d parameter sets; want 2", len(r.Params))
	}
	c := &critic{arch: arch}
	for i, s := range r.Params {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(b) != 4*arch.NumParams() {
			return nil, fmt.Errorf("policies: risk critic %d: %d bytes; want %d of float32", i, len(b), 4*arch.NumParams())
		}
		p := make([]float32, arch.NumParams())
		for j := range p {
			p[j] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*j:]))
			if math.IsNaN(float64(p[j])) || math.IsInf(float64(p[j]), 0) {
				return nil, fmt.Errorf("policies: risk critic %d: parameter %d is %g", i, j, p[j])
			}
		}
		c.params = append(c.params, p)
	}
	return c, nil
}

func encodeCritic(arch *nn.Arch, params [][]float32, gamma float64) *RiskCritic {
	r := &RiskCritic{In: arch.In, Hidden: slices.Clone(arch.Hidden), Activation: arch.Act, Gamma: gamma}
	for _, p := range params {
		b := make([]byte, 4*len(p))
		for j, v := range p {
			binary.LittleEndian.PutUint32(b[4*j:], math.Float32bits(v))
		}
		r.Params = append(r.Params, base64.StdEncoding.EncodeToString(b))
	}
	return r
}

// safety returns min(Q1, Q2) for the rows of x, writing each row's value
// into dst; tape must hold rows rows.
func (c *critic) safety(x []float32, rows int, tape *nn.Tape, dst []float64) {
	for i, p := range c.params {
		out := c.arch.Forward(p, tape, x, rows)
		for r := range rows {
			q := (1 + math.Tanh(float64(out[r]))) / 2
			if i == 0 || q < dst[r] {
				dst[r] = q
			}
		}
	}
}

// criticInput writes [normalised obs | action in [-1, 1]] into dst.
func criticInput(dst []float32, norm *nn.Normalizer, obs, act []float64) {
	od := norm.ObsDim()
	norm.NormObs64(dst[:od], obs)
	for i := range norm.ActDim() {
		lo, hi := float64(norm.ActLow[i]), float64(norm.ActHigh[i])
		dst[od+i] = float32(2*(act[i]-lo)/(hi-lo) - 1)
	}
}

// fitCritic trains ThriftyDAgger's twin success critics by fitted Q
// evaluation of the policy: Q(s, a) ← r + γ(1 − d)·min(Q1', Q2')(s', π(s')),
// reward 1 and done at the first success, done without reward where an
// episode failed or ran out of time, positives oversampled to risk_pos of
// each batch, targets Polyak-averaged.
func fitCritic(ctx context.Context, c helpConfig, model *nn.Model, d *trainData, in *TrainInput, acts [][]float64, done int, progress func(int)) (*critic, map[string]any, error) {
	norm := model.Normalizer()
	od, ad := model.ObsDim(), model.ActDim()
	w := od + ad
	var x, x2 []float32
	var rew, term []float32
	var pos, neg []int
	for i, e := range d.eps {
		n := e.Len()
		for t := range n {
			succ := e.SuccessAt != nil && e.SuccessAt[t] || e.SuccessAt == nil && e.Success && t == n-1
			var next []float64
			var nextAct []float64
			r, dn := float32(0), float32(0)
			switch {
			case succ:
				r, dn = 1, 1
			case t < n-1:
				next, nextAct = e.Obs[t+1], acts[i][(t+1)*ad:(t+2)*ad]
			case e.Terminal || e.Truncated:
				dn = 1 // failed, or out of time: ThriftyDAgger's done without reward
			case e.Next != nil:
				next, nextAct = e.Next, acts[i][n*ad:]
			default:
				continue // cut without its last observation
			}
			row := len(rew)
			x = slices.Grow(x, w)[:len(x)+w]
			x2 = slices.Grow(x2, w)[:len(x2)+w]
			criticInput(x[row*w:], norm, e.Obs[t], e.Action[t])
			if next != nil {
				criticInput(x2[row*w:], norm, next, nextAct)
			}
			rew, term = append(rew, r), append(term, dn)
			if r > 0 {
				pos = append(pos, row)
			} else {
				neg = append(neg, row)
			}
			if succ {
				break // the episode is over for the critic
			}
		}
	}
	if len(rew) == 0 {
		return nil, nil, ErrNoData
	}
	ens, err := nn.NewEnsemble(nn.EnsembleConfig{
		Net:  nn.Config{In: w, Hidden: c.Hidden, Act: nn.ReLU},
		Head: nn.Head{Kind: nn.Deterministic, Squash: true}, ActDim: 1,
		Adam: nn.AdamConfig{LR: c.LR}, Members: 2, Batch: c.Batch, Seed: in.Seed ^ 0xc0ffee, Pool: in.Pool,
	})
	if err != nil {
		return nil, nil, err
	}
	if h, _ := helpCardOf(in.ParentCard); h != nil && h.Critic != nil && in.Parent != nil {
		if pc, err := h.Critic.decode(od, ad); err == nil && slices.Equal(pc.arch.Hidden, c.Hidden) && pc.arch.Act == nn.ReLU {
			for m := range 2 {
				copy(ens.Params(m), pc.params[m])
			}
		}
	}
	arch := ens.Arch()
	target := [][]float32{slices.Clone(ens.Params(0)), slices.Clone(ens.Params(1))}
	tape := arch.NewTape(c.Batch)
	b := nn.Batch{X: make([]float32, c.Batch*w), Y: make([]float32, c.Batch), Rows: c.Batch}
	xb2 := make([]float32, c.Batch*w)
	q := make([]float64, c.Batch)
	idx := make([]int, c.Batch)
	rng := nn.NewRand(in.Seed ^ 0x715c)
	npos := min(len(pos), int(float64(c.Batch)*c.PosFraction))
	if len(neg) == 0 {
		npos = c.Batch
	}
	every := max(1, c.Steps/100)
	var loss, first float64
	tailN := min(100, c.Steps)
	for step := range c.Steps {
		if step%64 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, nil, err
			}
		}
		for i := range idx {
			if i < npos {
				idx[i] = pos[rng.Intn(len(pos))]
			} else {
				idx[i] = neg[rng.Intn(len(neg))]
			}
		}
		for i, r := range idx {
			copy(b.X[i*w:(i+1)*w], x[r*w:(r+1)*w])
			copy(xb2[i*w:(i+1)*w], x2[r*w:(r+1)*w])
		}
		(&critic{arch: arch, params: target}).safety(xb2, c.Batch, tape, q)
		for i, r := range idx {
			y := float64(rew[r]) + c.Gamma*float64(1-term[r])*q[i]
			b.Y[i] = float32(2*y - 1) // tanh units
		}
		l := ens.Step(&b)
		if step == 0 {
			first = l
		}
		if step >= c.Steps-tailN {
			loss += l
		}
		if (step+1)%thriftyPolyakEvery == 0 {
			for m := range 2 {
				nn.Polyak(target[m], ens.Params(m), thriftyPolyak)
			}
		}
		if (step+1)%every == 0 {
			progress(done + step + 1)
		}
	}
	cr := &critic{arch: arch, params: [][]float32{slices.Clone(ens.Params(0)), slices.Clone(ens.Params(1))}}
	for _, p := range cr.params {
		for _, v := range p {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return nil, nil, errors.New("risk critic diverged")
			}
		}
	}
	return cr, map[string]any{"critic_transitions": len(rew), "critic_positives": len(pos),
		"critic_loss_first": first, "critic_loss_final": loss / float64(tailN)}, nil
}
