package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"
)

// progress draws one line on stderr while a long command runs: a bar,
// done/total, the rate and the time left. It draws nothing under --json or
// when stderr is not a terminal, so scripts and logs never see it. Safe for
// concurrent use; a nil *progress does nothing.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	label string
	unit  string
	total int // 0 when unknown
	done  int
	start time.Time
	drawn time.Time
	shown bool
}

// redraw is the shortest interval between two draws.
const redraw = 100 * time.Millisecond

// newProgress returns a progress line for cmd's stderr, or nil when quiet
// or when stderr is not a terminal.
func newProgress(cmd *cobra.Command, label, unit string, total int, quiet bool) *progress {
	f, ok := cmd.ErrOrStderr().(*os.File)
	if quiet || !ok || !(isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())) {
		return nil
	}
	return &progress{w: f, label: label, unit: unit, total: total, start: time.Now()}
}

// Set records that done units are finished and redraws at most every
// redraw interval.
func (p *progress) Set(done int) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done = done
	if now := time.Now(); now.Sub(p.drawn) >= redraw || done == p.total {
		p.drawn = now
		p.draw(now)
	}
}

// SetTotal changes the total (when it is learnt late, as by import).
func (p *progress) SetTotal(total int) {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.total = total
	p.mu.Unlock()
}

// Println writes line to w (stdout) without tearing the bar: the bar is
// cleared first and drawn again after.
func (p *progress) Println(w io.Writer, line string) {
	if p == nil {
		fmt.Fprintln(w, line)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown {
		fmt.Fprint(p.w, "\r\033[K")
	}
	fmt.Fprintln(w, line)
	if p.shown {
		p.draw(time.Now())
	}
}

// Done clears the line.
func (p *progress) Done() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown {
		fmt.Fprint(p.w, "\r\033[K")
		p.shown = false
	}
}

func (p *progress) draw(now time.Time) {
	el := now.Sub(p.start).Seconds()
	rate := 0.0
	if el > 0 {
		rate = float64(p.done) / el
	}
	var b strings.Builder
	b.WriteString("\r\033[K")
	b.WriteString(p.label)
	if p.total > 0 {
		const width = 24
		fill := min(width, p.done*width/p.total)
		b.WriteString(" [" + strings.Repeat("=", fill) + strings.Repeat(" ", width-fill) + "]")
		fmt.Fprintf(&b, " %d/%d %s", p.done, p.total, p.unit)
	} else {
		fmt.Fprintf(&b, " %d %s", p.done, p.unit)
	}
	fmt.Fprintf(&b, "  %.1f/s", rate)
	if p.total > 0 && rate > 0 && p.done < p.total {
		left := time.Duration(float64(p.total-p.done) / rate * float64(time.Second))
		b.WriteString("  ETA " + shortDuration(left))
	}
	fmt.Fprint(p.w, b.String())
	p.shown = true
}

// shortDuration prints d as 42s, 3m05s or 2h14m.
func shortDuration(d time.Duration) string {
	s := int(d.Round(time.Second).Seconds())
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	}
	return fmt.Sprintf("%dh%02dm", s/3600, s/60%60)
}
