package bus

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"tandem/demos"
	"tandem/policies"
	"tandem/policies/nn"
)

// Current is the value of current.<task> in the policies bucket.
type Current struct {
	Version string    `json:"version"`
	Reason  string    `json:"reason,omitempty"`
	At      time.Time `json:"at"`
	By      string    `json:"by,omitempty"` // the process that promoted it
}

// checkpointPath is where a version's tensors file lives inside a data
// directory (its card beside it, nn.CardPath).
func checkpointPath(version string) string {
	return filepath.Join("policies", version+nn.TensorsExt)
}

// PublishVersion puts version v, stored in dataDir, on the bus: its
// checkpoint and card in the object store, then its row under
// version.<version>, so a watcher that sees the row finds the files. A
// version the bus already holds with the same digest is left as it is;
// another checkpoint under the same name is refused.
func (b *Bus) PublishVersion(ctx context.Context, dataDir string, v demos.PolicyVersion) error {
	if err := b.WaitReady(ctx); err != nil {
		return err
	}
	key := "version." + v.Version
	if e, err := b.kv.Get(ctx, key); err == nil {
		var have demos.PolicyVersion
		if err := json.Unmarshal(e.Value(), &have); err == nil && have.Digest == v.Digest {
			return nil
		}
		return fmt.Errorf("bus: version %s is already on the bus with another checkpoint (two learners naming versions alike?)", v.Version)
	} else if !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("bus: version %s: %w", v.Version, err)
	}
	path := filepath.Join(dataDir, v.Path)
	tensors, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("bus: version %s: %w", v.Version, err)
	}
	if got := policies.Digest(tensors); got != v.Digest {
		return fmt.Errorf("bus: version %s: checkpoint %s has digest %s; the store says %s", v.Version, path, got, v.Digest)
	}
	card, err := os.ReadFile(nn.CardPath(path))
	if err != nil {
		return fmt.Errorf("bus: version %s: %w", v.Version, err)
	}
	if _, err := b.objects.PutBytes(ctx, v.Version+nn.TensorsExt, tensors); err != nil {
		return fmt.Errorf("bus: version %s: put checkpoint: %w", v.Version, err)
	}
	if _, err := b.objects.PutBytes(ctx, v.Version+nn.CardExt, card); err != nil {
		return fmt.Errorf("bus: version %s: put card: %w", v.Version, err)
	}
	// A learner's state beside the checkpoint (policies.Stateful: an RL
	// learner's critics) lets another learner resume from this version.
	if state, err := os.ReadFile(policies.StatePath(path)); err == nil {
		if _, err := b.objects.PutBytes(ctx, v.Version+policies.StateExt, state); err != nil {
			return fmt.Errorf("bus: version %s: put learner state: %w", v.Version, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("bus: version %s: %w", v.Version, err)
	}
	row := v
	row.Path, row.Promoted, row.PromotedAt = checkpointPath(v.Version), false, time.Time{}
	js, err := json.Marshal(row)
	if err != nil {
		return err
	}
	if _, err := b.kv.Create(ctx, key, js); err != nil && !errors.Is(err, jetstream.ErrKeyExists) {
		return fmt.Errorf("bus: version %s: %w", v.Version, err)
	}
	return nil
}

// SetCurrent makes version (published before) task's current version on
// the bus; every mirror follows.
func (b *Bus) SetCurrent(ctx context.Context, task, version, reason string) error {
	if err := b.WaitReady(ctx); err != nil {
		return err
	}
	if _, err := b.kv.Get(ctx, "version."+version); err != nil {
		return fmt.Errorf("bus: promote %s: the bus does not hold it: %w", version, err)
	}
	js, _ := json.Marshal(Current{Version: version, Reason: reason, At: time.Now().UTC(), By: b.cfg.Name})
	if _, err := b.kv.Put(ctx, "current."+task, js); err != nil {
		return fmt.Errorf("bus: promote %s: %w", version, err)
	}
	return nil
}

// CurrentOf returns task's current version on the bus (ok false if none).
func (b *Bus) CurrentOf(ctx context.Context, task string) (c Current, ok bool, err error) {
	if err := b.WaitReady(ctx); err != nil {
		return c, false, err
	}
	e, err := b.kv.Get(ctx, "current."+task)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return c, false, nil
	}
	if err != nil {
		return c, false, err
	}
	return c, true, json.Unmarshal(e.Value(), &c)
}

// Version returns the row of a version the bus holds.
func (b *Bus) Version(ctx context.Context, version string) (demos.PolicyVersion, error) {
	var v demos.PolicyVersion
	if err := b.WaitReady(ctx); err != nil {
		return v, err
	}
	e, err := b.kv.Get(ctx, "version."+version)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return v, fmt.Errorf("%w on the bus: %s", demos.ErrNoPolicy, version)
	}
	if err != nil {
		return v, err
	}
	return v, json.Unmarshal(e.Value(), &v)
}

