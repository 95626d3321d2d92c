package rl

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"tandem/policies/nn"
)

// Agent is the off-policy actor-critic: SAC (Haarnoja et al., "Soft
// Actor-Critic Algorithms and Applications", 2018) with RLPD's choices
// (Ball et al., "Efficient Online Reinforcement Learning with Offline
// Data", ICML 2023; agents/rlpd.py in pd-perry/RLIF, adapted from
// ikostrikov/rlpd): a tanh-squashed Gaussian actor, an ensemble of
// LayerNorm Q critics with Polyak-averaged targets, the target the minimum
// over MinQs critics drawn from the ensemble, no entropy term in the
// backup, the actor's loss on the ensemble mean, and a learned temperature.
//
// An Agent belongs to one goroutine (the learner's). Update allocates
// nothing once the agent is built; the critics and the actor run their
// batches on the pool's goroutines (members and row chunks in parallel,
// gradients summed in a fixed order, so results do not depend on
// scheduling).
type Agent struct {
	cfg    Config
	od, ad int
	norm   *nn.Normalizer
	pool   *nn.Pool
	chunks int
	per    int // rows per chunk
	rows   int // batch rows
	rng    nn.Rand

	// The actor: In = od → Width → Width → 2·ad ([μ | log σ]), ReLU, no
	// LayerNorm (RLPD's actor MLP).
	actor   *nn.Arch
	aParams []float32
	aOpt    *nn.Adam
	aTape   []*nn.Tape   // per chunk
	aGrad   [][]float32  // per chunk; [0] holds the sum
	critics *nn.Ensemble // live critics: In = od + ad → Width → LN → Width → LN → 1
	target  [][]float32  // per member
	cTape   [][]*nn.Tape // [member][chunk], for the target and actor passes
	cDx     [][]float32  // [member] rows × (od + ad): ∂(−mean Q)/∂input
	pick    []int        // members drawn for the target minimum
	perm    []int

	// Temperature: α = exp(logAlpha), trained by its own Adam (float64).
	logAlpha, alphaM, alphaV float64
	alphaT                   int

	b      *batch
	cb     nn.Batch    // critic batch: X = [obs | act], Y = target
	xn     []float32   // [next | a'] for the target
	xa     []float32   // [obs | a] for the actor loss
	raw    []float32   // actor outputs, rows × 2·ad
	draw   []float64   // rows × ad: ε
	u      []float64   // rows × ad: μ + σ·ε
	logp   []float64   // rows
	dRaw   []float32   // rows × 2·ad
	tq     [][]float32 // [k][rows]: target Qs of the drawn members
	qa     [][]float32 // [member][rows]: Q(s, a) in the actor pass
	dy     []float32   // per-chunk constant ∂(−mean Q)/∂Q
	actorX []float32   // the input the actor pass ran on

	jobActorFwd, jobActorBwd, jobTarget, jobPolyak, jobCriticActor, jobSumDx nn.Job
	targetKey                                                                int // number of members in pick used by jobTarget

	updates, actorUpdates int
	last                  UpdateStats
}

// UpdateStats are the losses and values of the last update.
type UpdateStats struct {
	CriticLoss  float64 `json:"critic_loss"`
	ActorLoss   float64 `json:"actor_loss"`
	Temperature float64 `json:"temperature"`
	Entropy     float64 `json:"entropy"`
	Q           float64 `json:"q"`      // mean Q(s, a~π) over the ensemble, last actor batch
	Target      float64 `json:"target"` // mean critic target, last batch
}

