//go:build !linux

package evdev

import (
	"fmt"
	"runtime"
)

func openLive(path string, _ Options) (Device, error) {
	return nil, fmt.Errorf("evdev: cannot open %s: live devices need Linux (this is %s/%s); recordings still replay", path, runtime.GOOS, runtime.GOARCH)
}

func probe(path string) (Info, error) {
	return Info{}, fmt.Errorf("evdev: cannot open %s: live devices need Linux", path)
}