// Rollback makes task's previously current version (the newest one in the
// bucket's history of current.<task> that is not the current one) current
// again, and returns it.
func (b *Bus) Rollback(ctx context.Context, task, reason string) (string, error) {
	if err := b.WaitReady(ctx); err != nil {
		return "", err
	}
	hist, err := b.kv.History(ctx, "current."+task)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return "", fmt.Errorf("bus: task %s has no current version to roll back", task)
	}
	if err != nil {
		return "", err
	}
	var cur string
	for i := len(hist) - 1; i >= 0; i-- {
		var c Current
		if hist[i].Operation() != jetstream.KeyValuePut || json.Unmarshal(hist[i].Value(), &c) != nil {
			continue
		}
		if cur == "" {
			cur = c.Version
			continue
		}
		if c.Version != cur {
			return c.Version, b.SetCurrent(ctx, task, c.Version, reason)
		}
	}
	return "", fmt.Errorf("bus: task %s has no version before %s in the last %d promotions", task, cur, len(hist))
}

// Mirror keeps a store's policy versions and current versions in step
// with the bus: every version published is copied into the data directory
// (its checkpoint verified against the row's digest) and added to the
// store; every change of a task's current version is promoted in the
// store and reported to OnCurrent, which switches sessions at their next
// episode boundary (live.Hub.FollowPromotions). The store is the bus's
// view in this process, so every command and API that reads versions
// from it sees the bus's. Failures are retried.
type Mirror struct {
	b         *Bus
	st        *demos.Store
	onCurrent func(task, version string)
	state     bool
	log       *slog.Logger
	cancel    context.CancelFunc
	done      chan struct{}

	mu      sync.Mutex
	synced  bool // the initial values were applied
	waiters []chan struct{}
}

// MirrorConfig configures a Mirror.
type MirrorConfig struct {
	// OnCurrent, if set, hears each task whose current version changed in
	// the store, from the mirror's goroutine.
	OnCurrent func(task, version string)
	// LearnerState copies a version's learner state too (the file beside
	// its checkpoint that lets a learner resume from it; learn needs it,
	// serve and work do not).
	LearnerState bool
}

// MirrorPolicies starts mirroring the bus's policies into st.
func (b *Bus) MirrorPolicies(st *demos.Store, cfg MirrorConfig) *Mirror {
	ctx, cancel := context.WithCancel(context.Background())
	m := &Mirror{b: b, st: st, onCurrent: cfg.OnCurrent, state: cfg.LearnerState, log: b.log, cancel: cancel, done: make(chan struct{})}
	go m.run(ctx)
	return m
}

// Close stops the mirror.
func (m *Mirror) Close() {
	m.cancel()
	<-m.done
}

// Synced waits until the mirror has applied what the bus held when it
// started (or ctx ends).
func (m *Mirror) Synced(ctx context.Context) error {
	m.mu.Lock()
	if m.synced {
		m.mu.Unlock()
		return nil
	}
	c := make(chan struct{})
	m.waiters = append(m.waiters, c)
	m.mu.Unlock()
	select {
	case <-c:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("bus: policies not mirrored: %w", ctx.Err())
	}
}

// Ensure mirrors version now, if the store does not have it yet: a
// worker asked for a version the mirror has not reached. Safe for
// concurrent use.
func (m *Mirror) Ensure(ctx context.Context, version string) error {
	if _, err := m.st.Policy(ctx, version); err == nil {
		return nil
	}
	if err := m.b.WaitReady(ctx); err != nil {
		return err
	}
	e, err := m.b.kv.Get(ctx, "version."+version)
	if err != nil {
		return fmt.Errorf("bus: policy version %s: %w", version, err)
	}
	return m.apply(ctx, e)
}

func (m *Mirror) setSynced() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.synced {
		return
	}
	m.synced = true
	for _, c := range m.waiters {
		close(c)
	}
	m.waiters = nil
}

func (m *Mirror) run(ctx context.Context) {
	defer close(m.done)
	if err := m.b.WaitReady(ctx); err != nil {
		return
	}
	// Entries that failed (a checkpoint not yet readable, the store
	// busy) are retried every second until they apply.
	retry := map[string]jetstream.KeyValueEntry{}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for ctx.Err() == nil {
		w, err := m.b.kv.WatchAll(ctx)
		if err != nil {
			sleep(ctx, time.Second)
			continue
		}
		open := true
		for open {
			select {
			case <-ctx.Done():
				w.Stop()
				return
			case e, ok := <-w.Updates():
				if !ok {
					open = false
					break
				}
				if e == nil { // the initial values are all in
					m.setSynced()
					continue
				}
				if err := m.apply(ctx, e); err != nil {
					if _, seen := retry[e.Key()]; !seen {
						m.log.Warn("bus: cannot mirror a policy entry yet; retrying", "key", e.Key(), "err", err)
					}
					retry[e.Key()] = e
				} else {
					delete(retry, e.Key())
				}
			case <-tick.C:
				// Versions before currents: a current needs its version.
				for _, prefix := range []string{"version.", "current."} {
					for k, e := range retry {
						if strings.HasPrefix(k, prefix) && m.apply(ctx, e) == nil {
							delete(retry, k)
						}
					}
				}
			}
		}
		w.Stop()
	}
}

