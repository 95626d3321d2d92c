package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"

	"tandem/sim"
	"tandem/teleop"
)

// Message types of the session protocol (docs/protocol.md).
const (
	msgHello   = "hello"
	msgFrame   = "frame"
	msgState   = "state"
	msgError   = "error"
	msgPong    = "pong"
	msgCommand = "command"
	msgControl = "control"
	msgPing    = "ping"
)

// Error codes carried by error messages and used as the reason label of the
// rejected-messages counter.
const (
	codeBadJSON   = "bad_json"
	codeBadType   = "bad_type"
	codeBadValue  = "bad_value"
	codeTooLarge  = "too_large"
	codeForbidden = "forbidden"
	codeRejected  = "rejected"
	codeClosed    = "closed"
	codeRateLimit = "rate_limited"
)

// Roles of a connected client.
const (
	RoleOperator = "operator"
	RoleViewer   = "viewer"
)

// Authority says who controls a session.
type Authority struct {
	Holder   string   `json:"holder"` // "robot" or an operator id
	Requests []string `json:"requests"`
	Help     bool     `json:"help"`
}

// ClientCounts counts a session's connected clients.
type ClientCounts struct {
	Operators int `json:"operators"`
	Viewers   int `json:"viewers"`
}

// SessionInfo is a session's state as REST and the protocol report it.
type SessionInfo struct {
	ID            string       `json:"id"`
	Task          string       `json:"task"`
	Mode          string       `json:"mode"`
	Policy        string       `json:"policy"`
	PolicyVersion string       `json:"policy_version"`
	Paused        bool         `json:"paused"`
	Episode       int          `json:"episode"`
	Seed          uint64       `json:"seed"`
	T             int          `json:"t"`
	ControlHz     float64      `json:"control_hz"`
	TeleopHz      float64      `json:"teleop_hz"`
	Horizon       int          `json:"horizon"` // episode length in learning steps at ControlHz
	Recording     bool         `json:"recording"`
	Replay        int64        `json:"replay"`
	Authority     Authority    `json:"authority"`
	Clients       ClientCounts `json:"clients"`
	Label         *sim.Label   `json:"label,omitempty"`
	Learning      bool         `json:"learning"`
	// SimOperator is the simulated operator attached at creation
	// ("sim:..."); such a session counts as attended (idle.go).
	SimOperator string `json:"sim_operator,omitempty"`
	Ticks       uint64 `json:"ticks"`
	Overruns    uint64 `json:"overruns"`
	// IdleAfterS is the idle rule's delay in seconds (0: never): a live
	// session with nobody connected that long is paused, a replay deleted.
	IdleAfterS float64 `json:"idle_pause_s"`
	// PausedReason is "idle" while the idle rule holds the session paused.
	PausedReason string `json:"paused_reason,omitempty"`
}

// helloMsg is the first message on every connection.
type helloMsg struct {
	Type     string          `json:"type"`
	Role     string          `json:"role"`
	Client   string          `json:"client"`
	Operator string          `json:"operator"`
	Session  SessionInfo     `json:"session"`
	Spec     sim.Spec        `json:"spec"`
	Scene    *sim.Scene      `json:"scene"`
	Frame    json.RawMessage `json:"frame"`
	Limits   helloLimits     `json:"limits"`
}

type helloLimits struct {
	MaxMessage  int   `json:"max_message"`
	SendQueue   int   `json:"send_queue"`
	SlowAfterMS int64 `json:"slow_after_ms"`
}

type stateMsg struct {
	Type    string      `json:"type"`
	Session SessionInfo `json:"session"`
}

type errorMsg struct {
	Type  string `json:"type"`
	Error string `json:"error"`
	Code  string `json:"code"`
	Ref   *int64 `json:"ref,omitempty"`
}

type pongMsg struct {
	Type   string `json:"type"`
	ID     int64  `json:"id"`
	Sent   int64  `json:"sent"`
	Server int64  `json:"server"`
}

