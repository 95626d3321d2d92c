//go:build linux

package evdev

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// fakeKernel answers evdev ioctls for one device the way
// drivers/input/evdev.c's evdev_do_ioctl does on x86-64: it decodes the
// request (type 'E', direction, number, size), keeps capability bitmaps as
// arrays of unsigned long words, copies at most the declared size and
// answers EINVAL for what it does not handle. Every request must come with
// a buffer exactly as long as it declares.
type fakeKernel struct {
	t          *testing.T
	id         [4]uint16
	name, phys string
	// bits are the kernel's bitmaps (dev->evbit under type 0, keybit,
	// absbit, ...), 64 codes a word.
	bits    map[uint16][]uint64
	props   []uint64
	abs     [AbsMax + 1]AbsInfo
	effects int32
	fail    error // when set, every request fails with it
	reqs    []uintptr
}

// newFakeKernel is a live device that describes itself as d does.
func newFakeKernel(t *testing.T, d *Description) *fakeKernel {
	k := &fakeKernel{t: t, id: [4]uint16{d.Bus, d.Vendor, d.Product, d.Version}, name: d.Name, phys: d.Phys,
		bits: map[uint16][]uint64{}}
	types := make([]uint64, 1)
	for _, typ := range bitmapCodes(d.Bits[0]) {
		types[0] |= 1 << typ
	}
	k.props = make([]uint64, 1)
	for _, p := range bitmapCodes(d.Props) {
		k.props[0] |= 1 << p
	}
	for typ := uint16(1); typ <= EvMax; typ++ {
		if !kernelBitmapType(typ) {
			continue
		}
		words := make([]uint64, (int(maxCode(typ))+64)/64)
		for _, c := range d.Codes(typ) {
			words[c/64] |= 1 << (c % 64)
		}
		if slices.ContainsFunc(words, func(w uint64) bool { return w != 0 }) {
			// input_set_capability sets the type bit with the code bit; the
			// Mad Catz recording lists FF codes without EV_FF in its types.
			types[0] |= 1 << typ
		}
		k.bits[typ] = words
	}
	k.bits[0] = types
	for c, a := range d.Abs {
		k.abs[c] = a
	}
	return k
}

// kernelBitmapType reports whether EVIOCGBIT answers for typ
// (handle_eviocgbit's switch).
func kernelBitmapType(typ uint16) bool {
	switch typ {
	case EvKey, EvRel, EvAbs, EvMsc, EvLed, EvSnd, EvFF, EvSw:
		return true
	}
	return false
}

// bitmapCodes lists the codes set in a bitmap (code c at byte c/8, bit
// c%8).
func bitmapCodes(b []byte) []uint16 {
	var out []uint16
	for c := 0; c < 8*len(b); c++ {
		if b[c/8]&(1<<(c%8)) != 0 {
			out = append(out, uint16(c))
		}
	}
	return out
}

// toUser copies src's first len(dst) bytes at most, as copy_to_user with
// min(size, len) does.
func toUser(dst, src []byte) { copy(dst, src) }

// wordsToUser is bits_to_user: the bitmap's longs for codes 0..max, in
// memory order (little-endian), truncated to the buffer.
func wordsToUser(dst []byte, words []uint64, max uint16) {
	n := (int(max) + 63) / 64 // BITS_TO_LONGS(max): the kernel passes *_MAX, not *_CNT
	src := make([]byte, 8*n)
	for i := 0; i < n && i < len(words); i++ {
		binary.LittleEndian.PutUint64(src[8*i:], words[i])
	}
	toUser(dst, src)
}

