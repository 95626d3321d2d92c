package evdev

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Description is what a device says about itself: the data of evemu's
// N/I/P/B/A/L/S lines, or of the EVIOCG* ioctls on a live device.
type Description struct {
	Name    string `json:"name"`
	Phys    string `json:"phys,omitempty"` // EVIOCGPHYS; evemu records none
	Bus     uint16 `json:"bus"`
	Vendor  uint16 `json:"vendor"`
	Product uint16 `json:"product"`
	Version uint16 `json:"version"`
	Props   []byte `json:"-"`
	// Bits holds each event type's code bitmap (code c at byte c/8,
	// bit c%8); Bits[0] is the type bitmap.
	Bits map[uint16][]byte `json:"-"`
	// Abs holds each absolute axis's absinfo. AbsValues says whether the
	// values are live (ioctl) rather than unknown (evemu records none).
	Abs       map[uint16]AbsInfo `json:"-"`
	AbsValues bool               `json:"-"`
	LEDs      map[uint16]int32   `json:"-"`
	Switches  map[uint16]int32   `json:"-"`
}

// Has reports whether the device declares the code of the event type.
func (d *Description) Has(typ, code uint16) bool {
	if typ == EvAbs {
		if _, ok := d.Abs[code]; ok {
			return true
		}
	}
	b := d.Bits[typ]
	return int(code/8) < len(b) && b[code/8]&(1<<(code%8)) != 0
}

// Codes lists the declared codes of an event type in ascending order.
func (d *Description) Codes(typ uint16) []uint16 {
	var out []uint16
	for c := 0; c <= int(maxCode(typ)); c++ {
		if d.Has(typ, uint16(c)) {
			out = append(out, uint16(c))
		}
	}
	return out
}

// Recording is a parsed evemu-record file: a description and, for event
// recordings, the events with times relative to the recording's start.
type Recording struct {
	Version string // "1.2", "1.3", or "" when the header is missing
	Desc    Description
	Events  []Event
	// Relative says event times count from the recording's start (evemu);
	// raw input_event files keep the kernel's clock.
	Relative bool
	// SkippedAxes lists the A: lines rejected because min >= max.
	SkippedAxes []int
}

// SyntaxError is malformed evemu input.
type SyntaxError struct {
	Line int
	Msg  string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("evemu: line %d: %s", e.Line, e.Msg) }

// maxEvemuLine bounds one line; evemu lines are under 200 bytes.
const maxEvemuLine = 64 << 10

// ParseEvemu reads an evemu-record file (format 1.2 or 1.3, and older files
// whose A: lines lack the resolution). Axes with min >= max are skipped and
// listed in SkippedAxes rather than failing the file.
func ParseEvemu(r io.Reader) (*Recording, error) {
	rec := &Recording{Relative: true, Desc: Description{Bits: map[uint16][]byte{}, Abs: map[uint16]AbsInfo{}}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), maxEvemuLine)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimRight(sc.Text(), " \t\r")
		if err := rec.parseLine(line, text); err != nil {
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, &SyntaxError{Line: line + 1, Msg: fmt.Sprintf("line longer than %d bytes", maxEvemuLine)}
		}
		return nil, err
	}
	if line == 0 {
		return nil, &SyntaxError{Line: 1, Msg: "empty file"}
	}
	return rec, nil
}

