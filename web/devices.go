package web

import (
	"fmt"
	"io"

	"tandem/sim"
	"tandem/teleop"
)

// DeviceOpener opens a --device argument (an evdev path or an evemu
// recording) for a task: it returns the operator id, the input source and
// what to close at shutdown. cmd wires teleop/evdev here.
type DeviceOpener func(path string, spec sim.Spec) (operator string, src teleop.Source, closer io.Closer, err error)

// attached is an open device and the session operator it feeds.
type attached struct {
	sess   *session
	op     string
	closer io.Closer
}

// AttachDevice opens path (an evdev node or a recording) with the
// configured DeviceOpener and attaches it as an operator of session id: the
// hot-plug path of tandem serve. Safe for concurrent use.
func (s *Server) AttachDevice(id, path string) error {
	return s.AttachDeviceWith(id, path, s.cfg.OpenDevice)
}

// AttachDeviceWith is AttachDevice with another opener (hot-plug refuses
// keyboards that an explicit --device may name).
func (s *Server) AttachDeviceWith(id, path string, open DeviceOpener) error {
	sess, err := s.session(id)
	if err != nil {
		return err
	}
	return s.attachDevice(sess, path, open)
}

// DetachDevice removes the device opened from path from its session and
// closes it (a device unplugged, or one an operator no longer wants). Safe
// for concurrent use; an unknown path is an error.
func (s *Server) DetachDevice(path string) error {
	s.devMu.Lock()
	d, ok := s.devices[path]
	delete(s.devices, path)
	s.devMu.Unlock()
	if !ok {
		return fmt.Errorf("device %s is not attached", path)
	}
	if d.sess.arb != nil {
		d.sess.arb.Detach(d.op)
	}
	fmt.Fprintf(s.cfg.Log, "tandem: device %s detached from session %s\n", path, d.sess.id)
	return d.closer.Close()
}

// Devices lists the attached devices' paths with their session and
// operator ids.
func (s *Server) Devices() map[string][2]string {
	s.devMu.Lock()
	defer s.devMu.Unlock()
	out := make(map[string][2]string, len(s.devices))
	for p, d := range s.devices {
		out[p] = [2]string{d.sess.id, d.op}
	}
	return out
}

// attachDevice opens path and attaches it as an operator of sess.
func (s *Server) attachDevice(sess *session, path string, open DeviceOpener) error {
	if open == nil {
		return fmt.Errorf("device %s: this server has no device support", path)
	}
	s.devMu.Lock()
	_, dup := s.devices[path]
	s.devMu.Unlock()
	if dup {
		return fmt.Errorf("device %s is already attached", path)
	}
	op, src, closer, err := open(path, sess.spec)
	if err != nil {
		return fmt.Errorf("device %s: %w", path, err)
	}
	if sess.arb == nil {
		closer.Close()
		return fmt.Errorf("device %s: session %s takes no input", path, sess.id)
	}
	if err := sess.arb.Attach(op, src); err != nil {
		closer.Close()
		return fmt.Errorf("device %s: %w", path, err)
	}
	s.devMu.Lock()
	if s.devices == nil {
		s.devices = map[string]attached{}
	}
	s.devices[path] = attached{sess: sess, op: op, closer: closer}
	s.devMu.Unlock()
	fmt.Fprintf(s.cfg.Log, "tandem: device %s attached to session %s as %s\n", path, sess.id, op)
	return nil
}
