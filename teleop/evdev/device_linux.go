//go:build linux && cgo

package evdev

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
	"unsafe"

	gevdev "github.com/gvalkov/golang-evdev"
	"golang.org/x/sys/unix"

	"tandem/teleop"
)

// liveSupported reports whether this build can open live devices.
const liveSupported = true

// eventPaths lists dir's evdev nodes (event<N> character devices) in
// numeric order. The listing is golang-evdev's ListInputDevicePaths, a
// glob plus a character-device check: the one part of that module that
// opens nothing (doc.go says why the rest is not used).
func eventPaths(dir string) ([]string, error) {
	paths, err := gevdev.ListInputDevicePaths(filepath.Join(globEscape(dir), "event*"))
	if err != nil {
		return nil, fmt.Errorf("evdev: listing %s: %w", dir, err)
	}
	return sortEventPaths(paths), nil
}

// node is an open evdev file. Ioctls go through SyscallConn so the file
// stays non-blocking (File.Fd would switch it to blocking mode and disable
// read deadlines, which the decay timer needs).
type node struct {
	f  *os.File
	rw bool
}

// openNode opens a device read-write (force feedback needs it), falling
// back to read-only when only that is permitted.
func openNode(path string) (*node, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err == nil {
		return &node{f: f, rw: true}, nil
	}
	if !errors.Is(err, os.ErrPermission) && !errors.Is(err, syscall.EROFS) {
		return nil, fmt.Errorf("evdev: %w", err)
	}
	f, err2 := os.OpenFile(path, os.O_RDONLY, 0)
	if err2 != nil {
		if errors.Is(err2, os.ErrPermission) {
			return nil, fmt.Errorf("evdev: %w (%s)", err2, permissionHint)
		}
		return nil, fmt.Errorf("evdev: %w", err2)
	}
	return &node{f: f}, nil
}

const permissionHint = "add yourself to the 'input' group or install the udev rule in docs/devices.md"

// ioctl issues a request whose argument is a pointer to buf (or a plain
// value when buf is nil).
func (n *node) ioctl(req uintptr, buf unsafe.Pointer, val uintptr) error {
	rc, err := n.f.SyscallConn()
	if err != nil {
		return err
	}
	var errno syscall.Errno
	cerr := rc.Control(func(fd uintptr) {
		if buf != nil {
			_, _, errno = unix.Syscall(unix.SYS_IOCTL, fd, req, uintptr(buf))
		} else {
			_, _, errno = unix.Syscall(unix.SYS_IOCTL, fd, req, val)
		}
	})
	if cerr != nil {
		return cerr
	}
	if errno != 0 {
		return errno
	}
	return nil
}

// describe reads name, ids, capability bitmaps and absinfo. Every bitmap
// gets a fresh, zeroed buffer whose true size is the size in the request
// (the two golang-evdev defects doc.go describes).
func (n *node) describe() (Description, int, error) {
	d := Description{Bits: map[uint16][]byte{}, Abs: map[uint16]AbsInfo{}, AbsValues: true}
	var id [4]uint16
	if err := n.ioctl(eviocgid, unsafe.Pointer(&id[0]), 0); err != nil {
		return d, 0, fmt.Errorf("evdev: EVIOCGID: %w (not an evdev node?)", err)
	}
	d.Bus, d.Vendor, d.Product, d.Version = id[0], id[1], id[2], id[3]
	var name [256]byte
	if err := n.ioctl(eviocgname(uintptr(len(name))), unsafe.Pointer(&name[0]), 0); err == nil {
		d.Name = cString(name[:])
	}
	props := make([]byte, bitmapBytes(0x1f))
	if n.ioctl(eviocgprop(uintptr(len(props))), unsafe.Pointer(&props[0]), 0) == nil {
		d.Props = props
	}
	types := make([]byte, bitmapBytes(EvMax))
	if err := n.ioctl(eviocgbit(0, uintptr(len(types))), unsafe.Pointer(&types[0]), 0); err != nil {
		return d, 0, fmt.Errorf("evdev: EVIOCGBIT(0): %w", err)
	}
	d.Bits[0] = types
	for t := uint16(1); t <= EvMax; t++ {
		if types[t/8]&(1<<(t%8)) == 0 {
			continue
		}
		bits := make([]byte, bitmapBytes(maxCode(t)))
		if err := n.ioctl(eviocgbit(uintptr(t), uintptr(len(bits))), unsafe.Pointer(&bits[0]), 0); err != nil {
			continue // some types (EV_REP) answer EINVAL on some devices
		}
		d.Bits[t] = bits
	}
	for _, c := range d.Codes(EvAbs) {
		var a [6]int32
		if err := n.ioctl(eviocgabs(uintptr(c)), unsafe.Pointer(&a[0]), 0); err != nil {
			continue
		}
		d.Abs[c] = AbsInfo{Value: a[0], Min: a[1], Max: a[2], Fuzz: a[3], Flat: a[4], Resolution: a[5]}
	}
	effects := int32(0)
	if d.Bits[EvFF] != nil {
		_ = n.ioctl(eviocgeffects, unsafe.Pointer(&effects), 0)
	}
	return d, int(effects), nil
}

