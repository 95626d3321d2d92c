package live

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"tandem/demos"
	"tandem/policies"
	"tandem/policies/nn"
)

// OnlineConfig configures a hub's online trainer.
type OnlineConfig struct {
	// Algo is the learner (policies.Learners); Params its hyper-parameters.
	Algo   string
	Params map[string]string
	// MinNewEpisodes finished episodes of a task recorded since the last
	// training start a new one (default 10).
	MinNewEpisodes int
	// EvalEpisodes held-out episodes score each candidate (default 30).
	EvalEpisodes int
	// PromoteMin is the held-out success rate the first learned version
	// must reach to replace what sessions run (default 0.5; PromoteAny
	// promotes it whatever it scores); later candidates must reach the
	// current version's held-out success rate (both scored on the same
	// seeds). See docs/algorithms.md.
	PromoteMin float64
	// Every is how often the trainer looks for new data (default 5 s).
	Every time.Duration
	// Note is stored with each version ("tandem serve --learn").
	Note string
}

// PromoteAny as OnlineConfig.PromoteMin promotes the first learned version
// whatever it scores, 0 included (the zero value means the default).
const PromoteAny = -1.0

func (c *OnlineConfig) defaults() error {
	if _, err := policies.NewLearner(c.Algo); err != nil {
		return err
	}
	if c.MinNewEpisodes == 0 {
		c.MinNewEpisodes = 10
	}
	if c.EvalEpisodes == 0 {
		c.EvalEpisodes = 30
	}
	if c.PromoteMin == 0 {
		c.PromoteMin = 0.5
	}
	if c.Every == 0 {
		c.Every = 5 * time.Second
	}
	if c.Note == "" {
		c.Note = "tandem serve --learn"
	}
	switch {
	case c.MinNewEpisodes < 1 || c.MinNewEpisodes > 100_000:
		return fmt.Errorf("learn: min new episodes %d not in [1, 100000]", c.MinNewEpisodes)
	case c.EvalEpisodes < 1 || c.EvalEpisodes > 10_000:
		return fmt.Errorf("learn: evaluation episodes %d not in [1, 10000]", c.EvalEpisodes)
	case c.PromoteMin != PromoteAny && !(c.PromoteMin >= 0 && c.PromoteMin <= 1):
		return fmt.Errorf("learn: promote threshold %g not in [0, 1]", c.PromoteMin)
	case c.Every < 100*time.Millisecond:
		return fmt.Errorf("learn: check interval %v below 100ms", c.Every)
	}
	return nil
}

// OnlineEvent reports what the online trainer did.
type OnlineEvent struct {
	Task      string               `json:"task"`
	Version   string               `json:"version,omitempty"`
	Parent    string               `json:"parent,omitempty"`
	Episodes  int                  `json:"episodes"`
	Eval      *policies.EvalResult `json:"eval,omitempty"`
	Promoted  bool                 `json:"promoted"`
	Reason    string               `json:"reason"`
	TrainSecs float64              `json:"train_s"`
	Err       string               `json:"error,omitempty"`
	At        time.Time            `json:"at"`
}

// Online is an online trainer: one goroutine that, for each task its
// Tasks function names, trains a candidate when enough new data has
// arrived, evaluates it headlessly, registers it and promotes it by the
// stated rule. A hub runs one for its learning sessions
// (Hub.StartLearning), which run the policy Current and switch at their
// next episode boundary; `tandem learn` runs one without sessions, on the
// episodes the bus brings into its store (StartOnline). Its methods are
// safe for concurrent use.
type Online struct {
	cfg     OnlineConfig
	deps    OnlineDeps
	tr      *Trainer
	log     *slog.Logger
	stop    chan struct{}
	closing sync.Once // closes stop
	done    chan struct{}

	pool *nn.Pool // training's workers: one core fewer than the machine

	mu     sync.Mutex       // guards last, events
	last   map[string]int64 // task → newest episode id trained on
	events []OnlineEvent    // newest last, bounded
}

// OnlineDeps are what an online trainer works on.
type OnlineDeps struct {
	Store    *demos.Store       // required: episodes in, versions out
	Policies *policies.Registry // new versions are registered here (policies.NewRegistry())
	Catalog  Catalog            // tasks (the tasks registry)
	Logger   *slog.Logger       // slog.Default()
	// Tasks lists the tasks to train, asked at every check (required).
	Tasks func() []string
	// OnEvent, if set, hears each event once recorded (a version trained,
	// promoted or not, or a failure), from the trainer's goroutine.
	OnEvent func(OnlineEvent)
}

