package policies

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"sync"

	"tandem/policies/nn"
	"tandem/sim"
)

// Version describes a learned version for the registry: where its
// checkpoint is and the digest it must have.
type Version struct {
	Info
	Task   string
	Path   string // safetensors file (its card beside it)
	Digest string // sha256 of the file, hex; empty skips the check
}

// Digest is the sha256 of a checkpoint's tensors, hex: what the registry
// stores and checks before a version is loaded.
func Digest(tensors []byte) string {
	h := sha256.Sum256(tensors)
	return hex.EncodeToString(h[:])
}

// FileDigest returns the sha256 of the file at path, hex (Digest of its
// contents, read in pieces).
func FileDigest(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// RegisterVersion adds a learned version. Its checkpoint is loaded (and
// its digest checked) once, at the first New; each session then gets its
// own actor over the shared immutable model. A version trained for one
// task refuses to act on another.
func (r *Registry) RegisterVersion(v Version) error {
	if v.Kind == "" {
		v.Kind = Learned
	}
	var (
		once  sync.Once
		model *nn.Model
		card  *nn.Card
		err   error
	)
	load := func() {
		if v.Digest != "" {
			var got string
			if got, err = FileDigest(v.Path); err != nil {
				return
			}
			if got != v.Digest {
				err = fmt.Errorf("policies: %s: checkpoint %s has digest %s; the registry expects %s", v.Name, v.Path, got, v.Digest)
				return
			}
		}
		model, card, err = nn.Load(v.Path)
	}
	return r.Register(v.Info, func(task sim.Task, o Options) (sim.Policy, error) {
		once.Do(load)
		if err != nil {
			return nil, err
		}
		if spec := task.Spec(); v.Task != "" && spec.Name != v.Task {
			return nil, fmt.Errorf("policies: %s was trained for %s, not %s", v.Name, v.Task, spec.Name)
		}
		if o.Explore && card != nil {
			if f, ok := explorer(card.Algorithm); ok {
				return f(model, o.Seed)
			}
		}
		return NewActor(model, card)
	})
}

// NewActor makes a session's actor from a model and its card: the model's
// policy (*nn.Policy), or, when the card configures help requests
// (hyperparameters.help, written by the learners with help=true), a
// *HelpActor that asks for a human when its novelty or risk crosses the
// card's thresholds. The actor is owned by one goroutine.
func NewActor(model *nn.Model, card *nn.Card) (sim.Policy, error) {
	h, err := helpCardOf(card)
	if err != nil {
		return nil, err
	}
	if h == nil {
		return model.NewPolicy(), nil
	}
	return newHelpActor(model, h)
}
