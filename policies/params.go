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
// against the keys it accepts. Every getter names the key and its range in
// its error; done reports the keys nobody read (unknown keys are errors).
type params struct {
	algo  string
	m     map[string]string
	known []string
	// set records the keys given explicitly, so a warm start can tell an
	// inherited architecture from a conflicting one.
	set map[string]bool
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

func (p *params) errorf(key, v, want string) error {
	if len(v) > 40 {
		v = v[:40] + "…"
	}
	return fmt.Errorf("%s: %s=%q: want %s", p.algo, key, v, want)
}

// int reads an integer in [lo, hi].
func (p *params) int(key string, def, lo, hi int) (int, error) {
	v, ok := p.raw(key)
	if !ok {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return def, p.errorf(key, v, fmt.Sprintf("an integer in [%d, %d]", lo, hi))
	}
	return n, nil
}

// float reads a finite number in [lo, hi] (lo excluded when openLo).
func (p *params) float(key string, def, lo, hi float64, openLo bool) (float64, error) {
	v, ok := p.raw(key)
	if !ok {
		return def, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	bad := err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f > hi || f < lo || openLo && f == lo
	if bad {
		l := "["
		if openLo {
			l = "("
		}
		return def, p.errorf(key, v, fmt.Sprintf("a number in %s%g, %g]", l, lo, hi))
	}
	return f, nil
}

// bool reads true/false (also 1/0, yes/no, on/off).
func (p *params) bool(key string, def bool) (bool, error) {
	v, ok := p.raw(key)
	if !ok {
		return def, nil
	}
	switch strings.ToLower(v) {
	case "1", "true", "yes", "on":
		return true, nil
	case "0", "false", "no", "off":
		return false, nil
	}
	return def, p.errorf(key, v, "true or false")
}

// enum reads one of valid.
func (p *params) enum(key, def string, valid ...string) (string, error) {
	v, ok := p.raw(key)
	if !ok {
		return def, nil
	}
	v = strings.ToLower(v)
	if !slices.Contains(valid, v) {
		return def, p.errorf(key, v, "one of "+strings.Join(valid, ", "))
	}
	return v, nil
}

// splitList splits a list value on commas, '+', 'x' or spaces, so that it
// survives a command line that splits parameters on commas
// (hidden=256x256, sources=demo+human).
func splitList(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == '+' || r == 'x' || r == ' ' })
}

// widths reads a list of 1..maxLen layer widths, each in [1, maxW].
func (p *params) widths(key string, def []int, maxLen, maxW int) ([]int, error) {
	v, ok := p.raw(key)
	if !ok {
		return def, nil
	}
	want := fmt.Sprintf("1 to %d layer widths in [1, %d], such as 256x256", maxLen, maxW)
	f := splitList(v)
	if len(f) == 0 || len(f) > maxLen {
		return def, p.errorf(key, v, want)
	}
	out := make([]int, len(f))
	for i, s := range f {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxW {
			return def, p.errorf(key, v, want)
		}
		out[i] = n
	}
	return out, nil
}

// done returns an error naming the keys that no getter read.
func (p *params) done() error {
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
