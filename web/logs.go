package web

import (
	"context"
	"io"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// logEvery is how often one kind of log line may repeat: a full disk
// makes the recorder fail a commit every 100 ms and exhausted descriptors
// make accept fail every second; the log gets the first line, then at most
// one per logEvery with the number of lines held back.
const logEvery = 10 * time.Second

// repeatLimiter decides whether a line of a given kind is written now and
// how many of its kind were suppressed since the last one. Safe for
// concurrent use.
type repeatLimiter struct {
	every time.Duration
	now   func() time.Time

	mu    sync.Mutex
	kinds map[string]*repeatState
}

type repeatState struct {
	last       time.Time
	suppressed int
}

func newRepeatLimiter(every time.Duration) *repeatLimiter {
	return &repeatLimiter{every: every, now: time.Now, kinds: map[string]*repeatState{}}
}

// allow reports whether a line of kind may be written now and how many
// were held back before it.
func (r *repeatLimiter) allow(kind string) (ok bool, suppressed int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	st := r.kinds[kind]
	if st == nil {
		if len(r.kinds) > 1024 { // kinds are message texts; bound the map
			clear(r.kinds)
		}
		st = &repeatState{}
		r.kinds[kind] = st
	} else if now.Sub(st.last) < r.every {
		st.suppressed++
		return false, 0
	}
	n := st.suppressed
	st.last, st.suppressed = now, 0
	return true, n
}

// limitHandler is a slog.Handler that lets each warning or error (by
// level and message, whatever its attributes: "commit failed" carries a
// changing pending count) through at most once per logEvery, adding
// "repeated=N" for the lines it held back. Info lines (a device attached,
// a session paused) are events, not failures repeating: they all pass.
type limitHandler struct {
	slog.Handler
	lim *repeatLimiter
}

func newLimitHandler(h slog.Handler, every time.Duration) *limitHandler {
	return &limitHandler{Handler: h, lim: newRepeatLimiter(every)}
}

func (h *limitHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < slog.LevelWarn {
		return h.Handler.Handle(ctx, r)
	}
	ok, n := h.lim.allow(r.Level.String() + "\x00" + r.Message)
	if !ok {
		return nil
	}
	if n > 0 {
		r = r.Clone()
		r.AddAttrs(slog.Int("repeated", n))
	}
	return h.Handler.Handle(ctx, r)
}

func (h *limitHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &limitHandler{Handler: h.Handler.WithAttrs(as), lim: h.lim}
}

func (h *limitHandler) WithGroup(name string) slog.Handler {
	return &limitHandler{Handler: h.Handler.WithGroup(name), lim: h.lim}
}

// limitWriter is an io.Writer for line loggers (net/http's ErrorLog): a
// line whose text, numbers and durations ignored, repeats within logEvery
// is held back and counted ("http: Accept error: accept tcp: too many
// open files; retrying in 5ms" differs only in its delay).
type limitWriter struct {
	w   io.Writer
	lim *repeatLimiter
	mu  sync.Mutex // serialises writes to w
}

// numbers matches numbers with their units (5ms, 1s, 127.0.0.1, 8080).
var numbers = regexp.MustCompile(`[0-9][0-9.]*[a-zµ]*`)

func newLimitWriter(w io.Writer, every time.Duration) *limitWriter {
	return &limitWriter{w: w, lim: newRepeatLimiter(every)}
}

func (w *limitWriter) Write(p []byte) (int, error) {
	line := strings.TrimRight(string(p), "\n")
	kind := numbers.ReplaceAllString(line, "#")
	ok, n := w.lim.allow(kind)
	if !ok {
		return len(p), nil
	}
	if n > 0 {
		line += " (and " + strconv.Itoa(n) + " more like it)"
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, err := io.WriteString(w.w, line+"\n"); err != nil {
		return 0, err
	}
	return len(p), nil
}
