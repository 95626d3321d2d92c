package evdev

import (
	"log/slog"
	"time"
)

// Stats counts what a device or replay could not use as it came, by kind.
// Bad input is skipped and counted, never fatal: the stream keeps playing.
type Stats struct {
	// Frames is how many SYN_REPORT frames (and resync ends) were
	// produced; Decays how many relative-axis decay steps between them.
	Frames int `json:"frames"`
	Decays int `json:"decays"`
	// UnknownType counts events whose type is not a Linux event type
	// (linux/input-event-codes.h); UnknownCode those whose code is above
	// their type's *_MAX (for EV_SYN: not one of the four SYN_ codes).
	UnknownType int `json:"unknown_type"`
	UnknownCode int `json:"unknown_code"`
	// BadRecords counts input_event records a live device sent that could
	// not be decoded (an impossible timestamp); they are skipped.
	BadRecords int `json:"bad_records"`
	// Dropped counts SYN_DROPPED events and Resyncs the state re-reads
	// that ended them; QueryFailed counts re-read queries that failed.
	Dropped     int `json:"syn_dropped"`
	Resyncs     int `json:"resyncs"`
	QueryFailed int `json:"query_failed"`
	// NaNSkips counts frames whose mapped action was NaN or infinite (the
	// command is not produced).
	NaNSkips int `json:"nan_skips"`
	// Backwards counts events whose time is before the previous event's
	// (a replay plays their frame with no delay); CappedGaps counts replay
	// gaps longer than MaxReplayGap that were shortened to it.
	Backwards  int `json:"backwards"`
	CappedGaps int `json:"capped_gaps"`
}

// Add returns the field-wise sum of s and o.
func (s Stats) Add(o Stats) Stats {
	s.Frames += o.Frames
	s.Decays += o.Decays
	s.BadRecords += o.BadRecords
	s.UnknownType += o.UnknownType
	s.UnknownCode += o.UnknownCode
	s.Dropped += o.Dropped
	s.Resyncs += o.Resyncs
	s.QueryFailed += o.QueryFailed
	s.NaNSkips += o.NaNSkips
	s.Backwards += o.Backwards
	s.CappedGaps += o.CappedGaps
	return s
}

// Skipped reports whether anything was skipped, dropped or adjusted.
func (s Stats) Skipped() bool {
	z := s
	z.Frames, z.Decays = 0, 0
	return z != Stats{}
}

// SkipKind names one kind of skipped or adjusted input.
type SkipKind uint8

// Kinds of skipped input, each logged once per device.
const (
	SkipUnknownType SkipKind = iota
	SkipUnknownCode
	SkipDropped
	SkipNaN
	SkipBackwards
	SkipGapCapped
	SkipBadRecord
	numSkipKinds
)

var skipMessages = [numSkipKinds]string{
	SkipUnknownType: "evdev: skipping events of unknown type (counted; only the first is logged)",
	SkipUnknownCode: "evdev: skipping events with a code above their type's maximum (counted; only the first is logged)",
	SkipDropped:     "evdev: SYN_DROPPED: the kernel's buffer overflowed; events up to the next SYN_REPORT are dropped and the state re-read (counted; only the first is logged)",
	SkipNaN:         "evdev: skipping frames whose mapped action is not finite (counted; only the first is logged)",
	SkipBackwards:   "evdev: event time goes backwards (a replay plays it with no delay; counted; only the first is logged)",
	SkipGapCapped:   "evdev: replay: long gap between events shortened to MaxReplayGap (counted; only the first is logged)",
	SkipBadRecord:   "evdev: skipping an input_event record that cannot be decoded (counted; only the first is logged)",
}

// SkipLog logs the first occurrence of each SkipKind for one device (a nil
// *SkipLog or Logger logs nothing). It belongs to the device's goroutine.
type SkipLog struct {
	Logger *slog.Logger
	// Source names the device or file in each message.
	Source string
	seen   [numSkipKinds]bool
}

// Note logs event e as the first skip of its kind, once per kind. Later
// calls for the same kind do nothing (and do not allocate).
func (l *SkipLog) Note(kind SkipKind, e Event) {
	if l.first(kind) {
		l.Logger.Warn(skipMessages[kind], "source", l.Source, "t", e.Time.Round(time.Microsecond).String(),
			"type", TypeName(e.Type), "code", CodeName(e.Type, e.Code), "value", e.Value)
	}
}

// NoteFrame logs a frame-level skip at frame time t (with extra slog
// key-value pairs), once per kind.
func (l *SkipLog) NoteFrame(kind SkipKind, t time.Duration, extra ...any) {
	if l.first(kind) {
		l.Logger.Warn(skipMessages[kind], append([]any{"source", l.Source, "t", t.Round(time.Microsecond).String()}, extra...)...)
	}
}

func (l *SkipLog) first(kind SkipKind) bool {
	if l == nil || l.Logger == nil || kind >= numSkipKinds || l.seen[kind] {
		return false
	}
	l.seen[kind] = true
	return true
}

// Logged reports whether kind has been logged.
func (l *SkipLog) Logged(kind SkipKind) bool { return l != nil && kind < numSkipKinds && l.seen[kind] }

// knownType reports whether typ is a Linux event type.
func knownType(typ uint16) bool {
	switch typ {
	case EvSyn, EvKey, EvRel, EvAbs, EvMsc, EvSw, EvLed, EvSnd, EvRep, EvFF, EvPwr, EvFFStatus:
		return true
	}
	return false
}

// knownCode reports whether code is within its (known) type's range.
func knownCode(typ, code uint16) bool {
	switch typ {
	case EvSyn:
		return code <= SynDropped
	case EvPwr:
		return true // EV_PWR has no codes defined; any is passed through
	}
	return code <= maxCode(typ)
}
