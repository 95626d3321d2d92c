//go:build !linux || !cgo

package evdev

import (
	"fmt"
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
