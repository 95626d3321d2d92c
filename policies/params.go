package policies

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// params reads an algorithm's KEY=VALUE hyper-parameters (TrainInput.Params)
// against the keys it accepts. A getter given a bad value returns the
// default and records an error naming the key and its range; the first
// error recorded is the one reported (err, then done), so a parser reads
// all its keys and checks once. done also reports the keys nobody read
// (unknown keys are errors).
type params struct {
	algo  string
	m     map[string]string
	known []string
	// set records the keys given explicitly, so a warm start can tell an
	// inherited architecture from a conflicting one.
	set map[string]bool
	err error // the first problem found
}

func newParams(algo string, m map[string]string) *params {
	return &params{algo: algo, m: m, set: map[string]bool{}}
}

// raw returns the value of key and whether it was given, recording key as
// known.
func (p *params) raw(key string) (string, bool) {
	if !slices.Contains(p.known, key) {
		p.known = append(p.known, key)
	}
	v, ok := p.m[key]
	if ok {
		p.set[key] = true
	}
	return strings.TrimSpace(v), ok
}

// fail records err unless an earlier problem was recorded.
func (p *params) fail(err error) {
	if p.err == nil {
		p.err = err
	}
}

// bad records that key's value v is not what the key wants.
func (p *params) bad(key, v, want string) {
	if len(v) > 40 {
		v = v[:40] + "…"
	}
	p.fail(fmt.Errorf("%s: %s=%q: want %s", p.algo, key, v, want))
}

// int reads an integer in [lo, hi].
func (p *params) int(key string, def, lo, hi int) int {
	v, ok := p.raw(key)
	if !ok {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		p.bad(key, v, fmt.Sprintf("an integer in [%d, %d]", lo, hi))
		return def
	}
	return n
}

// float reads a finite number in [lo, hi] (lo excluded when openLo).
func (p *params) float(key string, def, lo, hi float64, openLo bool) float64 {
	v, ok := p.raw(key)
	if !ok {
		return def
	}
	f, err := strconv.ParseFloat(v, 64)
	bad := err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f > hi || f < lo || openLo && f == lo
	if bad {
		l := "["
		if openLo {
			l = "("
		}
		p.bad(key, v, fmt.Sprintf("a number in %s%g, %g]", l, lo, hi))
		return def
	}
	return f
}

// bool reads true/false (also 1/0, yes/no, on/off).
func (p *params) bool(key string, def bool) bool {
	v, ok := p.raw(key)
	if !ok {
		return def
	}
	switch strings.ToLower(v) {
	case "1", "true", "yes", "on":
		return true
	case "0", "false", "no", "off":
		return false
	}
	p.bad(key, v, "true or false")
	return def
}

// enum reads one of valid.
func (p *params) enum(key, def string, valid ...string) string {
	v, ok := p.raw(key)
	if !ok {
		return def
	}
	v = strings.ToLower(v)
	if !slices.Contains(valid, v) {
		p.bad(key, v, "one of "+strings.Join(valid, ", "))
		return def
	}
	return v
}

// splitList splits a list value on commas, '+', 'x' or spaces, so that it
// survives a command line that splits parameters on commas
// (hidden=256x256, sources=demo+human).
func splitList(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == '+' || r == 'x' || r == ' ' })
}

// widths reads a list of 1..maxLen layer widths, each in [1, maxW].
func (p *params) widths(key string, def []int, maxLen, maxW int) []int {
	v, ok := p.raw(key)
	if !ok {
		return def
	}
	want := fmt.Sprintf("1 to %d layer widths in [1, %d], such as 256x256", maxLen, maxW)
	f := splitList(v)
	if len(f) == 0 || len(f) > maxLen {
		p.bad(key, v, want)
		return def
	}
	out := make([]int, len(f))
	for i, s := range f {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxW {
			p.bad(key, v, want)
			return def
		}
		out[i] = n
	}
	return out
}

// done returns the first problem recorded, or else an error naming the
// keys that no getter read.
func (p *params) done() error {
	if p.err != nil {
		return p.err
	}
	var unknown []string
	for k := range p.m {
		if !slices.Contains(p.known, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	known := append([]string(nil), p.known...)
	sort.Strings(known)
	for i, k := range unknown {
		if len(k) > 32 {
			unknown[i] = k[:32] + "…"
		}
	}
	return fmt.Errorf("%s: unknown parameter %s (valid: %s)", p.algo, strings.Join(quoteAll(unknown), ", "), strings.Join(known, ", "))
}

func quoteAll(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = strconv.Quote(v)
	}
	return out
}
