package evdev

import (
	"bytes"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseEvemu: any input parses or fails with an error, never panics;
// whatever parses can be bound to a profile and played without producing
// a non-finite command.
func FuzzParseEvemu(f *testing.F) {
	// Seeds: testdata/fuzz/FuzzParseEvemu (excerpts of the real recordings;
	// whole files make each minimisation crawl).
	cat, err := Builtin()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rec, err := ParseEvemu(bytes.NewReader(data))
		if err != nil {
			var se *SyntaxError
			if errors.As(err, &se) && (se.Line < 1 || !strings.HasPrefix(err.Error(), "evemu: line ")) {
				t.Fatalf("syntax error without a line: %v", err)
			}
			return
		}
		for c, a := range rec.Desc.Abs {
			if a.Min >= a.Max {
				t.Fatalf("axis %#x kept with min %d >= max %d", c, a.Min, a.Max)
			}
		}
		p := cat.Choose(&rec.Desc)
		if p == nil {
			p, _ = cat.Lookup("joystick")
		}
		l, err := Bind(p, &rec.Desc)
		if err != nil {
			t.Fatal(err)
		}
		m, err := NewMapper(l, p.Mapping, []string{"a", "b", "c", "d"}, p.DefaultRule(), "fuzz")
		if err != nil {
			t.Fatal(err)
		}
		pl := NewPlayer(rec.Events, m, nil)
		for n := 0; n < 10000; n++ {
			fr := pl.Next()
			if fr == nil {
				break
			}
			if fr.OK {
				for _, v := range fr.Cmd.Action.Slice() {
					if math.IsNaN(v) || math.IsInf(v, 0) {
						t.Fatalf("non-finite action %v", fr.Cmd.Action.Slice())
					}
				}
			}
		}
	})
}

// FuzzDecodeEvents: any byte stream decodes to whole events plus at most
// one error, and re-encoding the events gives back the bytes consumed.
func FuzzDecodeEvents(f *testing.F) {
	// Seeds: testdata/fuzz/FuzzDecodeEvents.
	f.Fuzz(func(t *testing.T, data []byte) {
		d := NewDecoder(bytes.NewReader(data))
		var out []byte
		s := NewState(nil)
		for {
			e, err := d.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				var te *TruncatedError
				if errors.As(err, &te) && (te.Got <= 0 || te.Got >= EventSize || te.Offset != int64(len(out))) {
					t.Fatalf("bad truncation report %+v after %d bytes", te, len(out))
				}
				break
			}
			out = AppendEvent(out, e)
			s.Apply(e)
		}
		if !bytes.Equal(out, data[:len(out)]) {
			t.Fatalf("re-encoding differs from the input")
		}
		if len(s.pending) > maxPending {
			t.Fatalf("pending %d", len(s.pending))
		}
	})
}

// FuzzMappingFile: a user mapping file (--mapping FILE: profiles,
// mapping, forced profile) loads or fails with an error naming the file,
// never panics; whatever loads resolves against a real pad's description
// or fails with an error, and the mapper it gives plays a recording
// without producing a non-finite command.
func FuzzMappingFile(f *testing.F) {
	// Seeds: testdata/fuzz/FuzzMappingFile (the example of docs/devices.md,
	// a built-in profile, and near misses).
	rec, err := ReadRecording("testdata/xbox360-takeover-success-reset.events")
	if err != nil {
		f.Fatal(err)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "mapping.json")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		pf, err := LoadProfileFile(path)
		if err != nil {
			if !strings.Contains(err.Error(), "mapping file") {
				t.Fatalf("error does not name the mapping file: %v", err)
			}
			return
		}
		for _, p := range pf.Profiles {
			if err := p.Validate(); err != nil {
				t.Fatalf("loaded profile %q does not validate: %v", p.Name, err)
			}
		}
		for _, names := range [][]string{{"dx", "dy", "dphi", "jaw"}, nil} {
			m, err := Resolve(&rec.Desc, Options{MappingFile: path, ActionNames: names, Operator: "fuzz"})
			if err != nil {
				continue
			}
			m.Describe()
			pl := NewPlayer(rec.Events, m, nil)
			for n := 0; n < 2000; n++ {
				fr := pl.Next()
				if fr == nil {
					break
				}
				if !fr.OK {
					continue
				}
				for _, v := range fr.Cmd.Action.Slice() {
					if math.IsNaN(v) || math.IsInf(v, 0) {
						t.Fatalf("non-finite action %v", fr.Cmd.Action.Slice())
					}
				}
			}
		}
	})
}