// NewAgent builds an agent for observations of norm.ObsDim() values and
// norm.ActDim() actions, from seed. pool nil means nn.DefaultPool().
func NewAgent(cfg Config, norm *nn.Normalizer, seed uint64, pool *nn.Pool) (*Agent, error) {
	if norm == nil {
		return nil, errors.New("rl: agent: no normalizer")
	}
	if err := cfg.validate("rl"); err != nil {
		return nil, err
	}
	if pool == nil {
		pool = nn.DefaultPool()
	}
	od, ad := norm.ObsDim(), norm.ActDim()
	g := &Agent{cfg: cfg, od: od, ad: ad, norm: norm, pool: pool, rows: cfg.Batch, rng: *nn.NewRand(seed ^ 0x5ac0ffee)}
	g.chunks = max(1, min(pool.Size(), cfg.Batch))
	g.per = (cfg.Batch + g.chunks - 1) / g.chunks
	var err error
	g.actor, err = nn.NewArch(nn.Config{In: od, Hidden: []int{cfg.Width, cfg.Width}, Out: 2 * ad, Act: nn.ReLU})
	if err != nil {
		return nil, err
	}
	g.aParams = g.actor.NewParams(seed)
	adam := nn.AdamConfig{LR: cfg.LR}
	g.aOpt = nn.NewAdam(adam, g.actor.NumParams())
	for range g.chunks {
		g.aTape = append(g.aTape, g.actor.NewTape(g.per))
		g.aGrad = append(g.aGrad, make([]float32, g.actor.NumParams()))
	}
	g.critics, err = nn.NewEnsemble(nn.EnsembleConfig{
		Net:  nn.Config{In: od + ad, Hidden: []int{cfg.Width, cfg.Width}, Act: nn.ReLU, LayerNorm: true},
		Head: nn.Head{Kind: nn.Deterministic}, ActDim: 1, Adam: adam, Members: cfg.Critics,
		Batch: cfg.Batch, Seed: seed + 1, Pool: pool,
	})
	if err != nil {
		return nil, err
	}
	ca := g.critics.Arch()
	for m := range cfg.Critics {
		g.target = append(g.target, append([]float32(nil), g.critics.Params(m)...))
		var tapes []*nn.Tape
		for range g.chunks {
			tapes = append(tapes, ca.NewTape(g.per))
		}
		g.cTape = append(g.cTape, tapes)
		g.cDx = append(g.cDx, make([]float32, cfg.Batch*ca.In))
		g.qa = append(g.qa, make([]float32, cfg.Batch))
		g.perm = append(g.perm, m)
	}
	for range cfg.MinQs {
		g.tq = append(g.tq, make([]float32, cfg.Batch))
	}
	g.pick = make([]int, cfg.MinQs)
	g.logAlpha = math.Log(cfg.InitTemp)

	n := cfg.Batch
	g.b = newBatch(n, od, ad)
	g.cb = nn.Batch{X: make([]float32, n*ca.In), Y: make([]float32, n), Rows: n}
	g.xn, g.xa = make([]float32, n*ca.In), make([]float32, n*ca.In)
	g.raw, g.dRaw = make([]float32, n*2*ad), make([]float32, n*2*ad)
	g.draw, g.u, g.logp = make([]float64, n*ad), make([]float64, n*ad), make([]float64, n)
	g.dy = make([]float32, g.per)
	for i := range g.dy {
		g.dy[i] = float32(-1 / (float64(cfg.Critics) * float64(n)))
	}
	g.jobActorFwd = nn.Job{Fn: g.actorForwardChunk, N: g.chunks}
	g.jobActorBwd = nn.Job{Fn: g.actorBackwardChunk, N: g.chunks}
	g.jobTarget = nn.Job{Fn: g.targetChunk, N: cfg.MinQs * g.chunks}
	g.jobPolyak = nn.Job{Fn: g.polyakMember, N: cfg.Critics}
	g.jobCriticActor = nn.Job{Fn: g.criticActorChunk, N: cfg.Critics * g.chunks}
	g.jobSumDx = nn.Job{Fn: g.sumDxChunk, N: g.chunks}
	return g, nil
}

// Config is the agent's configuration.
func (g *Agent) Config() Config { return g.cfg }

// Normalizer is the observation and action normalisation.
func (g *Agent) Normalizer() *nn.Normalizer { return g.norm }

// Updates is the number of critic updates made; ActorUpdates the number of
// actor and temperature updates.
func (g *Agent) Updates() int      { return g.updates }
func (g *Agent) ActorUpdates() int { return g.actorUpdates }

// Temperature is the entropy temperature α.
func (g *Agent) Temperature() float64 { return math.Exp(g.logAlpha) }

