package teleop

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"tandem/sim"
)

// Buttons is a set of logical operator buttons, already mapped from whatever
// physical button (pad, SpaceMouse, browser key) the profile binds.
type Buttons uint32

// Logical buttons.
const (
	// Takeover, held, asks for control (LeRobot's held-button rule); pressed
	// under the toggle rule it takes over until HandBack.
	Takeover Buttons = 1 << iota
	// HandBack returns control to the policy.
	HandBack
	// Grip closes the gripper/jaw while held (opens on release) for tasks
	// with a jaw action the mapping does not drive from an axis.
	Grip
	// Reset asks for a new episode.
	Reset
	// MarkSuccess and MarkFailure label the episode live.
	MarkSuccess
	MarkFailure
	// Help acknowledges a help request.
	Help
)

// Has reports whether every button in m is held.
func (b Buttons) Has(m Buttons) bool { return b&m == m }

// buttonNames are the logical buttons' names, the one vocabulary of device
// mappings (docs/devices.md) and the browser protocol (docs/protocol.md).
var buttonNames = [...]struct {
	name string
	b    Buttons
}{
	{"takeover", Takeover}, {"handback", HandBack}, {"grip", Grip}, {"reset", Reset},
	{"success", MarkSuccess}, {"failure", MarkFailure}, {"help", Help},
}

// ButtonNames lists the logical buttons' names in a fixed order.
func ButtonNames() []string {
	out := make([]string, len(buttonNames))
	for i, n := range buttonNames {
		out[i] = n.name
	}
	return out
}

// ParseButton returns the logical button called name.
func ParseButton(name string) (Buttons, error) {
	for _, n := range buttonNames {
		if n.name == name {
			return n.b, nil
		}
	}
	if len(name) > 32 {
		name = name[:32] + "…"
	}
	return 0, fmt.Errorf("unknown button %q (valid: %s)", name, strings.Join(ButtonNames(), ", "))
}

// asks maps the buttons that act on the episode to the session asks they
// raise when pressed.
var asks = [...]struct {
	b   Buttons
	ask sim.Ask
}{
	{Reset, sim.AskReset}, {MarkSuccess, sim.AskSuccess}, {MarkFailure, sim.AskFailure}, {Help, sim.AskHelpAck},
}

// AsksOf returns the session asks raised by pressing the buttons in b.
func AsksOf(b Buttons) sim.Ask {
	var a sim.Ask
	for _, x := range asks {
		if b.Has(x.b) {
			a |= x.ask
		}
	}
	return a
}

// Command is one operator input sample in the task's action space.
type Command struct {
	// Operator identifies who produced it ("pad0", "browser:alice").
	Operator string
	// Action is in the task's normalised action space (Spec.ActionNames).
	Action sim.Vec
	// Engaged is the input's takeover verdict from its own rule (a norm
	// threshold, any non-zero input, or a held button): the human wants to
	// act now.
	Engaged bool
	// Clutch freezes the tool while the operator re-centres the device.
	Clutch  bool
	Buttons Buttons
	// At is when the input happened (device event time or arrival time);
	// the arbiter uses it to measure input-to-apply latency.
	At time.Time
	// Seq is the producer's sequence number of this command (a browser
	// message's seq; 0 when the producer does not number its input). Each
	// record lists the newest Seq it applied per operator.
	Seq uint64
}

// ControlRater is implemented by sources that produce one command per
// control period (a simulated operator computing its expert's action from
// the observation): the arbiter applies their command once per period, as
// a headless rollout does, instead of sampling them at every sub-tick.
type ControlRater interface {
	ControlRate() bool
}

// Source produces operator commands: one device, one browser client, or a
// simulated operator. Latest is non-blocking and safe for concurrent use;
// the arbiter samples it once per tick from the loop goroutine.
type Source interface {
	// Latest returns the newest command and whether the source is still
	// connected. A disconnected source loses authority.
	Latest() (Command, bool)
}

// Latch is a Source holding the newest command written by a producer
// goroutine (a device reader, a WebSocket handler). Safe for concurrent use.
type Latch struct {
	mu        sync.Mutex
	cmd       Command
	connected bool
}

// NewLatch returns a connected latch with a zero command.
func NewLatch(operator string) *Latch {
	return &Latch{cmd: Command{Operator: operator}, connected: true}
}

// Set replaces the latest command.
func (l *Latch) Set(c Command) {
	l.mu.Lock()
	l.cmd = c
	l.mu.Unlock()
}

// Disconnect marks the source gone; the next Latest reports it.
func (l *Latch) Disconnect() {
	l.mu.Lock()
	l.connected = false
	l.mu.Unlock()
}

// Latest implements Source.
func (l *Latch) Latest() (Command, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cmd, l.connected
}
