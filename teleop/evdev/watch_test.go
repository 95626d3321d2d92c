package evdev

import (
	"os"
	"path/filepath"
	"testing"
)

func TestWatcherReportsHotplug(t *testing.T) {
	dir := t.TempDir()
	touch := func(n string) { os.WriteFile(filepath.Join(dir, n), nil, 0o600) }
	touch("event3")
	touch("mouse0") // not an event node
	w := NewWatcher(dir)
	first := w.Scan()
	if len(first) != 1 || !first[0].Added || first[0].Path != filepath.Join(dir, "event3") {
		t.Fatalf("first scan %v; want event3 added", first)
	}
	if again := w.Scan(); len(again) != 0 {
		t.Errorf("unchanged directory reported %v", again)
	}
	touch("event12")
	os.Remove(filepath.Join(dir, "event3"))
	got := w.Scan()
	want := []Change{{Path: filepath.Join(dir, "event12"), Added: true}, {Path: filepath.Join(dir, "event3")}}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("got %v; want %v", got, want)
	}
	os.RemoveAll(dir)
	if gone := w.Scan(); len(gone) != 1 || gone[0].Added {
		t.Errorf("directory removed: %v; want event12 gone", gone)
	}
}

func TestWatcherRun(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "event0"), nil, 0o600)
	w := NewWatcher(dir)
	w.Clock = newJumpClock()
	stop := make(chan struct{})
	var seen []Change
	w.Run(stop, func(c Change) {
		seen = append(seen, c)
		close(stop)
	})
	if len(seen) != 1 || seen[0].Path != filepath.Join(dir, "event0") {
		t.Errorf("seen %v; want event0 added", seen)
	}
}

func TestEventNodesOrder(t *testing.T) {
	got := eventNodes([]string{"event10", "event2", "js0", "event1", "eventx", "by-id"})
	want := []string{"event1", "event2", "event10"}
	if len(got) != len(want) {
		t.Fatalf("got %v; want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v; want %v", got, want)
		}
	}
}

func TestListMissingDirIsEmpty(t *testing.T) {
	infos, err := List(filepath.Join(t.TempDir(), "no-input"))
	if err != nil || infos == nil || len(infos) != 0 {
		t.Errorf("got %v %v; want an empty, non-nil list", infos, err)
	}
}

// A node that is not an evdev device is listed with its error, so the
// user sees why it could not be used.
func TestListReportsUnreadableNodes(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "event0"), []byte("not a device"), 0o600)
	infos, err := List(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != 1 || infos[0].Error == "" || infos[0].Path != filepath.Join(dir, "event0") {
		t.Errorf("got %+v; want event0 listed with an error", infos)
	}
}