// Stats are the losses and values of the last update.
func (g *Agent) Stats() UpdateStats { return g.last }

// chunk is chunk c's row range.
func (g *Agent) chunk(c int) (lo, hi int) {
	return min(c*g.per, g.rows), min((c+1)*g.per, g.rows)
}

// Update makes one critic update on a batch drawn from s and, every
// ActorEvery critic updates, one actor and temperature update on the same
// batch (RLPD updates the actor on the last of its UTD minibatches). It
// allocates nothing.
func (g *Agent) Update(s *Sampler) {
	s.sample(g.b, &g.rng, g.norm)
	g.criticStep()
	g.updates++
	if g.updates%g.cfg.ActorEvery == 0 {
		g.actorStep()
		g.actorUpdates++
	}
}

// criticStep: y = r + γ·mask·min_k Q̄_k(s', a'), a' ~ π(·|s'), over MinQs
// target critics drawn without replacement; no entropy term in the backup
// (RLPD's backup_entropy = False); then one Adam step of every critic on
// (Q(s, a) − y)² and the Polyak update of the targets.
func (g *Agent) criticStep() {
	b, od, ad, in := g.b, g.od, g.ad, g.od+g.ad
	g.actorForward(b.next)
	for r := range g.rows {
		for d := range ad {
			mu, ls := float64(g.raw[r*2*ad+d]), float64(g.raw[r*2*ad+ad+d])
			ls, _ = clipLogStd(ls)
			a := math.Tanh(mu + math.Exp(ls)*g.rng.Norm())
			g.xn[r*in+od+d] = float32(a)
		}
		copy(g.xn[r*in:r*in+od], b.next[r*od:(r+1)*od])
		copy(g.cb.X[r*in:r*in+od], b.obs[r*od:(r+1)*od])
		copy(g.cb.X[r*in+od:(r+1)*in], b.act[r*ad:(r+1)*ad])
	}
	// Draw MinQs distinct members (a partial Fisher–Yates shuffle).
	for k := range g.pick {
		j := k + g.rng.Intn(len(g.perm)-k)
		g.perm[k], g.perm[j] = g.perm[j], g.perm[k]
		g.pick[k] = g.perm[k]
	}
	g.pool.Run(&g.jobTarget)
	gamma := float32(g.cfg.Gamma)
	var ty float64
	for r := range g.rows {
		q := g.tq[0][r]
		for k := 1; k < len(g.tq); k++ {
			q = min(q, g.tq[k][r])
		}
		y := b.rew[r] + gamma*b.mask[r]*q
		g.cb.Y[r] = y
		ty += float64(y)
	}
	g.last.Target = ty / float64(g.rows)
	g.last.CriticLoss = g.critics.Step(&g.cb)
	g.pool.Run(&g.jobPolyak)
}

