package policies

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"

	"tandem/sim"
)

// Names of the built-in policies.
const (
	Expert = "expert"
	Random = "random"
)

// Kinds of policy in a listing.
const (
	Builtin = "builtin"
	Learned = "learned"
)

// Info describes one policy a registry offers.
type Info struct {
	Name        string `json:"name"`
	Version     string `json:"version"`
	Kind        string `json:"kind"` // Builtin or Learned
	Description string `json:"description"`
}

// Options adjust how a policy is built.
type Options struct {
	// Skill of the scripted expert in [0, 1] (1 is the best the script can
	// do); nil means 1. Only the expert takes a skill.
	Skill *float64
	// Seed draws the policy's own randomness (the expert's noise, random's
	// actions); the episode seed is mixed in at each Reset.
	Seed uint64
	// Explore asks a learned version for the actor its algorithm collects
	// data with (RLIF and RLPD sample their Gaussian) instead of the one
	// evaluation scores; versions of other algorithms ignore it.
	Explore bool
}

// SkillOr returns the skill o asks for, or def when none was given.
func (o Options) SkillOr(def float64) float64 {
	if o.Skill == nil {
		return def
	}
	return *o.Skill
}

// Maker builds a policy bound to a task instance. It runs on the goroutine
// that owns task.
type Maker func(task sim.Task, o Options) (sim.Policy, error)

type entry struct {
	info Info
	make Maker
}

// Registry resolves policy names. The zero value is not usable; NewRegistry
// returns one holding the built-ins. Safe for concurrent use.
type Registry struct {
	mu      sync.RWMutex
	entries map[string]entry
}

// NewRegistry returns a registry with the built-in policies.
func NewRegistry() *Registry {
	r := &Registry{entries: map[string]entry{}}
	r.entries[Expert] = entry{
		info: Info{Name: Expert, Version: Expert, Kind: Builtin, Description: "the task's scripted expert"},
		make: func(task sim.Task, o Options) (sim.Policy, error) { return task.Expert(o.SkillOr(1), o.Seed), nil },
	}
	r.entries[Random] = entry{
		info: Info{Name: Random, Version: Random, Kind: Builtin, Description: "uniform random actions within the bounds"},
		make: func(task sim.Task, o Options) (sim.Policy, error) { return NewRandom(task.Spec(), o.Seed), nil },
	}
	return r
}

// Register adds a policy under info.Name (learned versions). A name already
// present is refused.
func (r *Registry) Register(info Info, make Maker) error {
	if info.Name == "" || make == nil {
		return errors.New("policies: a policy needs a name and a maker")
	}
	if strings.ContainsAny(info.Name, ",\x00") {
		return fmt.Errorf("policies: name %q may not contain a comma", info.Name)
	}
	if info.Version == "" {
		info.Version = info.Name
	}
	if info.Kind == "" {
		info.Kind = Learned
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.entries[info.Name]; ok {
		return fmt.Errorf("policies: %q is already registered", info.Name)
	}
	r.entries[info.Name] = entry{info: info, make: make}
	return nil
}

// Names lists the registered names, built-ins first, then the rest sorted.
func (r *Registry) Names() []string {
	var out []string
	for _, i := range r.List() {
		out = append(out, i.Name)
	}
	return out
}

// List describes every registered policy, built-ins first.
func (r *Registry) List() []Info {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]Info, 0, len(r.entries))
	for _, e := range r.entries {
		out = append(out, e.info)
	}
	sort.Slice(out, func(i, j int) bool {
		if bi, bj := out[i].Kind == Builtin, out[j].Kind == Builtin; bi != bj {
			return bi
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// Lookup returns the description of name.
func (r *Registry) Lookup(name string) (Info, error) {
	r.mu.RLock()
	e, ok := r.entries[name]
	r.mu.RUnlock()
	if !ok {
		return Info{}, r.unknown(name)
	}
	return e.info, nil
}

// Check reports whether name with options o can be built: the name is
// known, a skill is given only to the expert and lies in [0, 1].
func (r *Registry) Check(name string, o Options) error {
	if _, err := r.Lookup(name); err != nil {
		return err
	}
	if o.Skill != nil {
		if name != Expert {
			return fmt.Errorf("policies: skill applies to the scripted expert only, not to %q", name)
		}
		if s := *o.Skill; !(s >= 0 && s <= 1) {
			return fmt.Errorf("policies: skill must be in [0, 1], got %g", s)
		}
	}
	return nil
}

// New builds name on task (after Check). The policy is owned by task's
// goroutine.
func (r *Registry) New(name string, task sim.Task, o Options) (sim.Policy, error) {
	if err := r.Check(name, o); err != nil {
		return nil, err
	}
	r.mu.RLock()
	e := r.entries[name]
	r.mu.RUnlock()
	return e.make(task, o)
}

// Version is the label steps acted by name are recorded with.
func (r *Registry) Version(name string) string {
	if i, err := r.Lookup(name); err == nil {
		return i.Version
	}
	return name
}

func (r *Registry) unknown(name string) error {
	if len(name) > 64 {
		name = name[:64] + "…"
	}
	return fmt.Errorf("policies: unknown policy %q (valid: %s)", name, strings.Join(r.Names(), ", "))
}

// RandomPolicy acts uniformly at random within a task's action bounds. Its
// stream is drawn from its seed and the episode seed (PCG), so a rollout
// repeats.
type RandomPolicy struct {
	low, high []float64
	seed      uint64
	rng       *rand.Rand
}

// NewRandom returns a random policy for spec.
func NewRandom(spec sim.Spec, seed uint64) *RandomPolicy {
	p := &RandomPolicy{low: spec.ActionLow, high: spec.ActionHigh, seed: seed}
	p.Reset(0)
	return p
}

// Reset implements sim.Resetter.
func (p *RandomPolicy) Reset(seed uint64) { p.rng = rand.New(rand.NewPCG(p.seed, seed)) }

// Act implements sim.Policy.
func (p *RandomPolicy) Act(_, dst []float64) {
	for i := range dst {
		dst[i] = p.low[i] + p.rng.Float64()*(p.high[i]-p.low[i])
	}
}
