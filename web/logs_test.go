package web

import (
	"bytes"
	"log"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestRepeatedLogLinesAreCounted: a full disk fails a commit every 100 ms
// and exhausted descriptors fail accept every few ms; each kind of line is
// written once per logEvery, then with the number held back.
func TestRepeatedLogLinesAreCounted(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	var buf bytes.Buffer
	h := newLimitHandler(slog.NewTextHandler(&buf, nil), logEvery)
	h.lim.now = clock
	lg := slog.New(h)
	for range 100 { // 10 s of a commit failing every 100 ms
		lg.Error("commit failed", "err", "disk full")
		lg.Info("device attached", "path", "/dev/input/event3")
		now = now.Add(100 * time.Millisecond)
	}
	lg.Error("commit failed", "err", "disk full")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 102 { // 2 failures, every one of the 100 attachments
		t.Fatalf("%d lines for 101 failures and 100 attachments over 10 s; want 102:\n%s", len(lines), buf.String())
	}
	if last := lines[len(lines)-1]; !strings.Contains(last, "commit failed") || !strings.Contains(last, "repeated=99") {
		t.Errorf("last line %q; want the failure again with repeated=99", last)
	}

	buf.Reset()
	w := newLimitWriter(&buf, logEvery)
	w.lim.now = clock
	el := log.New(w, "http: ", 0)
	for i := range 2000 {
		el.Printf("Accept error: accept tcp 127.0.0.1:8080: accept4: too many open files; retrying in %dms", 5+i%995)
		now = now.Add(5 * time.Millisecond)
	}
	lines = strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], "too many open files") {
		t.Fatalf("2000 accept errors in 10 s wrote %d lines; want 1:\n%s", len(lines), buf.String())
	}
	el.Printf("Accept error: accept tcp 127.0.0.1:8080: accept4: too many open files; retrying in 1s")
	if got := buf.String(); !strings.Contains(got, "(and 1999 more like it)") {
		t.Errorf("after 10 s: %q; want the count of lines held back", got)
	}
}
