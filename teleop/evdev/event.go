package evdev

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

// EventSize is the size of struct input_event on x86-64 (and every 64-bit
// Linux): timeval (sec, usec as 8-byte longs), type u16, code u16, value s32.
const EventSize = 24

// maxEventSec bounds a timestamp's seconds so that Time fits a Duration
// (about 292 years); larger values only come from corrupt input.
const maxEventSec = 1 << 33

// Event is one input_event. Time is the kernel timestamp as a duration from
// its clock's epoch: the Unix epoch for CLOCK_REALTIME (the default), boot
// for CLOCK_MONOTONIC, and the recording's start for evemu files.
type Event struct {
	Time  time.Duration
	Type  uint16
	Code  uint16
	Value int32
}

// String formats e like evemu-record's comment column.
func (e Event) String() string {
	if e.Type == EvSyn {
		return fmt.Sprintf("%.6f %s", e.Time.Seconds(), CodeName(e.Type, e.Code))
	}
	return fmt.Sprintf("%.6f %s %s %d", e.Time.Seconds(), TypeName(e.Type), CodeName(e.Type, e.Code), e.Value)
}

// TruncatedError reports input that ended inside an input_event record.
type TruncatedError struct {
	Offset int64 // byte offset of the incomplete record
	Got    int   // bytes of it that were present
}

func (e *TruncatedError) Error() string {
	return fmt.Sprintf("evdev: truncated input_event at byte %d: got %d of %d bytes", e.Offset, e.Got, EventSize)
}

// ErrBadTimestamp marks a record whose timeval cannot come from a kernel.
var ErrBadTimestamp = errors.New("evdev: invalid input_event timestamp")

// DecodeEvent decodes one 24-byte little-endian input_event record.
func DecodeEvent(b []byte) (Event, error) {
	if len(b) < EventSize {
		return Event{}, &TruncatedError{Got: len(b)}
	}
	sec := int64(binary.LittleEndian.Uint64(b[0:8]))
	usec := int64(binary.LittleEndian.Uint64(b[8:16]))
	if usec < 0 || usec >= 1e6 || sec < -maxEventSec || sec > maxEventSec {
		return Event{}, fmt.Errorf("%w: sec %d usec %d", ErrBadTimestamp, sec, usec)
	}
	return Event{
		Time:  time.Duration(sec)*time.Second + time.Duration(usec)*time.Microsecond,
		Type:  binary.LittleEndian.Uint16(b[16:18]),
		Code:  binary.LittleEndian.Uint16(b[18:20]),
		Value: int32(binary.LittleEndian.Uint32(b[20:24])),
	}, nil
}

// AppendEvent appends e's 24-byte record to dst. Times before the epoch
// keep the kernel convention of a non-negative usec.
func AppendEvent(dst []byte, e Event) []byte {
	sec := int64(e.Time / time.Second)
	usec := int64(e.Time%time.Second) / 1e3
	if usec < 0 {
		sec--
		usec += 1e6
	}
	var b [EventSize]byte
	binary.LittleEndian.PutUint64(b[0:8], uint64(sec))
	binary.LittleEndian.PutUint64(b[8:16], uint64(usec))
	binary.LittleEndian.PutUint16(b[16:18], e.Type)
	binary.LittleEndian.PutUint16(b[18:20], e.Code)
	binary.LittleEndian.PutUint32(b[20:24], uint32(e.Value))
	return append(dst, b[:]...)
}

// Decoder reads input_event records from a file, pipe or device. It is not
// safe for concurrent use; Next does not allocate.
type Decoder struct {
	r   *bufio.Reader
	off int64
	rec [EventSize]byte
}

// NewDecoder reads records from r through a buffer of 64 records.
func NewDecoder(r io.Reader) *Decoder {
	return &Decoder{r: bufio.NewReaderSize(r, 64*EventSize)}
}

// Next returns the next event. It returns io.EOF at a clean end and a
// *TruncatedError when the input stops inside a record.
func (d *Decoder) Next() (Event, error) {
	n, err := io.ReadFull(d.r, d.rec[:])
	switch {
	case err == io.EOF:
		return Event{}, io.EOF
	case err == io.ErrUnexpectedEOF:
		return Event{}, &TruncatedError{Offset: d.off, Got: n}
	case err != nil:
		return Event{}, err
	}
	ev, err := DecodeEvent(d.rec[:])
	if err != nil {
		return Event{}, fmt.Errorf("evdev: record at byte %d: %w", d.off, err)
	}
	d.off += EventSize
	return ev, nil
}

// Offset returns the number of bytes decoded so far.
func (d *Decoder) Offset() int64 { return d.off }

// DecodeAll reads every record of r. On error it returns the events decoded
// before it.
func DecodeAll(r io.Reader) ([]Event, error) {
	d := NewDecoder(r)
	var out []Event
	for {
		ev, err := d.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, ev)
	}
}
