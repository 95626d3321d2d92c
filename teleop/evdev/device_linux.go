//go:build linux

package evdev

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"tandem/teleop"
)

// node is an open evdev file. Ioctls go through SyscallConn so the file
// stays non-blocking (File.Fd would switch it to blocking mode and disable
// read deadlines, which the decay timer needs).
type node struct {
	f    *os.File
	path string
	rw   bool
}

// openNode opens a device read-write (force feedback needs it), falling
// back to read-only when only that is permitted.
func openNode(path string) (*node, error) {
	if !liveArch(runtime.GOARCH) {
		return nil, fmt.Errorf("evdev: cannot open %s: live devices need 64-bit little-endian Linux with the generic ioctl encoding (amd64, arm64, riscv64, loong64; this is linux/%s); recordings still replay", path, runtime.GOARCH)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err == nil {
		return &node{f: f, path: path, rw: true}, nil
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
	return &node{f: f, path: path}, nil
}

const permissionHint = "add yourself to the 'input' group or install the udev rule in docs/devices.md"

// ioctl implements ioctler: a request whose argument points to buf, which
// must be exactly as long as the request declares.
func (n *node) ioctl(req uintptr, buf []byte) error {
	if len(buf) != iocSize(req) || len(buf) == 0 {
		return fmt.Errorf("evdev: ioctl %#x with a %d-byte buffer; the request declares %d", req, len(buf), iocSize(req))
	}
	return n.control(func(fd uintptr) syscall.Errno {
		_, _, errno := unix.Syscall(unix.SYS_IOCTL, fd, req, uintptr(unsafe.Pointer(&buf[0])))
		return errno
	})
}

// ioctlValue issues a request whose argument is a plain value (EVIOCGRAB,
// EVIOCRMFF).
func (n *node) ioctlValue(req, val uintptr) error {
	return n.control(func(fd uintptr) syscall.Errno {
		_, _, errno := unix.Syscall(unix.SYS_IOCTL, fd, req, val)
		return errno
	})
}

func (n *node) control(call func(fd uintptr) syscall.Errno) error {
	rc, err := n.f.SyscallConn()
	if err != nil {
		return err
	}
	var errno syscall.Errno
	if err := rc.Control(func(fd uintptr) { errno = call(fd) }); err != nil {
		return err
	}
	if errno != 0 {
		return errno
	}
	return nil
}

// describe reads the node's description; errors name the node.
func (n *node) describe() (Description, int, error) {
	d, effects, err := describe(n)
	if err != nil {
		return d, 0, fmt.Errorf("evdev: %s: %w", n.path, err)
	}
	return d, effects, nil
}

// QueryKeys implements StateQuerier with EVIOCGKEY.
func (n *node) QueryKeys(bits []byte) error { return queryKeys(n, bits) }

// QueryAbs implements StateQuerier with EVIOCGABS.
func (n *node) QueryAbs(code uint16) (AbsInfo, error) { return queryAbs(n, code) }

// upload implements ffSys: EVIOCSFF, after which the kernel has written
// the effect's id into the struct.
func (n *node) upload(b *[ffEffectSize]byte) (int16, error) {
	if err := n.ioctl(eviocsff, b[:]); err != nil {
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
func (n *node) erase(id int16) error { return n.ioctlValue(eviocrmff, uintptr(id)) }

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
		if err := n.ioctlValue(eviocgrab, 1); err != nil {
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
