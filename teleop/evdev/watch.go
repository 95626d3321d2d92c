package evdev

import (
	"sort"
	"time"

	"tandem/sim"
)

// Change is a device node appearing or disappearing.
type Change struct {
	Path  string
	Added bool
}

// Watcher reports evdev nodes (event<N> character devices) appearing in
// and disappearing from a directory by rescanning it periodically
// (hot-plug). A device that
// disappears also ends its reader with ENODEV, so its Source reports
// disconnected and the arbiter hands back; the watcher is for noticing new
// devices. Not safe for concurrent use; Run owns it.
type Watcher struct {
	Dir string
	// Interval between scans (DefaultWatchInterval when zero).
	Interval time.Duration
	// Clock paces Run (sim.WallClock when nil).
	Clock sim.Clock
	known map[string]bool
}

// DefaultWatchInterval is the rescan period: hot-plug is noticed within a
// second, at the cost of one directory read.
const DefaultWatchInterval = time.Second

// NewWatcher watches dir (DefaultDir when empty).
func NewWatcher(dir string) *Watcher {
	if dir == "" {
		dir = DefaultDir
	}
	return &Watcher{Dir: dir, known: map[string]bool{}}
}

// Scan rescans the directory and returns what changed since the last scan
// (everything present counts as added on the first). A missing directory
// is an empty one.
func (w *Watcher) Scan() []Change {
	if w.known == nil {
		w.known = map[string]bool{}
	}
	now := map[string]bool{}
	for _, p := range eventPaths(w.Dir) {
		now[p] = true
	}
	var out []Change
	for p := range now {
		if !w.known[p] {
			out = append(out, Change{Path: p, Added: true})
		}
	}
	for p := range w.known {
		if !now[p] {
			out = append(out, Change{Path: p})
		}
	}
	w.known = now
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// Run scans until stop is closed, calling report for each change.
func (w *Watcher) Run(stop <-chan struct{}, report func(Change)) {
	clk := w.Clock
	if clk == nil {
		clk = sim.WallClock{}
	}
	iv := w.Interval
	if iv <= 0 {
		iv = DefaultWatchInterval
	}
	for {
		for _, c := range w.Scan() {
			report(c)
		}
		select {
		case <-stop:
			return
		case <-clk.After(iv):
		}
	}
}
