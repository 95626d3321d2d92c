package evdev

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"
)

func rawEvents(evs ...Event) []byte {
	var b []byte
	for _, e := range evs {
		b = AppendEvent(b, e)
	}
	return b
}

func TestDecodeEvent(t *testing.T) {
	tests := []struct {
		name    string
		ev      Event
		wantErr bool
	}{
		{"abs negative", Event{Time: 1500*time.Second + 250*time.Microsecond, Type: EvAbs, Code: AbsRY, Value: -1490}, false},
		{"key press", Event{Time: 3 * time.Second, Type: EvKey, Code: BtnEast, Value: 1}, false},
		{"syn report", Event{Time: 999999 * time.Microsecond, Type: EvSyn, Code: SynReport}, false},
		{"int32 extremes", Event{Type: EvAbs, Code: AbsX, Value: -2147483648}, false},
		{"before epoch", Event{Time: -1500 * time.Millisecond, Type: EvRel, Code: RelX, Value: 7}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := AppendEvent(nil, tt.ev)
			if len(b) != EventSize {
				t.Fatalf("record is %d bytes; want %d", len(b), EventSize)
			}
			got, err := DecodeEvent(b)
			if err != nil {
				t.Fatalf("DecodeEvent: %v", err)
			}
			if got != tt.ev {
				t.Errorf("got %+v; want %+v", got, tt.ev)
			}
		})
	}
}

func TestDecodeEventLayout(t *testing.T) {
	// Hand-built x86-64 record: sec 2, usec 500000, EV_ABS, ABS_Y, -392.
	b := []byte{2, 0, 0, 0, 0, 0, 0, 0, 0x20, 0xa1, 0x07, 0, 0, 0, 0, 0, 3, 0, 1, 0, 0x78, 0xfe, 0xff, 0xff}
	got, err := DecodeEvent(b)
	if err != nil {
		t.Fatal(err)
	}
	want := Event{Time: 2500 * time.Millisecond, Type: EvAbs, Code: AbsY, Value: -392}
	if got != want {
		t.Errorf("got %+v; want %+v", got, want)
	}
}

func TestDecodeEventRejectsImpossibleTimestamps(t *testing.T) {
	tests := []struct {
		name      string
		sec, usec uint64
	}{
		{"usec one million", 1, 1000000},
		{"negative usec", 1, ^uint64(0)},
		{"sec beyond a Duration", 1 << 40, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := make([]byte, EventSize)
			for i := 0; i < 8; i++ {
				b[i] = byte(tt.sec >> (8 * i))
				b[8+i] = byte(tt.usec >> (8 * i))
			}
			if _, err := DecodeEvent(b); !errors.Is(err, ErrBadTimestamp) {
				t.Errorf("got %v; want ErrBadTimestamp", err)
			}
		})
	}
}

func TestDecoderTruncated(t *testing.T) {
	evs := []Event{{Type: EvAbs, Code: AbsX, Value: 5}, {Type: EvSyn}}
	full := rawEvents(evs...)
	tests := []struct {
		name    string
		data    []byte
		wantN   int
		wantOff int64
		wantGot int
	}{
		{"clean end", full, 2, -1, 0},
		{"cut in second record", full[:EventSize+10], 1, EventSize, 10},
		{"one byte", full[:1], 0, 0, 1},
		{"empty", nil, 0, -1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeAll(bytes.NewReader(tt.data))
			if len(got) != tt.wantN {
				t.Errorf("decoded %d events; want %d", len(got), tt.wantN)
			}
			var te *TruncatedError
			if tt.wantOff < 0 {
				if err != nil {
					t.Errorf("got error %v; want none", err)
				}
				return
			}
			if !errors.As(err, &te) {
				t.Fatalf("got %v; want *TruncatedError", err)
			}
			if te.Offset != tt.wantOff || te.Got != tt.wantGot {
				t.Errorf("got offset %d got %d; want offset %d got %d", te.Offset, te.Got, tt.wantOff, tt.wantGot)
			}
		})
	}
}

// A pipe delivers records in arbitrary chunks; the decoder reassembles them.
func TestDecoderPipeChunks(t *testing.T) {
	var want []Event
	for i := 0; i < 50; i++ {
		want = append(want, Event{Time: time.Duration(i) * time.Millisecond, Type: EvAbs, Code: AbsX, Value: int32(i * 100)}, Event{Time: time.Duration(i) * time.Millisecond})
	}
	data := rawEvents(want...)
	pr, pw := io.Pipe()
	go func() {
		for off := 0; off < len(data); off += 7 {
			end := min(off+7, len(data))
			pw.Write(data[off:end])
		}
		pw.Close()
	}()
	got, err := DecodeAll(pr)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("got %d events; want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("event %d: got %+v; want %+v", i, got[i], want[i])
		}
	}
}

func TestDecoderNextDoesNotAllocate(t *testing.T) {
	data := bytes.Repeat(rawEvents(Event{Type: EvAbs, Value: 1}), 2000)
	d := NewDecoder(bytes.NewReader(data))
	allocs := testing.AllocsPerRun(1000, func() {
		if _, err := d.Next(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Next allocates %v times per event; want 0", allocs)
	}
}

func BenchmarkDecoder(b *testing.B) {
	data := bytes.Repeat(rawEvents(Event{Type: EvAbs, Value: 1}, Event{}), 512)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		d := NewDecoder(bytes.NewReader(data))
		for {
			if _, err := d.Next(); err != nil {
				break
			}
		}
	}
}