// apply mirrors one bucket entry.
func (m *Mirror) apply(ctx context.Context, e jetstream.KeyValueEntry) error {
	if e.Operation() != jetstream.KeyValuePut {
		return nil // deletions and purges leave local history alone
	}
	switch {
	case strings.HasPrefix(e.Key(), "version."):
		var v demos.PolicyVersion
		if err := json.Unmarshal(e.Value(), &v); err != nil {
			m.log.Error("bus: malformed version entry", "key", e.Key(), "err", err)
			return nil
		}
		return m.version(ctx, v)
	case strings.HasPrefix(e.Key(), "current."):
		var c Current
		if err := json.Unmarshal(e.Value(), &c); err != nil {
			m.log.Error("bus: malformed current entry", "key", e.Key(), "err", err)
			return nil
		}
		return m.current(ctx, strings.TrimPrefix(e.Key(), "current."), c)
	}
	return nil
}

// version copies v's checkpoint and card into the data directory and adds
// v to the store, unless the store has it.
func (m *Mirror) version(ctx context.Context, v demos.PolicyVersion) error {
	if have, err := m.st.Policy(ctx, v.Version); err == nil {
		if have.Digest != v.Digest {
			return fmt.Errorf("bus: version %s here has digest %s; the bus's has %s", v.Version, have.Digest, v.Digest)
		}
		return nil
	} else if !errors.Is(err, demos.ErrNoPolicy) {
		return err
	}
	tensors, err := m.b.objects.GetBytes(ctx, v.Version+nn.TensorsExt) // the object store checks its own digest
	if err != nil {
		return fmt.Errorf("checkpoint of %s: %w", v.Version, err)
	}
	if got := policies.Digest(tensors); got != v.Digest {
		return fmt.Errorf("checkpoint of %s has digest %s; its row says %s", v.Version, got, v.Digest)
	}
	card, err := m.b.objects.GetBytes(ctx, v.Version+nn.CardExt)
	if err != nil {
		return fmt.Errorf("card of %s: %w", v.Version, err)
	}
	v.Path = checkpointPath(v.Version)
	abs := filepath.Join(m.st.Dir(), v.Path)
	if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
		return err
	}
	if old, err := os.ReadFile(abs); err != nil || !bytes.Equal(old, tensors) {
		if err := nn.WriteFile(abs, tensors); err != nil {
			return err
		}
	}
	if err := nn.WriteFile(nn.CardPath(abs), card); err != nil {
		return err
	}
	if m.state {
		state, err := m.b.objects.GetBytes(ctx, v.Version+policies.StateExt)
		switch {
		case err == nil:
			if err := nn.WriteFile(policies.StatePath(abs), state); err != nil {
				return err
			}
		case !errors.Is(err, jetstream.ErrObjectNotFound):
			return fmt.Errorf("learner state of %s: %w", v.Version, err)
		}
	}
	v.Promoted, v.PromotedAt = false, time.Time{}
	if err := m.st.AddPolicy(ctx, v); err != nil {
		if _, again := m.st.Policy(ctx, v.Version); again == nil {
			return nil // added meanwhile (this process trained it)
		}
		return err
	}
	m.log.Info("bus: mirrored policy version", "version", v.Version, "task", v.Task)
	return nil
}

// current promotes c.Version for task in the store when it is not
// already current there.
func (m *Mirror) current(ctx context.Context, task string, c Current) error {
	cur, ok, err := m.st.Current(ctx, task)
	if err != nil {
		return err
	}
	if ok && cur.Version == c.Version {
		return nil
	}
	if _, err := m.st.Policy(ctx, c.Version); err != nil {
		e, gerr := m.b.kv.Get(ctx, "version."+c.Version)
		if gerr != nil {
			return fmt.Errorf("current %s of %s: %w", c.Version, task, gerr)
		}
		if err := m.apply(ctx, e); err != nil {
			return err
		}
	}
	reason := "bus"
	if c.Reason != "" {
		reason = "bus: " + c.Reason
	}
	if err := m.st.Promote(ctx, c.Version, reason); err != nil {
		return err
	}
	m.log.Info("bus: current policy changed", "task", task, "version", c.Version)
	if m.onCurrent != nil {
		m.onCurrent(task, c.Version)
	}
	return nil
}
