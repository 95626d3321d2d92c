package web

import (
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"tandem/sim"
)

// Frame events (docs/protocol.md), as a bit set while a frame is built.
type events uint16

const (
	evReset events = 1 << iota
	evInterventionStart
	evInterventionEnd
	evHelp
	evSuccess
	evTerminal
	evTruncated
	evLabel
)

var eventNames = [...]string{"reset", "intervention_start", "intervention_end", "help", "success", "terminal", "truncated", "label"}

// frame is one session tick encoded once and shared by every client of the
// session. body is the JSON object up to and including the hud object but
// without the closing brace; each client's writer appends its own
// `,"dropped":D,"ack":A}`, its ack found in inputs. A frame is immutable
// once published.
type frame struct {
	seq     uint64
	episode int
	wall    time.Time
	inputs  []sim.Input // the record's: newest command seq applied per operator
	body    []byte
}

// stepsTaken is the learning steps an episode had taken at r: a step
// record counts its own.
func stepsTaken(r *sim.Record) int {
	switch r.Kind {
	case sim.StepRecord:
		return r.T + 1
	case sim.ResetRecord:
		return 0
	}
	return r.T
}

// holderOf names who held authority at r as the protocol does: "robot",
// an operator id, "replay", or "none".
func holderOf(r *sim.Record, replay bool) string {
	switch {
	case replay:
		return "replay"
	case r.Holder == "":
		return "none"
	}
	return r.Holder
}

// modeOf is r's mode as the protocol names it ("replay" for replays).
func modeOf(r *sim.Record, replay bool) string {
	if replay {
		return "replay"
	}
	return string(r.Mode)
}

// appendFrame encodes r as a frame body into dst. Everything in it comes
// from the record.
// success is the episode's success after its last learning step (a
// display sub-tick carries no outcome of its own).
func appendFrame(dst []byte, seq uint64, r *sim.Record, ev events, replay, success bool) []byte {
	dst = append(dst, `{"type":"frame","seq":`...)
	dst = strconv.AppendUint(dst, seq, 10)
	dst = append(dst, `,"episode":`...)
	dst = strconv.AppendInt(dst, int64(r.Episode), 10)
	step := r.Kind == sim.StepRecord
	t := stepsTaken(r)
	dst = append(dst, `,"t":`...)
	dst = strconv.AppendInt(dst, int64(t), 10)
	dst = append(dst, `,"kind":`...)
	dst = appendString(dst, string(r.Kind))
	dst = append(dst, `,"poses":[`...)
	for i, p := range r.Poses {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"x":`...)
		dst = appendFloat(dst, p.X)
		dst = append(dst, `,"y":`...)
		dst = appendFloat(dst, p.Y)
		dst = append(dst, `,"a":`...)
		dst = appendFloat(dst, p.Angle)
		dst = append(dst, '}')
	}
	dst = append(dst, `],"action":`...)
	dst = appendFloats(dst, r.Action.Slice())
	dst = append(dst, `,"policy_action":`...)
	dst = appendFloats(dst, r.PolicyAction.Slice())
	dst = append(dst, `,"forces":`...)
	dst = appendFloats(dst, r.Forces)
	dst = append(dst, `,"events":[`...)
	first := true
	for i, name := range eventNames {
		if ev&(1<<i) == 0 {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = appendString(dst, name)
	}
	dst = append(dst, `],"wall":`...)
	dst = strconv.AppendInt(dst, r.Wall.UnixMilli(), 10)
	dst = append(dst, `,"hud":{"source":`...)
	dst = appendString(dst, string(r.Source))
	dst = append(dst, `,"operator":`...)
	dst = appendString(dst, r.Operator)
	dst = append(dst, `,"policy_version":`...)
	dst = appendString(dst, r.PolicyVersion)
	dst = append(dst, `,"step":`...)
	dst = strconv.AppendInt(dst, int64(t), 10)
	dst = append(dst, `,"return":`...)
	dst = appendFloat(dst, r.Return)
	dst = append(dst, `,"reward":`...)
	dst = appendFloat(dst, r.Reward)
	dst = append(dst, `,"success":`...)
	dst = strconv.AppendBool(dst, success)
	dst = append(dst, `,"done":`...)
	dst = strconv.AppendBool(dst, step && r.Done())
	dst = append(dst, `,"interventions":`...)
	dst = strconv.AppendInt(dst, int64(r.Interventions), 10)
	dst = append(dst, `,"help":`...)
	dst = strconv.AppendBool(dst, r.Help)
	dst = append(dst, `,"holder":`...)
	dst = appendString(dst, holderOf(r, replay))
	dst = append(dst, `,"mode":`...)
	dst = appendString(dst, modeOf(r, replay))
	dst = append(dst, `,"paused":`...)
	dst = strconv.AppendBool(dst, r.Paused)
	dst = append(dst, `,"sub":`...)
	dst = strconv.AppendInt(dst, int64(r.Sub), 10)
	dst = append(dst, `,"subs":`...)
	dst = strconv.AppendInt(dst, int64(r.Subs), 10)
	if r.Label != nil {
		dst = append(dst, `,"label":`...)
		dst = appendString(dst, r.Label.Outcome)
		dst = append(dst, `,"label_by":`...)
		dst = appendString(dst, r.Label.By)
	}
	dst = append(dst, '}')
	return dst
}

// appendFrameTail finishes a frame body for one client.
func appendFrameTail(dst []byte, dropped, ack uint64) []byte {
	dst = append(dst, `,"dropped":`...)
	dst = strconv.AppendUint(dst, dropped, 10)
	dst = append(dst, `,"ack":`...)
	dst = strconv.AppendUint(dst, ack, 10)
	return append(dst, '}')
}

// appendFloat writes v as a JSON number; non-finite values become null.
func appendFloat(dst []byte, v float64) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return append(dst, "null"...)
	}
	return strconv.AppendFloat(dst, v, 'g', -1, 64)
}

func appendFloats(dst []byte, vs []float64) []byte {
	dst = append(dst, '[')
	for i, v := range vs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendFloat(dst, v)
	}
	return append(dst, ']')
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string, escaping quotes, backslashes and
// control characters and replacing invalid UTF-8.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c < 0x20 || c == 0x7f:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			dst = append(dst, `\ufffd`...)
		} else {
			dst = append(dst, s[i:i+n]...)
		}
		i += n
	}
	return append(dst, '"')
}