// maxEvents bounds the kept online-trainer events.
const maxEvents = 256

// StartOnline checks cfg and starts an online trainer.
func StartOnline(cfg OnlineConfig, deps OnlineDeps) (*Online, error) {
	if deps.Store == nil || deps.Tasks == nil {
		return nil, fmt.Errorf("learn: the online trainer needs a store and a task list")
	}
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	if deps.Policies == nil {
		deps.Policies = policies.NewRegistry()
	}
	if deps.Catalog == nil {
		deps.Catalog = registryCatalog{}
	}
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	o := &Online{cfg: cfg, deps: deps, log: deps.Logger,
		tr:   &Trainer{Store: deps.Store, Policies: deps.Policies, Catalog: deps.Catalog},
		stop: make(chan struct{}), done: make(chan struct{}), last: map[string]int64{},
		// Training uses every core but one, which the session loops keep (on
		// two cores: training runs on the trainer's goroutine alone).
		pool: nn.NewPool(runtime.GOMAXPROCS(0) - 2)}
	go o.run()
	return o, nil
}

// StartLearning starts the hub's online trainer (once). Sessions take part
// with Session.SetLearning (or Options.Learn); the trainer works on every
// task at least one learning session runs.
func (h *Hub) StartLearning(cfg OnlineConfig) error {
	if h.cfg.Store == nil {
		return fmt.Errorf("learn: the online trainer needs a store")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.online != nil {
		return fmt.Errorf("learn: already learning with %s", h.online.cfg.Algo)
	}
	o, err := StartOnline(cfg, OnlineDeps{
		Store: h.cfg.Store, Policies: h.cfg.Policies, Catalog: h.cfg.Catalog, Logger: h.log, Tasks: h.learningTasks,
		OnEvent: func(e OnlineEvent) {
			if e.Promoted {
				h.FollowPromotions(nil)
			}
		},
	})
	if err != nil {
		return err
	}
	h.online = o
	return nil
}

// Learning reports the online trainer's algorithm ("" when off).
func (h *Hub) Learning() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.online == nil {
		return ""
	}
	return h.online.cfg.Algo
}

// LearnEvents returns the online trainer's recent events, oldest first.
func (h *Hub) LearnEvents() []OnlineEvent {
	h.mu.Lock()
	o := h.online
	h.mu.Unlock()
	if o == nil {
		return []OnlineEvent{}
	}
	return o.Events()
}

// Algo is the trainer's algorithm.
func (o *Online) Algo() string { return o.cfg.Algo }

// Events returns the trainer's recent events, oldest first.
func (o *Online) Events() []OnlineEvent {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]OnlineEvent{}, o.events...)
}

func (o *Online) record(e OnlineEvent) {
	e.At = time.Now()
	o.mu.Lock()
	o.events = append(o.events, e)
	if len(o.events) > maxEvents {
		o.events = o.events[len(o.events)-maxEvents:]
	}
	o.mu.Unlock()
	if e.Err != "" {
		o.log.Warn("online training failed", "task", e.Task, "err", e.Err)
	} else {
		o.log.Info("online training", "task", e.Task, "version", e.Version, "promoted", e.Promoted, "reason", e.Reason)
	}
	if o.deps.OnEvent != nil {
		o.deps.OnEvent(e)
	}
}

// Close stops the trainer; a training in flight is abandoned (its
// context ends). It may be called more than once, from several
// goroutines at once; each call returns when the trainer has stopped.
func (o *Online) Close() {
	o.closing.Do(func() { close(o.stop) })
	<-o.done
}

func (o *Online) run() {
	defer close(o.done)
	// Training runs here (its pool has no workers on two cores): at a
	// lower priority than the session loops.
	lowerPriority()
	t := time.NewTicker(o.cfg.Every)
	defer t.Stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-o.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	for {
		select {
		case <-o.stop:
			return
		case <-t.C:
		}
		for _, task := range o.deps.Tasks() {
			if ctx.Err() != nil {
				return
			}
			o.step(ctx, task)
		}
	}
}

// learningTasks lists the tasks of learning sessions.
func (h *Hub) learningTasks() []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range h.List() {
		if s.Live() && s.Learning() && !seen[s.spec.Name] {
			seen[s.spec.Name] = true
			out = append(out, s.spec.Name)
		}
	}
	return out
}

