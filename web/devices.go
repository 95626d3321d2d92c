package web

import (
	"errors"

	"tandem/live"
)

// AttachDevice opens path (an evdev node or a recording) with the
// configured DeviceOpener and attaches it as an operator of session id: the
// hot-plug path of tandem serve. Safe for concurrent use.
func (s *Server) AttachDevice(id, path string) error {
	return s.AttachDeviceWith(id, path, s.cfg.OpenDevice)
}

// AttachDeviceWith is AttachDevice with another opener (hot-plug refuses
// keyboards that an explicit --device may name).
func (s *Server) AttachDeviceWith(id, path string, open DeviceOpener) error {
	err := s.hub.AttachDevice(id, path, open)
	var nf *live.NotFoundError
	if errors.As(err, &nf) {
		return errUnknownSession(id)
	}
	return err
}

// DetachDevice removes the device opened from path from its session and
// closes it. Safe for concurrent use; an unknown path is an error.
func (s *Server) DetachDevice(path string) error { return s.hub.DetachDevice(path) }

// Devices lists the attached devices' paths with their session and
// operator ids.
func (s *Server) Devices() map[string][2]string {
	out := map[string][2]string{}
	for _, d := range s.hub.Devices() {
		out[d.Path] = [2]string{d.Session, d.Operator}
	}
	return out
}
