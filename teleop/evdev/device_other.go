//go:build !linux || !cgo

package evdev

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

// liveSupported reports whether this build can open live devices.
const liveSupported = false

func openLive(path string, _ Options) (Device, error) {
	return nil, fmt.Errorf("evdev: cannot open %s: live devices need Linux and a cgo build (this is %s/%s, cgo %v); recordings still replay", path, runtime.GOOS, runtime.GOARCH, cgoEnabled)
}

func probe(path string) (Info, error) {
	return Info{}, fmt.Errorf("evdev: cannot open %s: live devices need Linux and a cgo build", path)
}

// eventPaths lists dir's evdev nodes (event<N> character devices) in
// numeric order. Without cgo there is no golang-evdev; this is the same
// listing (directory entries, character devices only) done here.
func eventPaths(dir string) ([]string, error) {
	names, err := readDirNames(dir)
	if err != nil {
		return nil, nil // a missing directory is an empty one
	}
	var paths []string
	for _, n := range names {
		p := filepath.Join(dir, n)
		if fi, err := os.Stat(p); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			paths = append(paths, p)
		}
	}
	return sortEventPaths(paths), nil
}

// readDirNames lists a directory's entry names.
func readDirNames(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(ents))
	for i, e := range ents {
		out[i] = e.Name()
	}
	return out, nil
}
