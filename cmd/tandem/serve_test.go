package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tandem/sim"
	"tandem/teleop"
	"tandem/teleop/evdev"
	"tandem/web"
)

// TestHotplugAttachesAndDetaches watches a directory standing in for
// /dev/input: a character-device node appearing (a link to /dev/null, since
// no pad can be plugged in here) is attached to the default session as an
// operator, played from a real pad recording in place of the node; when the
// node disappears it is detached and closed. The real opener on the same
// node fails with a logged error and attaches nothing.
func TestHotplugAttachesAndDetaches(t *testing.T) {
	srv, err := web.New(web.Config{Addr: "127.0.0.1:0", NoStore: true, Token: "hotplug-token", OpenDevice: openServeDevice, Log: &bytes.Buffer{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	rec, err := filepath.Abs("../../teleop/evdev/testdata/madcatz-xbox360.events")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	node := filepath.Join(dir, "event7")
	if err := os.Symlink("/dev/null", node); err != nil {
		t.Fatal(err)
	}
	w := evdev.NewWatcher(dir)
	var log bytes.Buffer
	changes := w.Scan()
	if len(changes) != 1 || !changes[0].Added || changes[0].Path != node {
		t.Fatalf("first scan %+v; want %s added", changes, node)
	}
	hotplug(srv, changes[0], openHotplugDevice, &log)
	if len(srv.Devices()) != 0 || !strings.Contains(log.String(), "hot-plug: device "+node) {
		t.Fatalf("a node that is not an input device: devices %v, log %q; want none attached and the error logged", srv.Devices(), log.String())
	}
	pad := func(_ string, spec sim.Spec) (string, teleop.Source, io.Closer, error) {
		op, src, closer, err := openHotplugDevice(rec, spec)
		return strings.Replace(op, "madcatz-xbox360.events", "event7", 1), src, closer, err
	}
	hotplug(srv, changes[0], pad, &log)
	got := srv.Devices()[node]
	if got[0] != srv.Sessions()[0].ID || got[1] != "dev:event7" {
		t.Fatalf("attached %v (log %q); want the default session's operator dev:event7", got, log.String())
	}
	// The same node again is refused, not attached twice.
	hotplug(srv, evdev.Change{Path: node, Added: true}, pad, &log)
	if !strings.Contains(log.String(), "already attached") {
		t.Errorf("log %q; want the duplicate refused", log.String())
	}

	if err := os.Remove(node); err != nil {
		t.Fatal(err)
	}
	changes = w.Scan()
	if len(changes) != 1 || changes[0].Added {
		t.Fatalf("scan after removal %+v; want %s removed", changes, node)
	}
	hotplug(srv, changes[0], pad, &log)
	if n := len(srv.Devices()); n != 0 {
		t.Errorf("%d devices attached after removal; want 0", n)
	}
}