func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// QueryKeys implements StateQuerier with EVIOCGKEY.
func (n *node) QueryKeys(bits []byte) error {
	return n.ioctl(eviocgkey(uintptr(len(bits))), unsafe.Pointer(&bits[0]), 0)
}

// QueryAbs implements StateQuerier with EVIOCGABS.
func (n *node) QueryAbs(code uint16) (AbsInfo, error) {
	var a [6]int32
	if err := n.ioctl(eviocgabs(uintptr(code)), unsafe.Pointer(&a[0]), 0); err != nil {
		return AbsInfo{}, err
	}
	return AbsInfo{Value: a[0], Min: a[1], Max: a[2], Fuzz: a[3], Flat: a[4], Resolution: a[5]}, nil
}

// upload implements ffSys: EVIOCSFF, after which the kernel has written
// the effect's id into the struct.
func (n *node) upload(b *[ffEffectSize]byte) (int16, error) {
	if err := n.ioctl(eviocsff, unsafe.Pointer(&b[0]), 0); err != nil {
		return -1, err
	}
	return int16(uint16(b[2]) | uint16(b[3])<<8), nil
}

// writeFF implements ffSys: play/stop (code = effect id, value = count or
// 0) and FF_GAIN are input_events written to the device.
func (n *node) writeFF(code uint16, value int32) error {
	buf := AppendEvent(make([]byte, 0, EventSize), Event{Type: EvFF, Code: code, Value: value})
	_, err := n.f.Write(buf)
	return err
}

// erase implements ffSys: EVIOCRMFF takes the id as the argument value.
func (n *node) erase(id int16) error { return n.ioctl(eviocrmff, nil, uintptr(id)) }

func probe(path string) (Info, error) {
	n, err := openNode(path)
	if err != nil {
		return Info{}, err
	}
	defer n.f.Close()
	d, effects, err := n.describe()
	if err != nil {
		return Info{}, err
	}
	in := DescribeInfo(path, &d, ChooseName(&d))
	in.FFEffects = effects
	in.Access = "ro"
	if n.rw {
		in.Access = "rw"
	}
	return in, nil
}

// liveDevice reads one evdev node on its own goroutine.
type liveDevice struct {
	*teleop.Latch
	n      *node
	path   string
	info   Info
	mapper *Mapper
	player *Player
	ff     *ffCore
	opts   Options
	log    *SkipLog
	bad    int // undecodable records; reader goroutine only
	done   chan struct{}
	once   sync.Once
	mu     sync.Mutex
	closed bool
	err    error
	stats  Stats // snapshot for Stats
}

