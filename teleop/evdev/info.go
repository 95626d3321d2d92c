package evdev

import (
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Info describes one device as `tandem devices list` prints it.
type Info struct {
	Path    string     `json:"path"`
	Name    string     `json:"name"`
	ID      string     `json:"id"` // vendor:product, hex
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
	in := Info{Path: path, Name: d.Name, ID: fmt.Sprintf("%04x:%04x", d.Vendor, d.Product), Bus: d.Bus,
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

// eventNodes lists dir's event* entries in numeric order (event2 before
// event10).
func eventNodes(names []string) []string {
	var out []string
	for _, n := range names {
		if strings.HasPrefix(n, "event") {
			if _, err := strconv.Atoi(n[len("event"):]); err == nil {
				out = append(out, n)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, _ := strconv.Atoi(out[i][5:])
		b, _ := strconv.Atoi(out[j][5:])
		return a < b
	})
	return out
}

// sortEventPaths keeps the paths whose base name is event<N> and orders
// them by N.
func sortEventPaths(paths []string) []string {
	byName := make(map[string]string, len(paths))
	names := make([]string, 0, len(paths))
	for _, p := range paths {
		n := filepath.Base(p)
		byName[n] = p
		names = append(names, n)
	}
	out := []string{}
	for _, n := range eventNodes(names) {
		out = append(out, byName[n])
	}
	return out
}

// globEscape escapes filepath.Match's metacharacters in a literal path.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// List describes every evdev node (event<N> character device) under dir
// (DefaultDir when empty). A missing directory yields an empty list;
// nodes that cannot be opened are listed with Error set, so permission
// problems are visible.
func List(dir string) ([]Info, error) {
	if dir == "" {
		dir = DefaultDir
	}
	paths, err := eventPaths(dir)
	if err != nil {
		return []Info{}, err
	}
	out := []Info{}
	for _, p := range paths {
		in, err := probe(p)
		if err != nil {
			in = Info{Path: p, Error: err.Error(), Axes: []AxisInfo{}, Buttons: []string{}}
		}
		out = append(out, in)
	}
	return out, nil
}