func (k *fakeKernel) ioctl(req uintptr, buf []byte) error {
	k.reqs = append(k.reqs, req)
	if k.fail != nil {
		return k.fail
	}
	dir, typ, nr, size := req>>30, req>>8&0xff, req&0xff, iocSize(req)
	if len(buf) != size {
		k.t.Errorf("request %#x declares %d bytes; buffer has %d", req, size, len(buf))
		return unix.EFAULT
	}
	switch req {
	case eviocgid:
		for i, v := range k.id {
			binary.LittleEndian.PutUint16(buf[2*i:], v)
		}
		return nil
	case eviocgeffects:
		binary.LittleEndian.PutUint32(buf, uint32(k.effects))
		return nil
	}
	if typ != 'E' || dir != iocRead {
		return unix.EINVAL
	}
	switch {
	case nr == 0x06 || nr == 0x07: // EVIOCGNAME, EVIOCGPHYS: str_to_user
		s := k.name
		if nr == 0x07 {
			s = k.phys
		}
		if s == "" {
			return unix.ENOENT
		}
		toUser(buf, append([]byte(s), 0))
	case nr == 0x09: // EVIOCGPROP
		wordsToUser(buf, k.props, inputPropMax)
	case nr&^0x1f == 0x20: // EVIOCGBIT(type)
		t := uint16(nr & 0x1f)
		if t != 0 && !kernelBitmapType(t) {
			return unix.EINVAL
		}
		max := maxCode(t)
		if t == 0 {
			max = EvMax
		}
		wordsToUser(buf, k.bits[t], max)
	case nr&^0x3f == 0x40: // EVIOCGABS(code): copies min(size, 24)
		if k.bits[EvAbs] == nil {
			return unix.EINVAL
		}
		a := k.abs[nr&0x3f]
		src := make([]byte, absInfoSize)
		for i, v := range []int32{a.Value, a.Min, a.Max, a.Fuzz, a.Flat, a.Resolution} {
			binary.LittleEndian.PutUint32(src[4*i:], uint32(v))
		}
		toUser(buf, src)
	default:
		return unix.EINVAL
	}
	return nil
}

// recordingPaths lists the evemu recordings and descriptions in testdata.
func recordingPaths(t *testing.T) []string {
	t.Helper()
	var paths []string
	for _, pat := range []string{"testdata/*.events", "testdata/*.desc"} {
		m, err := filepath.Glob(pat)
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, m...)
	}
	if len(paths) < 3 {
		t.Fatalf("found %v; want the three evemu files", paths)
	}
	return paths
}

// A live device that says what a recorded device said is described as
// that recording is: same name, ids, capability codes of every type the
// kernel reports, absinfo, matched profile and devices-list entry.
func TestDescribeMatchesRecordings(t *testing.T) {
	for _, path := range recordingPaths(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			rec, err := ReadRecording(path)
			if err != nil {
				t.Fatal(err)
			}
			want := &rec.Desc
			got, _, err := describe(newFakeKernel(t, want))
			if err != nil {
				t.Fatal(err)
			}
			if got.Name != want.Name || got.Bus != want.Bus || got.Vendor != want.Vendor || got.Product != want.Product || got.Version != want.Version {
				t.Errorf("got %q %04x %04x:%04x v%04x; want %q %04x %04x:%04x v%04x", got.Name, got.Bus, got.Vendor, got.Product, got.Version,
					want.Name, want.Bus, want.Vendor, want.Product, want.Version)
			}
			for _, typ := range bitmapCodes(want.Bits[0]) {
				if got.Bits[0][typ/8]&(1<<(typ%8)) == 0 {
					t.Errorf("types %v; want %s among them", bitmapCodes(got.Bits[0]), TypeName(typ))
				}
			}
			for typ := uint16(1); typ <= EvMax; typ++ {
				if !kernelBitmapType(typ) {
					continue
				}
				if g, w := got.Codes(typ), want.Codes(typ); !slices.Equal(g, w) {
					t.Errorf("%s codes %v; want %v", TypeName(typ), g, w)
				}
			}
			if g, w := bitmapCodes(got.Props), bitmapCodes(want.Props); !slices.Equal(g, w) {
				t.Errorf("properties %v; want %v", g, w)
			}
			if !reflect.DeepEqual(got.Abs, want.Abs) {
				t.Errorf("absinfo %v; want %v", got.Abs, want.Abs)
			}
			gi, wi := DescribeInfo(path, &got, ChooseName(&got)), DescribeInfo(path, want, ChooseName(want))
			if !reflect.DeepEqual(gi, wi) {
				t.Errorf("info %+v; want %+v", gi, wi)
			}
		})
	}
}

