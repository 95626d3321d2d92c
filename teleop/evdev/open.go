package evdev

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"tandem/sim"
	"tandem/teleop"
)

// Options configures Open. The zero value plays a recording at recorded
// timing with the matched profile, its default mapping and takeover rule.
type Options struct {
	// Profile forces a profile by name instead of matching.
	Profile string
	// MappingFile is a user JSON file with profiles and/or a mapping.
	MappingFile string
	// Mapping, when set, replaces the profile's (and the file's) mapping.
	Mapping *Mapping
	// ActionNames are the task's actions (Spec.ActionNames); nil sizes
	// the action from the mapping's indices.
	ActionNames []string
	// Rule is a takeover rule ("norm", "norm:0.05", "nonzero", "button");
	// empty uses the profile's.
	Rule string
	// Operator names the commands' operator (default "dev:" + file name).
	Operator string
	// Grab asks a live device for exclusive access (EVIOCGRAB).
	Grab bool
	// Fast, Loop, Clock and OnFrame apply as in ReplayOptions; OnFrame
	// also sees a live device's frames.
	Fast    bool
	Loop    bool
	Clock   sim.Clock
	OnFrame func(*Frame)
	// Logger receives the first skip of each kind (unknown event types
	// and codes, SYN_DROPPED, non-finite mappings, replay timing fixes);
	// slog.Default() when nil. Every skip is counted in Device.Stats.
	Logger *slog.Logger
}

// skipLog returns the per-device skip log for source.
func (o *Options) skipLog(source string) *SkipLog {
	l := o.Logger
	if l == nil {
		l = slog.Default()
	}
	return &SkipLog{Logger: l, Source: source}
}

// Device is an opened input: a live evdev device or a recording replayed
// as if live. Latest is safe for concurrent use.
type Device interface {
	teleop.Source
	// Name is the device's name; Path where it was opened.
	Name() string
	Path() string
	// Info describes the device as `tandem devices list` shows it.
	Info() Info
	// Mapper is the resolved mapping (owned by the device goroutine: read
	// only Describe, Unbound and Layout from elsewhere).
	Mapper() *Mapper
	// Done is closed when the device stops producing (unplugged, end of
	// a recording, Close).
	Done() <-chan struct{}
	// ForceFeedback returns the device's force feedback, if it has any.
	ForceFeedback() (ForceFeedback, bool)
	// Stats returns the frames produced and the input skipped so far
	// (final once Done is closed).
	Stats() Stats
	Close() error
}

// maxRecording bounds a recording read into memory.
const maxRecording = 256 << 20

// ErrNoDevices is the hint shown when no input device can be opened.
var ErrNoDevices = errors.New("no readable input devices: /dev/input/event* needs read access (add yourself to the 'input' group or install the udev rule in docs/devices.md)")

// ErrNotInputDevice marks a node that does not answer EVIOCGID: a
// character device other than an evdev node (ENOTTY or EINVAL from its
// driver, as /dev/null and /dev/urandom answer).
var ErrNotInputDevice = errors.New("not an input device")

// Open opens a live device node (/dev/input/eventN) or a recording (evemu
// text or raw input_event records): a recording is accepted wherever a
// device path is.
func Open(pathOrFile string, opts Options) (Device, error) {
	fi, err := os.Stat(pathOrFile)
	if err != nil {
		return nil, fmt.Errorf("evdev: %w", err)
	}
	if opts.Operator == "" {
		opts.Operator = "dev:" + filepath.Base(pathOrFile)
	}
	switch {
	case fi.Mode()&os.ModeCharDevice != 0:
		return openLive(pathOrFile, opts)
	case fi.IsDir():
		return nil, fmt.Errorf("evdev: %s is a directory; pass a device node such as /dev/input/event3 or a recording", pathOrFile)
	}
	rec, err := ReadRecording(pathOrFile)
	if err != nil {
		return nil, err
	}
	return openRecording(pathOrFile, rec, opts)
}

