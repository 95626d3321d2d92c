package demos

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"tandem/sim"
)

// Filter selects episodes. Zero fields do not filter. ParseFilter reads one
// from query parameters or command-line flags; it is the only parser of
// filters (the CLI and the REST API both call it).
type Filter struct {
	IDs              []int64
	Task             string
	Operator         string    // episodes in which this operator acted
	Since, Until     time.Time // start time in [Since, Until)
	Success          *bool
	Complete         *bool
	Mode             sim.Mode
	MinInterventions int
	PolicyVersion    string  // episodes in which this policy version acted
	ControlHz        float64 // episodes stepped at this rate (within 1e-9 Hz)
	// Ended leaves out episodes still running (exports set it, so that an
	// export never holds an episode the recorder is still writing).
	Ended         bool
	Limit, Offset int // paging in id order; Limit 0 = all
	// After and Before keep ids above After and below Before (0: no
	// bound), and Desc lists the newest first: keyset paging, as GET
	// /api/episodes's cursor uses. ParseFilter does not set them.
	After, Before int64
	Desc          bool
}

// FilterParam is one filter's name and help text. Query parameters use the
// name; command-line flags use it with dashes for underscores
// (min_interventions → --min-interventions).
type FilterParam struct {
	Name string
	Help string
}

// timeHelp names the accepted time formats.
const timeHelp = "RFC 3339 (2025-03-01T12:00:00Z), YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS (local time), or Unix seconds"

// FilterParams lists every filter ParseFilter accepts, in the order help
// texts name them.
func FilterParams() []FilterParam {
	modes := make([]string, 0, 3)
	for _, m := range sim.Modes() {
		modes = append(modes, string(m))
	}
	return []FilterParam{
		{"task", "only episodes of this task"},
		{"operator", "only episodes in which this operator acted"},
		{"since", "only episodes started at or after this time: " + timeHelp},
		{"until", "only episodes started before this time (same formats as since)"},
		{"success", "true or false: only successful or unsuccessful episodes"},
		{"complete", "true or false: only complete or incomplete episodes"},
		{"mode", "only episodes of this mode (" + strings.Join(modes, ", ") + ")"},
		{"min_interventions", "only episodes with at least this many interventions"},
		{"policy_version", "only episodes in which this policy version acted or proposed"},
		{"control_hz", "only episodes stepped at this control rate in Hz"},
		{"ids", "only these episode ids (comma-separated)"},
		{"limit", "at most this many episodes (in id order; 0 = all)"},
		{"offset", "skip this many episodes first (with limit)"},
	}
}

// FilterError is a filter value ParseFilter refused.
type FilterError struct {
	Name  string // the filter's name (FilterParams), or the unknown name
	Value string
	Want  string // what the value should be
}

func (e *FilterError) Error() string {
	v := e.Value
	if len(v) > 40 {
		v = v[:40] + "…"
	}
	return fmt.Sprintf("filter %s %q: %s", e.Name, v, e.Want)
}

// ParseFilter reads a Filter from named values (url.Values, or the flags a
// command was given). Names listed in ignore belong to the caller (format,
// token) and are skipped; any other name FilterParams does not list is an
// error naming the valid ones, and so is a value of the wrong form, each
// as a *FilterError. Empty values do not filter.
func ParseFilter(values map[string][]string, ignore ...string) (Filter, error) {
	var f Filter
	get := func(name string) string {
		if v := values[name]; len(v) > 0 {
			return strings.TrimSpace(v[len(v)-1])
		}
		return ""
	}
	known := map[string]bool{}
	var names []string
	for _, p := range FilterParams() {
		known[p.Name] = true
		names = append(names, p.Name)
	}
	for name, vs := range values {
		switch {
		case !known[name] && !contains(ignore, name):
			return f, &FilterError{Name: name, Want: "unknown filter (valid: " + strings.Join(names, ", ") + ")"}
		case len(vs) > 1 && known[name] && name != "ids":
			// One value each (ids may repeat: ?ids=1&ids=2 is ids 1 and 2);
			// taking one of several silently would export other episodes
			// than asked for.
			return f, &FilterError{Name: name, Value: strings.Join(vs, ","), Want: fmt.Sprintf("given %d times; give it once", len(vs))}
		}
	}
	bad := func(name, want string) error { return &FilterError{Name: name, Value: get(name), Want: want} }
	f.Task, f.Operator, f.PolicyVersion = get("task"), get("operator"), get("policy_version")
	if v := get("mode"); v != "" {
		m, err := sim.ParseMode(v)
		if err != nil {
			return f, bad("mode", "want shared, teleop or auto")
		}
		f.Mode = m
	}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		if v := get(p.name); v != "" {
			t, err := ParseTime(v)
			if err != nil {
				return f, bad(p.name, "want "+timeHelp)
			}
			*p.dst = t
		}
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		return f, bad("until", fmt.Sprintf("is not after since %q: the range selects nothing (want since < until)", get("since")))
	}
	for _, p := range []struct {
		name string
		dst  **bool
	}{{"success", &f.Success}, {"complete", &f.Complete}} {
		if v := get(p.name); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return f, bad(p.name, "want true or false")
			}
			*p.dst = &b
		}
	}
	for _, p := range []struct {
		name string
		dst  *int
	}{{"min_interventions", &f.MinInterventions}, {"limit", &f.Limit}, {"offset", &f.Offset}} {
		if v := get(p.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return f, bad(p.name, "want a non-negative integer")
			}
			*p.dst = n
		}
	}
	if v := get("control_hz"); v != "" {
		hz, err := strconv.ParseFloat(v, 64)
		if err != nil || !(hz > 0) || math.IsInf(hz, 0) {
			return f, bad("control_hz", "want a positive number of Hz")
		}
		f.ControlHz = hz
	}
	if v := strings.Join(values["ids"], ","); strings.TrimSpace(v) != "" {
		for part := range strings.SplitSeq(v, ",") {
			id, err := strconv.ParseInt(strings.TrimSpace(part), 10, 64)
			if err != nil || id <= 0 {
				return f, bad("ids", "want comma-separated positive integers")
			}
			f.IDs = append(f.IDs, id)
		}
	}
	return f, nil
}

