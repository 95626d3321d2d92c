package evdev

import (
	"os"
	"path/filepath"
	"testing"
)

// charNode makes dir/name a character device without privileges: a
// symbolic link to /dev/null (enumeration follows links, as udev's
// by-id links are followed).
func charNode(t *testing.T, dir, name string) {
	t.Helper()
	if err := os.Symlink("/dev/null", filepath.Join(dir, name)); err != nil {
		t.Skipf("cannot link to /dev/null: %v", err)
	}
}

func TestWatcherReportsHotplug(t *testing.T) {
	dir := t.TempDir()
	touch := func(n string) { charNode(t, dir, n) }
	touch("event3")
	touch("mouse0")                                        // not an event node
	os.WriteFile(filepath.Join(dir, "event7"), nil, 0o600) // not a character device
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
	charNode(t, dir, "event0")
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
	got := eventNodes([]string{"event10", "event2", "js0", "event1", "eventx", "by-id", "event", "event+3", "event-1", "event 4", "event99999999999"})
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

// A character device that is not an evdev device is listed with its
// error, so the user sees why it could not be used; regular files and
// other names are not device nodes and are not listed. Nodes come in
// numeric order.
func TestListReportsUnreadableNodes(t *testing.T) {
	dir := t.TempDir()
	charNode(t, dir, "event10")
	charNode(t, dir, "event2")
	charNode(t, dir, "js0")
	os.WriteFile(filepath.Join(dir, "event0"), []byte("not a device"), 0o600)
	infos, err := List(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != 2 {
		t.Fatalf("got %d devices %+v; want event2 and event10", len(infos), infos)
	}
	for i, want := range []string{"event2", "event10"} {
		if infos[i].Path != filepath.Join(dir, want) || infos[i].Error == "" {
			t.Errorf("device %d: %+v; want %s listed with an error", i, infos[i], want)
		}
	}
}

// Glob metacharacters in the directory name are taken literally.
func TestListDirWithGlobCharacters(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "in[put]*")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	charNode(t, dir, "event1")
	infos, err := List(dir)
	if err != nil || len(infos) != 1 || infos[0].Path != filepath.Join(dir, "event1") {
		t.Errorf("got %+v %v; want event1", infos, err)
	}
}

// Entries whose stat fails are not nodes: a dangling link, a link loop
// (golang-evdev's ListInputDevicePaths dereferences a nil FileInfo on the
// loop and crashes) and a link into a directory that cannot be searched.
func TestListSkipsBrokenLinks(t *testing.T) {
	dir := t.TempDir()
	charNode(t, dir, "event1")
	for name, target := range map[string]string{
		"event2": "event2",                                // loop: ELOOP
		"event3": filepath.Join(dir, "missing"),           // dangling: ENOENT
		"event4": filepath.Join(dir, "event1", "nothing"), // through a non-directory: ENOTDIR
	} {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	infos, err := List(dir)
	if err != nil || len(infos) != 1 || infos[0].Path != filepath.Join(dir, "event1") {
		t.Errorf("got %+v %v; want event1 only", infos, err)
	}
	if got := NewWatcher(dir).Scan(); len(got) != 1 || got[0].Path != filepath.Join(dir, "event1") {
		t.Errorf("watcher saw %v; want event1 only", got)
	}
}