// actorStep: a ~ π(·|s) reparameterised, loss mean(α·log π(a|s) − Q̄(s, a))
// with Q̄ the ensemble mean of the live critics (RLPD's qs.mean(axis=0)),
// one Adam step of the actor; then the temperature's step on
// α·(H − target entropy), H = −mean log π (RLPD's update_temperature).
func (g *Agent) actorStep() {
	b, od, ad, in := g.b, g.od, g.ad, g.od+g.ad
	n := float64(g.rows)
	g.actorForward(b.obs)
	alpha := math.Exp(g.logAlpha)
	var lpSum float64
	for r := range g.rows {
		var lp float64
		for d := range ad {
			mu, ls := float64(g.raw[r*2*ad+d]), float64(g.raw[r*2*ad+ad+d])
			ls, _ = clipLogStd(ls)
			e := g.rng.Norm()
			u := mu + math.Exp(ls)*e
			g.draw[r*ad+d], g.u[r*ad+d] = e, u
			g.xa[r*in+od+d] = float32(math.Tanh(u))
			lp += squashedLogProb1(e, ls, u)
		}
		g.logp[r] = lp
		lpSum += lp
		copy(g.xa[r*in:r*in+od], b.obs[r*od:(r+1)*od])
	}
	g.pool.Run(&g.jobCriticActor)
	g.pool.Run(&g.jobSumDx) // cDx[0] now holds Σ_m ∂(−Q̄/n)/∂input
	var qSum float64
	for m := range g.qa {
		for _, q := range g.qa[m][:g.rows] {
			qSum += float64(q)
		}
	}
	qMean := qSum / (n * float64(len(g.qa)))
	for r := range g.rows {
		for d := range ad {
			dmu, dls := actorGrad(float64(g.raw[r*2*ad+ad+d]), g.draw[r*ad+d], g.u[r*ad+d], alpha/n, float64(g.cDx[0][r*in+od+d]))
			g.dRaw[r*2*ad+d], g.dRaw[r*2*ad+ad+d] = float32(dmu), float32(dls)
		}
	}
	g.pool.Run(&g.jobActorBwd)
	for c := 1; c < g.chunks; c++ {
		addTo(g.aGrad[0], g.aGrad[c])
	}
	g.aOpt.Step(g.aParams, g.aGrad[0])

	meanLp := lpSum / n
	entropy := -meanLp
	g.last.ActorLoss = alpha*meanLp - qMean
	g.last.Entropy = entropy
	g.last.Q = qMean
	// Temperature: loss α·(H − H̄), so ∂loss/∂log α = α·(H − H̄); Adam as
	// optax.adam (β 0.9, 0.999, ε 1e-8).
	g.alphaT++
	grad := alpha * (entropy - g.cfg.targetEntropy(ad))
	g.alphaM = 0.9*g.alphaM + 0.1*grad
	g.alphaV = 0.999*g.alphaV + 0.001*grad*grad
	mh := g.alphaM / (1 - math.Pow(0.9, float64(g.alphaT)))
	vh := g.alphaV / (1 - math.Pow(0.999, float64(g.alphaT)))
	g.logAlpha -= g.cfg.LR * mh / (math.Sqrt(vh) + 1e-8)
	g.last.Temperature = math.Exp(g.logAlpha)
}

// actorGrad is one action dimension's share of the actor loss gradient
// with respect to the raw mean and raw log std, for the loss
// w·log π(a) + f(a) with a = tanh(u), u = μ + σ·ε, σ = exp(clip(rawLogStd)),
// given ε, u and gA = ∂f/∂a. Through u: ∂log π/∂u = 2·tanh u (the
// derivative of −ln(1 − tanh²u)) and ∂u/∂log σ = σ·ε; log σ adds the −1
// of the Gaussian's normaliser and passes no gradient where it is clipped.
func actorGrad(rawLogStd, eps, u, w, gA float64) (dmu, dls float64) {
	ls, inRange := clipLogStd(rawLogStd)
	sigma := math.Exp(ls)
	t := math.Tanh(u)
	gu := w*2*t + gA*(1-t*t) // ∂loss/∂u
	if !inRange {
		return gu, 0
	}
	return gu, gu*sigma*eps - w
}

// actorForward runs the actor on x (rows × od) into g.raw, on the pool.
func (g *Agent) actorForward(x []float32) {
	g.actorX = x
	g.pool.Run(&g.jobActorFwd)
}

func (g *Agent) actorForwardChunk(c int) {
	lo, hi := g.chunk(c)
	if hi <= lo {
		return
	}
	w := 2 * g.ad
	out := g.actor.Forward(g.aParams, g.aTape[c], g.actorX[lo*g.od:hi*g.od], hi-lo)
	copy(g.raw[lo*w:hi*w], out)
}

func (g *Agent) actorBackwardChunk(c int) {
	clear(g.aGrad[c])
	lo, hi := g.chunk(c)
	if hi <= lo {
		return
	}
	w := 2 * g.ad
	g.actor.Backward(g.aParams, g.aTape[c], g.dRaw[lo*w:hi*w], g.aGrad[c], nil)
}

// targetChunk runs drawn target member i/chunks on chunk i%chunks of xn.
func (g *Agent) targetChunk(i int) {
	k, c := i/g.chunks, i%g.chunks
	lo, hi := g.chunk(c)
	if hi <= lo {
		return
	}
	in := g.od + g.ad
	m := g.pick[k]
	q := g.critics.Arch().Forward(g.target[m], g.cTape[m][c], g.xn[lo*in:hi*in], hi-lo)
	copy(g.tq[k][lo:hi], q)
}