// ParseTime reads a time in one of the formats filters accept: RFC 3339,
// YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS in local time, or Unix seconds.
func ParseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	sec, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(sec) || math.Abs(sec) > 1e11 {
		return time.Time{}, fmt.Errorf("demos: time %q: want %s", s, timeHelp)
	}
	return time.Unix(0, int64(sec*1e9)).UTC(), nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// query is the SELECT of cols from the episodes f selects, in id order
// (newest first with Desc), with f's limit and offset.
func (f *Filter) query(cols string) (string, []any) {
	where, args := f.where()
	q := "SELECT " + cols + " FROM episodes" + where + " ORDER BY id"
	if f.Desc {
		q += " DESC"
	}
	switch {
	case f.Limit > 0:
		q += fmt.Sprintf(" LIMIT %d OFFSET %d", f.Limit, max(f.Offset, 0))
	case f.Offset > 0:
		q += fmt.Sprintf(" LIMIT -1 OFFSET %d", f.Offset)
	}
	return q, args
}

func (f *Filter) where() (string, []any) {
	var conds []string
	var args []any
	if len(f.IDs) > 0 {
		// One parameter, a JSON array, whatever the number of ids: one
		// parameter per id failed past SQLite's 32,766 (hitl trains each
		// round on every round's ids).
		js, _ := json.Marshal(f.IDs) // []int64 always marshals
		conds, args = append(conds, "id IN (SELECT value FROM json_each(?))"), append(args, string(js))
	}
	if f.Task != "" {
		conds, args = append(conds, "task = ?"), append(args, f.Task)
	}
	if f.Operator != "" {
		conds, args = append(conds, hasName), append(args, nameOperator, f.Operator)
	}
	if f.PolicyVersion != "" {
		conds, args = append(conds, hasName), append(args, namePolicy, f.PolicyVersion)
	}
	if !f.Since.IsZero() {
		conds, args = append(conds, "started_at >= ?"), append(args, f.Since.UnixNano())
	}
	if !f.Until.IsZero() {
		conds, args = append(conds, "started_at < ?"), append(args, f.Until.UnixNano())
	}
	if f.Success != nil {
		conds, args = append(conds, "success = ?"), append(args, *f.Success)
	}
	if f.Complete != nil {
		conds, args = append(conds, "complete = ?"), append(args, *f.Complete)
	}
	if f.Mode != "" {
		conds, args = append(conds, "mode = ?"), append(args, string(f.Mode))
	}
	if f.MinInterventions > 0 {
		conds, args = append(conds, "interventions >= ?"), append(args, f.MinInterventions)
	}
	if f.ControlHz > 0 {
		conds, args = append(conds, "abs(control_hz - ?) < 1e-9"), append(args, f.ControlHz)
	}
	if f.Ended {
		conds = append(conds, "outcome != 'running'")
	}
	if f.After > 0 {
		conds, args = append(conds, "id > ?"), append(args, f.After)
	}
	if f.Before > 0 {
		conds, args = append(conds, "id < ?"), append(args, f.Before)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}
