package evdev

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Info describes one device as `tandem devices list` prints it.
type Info struct {
	Path    string     `json:"path"`
	Name    string     `json:"name"`
	Phys    string     `json:"phys,omitempty"` // EVIOCGPHYS (usb-0000:00:14.0-1/input0): tells identical pads apart; recordings have none
	ID      string     `json:"id"`             // vendor:product, hex
	Bus     uint16     `json:"bus"`
	Version uint16     `json:"version"`
	Axes    []AxisInfo `json:"axes"`
	Rel     []string   `json:"rel_axes,omitempty"`
	Buttons []string   `json:"buttons"`
	// FF lists force-feedback effect types; FFEffects is how many can be
	// uploaded at once (EVIOCGEFFECTS; 0 when unknown).
	FF        []string `json:"ff,omitempty"`
	FFEffects int      `json:"ff_effects,omitempty"`
	Profile   string   `json:"profile"`
	// Access is "rw" or "ro" for live devices (force feedback needs rw),
	// "file" for recordings; Error says why a device could not be read.
	Access string `json:"access,omitempty"`
	Error  string `json:"error,omitempty"`
}

// AxisInfo is one absolute axis with its absinfo.
type AxisInfo struct {
	Code string `json:"code"`
	AbsInfo
}

// DescribeInfo builds an Info from a description.
func DescribeInfo(path string, d *Description, profile string) Info {
	in := Info{Path: path, Name: d.Name, Phys: d.Phys, ID: fmt.Sprintf("%04x:%04x", d.Vendor, d.Product), Bus: d.Bus,
		Version: d.Version, Profile: profile, Axes: []AxisInfo{}, Buttons: []string{}}
	codes := make([]int, 0, len(d.Abs))
	for c := range d.Abs {
		codes = append(codes, int(c))
	}
	sort.Ints(codes)
	for _, c := range codes {
		in.Axes = append(in.Axes, AxisInfo{Code: CodeName(EvAbs, uint16(c)), AbsInfo: d.Abs[uint16(c)]})
	}
	for _, c := range d.Codes(EvRel) {
		in.Rel = append(in.Rel, CodeName(EvRel, c))
	}
	for _, c := range d.Codes(EvKey) {
		in.Buttons = append(in.Buttons, CodeName(EvKey, c))
	}
	for _, c := range d.Codes(EvFF) {
		in.FF = append(in.FF, CodeName(EvFF, c))
	}
	return in
}

// ChooseName returns the name of the built-in profile matching d, or "".
func ChooseName(d *Description) string {
	cat, err := Builtin()
	if err != nil {
		return ""
	}
	if p := cat.Choose(d); p != nil {
		return p.Name
	}
	return ""
}

// DefaultDir is where Linux creates evdev nodes.
const DefaultDir = "/dev/input"

// eventNodes keeps the names of the form event<N> (N decimal digits) and
// orders them by N (event2 before event10).
func eventNodes(names []string) []string {
	var out []string
	for _, n := range names {
		if eventNumber(n) >= 0 {
			out = append(out, n)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return eventNumber(out[i]) < eventNumber(out[j]) })
	return out
}

// eventNumber is N for a name event<N>, or -1.
func eventNumber(name string) int {
	digits, ok := strings.CutPrefix(name, "event")
	if !ok || digits == "" || len(digits) > 9 {
		return -1
	}
	n := 0
	for _, c := range digits {
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// eventPaths lists dir's evdev nodes, event<N> entries that are (or link
// to) character devices, in numeric order. It opens nothing. A missing or
// unreadable directory is an empty one, and an entry whose stat fails (a
// dangling link, a link loop) is not a node.
//
// golang-evdev's ListInputDevicePaths (a glob plus the same check) is not
// used: its IsInputDevice dereferences a nil FileInfo when os.Stat fails
// with anything but ENOENT, so one link loop named event* crashes the
// listing and with it the hot-plug watcher.
func eventPaths(dir string) []string {
	ents, _ := os.ReadDir(dir) // the entries read before any error
	names := make([]string, len(ents))
	for i, e := range ents {
		names[i] = e.Name()
	}
	out := []string{}
	for _, n := range eventNodes(names) {
		p := filepath.Join(dir, n)
		if fi, err := os.Stat(p); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			out = append(out, p)
		}
	}
	return out
}

// List describes every evdev node (event<N> character device) under dir
// (DefaultDir when empty). A missing or unreadable directory yields an
// empty list and the error is always nil; nodes that cannot be opened or
// are not input devices are listed with Error set, so permission problems
// are visible.
func List(dir string) ([]Info, error) {
	if dir == "" {
		dir = DefaultDir
	}
	out := []Info{}
	for _, p := range eventPaths(dir) {
		in, err := probe(p)
		if err != nil {
			in = Info{Path: p, Error: err.Error(), Axes: []AxisInfo{}, Buttons: []string{}}
		}
		out = append(out, in)
	}
	return out, nil
}