func openLive(path string, opts Options) (Device, error) {
	n, err := openNode(path)
	if err != nil {
		return nil, err
	}
	d, effects, err := n.describe()
	if err != nil {
		n.f.Close()
		return nil, err
	}
	m, err := Resolve(&d, opts)
	if err != nil {
		n.f.Close()
		return nil, err
	}
	if opts.Grab {
		if err := n.ioctl(eviocgrab, nil, 1); err != nil {
			n.f.Close()
			return nil, fmt.Errorf("evdev: grab %s: %w (another program holds it?)", path, err)
		}
	}
	dev := &liveDevice{Latch: teleop.NewLatch(m.Operator), n: n, path: path, mapper: m, opts: opts,
		player: NewPlayer(nil, m, n), log: opts.skipLog(path), done: make(chan struct{})}
	dev.player.SetLog(dev.log)
	dev.info = DescribeInfo(path, &d, m.Layout.Profile.Name)
	dev.info.FFEffects = effects
	dev.info.Access = "ro"
	if n.rw {
		dev.info.Access = "rw"
		rumble, constant, gain := d.Has(EvFF, FFRumble), d.Has(EvFF, FFConstant), d.Has(EvFF, FFGain)
		if rumble || constant {
			dev.ff = newFFCore(n, rumble, constant, gain)
		}
	}
	go dev.read()
	return dev, nil
}

// read decodes events until the device goes away or is closed. Between
// events it sets a read deadline at the next relative-axis decay, so a
// released SpaceMouse returns to 0 on time; decay times are event times
// (last event time plus the hold), not wall-clock readings.
func (d *liveDevice) read() {
	defer close(d.done)
	defer d.Disconnect()
	buf := make([]byte, 64*EventSize)
	var lastEv time.Duration
	var lastWall time.Time
	for {
		if at, ok := d.player.NextDecay(); ok {
			_ = d.n.f.SetReadDeadline(lastWall.Add(at - lastEv))
		} else {
			_ = d.n.f.SetReadDeadline(time.Time{})
		}
		k, err := d.n.f.Read(buf)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			if at, ok := d.player.NextDecay(); ok {
				d.publish(d.player.DecayBefore(at + 1))
			}
			d.snapshot()
			continue
		}
		if err != nil {
			d.mu.Lock()
			if !d.closed {
				d.err = err // ENODEV: unplugged
			}
			d.mu.Unlock()
			return
		}
		lastWall = time.Now()
		for off := 0; off+EventSize <= k; off += EventSize {
			e, err := DecodeEvent(buf[off : off+EventSize])
			if err != nil {
				d.bad++
				d.log.NoteFrame(SkipBadRecord, lastEv, "error", err.Error())
				continue
			}
			lastEv = e.Time
			d.publish(d.player.Feed(e))
		}
		d.snapshot()
	}
}

// snapshot publishes the reader's counts for Stats.
func (d *liveDevice) snapshot() {
	st := d.player.Stats()
	st.BadRecords = d.bad
	d.mu.Lock()
	d.stats = st
	d.mu.Unlock()
}

// Stats returns the frames read and the input skipped so far.
func (d *liveDevice) Stats() Stats {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stats
}

func (d *liveDevice) publish(f *Frame) {
	if f == nil {
		return
	}
	if f.OK {
		d.Set(f.Cmd)
	}
	if d.opts.OnFrame != nil {
		d.opts.OnFrame(f)
	}
}

func (d *liveDevice) Name() string          { return d.info.Name }
func (d *liveDevice) Path() string          { return d.path }
func (d *liveDevice) Info() Info            { return d.info }
func (d *liveDevice) Mapper() *Mapper       { return d.mapper }
func (d *liveDevice) Done() <-chan struct{} { return d.done }

func (d *liveDevice) ForceFeedback() (ForceFeedback, bool) {
	if d.ff == nil {
		return nil, false
	}
	return d.ff, true
}

// Err returns why the reader stopped (nil after Close).
func (d *liveDevice) Err() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.err
}

// Close stops force feedback, releases the grab (closing does) and ends the
// reader.
func (d *liveDevice) Close() error {
	var err error
	d.once.Do(func() {
		d.mu.Lock()
		d.closed = true
		d.mu.Unlock()
		if d.ff != nil {
			_ = d.ff.Stop()
			_ = d.ff.release()
		}
		err = d.n.f.Close()
		<-d.done
	})
	return err
}
