package nn

import (
	"runtime"
	"sync"
)

// Pool is a fixed set of worker goroutines that run a Job's indices
// together with the goroutine that calls Run. Workers are started once and
// live for the process: nothing is started or allocated per call (gonum's
// parallel Sgemm, by contrast, starts goroutines on each call). Run is safe
// for concurrent use; concurrent Runs share the workers and each caller
// always works on its own job, so every Run makes progress.
type Pool struct {
	workers []chan *Job
}

// Job is a reusable parallel loop: Run calls Fn(i) for i in [0, N) with
// index i on participant i mod P (the caller is participant 0), so which
// goroutine ran an index never changes a result. Create it once (its Fn is
// typically a method value bound at construction) and reuse it; a Job runs
// one Run at a time. Fn must not call Run on the same pool: a worker
// waiting on its own queue would never return.
type Job struct {
	Fn    func(i int)
	N     int
	parts int
	done  chan struct{}
}

// NewPool starts workers goroutines (the callers of Run make one more
// participant each).
func NewPool(workers int) *Pool {
	p := &Pool{}
	for w := range max(workers, 0) {
		ch := make(chan *Job)
		p.workers = append(p.workers, ch)
		go work(ch, w+1)
	}
	return p
}

var (
	defaultPoolOnce sync.Once
	defaultPool     *Pool
)

// DefaultPool is the process's shared pool: GOMAXPROCS−1 workers, so that
// with the caller every core has one participant.
func DefaultPool() *Pool {
	defaultPoolOnce.Do(func() { defaultPool = NewPool(runtime.GOMAXPROCS(0) - 1) })
	return defaultPool
}

// Size is the number of participants of a Run: workers plus the caller.
func (p *Pool) Size() int { return len(p.workers) + 1 }

func work(ch chan *Job, id int) {
	for j := range ch {
		for i := id; i < j.N; i += j.parts {
			j.Fn(i)
		}
		j.done <- struct{}{}
	}
}

// Run executes j's indices on the pool and returns when all are done.
func (p *Pool) Run(j *Job) {
	if j.done == nil {
		j.done = make(chan struct{}, len(p.workers))
	}
	parts := min(j.N, len(p.workers)+1)
	if parts <= 1 {
		for i := range j.N {
			j.Fn(i)
		}
		return
	}
	j.parts = parts
	for w := range parts - 1 {
		p.workers[w] <- j
	}
	for i := 0; i < j.N; i += parts {
		j.Fn(i)
	}
	for range parts - 1 {
		<-j.done
	}
}
