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

// attachDevice opens path and attaches it as an operator of sess.
func (s *Server) attachDevice(sess *session, path string) error {
	op, src, closer, err := s.cfg.OpenDevice(path, sess.spec)
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
	s.devices = append(s.devices, closer)
	fmt.Fprintf(s.cfg.Log, "tandem: device %s attached to session %s as %s\n", path, sess.id, op)
	return nil
}