// ReadRecording reads an evemu file or a raw input_event file. Raw files
// have an empty description.
func ReadRecording(path string) (*Recording, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("evdev: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxRecording+1))
	if err != nil {
		return nil, fmt.Errorf("evdev: %s: %w", path, err)
	}
	if len(b) > maxRecording {
		return nil, fmt.Errorf("evdev: %s: recording larger than %d MiB", path, maxRecording>>20)
	}
	head := b
	if len(head) > 64 {
		head = head[:64]
	}
	if looksLikeEvemu(head) {
		rec, err := ParseEvemu(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return rec, nil
	}
	evs, err := DecodeAll(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &Recording{Events: evs, Desc: Description{Name: filepath.Base(path)}}, nil
}

// Resolve picks the profile, mapping and rule for a device description.
func Resolve(d *Description, opts Options) (*Mapper, error) {
	cat, err := Builtin()
	if err != nil {
		return nil, err
	}
	var mapping *Mapping
	name := opts.Profile
	if opts.MappingFile != "" {
		f, err := LoadProfileFile(opts.MappingFile)
		if err != nil {
			return nil, err
		}
		cat = cat.With(f.Profiles)
		mapping = f.Mapping
		if name == "" {
			name = f.Profile
		}
	}
	var p *Profile
	if name != "" {
		if p, err = cat.Lookup(name); err != nil {
			return nil, err
		}
	} else if p = cat.Choose(d); p == nil {
		if len(d.Bits) == 0 && len(d.Abs) == 0 {
			return nil, fmt.Errorf("evdev: %s has no device description (a raw input_event file?): pass a profile (valid: %s)", d.Name, strings.Join(cat.Names(), ", "))
		}
		return nil, fmt.Errorf("evdev: no profile matches %q (%04x:%04x): pass a profile (valid: %s)", d.Name, d.Vendor, d.Product, strings.Join(cat.Names(), ", "))
	}
	m := p.Mapping
	if mapping != nil {
		m = *mapping
	}
	if opts.Mapping != nil {
		m = *opts.Mapping
	}
	rule := p.DefaultRule()
	if opts.Rule != "" {
		if rule, err = teleop.ParseRule(opts.Rule); err != nil {
			return nil, err
		}
	}
	l, err := Bind(p, d)
	if err != nil {
		return nil, err
	}
	return NewMapper(l, m, opts.ActionNames, rule, opts.Operator)
}

// fileDevice is a recording replayed as a device.
type fileDevice struct {
	*Replay
	path string
	info Info
}

// ErrNoEvents marks a recording that holds a device description but no
// events (an evemu-describe file): there is nothing to replay.
var ErrNoEvents = errors.New("holds a device description but no events: nothing to replay")

func openRecording(path string, rec *Recording, opts Options) (Device, error) {
	if len(rec.Events) == 0 {
		return nil, fmt.Errorf("evdev: %s %w", path, ErrNoEvents)
	}
	m, err := Resolve(&rec.Desc, opts)
	if err != nil {
		return nil, err
	}
	r, err := StartReplay(rec.Events, m, nil, ReplayOptions{Fast: opts.Fast, Loop: opts.Loop, Clock: opts.Clock,
		OnFrame: opts.OnFrame, Log: opts.skipLog(path)})
	if err != nil {
		return nil, err
	}
	return &fileDevice{Replay: r, path: path, info: DescribeInfo(path, &rec.Desc, m.Layout.Profile.Name)}, nil
}

func (d *fileDevice) Name() string                         { return d.info.Name }
func (d *fileDevice) Path() string                         { return d.path }
func (d *fileDevice) Info() Info                           { return d.info }
func (d *fileDevice) Mapper() *Mapper                      { return d.mapper }
func (d *fileDevice) ForceFeedback() (ForceFeedback, bool) { return nil, false }