func (g *Agent) polyakMember(m int) { nn.Polyak(g.target[m], g.critics.Params(m), g.cfg.Tau) }

// criticActorChunk runs live critic i/chunks forward on chunk i%chunks of
// xa and back to its input with ∂(−Q̄/n)/∂Q = −1/(members·n) per row.
func (g *Agent) criticActorChunk(i int) {
	m, c := i/g.chunks, i%g.chunks
	lo, hi := g.chunk(c)
	if hi <= lo {
		return
	}
	in := g.od + g.ad
	arch, p := g.critics.Arch(), g.critics.Params(m)
	q := arch.Forward(p, g.cTape[m][c], g.xa[lo*in:hi*in], hi-lo)
	copy(g.qa[m][lo:hi], q)
	arch.Backward(p, g.cTape[m][c], g.dy[:hi-lo], nil, g.cDx[m][lo*in:hi*in])
}

// sumDxChunk adds every member's input gradient into cDx[0] over one
// chunk's rows, members in order.
func (g *Agent) sumDxChunk(c int) {
	lo, hi := g.chunk(c)
	in := g.od + g.ad
	for m := 1; m < len(g.cDx); m++ {
		addTo(g.cDx[0][lo*in:hi*in], g.cDx[m][lo*in:hi*in])
	}
}

func addTo(dst, src []float32) {
	src = src[:len(dst)]
	for i, v := range src {
		dst[i] += v
	}
}

// Model snapshots the actor as an inference model: the Gaussian head with
// tanh on the mean, whose action is tanh(μ), the tanh-Gaussian's mode
// (RLPD's eval_actions, dist.mode()). It allocates a copy.
func (g *Agent) Model() (*nn.Model, error) {
	m, err := nn.NewModel(g.actor, ActorHead(), g.norm, 1, [][]float32{g.aParams})
	if err != nil {
		return nil, fmt.Errorf("rl: the actor has diverged: %w", err)
	}
	return m, nil
}

// ActorHead is the head of every actor this package saves: Gaussian over
// [μ | log σ] with tanh on the mean, log σ clipped to [-20, 2].
func ActorHead() nn.Head {
	return nn.Head{Kind: nn.Gaussian, Squash: true, LogStdMin: logStdMin, LogStdMax: logStdMax}
}

// LoadActor copies a model's actor parameters into g (a warm start): the
// model must have the agent's actor architecture and head.
func (g *Agent) LoadActor(m *nn.Model) error {
	if err := compatible(m, g.actor, g.od, g.ad); err != nil {
		return err
	}
	copy(g.aParams, m.Params(0))
	return nil
}

func compatible(m *nn.Model, arch *nn.Arch, od, ad int) error {
	a := m.Arch()
	switch {
	case m.Members() != 1 || m.FrameStack() != 1:
		return fmt.Errorf("rl: parent has %d members and frame stack %d; an actor has 1 and 1", m.Members(), m.FrameStack())
	case m.ObsDim() != od || m.ActDim() != ad:
		return fmt.Errorf("rl: parent acts on %d observations and %d actions; the task has %d and %d", m.ObsDim(), m.ActDim(), od, ad)
	case a.In != arch.In || !slices.Equal(a.Hidden, arch.Hidden) || a.Out != arch.Out || a.Act != arch.Act || a.LayerNorm != arch.LayerNorm:
		return fmt.Errorf("rl: parent network %d→%v→%d (%s, layer norm %v) is not the actor %d→%v→%d (%s, layer norm %v)",
			a.In, a.Hidden, a.Out, a.Act, a.LayerNorm, arch.In, arch.Hidden, arch.Out, arch.Act, arch.LayerNorm)
	case m.Head().Kind != nn.Gaussian || !m.Head().Squash:
		return fmt.Errorf("rl: parent head %s (tanh %v); an actor's is gaussian with tanh", m.Head().Kind, m.Head().Squash)
	}
	return nil
}