// inMsg is any client message; fields not used by its type are ignored.
type inMsg struct {
	Type    string    `json:"type"`
	Seq     int64     `json:"seq"`
	Action  []jsonNum `json:"action"`
	Engaged bool      `json:"engaged"`
	Clutch  bool      `json:"clutch"`
	Buttons []string  `json:"buttons"`
	Op      string    `json:"op"`
	Mode    string    `json:"mode"`
	Speed   *jsonNum  `json:"speed"` // replay playback speed (control op "speed")
	ID      int64     `json:"id"`
	Sent    int64     `json:"sent"`
}

// jsonNum is a float64 that also accepts the non-standard literals some
// clients produce (NaN, Infinity) so they can be refused with a clear error
// instead of a parse failure.
type jsonNum float64

func (n *jsonNum) UnmarshalJSON(b []byte) error {
	// string(b) only in comparisons and the call: no copy of b is made
	// for a number, this runs for every action value of every command.
	switch string(b) {
	case `"NaN"`, `"nan"`:
		*n = jsonNum(math.NaN())
		return nil
	case `"Infinity"`, `"inf"`, `"+Infinity"`:
		*n = jsonNum(math.Inf(1))
		return nil
	case `"-Infinity"`, `"-inf"`:
		*n = jsonNum(math.Inf(-1))
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil && !math.IsInf(f, 0) { // out of range parses as ±Inf, refused later
		return fmt.Errorf("not a number: %s", truncate(string(b), 20))
	}
	*n = jsonNum(f)
	return nil
}

// msgError is a refused client message.
type msgErr struct {
	code string
	msg  string
}

func (e *msgErr) Error() string { return e.msg }

func badMsg(code, format string, args ...any) *msgErr {
	return &msgErr{code: code, msg: fmt.Sprintf(format, args...)}
}

// decodeMsg parses one client message. It reports a bad_json error for
// malformed JSON and bad_type for fields of the wrong type.
func decodeMsg(b []byte) (inMsg, *msgErr) {
	var m inMsg
	// Unmarshal checks the whole message is valid JSON before it decodes
	// anything, so a syntax error is reported as such, never a type error.
	if err := json.Unmarshal(b, &m); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return m, badMsg(codeBadJSON, "invalid JSON")
		case errors.As(err, &te):
			return m, badMsg(codeBadType, "field %q has the wrong type (got %s)", te.Field, te.Value)
		}
		return m, badMsg(codeBadType, "bad message: %s", truncate(err.Error(), 120))
	}
	if m.Type == "" {
		return m, badMsg(codeBadType, "message has no \"type\"")
	}
	return m, nil
}

// commandFrom validates a command message against spec and builds the
// teleop.Command (without Operator and At).
func commandFrom(m *inMsg, spec *sim.Spec) (teleop.Command, *msgErr) {
	var c teleop.Command
	if m.Seq < 0 {
		return c, badMsg(codeBadValue, "seq must not be negative")
	}
	if len(m.Action) != spec.ActionSize() {
		return c, badMsg(codeBadValue, "action has %d values; task %s wants %d (%v)", len(m.Action), spec.Name, spec.ActionSize(), spec.ActionNames)
	}
	var a [sim.MaxVec]float64
	for i, v := range m.Action {
		f := float64(v)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return c, badMsg(codeBadValue, "action[%d] is not a finite number", i)
		}
		a[i] = min(max(f, spec.ActionLow[i]), spec.ActionHigh[i])
	}
	c.Action.Set(a[:len(m.Action)])
	for _, name := range m.Buttons {
		b, err := teleop.ParseButton(name)
		if err != nil {
			return c, badMsg(codeBadValue, "%v", err)
		}
		c.Buttons |= b
	}
	c.Engaged, c.Clutch = m.Engaged, m.Clutch
	return c, nil
}

var operatorName = regexp.MustCompile(`^[A-Za-z0-9_.@-]{1,64}$`)

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
