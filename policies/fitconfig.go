package policies

import (
	"fmt"
	"strconv"

	"tandem/policies/nn"
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

// defaultHead is a Gaussian: Sirius's policies use a 5-mode GMM (kept as
// head=gmm and in preset=robomimic), but with tandem acting on the mean of
// the most likely mode the GMM did worse on every task tried (peg-insert,
// 50 expert demonstrations, 1500 steps: 0.32 held-out success against 1.00
// for the Gaussian, 2 training seeds each; reach 1.00 both). See
// docs/algorithms.md.
const defaultHead = nn.Gaussian

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

// parseLearner reads a learner's parameters: the shared ones (parseFit),
// then those its own function reads (nil when it has none), and refuses
// any that are left over.
func parseLearner(algo string, in *TrainInput, own func(*params)) (fitConfig, error) {
	p := newParams(algo, in.Params)
	c, err := parseFit(p, in)
	if err != nil {
		return fitConfig{}, err
	}
	if own != nil {
		own(p)
	}
	return c, p.done()
}

// parseFit reads the shared parameters.
func parseFit(p *params, in *TrainInput) (fitConfig, error) {
	c := fitConfig{Steps: defaultSteps, Batch: defaultBatch, LR: defaultLR, WeightDecay: defaultWeightDecay, Clip: defaultClip,
		Hidden: defaultHidden, Act: nn.Tanh, Head: nn.Head{Kind: defaultHead, Squash: true, Modes: 5}, FrameStack: defaultFrameStack, Members: 1}
	c.Preset = p.enum("preset", "", "", "robomimic")
	if c.Preset == "robomimic" {
		c.Hidden, c.Act, c.LR, c.Batch, c.FrameStack, c.WeightDecay, c.Clip = robomimicHidden, nn.ReLU, 1e-4, 256, 10, 0, 0
		c.Head.Kind = nn.GMM
	}
	c.Steps = p.int("steps", c.Steps, 1, maxSteps)
	c.Batch = p.int("batch", c.Batch, 1, maxBatch)
	c.LR = p.float("lr", c.LR, 0, 1, true)
	c.WeightDecay = p.float("weight_decay", c.WeightDecay, 0, 1, false)
	c.Clip = p.float("clip", c.Clip, 0, 1e6, false)
	c.Hidden = p.widths("hidden", c.Hidden, maxLayers, maxWidth)
	c.Act = nn.Activation(p.enum("activation", string(c.Act), string(nn.ReLU), string(nn.Tanh)))
	c.LayerNorm = p.bool("layer_norm", false)
	c.Head.Kind = nn.HeadKind(p.enum("head", string(c.Head.Kind), string(nn.Gaussian), string(nn.GMM), string(nn.Deterministic)))
	c.Head.Modes = p.int("modes", 5, 1, 64)
	if c.Head.Kind != nn.GMM {
		c.Head.Modes = 0
		if p.set["modes"] {
			// Also with a GMM parent: a warm start that names modes names
			// head=gmm too, so the head is never taken from the parent
			// while modes is not.
			p.fail(fmt.Errorf("%s: modes applies to head=gmm only (give head=gmm with it)", p.algo))
		}
	}
	c.FrameStack = p.int("frame_stack", c.FrameStack, 1, maxFrameStack)
	c.Help = parseHelp(p)
	defMembers := 1
	if c.Help.On {
		defMembers = thriftyMembers
	}
	c.Members = p.int("members", defMembers, 1, maxMembers)
	c.Memory = parseMemory(p)
	if p.err != nil {
		return c, p.err
	}
	if in.Parent != nil {
		if err := c.inherit(p, in.Parent); err != nil {
			return c, err
		}
	}
	return c, nil
}

func parseMemory(p *params) Memory {
	m := Memory{
		Rule:     p.enum("memory", MemoryAll, MemoryRules...),
		Episodes: p.int("memory_episodes", 0, 0, 1<<30),
		Steps:    p.int("memory_steps", 0, 0, 1<<40),
	}
	if m.Rule == MemoryAll && (m.Episodes > 0 || m.Steps > 0) {
		p.fail(fmt.Errorf("%s: memory_episodes and memory_steps bound a memory rule: give memory=fifo, filo, lfi or mfi", p.algo))
	}
	return m
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