func (rec *Recording) parseLine(n int, text string) error {
	if text == "" {
		return nil
	}
	if text[0] == '#' {
		if v, ok := strings.CutPrefix(text, "# EVEMU "); ok && rec.Version == "" {
			rec.Version = strings.TrimSpace(v)
		}
		return nil
	}
	if len(text) < 2 || text[1] != ':' {
		return &SyntaxError{Line: n, Msg: fmt.Sprintf("unknown line %q (want N:, I:, P:, B:, A:, L:, S:, E: or a # comment)", clip(text))}
	}
	kind, rest := text[0], strings.TrimSpace(text[2:])
	if kind == 'N' {
		rec.Desc.Name = rest
		return nil
	}
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		rest = strings.TrimSpace(rest[:i])
	}
	f := strings.Fields(rest)
	bad := func(format string, args ...any) error {
		return &SyntaxError{Line: n, Msg: fmt.Sprintf("%c: ", kind) + fmt.Sprintf(format, args...)}
	}
	switch kind {
	case 'I':
		if len(f) != 4 {
			return bad("want bus vendor product version, got %d fields", len(f))
		}
		var v [4]uint16
		for i := range f {
			x, err := strconv.ParseUint(f[i], 16, 16)
			if err != nil {
				return bad("field %d %q is not a 16-bit hex number", i+1, f[i])
			}
			v[i] = uint16(x)
		}
		rec.Desc.Bus, rec.Desc.Vendor, rec.Desc.Product, rec.Desc.Version = v[0], v[1], v[2], v[3]
	case 'P':
		b, err := hexBytes(f)
		if err != nil {
			return bad("%v", err)
		}
		rec.Desc.Props = append(rec.Desc.Props, b...)
	case 'B':
		if len(f) < 1 {
			return bad("missing event type")
		}
		typ, err := strconv.ParseUint(f[0], 16, 16)
		if err != nil || typ > uint64(EvMax) {
			return bad("event type %q is not a hex number up to 0x1f", f[0])
		}
		b, err := hexBytes(f[1:])
		if err != nil {
			return bad("%v", err)
		}
		have := rec.Desc.Bits[uint16(typ)]
		if len(have)+len(b) > keyBytes {
			return bad("type 0x%02x bitmask longer than %d bytes", typ, keyBytes)
		}
		rec.Desc.Bits[uint16(typ)] = append(have, b...)
	case 'A':
		if len(f) != 5 && len(f) != 6 {
			return bad("want code min max fuzz flat [resolution], got %d fields", len(f))
		}
		code, err := strconv.ParseUint(f[0], 16, 16)
		if err != nil || code > uint64(AbsMax) {
			return bad("axis code %q is not a hex number up to 0x3f", f[0])
		}
		var v [5]int32
		for i := 1; i < len(f); i++ {
			x, err := strconv.ParseInt(f[i], 10, 32)
			if err != nil {
				return bad("field %d %q is not a 32-bit integer", i+1, f[i])
			}
			v[i-1] = int32(x)
		}
		a := AbsInfo{Min: v[0], Max: v[1], Fuzz: v[2], Flat: v[3], Resolution: v[4]}
		if !a.Valid() {
			rec.SkippedAxes = append(rec.SkippedAxes, n)
			return nil
		}
		rec.Desc.Abs[uint16(code)] = a
	case 'L', 'S':
		if len(f) != 2 {
			return bad("want code value, got %d fields", len(f))
		}
		code, err1 := strconv.ParseUint(f[0], 16, 16)
		val, err2 := strconv.ParseInt(f[1], 10, 32)
		if err1 != nil || err2 != nil {
			return bad("want hex code and decimal value, got %q %q", f[0], f[1])
		}
		m := &rec.Desc.LEDs
		if kind == 'S' {
			m = &rec.Desc.Switches
		}
		if *m == nil {
			*m = map[uint16]int32{}
		}
		(*m)[uint16(code)] = int32(val)
	case 'E':
		ev, err := parseEvemuEvent(f)
		if err != nil {
			return bad("%v", err)
		}
		rec.Events = append(rec.Events, ev)
	default:
		return &SyntaxError{Line: n, Msg: fmt.Sprintf("unknown line type %q", string(kind))}
	}
	return nil
}

// parseEvemuEvent reads "sec.usec type code value" (type and code hex,
// value decimal).
func parseEvemuEvent(f []string) (Event, error) {
	if len(f) != 4 {
		return Event{}, fmt.Errorf("want sec.usec type code value, got %d fields", len(f))
	}
	secs, usecs, ok := strings.Cut(f[0], ".")
	sec, err1 := strconv.ParseInt(secs, 10, 64)
	usec, err2 := strconv.ParseInt(usecs, 10, 64)
	if !ok || err1 != nil || err2 != nil || sec < 0 || sec > maxEventSec || usec < 0 || usec >= 1e6 || len(usecs) > 6 {
		return Event{}, fmt.Errorf("time %q is not sec.usec", f[0])
	}
	for len(usecs) < 6 { // "0.5" means half a second
		usec *= 10
		usecs += "0"
	}
	typ, err := strconv.ParseUint(f[1], 16, 16)
	if err != nil || typ > uint64(EvMax) {
		return Event{}, fmt.Errorf("event type %q is not a hex number up to 0x1f", f[1])
	}
	code, err := strconv.ParseUint(f[2], 16, 16)
	if err != nil {
		return Event{}, fmt.Errorf("event code %q is not a 16-bit hex number", f[2])
	}
	val, err := strconv.ParseInt(f[3], 10, 32)
	if err != nil {
		return Event{}, fmt.Errorf("event value %q is not a 32-bit integer", f[3])
	}
	return Event{
		Time:  time.Duration(sec)*time.Second + time.Duration(usec)*time.Microsecond,
		Type:  uint16(typ),
		Code:  uint16(code),
		Value: int32(val),
	}, nil
}

func hexBytes(f []string) ([]byte, error) {
	out := make([]byte, 0, len(f))
	for _, s := range f {
		x, err := strconv.ParseUint(s, 16, 8)
		if err != nil {
			return nil, fmt.Errorf("%q is not a hex byte", s)
		}
		out = append(out, byte(x))
	}
	return out, nil
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// looksLikeEvemu reports whether a file's first bytes are evemu text
// rather than binary input_event records.
func looksLikeEvemu(head []byte) bool {
	t := bytes.TrimLeft(head, " \t\r\n")
	if len(t) == 0 {
		return false
	}
	if t[0] == '#' {
		return true
	}
	return len(t) >= 2 && t[1] == ':' && bytes.IndexByte([]byte("NIPBALSE"), t[0]) >= 0
}