// Capability bitmaps come back as the kernel's unsigned longs (64 codes a
// word, little-endian): each row is a device's words and the codes they
// declare.
func TestDescribeDecodesKernelBitmaps(t *testing.T) {
	tests := []struct {
		name  string
		bits  map[uint16][]uint64
		abs   map[uint16]AbsInfo
		types []uint16
		codes map[uint16][]uint16
	}{
		{
			name: "xbox pad",
			bits: map[uint16][]uint64{
				0:     {1<<EvSyn | 1<<EvKey | 1<<EvAbs | 1<<EvFF},
				EvKey: {0, 0, 0, 0, 1<<(BtnSouth-256) | 1<<(BtnEast-256) | 1<<(BtnMode-256), 0, 0, 0, 0, 0, 0, 0},
				EvAbs: {1<<AbsX | 1<<AbsY | 1<<AbsZ | 1<<AbsHat0X | 1<<AbsHat0Y},
				EvFF:  {0, 1<<(FFRumble-64) | 1<<(FFPeriodic-64) | 1<<(FFGain-64)},
			},
			abs: map[uint16]AbsInfo{
				AbsX:     {Value: -5, Min: -32768, Max: 32767, Fuzz: 16, Flat: 128},
				AbsY:     {Value: 3, Min: -32768, Max: 32767, Fuzz: 16, Flat: 128},
				AbsZ:     {Min: 0, Max: 255},
				AbsHat0X: {Min: -1, Max: 1},
				AbsHat0Y: {Value: 1, Min: -1, Max: 1},
			},
			types: []uint16{EvSyn, EvKey, EvAbs, EvFF},
			codes: map[uint16][]uint16{
				EvKey: {BtnSouth, BtnEast, BtnMode},
				EvAbs: {AbsX, AbsY, AbsZ, AbsHat0X, AbsHat0Y},
				EvFF:  {FFRumble, FFPeriodic, FFGain},
			},
		},
		{
			name: "spacemouse",
			bits: map[uint16][]uint64{
				0:     {1<<EvSyn | 1<<EvKey | 1<<EvRel | 1<<EvMsc | 1<<EvLed},
				EvKey: {0, 0, 0, 0, 1<<(Btn0-256) | 1<<(Btn1-256)},
				EvRel: {0x3f},
				EvMsc: {1 << 4}, // MSC_SCAN
				EvLed: {1 << 8}, // LED_MISC
			},
			types: []uint16{EvSyn, EvKey, EvRel, EvMsc, EvLed},
			codes: map[uint16][]uint16{
				EvKey: {Btn0, Btn1},
				EvRel: {RelX, RelY, RelZ, RelRX, RelRY, RelRZ},
				EvMsc: {4},
				EvLed: {8},
			},
		},
		{
			// KEY_MAX is the last bit of the last word; EV_REP is declared
			// but EVIOCGBIT answers EINVAL for it.
			name: "highest codes",
			bits: map[uint16][]uint64{
				0:     {1<<EvSyn | 1<<EvKey | 1<<EvRep | 1<<31},
				EvKey: {1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 << 63},
			},
			types: []uint16{EvSyn, EvKey, EvRep, 31},
			codes: map[uint16][]uint16{EvKey: {0, KeyMax}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := &fakeKernel{t: t, id: [4]uint16{3, 0x045e, 0x028e, 0x0114}, name: tt.name, phys: "usb-0000:00:14.0-2/input0",
				bits: tt.bits, effects: 16}
			for c, a := range tt.abs {
				k.abs[c] = a
			}
			d, effects, err := describe(k)
			if err != nil {
				t.Fatal(err)
			}
			if got := bitmapCodes(d.Bits[0]); !slices.Equal(got, tt.types) {
				t.Errorf("types %v; want %v", got, tt.types)
			}
			for _, typ := range []uint16{EvKey, EvRel, EvAbs, EvMsc, EvLed, EvFF} {
				if got := d.Codes(typ); !slices.Equal(got, tt.codes[typ]) {
					t.Errorf("%s codes %v; want %v", TypeName(typ), got, tt.codes[typ])
				}
			}
			if _, ok := d.Bits[EvRep]; ok {
				t.Errorf("EV_REP bitmap %v; want none (the kernel answers EINVAL)", d.Bits[EvRep])
			}
			wantAbs := tt.abs
			if wantAbs == nil {
				wantAbs = map[uint16]AbsInfo{}
			}
			if !reflect.DeepEqual(d.Abs, wantAbs) {
				t.Errorf("absinfo %v; want %v", d.Abs, wantAbs)
			}
			wantEffects := 0
			if tt.bits[EvFF] != nil {
				wantEffects = 16
			}
			if effects != wantEffects {
				t.Errorf("effects %d; want %d", effects, wantEffects)
			}
			if d.Name != tt.name || d.Phys != k.phys || d.Bus != 3 || d.Vendor != 0x045e || d.Product != 0x028e || d.Version != 0x0114 {
				t.Errorf("got %q %q %x %x:%x %x; want the fake's name, phys and ids", d.Name, d.Phys, d.Bus, d.Vendor, d.Product, d.Version)
			}
		})
	}
}