// step trains task's next candidate when enough new episodes arrived.
func (o *Online) step(ctx context.Context, task string) {
	st := o.deps.Store
	o.mu.Lock()
	last := o.last[task]
	o.mu.Unlock()
	// Most checks find too few new episodes: they read only the new
	// episodes' summaries (the ones Episodes would keep), and the task's
	// steps are loaded only when a training starts (every episode's steps
	// at each check took 240 ms for 1,000 reach episodes, growing with
	// the store).
	news, err := st.ListEpisodes(ctx, demos.Filter{Task: task, Ended: true, After: last})
	if err != nil {
		if ctx.Err() == nil { // a shutdown is not a failed training
			o.record(OnlineEvent{Task: task, Err: err.Error()})
		}
		return
	}
	fresh := 0
	for _, e := range news {
		if trainable(&e) {
			fresh++
		}
	}
	if fresh < o.cfg.MinNewEpisodes {
		return
	}
	eps, err := Episodes(ctx, st, demos.Filter{Task: task})
	if err != nil {
		if ctx.Err() == nil {
			o.record(OnlineEvent{Task: task, Err: err.Error()})
		}
		return
	}
	fresh = 0
	var newest int64
	for _, e := range eps {
		if e.ID > last {
			fresh++
		}
		newest = max(newest, e.ID)
	}
	if fresh < o.cfg.MinNewEpisodes {
		return
	}
	o.mu.Lock()
	o.last[task] = newest
	o.mu.Unlock()
	cur, hasCur, err := st.Current(ctx, task)
	if err != nil {
		if ctx.Err() == nil {
			o.record(OnlineEvent{Task: task, Err: err.Error()})
		}
		return
	}
	parent := ""
	if hasCur && cur.Algo == o.cfg.Algo {
		parent = cur.Version // warm start from the current version of this algorithm
	}
	o.log.Info("online training started", "task", task, "algo", o.cfg.Algo, "episodes", len(eps), "new", fresh, "parent", parent)
	res, err := o.tr.Train(ctx, TrainRequest{
		Algo: o.cfg.Algo, Task: task, Episodes: eps, Params: o.cfg.Params, Parent: parent,
		EvalEpisodes: o.cfg.EvalEpisodes, Seed: uint64(newest),
		// Leave a core to the sessions: training never competes for all of them.
		EvalWorkers: max(1, runtime.GOMAXPROCS(0)-1), Pool: o.pool,
		Note: o.cfg.Note,
	})
	if err != nil {
		if ctx.Err() == nil {
			o.record(OnlineEvent{Task: task, Parent: parent, Episodes: len(eps), Err: err.Error()})
		}
		return
	}
	ev := OnlineEvent{Task: task, Version: res.Version, Parent: parent, Episodes: res.Episodes, Eval: res.Eval, TrainSecs: res.TrainSecs}
	ev.Promoted, ev.Reason = o.decide(res, cur, hasCur)
	if ev.Promoted {
		if err := st.Promote(ctx, res.Version, "online: "+ev.Reason); err != nil {
			ev.Err = err.Error()
			ev.Promoted = false
		}
	}
	o.record(ev)
}

// decide applies the promotion rule to a candidate.
func (o *Online) decide(res TrainResult, cur demos.PolicyVersion, hasCur bool) (bool, string) {
	if res.Eval == nil {
		return false, "no evaluation"
	}
	got := res.Eval.SuccessRate
	if !hasCur {
		floor := max(o.cfg.PromoteMin, 0) // PromoteAny: any rate ≥ 0
		if got >= floor {
			return true, fmt.Sprintf("first version: held-out success %.3f ≥ %.3f", got, floor)
		}
		return false, fmt.Sprintf("first version: held-out success %.3f < %.3f", got, floor)
	}
	var ce policies.EvalResult
	if err := json.Unmarshal(cur.Eval, &ce); err != nil || ce.Episodes == 0 {
		return true, fmt.Sprintf("current %s has no evaluation; held-out success %.3f", cur.Version, got)
	}
	if got >= ce.SuccessRate {
		return true, fmt.Sprintf("held-out success %.3f ≥ current %s's %.3f", got, cur.Version, ce.SuccessRate)
	}
	return false, fmt.Sprintf("held-out success %.3f < current %s's %.3f", got, cur.Version, ce.SuccessRate)
}
