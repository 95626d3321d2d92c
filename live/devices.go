package live

import (
	"fmt"
	"io"

	"tandem/sim"
	"tandem/teleop"
	"tandem/teleop/evdev"
)

// DeviceOpener opens a device argument (an evdev path or an evemu
// recording) for a task: it returns the operator id, the input source and
// what to close when the device is detached. cmd wires teleop/evdev here.
type DeviceOpener func(path string, spec sim.Spec) (operator string, src teleop.Source, closer io.Closer, err error)

// forceFeedbacker is implemented by devices that can render forces
// (evdev.Device).
type forceFeedbacker interface {
	ForceFeedback() (evdev.ForceFeedback, bool)
}

// device is an attached device: the session operator it feeds and, when
// it has force feedback, the goroutine rendering the session's forces.
type device struct {
	path   string
	sess   *Session
	op     string
	closer io.Closer
	sub    *sim.Subscription // force feedback's record stream, nil without
	done   chan struct{}     // closed when the haptics goroutine ended
}

func (d *device) close() {
	if d.sub != nil {
		d.sub.Close()
		<-d.done
	}
	d.sess.Detach(d.op)
	d.closer.Close()
}

// DeviceInfo describes an attached device.
type DeviceInfo struct {
	Path     string `json:"path"`
	Session  string `json:"session"`
	Operator string `json:"operator"`
	Haptics  bool   `json:"haptics"`
}

// AttachDevice opens path with open and attaches it as an operator of
// session id. A device with force feedback renders the session's contact
// forces from then on.
func (h *Hub) AttachDevice(id, path string, open DeviceOpener) error {
	if open == nil {
		return fmt.Errorf("device %s: this build has no device support", path)
	}
	s, err := h.Get(id)
	if err != nil {
		return err
	}
	if !s.Live() {
		return fmt.Errorf("device %s: session %s takes no input", path, id)
	}
	h.devMu.Lock()
	_, dup := h.devices[path]
	h.devMu.Unlock()
	if dup {
		return fmt.Errorf("device %s is already attached", path)
	}
	op, src, closer, err := open(path, s.spec)
	if err != nil {
		return fmt.Errorf("device %s: %w", path, err)
	}
	if err := s.Attach(op, src); err != nil {
		closer.Close()
		return fmt.Errorf("device %s: %w", path, err)
	}
	d := &device{path: path, sess: s, op: op, closer: closer}
	if f, ok := src.(forceFeedbacker); ok {
		if ff, ok := f.ForceFeedback(); ok {
			d.sub, d.done = s.Subscribe(4), make(chan struct{})
			go h.render(d, ff)
		}
	}
	h.devMu.Lock()
	if _, dup := h.devices[path]; dup {
		h.devMu.Unlock()
		d.close()
		return fmt.Errorf("device %s is already attached", path)
	}
	h.devices[path] = d
	h.devMu.Unlock()
	h.log.Info("device attached", "path", path, "session", id, "operator", op, "haptics", d.sub != nil)
	return nil
}

// render turns the session's records into force feedback for d until its
// subscription closes: the first tool's contact force, scaled by the
// task's force scale, the hub's gain and cap, and a rumble when help is
// raised.
func (h *Hub) render(d *device, ff evdev.ForceFeedback) {
	defer close(d.done)
	scale := d.sess.forceScale
	hp := evdev.NewHaptics(ff, scale)
	hp.Gain, hp.Cap = h.cfg.HapticGain, h.cfg.HapticCap
	failed := false
	for r := range d.sub.C {
		fx, fy := 0.0, 0.0
		if len(r.Forces) >= 2 && scale > 0 {
			fx, fy = r.Forces[0], r.Forces[1]
		}
		if err := hp.Update(fx, fy, r.Help); err != nil && !failed {
			failed = true // one line, not one per tick
			h.log.Warn("force feedback failed; the device keeps working as input", "path", d.path, "err", err)
		}
	}
	ff.Stop() //nolint:errcheck // best effort on detach
}

// DetachDevice detaches the device opened from path and closes it.
func (h *Hub) DetachDevice(path string) error {
	h.devMu.Lock()
	d, ok := h.devices[path]
	delete(h.devices, path)
	h.devMu.Unlock()
	if !ok {
		return fmt.Errorf("device %s is not attached", path)
	}
	d.close()
	h.log.Info("device detached", "path", path, "session", d.sess.id)
	return nil
}

// Devices lists the attached devices.
func (h *Hub) Devices() []DeviceInfo {
	h.devMu.Lock()
	defer h.devMu.Unlock()
	out := make([]DeviceInfo, 0, len(h.devices))
	for _, d := range h.devices {
		out = append(out, DeviceInfo{Path: d.path, Session: d.sess.id, Operator: d.op, Haptics: d.sub != nil})
	}
	return out
}

// detachAll detaches the devices of s (its session is going away).
func (h *Hub) detachAll(s *Session) {
	h.devMu.Lock()
	var gone []*device
	for p, d := range h.devices {
		if d.sess == s {
			gone = append(gone, d)
			delete(h.devices, p)
		}
	}
	h.devMu.Unlock()
	for _, d := range gone {
		d.close()
	}
}