// A name longer than the buffer comes back truncated without its NUL; a
// device without a physical path answers ENOENT.
func TestDescribeStrings(t *testing.T) {
	long := strings.Repeat("x", nameSize+10)
	k := &fakeKernel{t: t, name: long, bits: map[uint16][]uint64{0: {1}}}
	d, _, err := describe(k)
	if err != nil {
		t.Fatal(err)
	}
	if d.Name != long[:nameSize] || d.Phys != "" {
		t.Errorf("name of %d bytes, phys %q; want the first %d bytes and none", len(d.Name), d.Phys, nameSize)
	}
}

// A character device whose driver does not know EVIOCGID is not an input
// device; other failures keep their own error.
func TestDescribeNotInputDevice(t *testing.T) {
	tests := []struct {
		name     string
		errno    error
		notInput bool
	}{
		{"ENOTTY (/dev/null, /dev/zero)", unix.ENOTTY, true},
		{"EINVAL (/dev/urandom)", unix.EINVAL, true},
		{"ENODEV (unplugged)", unix.ENODEV, false},
	}
	for _, tt := range tests {
		k := &fakeKernel{t: t, fail: tt.errno}
		_, _, err := describe(k)
		if err == nil || !errors.Is(err, tt.errno) {
			t.Errorf("%s: got %v; want an error wrapping %v", tt.name, err, tt.errno)
			continue
		}
		if got := errors.Is(err, ErrNotInputDevice); got != tt.notInput {
			t.Errorf("%s: %v: not-an-input-device %v; want %v", tt.name, err, got, tt.notInput)
		}
		if len(k.reqs) != 1 || k.reqs[0] != eviocgid {
			t.Errorf("%s: requests %#x; want EVIOCGID only", tt.name, k.reqs)
		}
	}
}

// The kernel's own answer for a character device that is not an evdev
// node: Open, List and the hot-plug path all say so.
func TestOpenNonInputDevice(t *testing.T) {
	if !liveArch(runtime.GOARCH) {
		t.Skipf("no live devices on %s", runtime.GOARCH)
	}
	for _, dev := range []string{"/dev/null", "/dev/zero"} {
		if fi, err := os.Stat(dev); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
			t.Skipf("%s is not a character device here", dev)
		}
		_, err := Open(dev, Options{})
		if !errors.Is(err, ErrNotInputDevice) || !errors.Is(err, unix.ENOTTY) || !strings.Contains(err.Error(), dev+": not an input device") {
			t.Errorf("Open(%s): %v; want %q wrapping ENOTTY", dev, err, dev+": not an input device")
		}
	}
	dir := t.TempDir()
	charNode(t, dir, "event0")
	infos, _ := List(dir)
	if len(infos) != 1 || !strings.Contains(infos[0].Error, "not an input device") {
		t.Errorf("List: %+v; want event0 listed as not an input device", infos)
	}
}

// node.ioctl refuses a buffer whose length differs from the request's
// declared size before anything reaches the kernel.
func TestNodeIoctlChecksBufferSize(t *testing.T) {
	f, err := os.Open("/dev/null")
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	n := &node{f: f, path: "/dev/null"}
	for _, tt := range []struct {
		req uintptr
		n   int
	}{
		{eviocgbit(0, 8), 4}, // golang-evdev's EVIOCGBIT(0) into 4 bytes
		{eviocgbit(uintptr(EvAbs), 767), 96},
		{eviocgabs(0), 0},
	} {
		err := n.ioctl(tt.req, make([]byte, tt.n))
		if err == nil || errors.Is(err, unix.ENOTTY) {
			t.Errorf("ioctl(%#x, %d bytes): %v; want a size error before the syscall", tt.req, tt.n, err)
		}
	}
	if err := n.ioctl(eviocgid, make([]byte, inputIDSize)); !errors.Is(err, unix.ENOTTY) {
		t.Errorf("EVIOCGID on /dev/null: %v; want ENOTTY from the kernel", err)
	}
}
