package teleop

import (
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
