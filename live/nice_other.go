//go:build !linux

package live

// lowerPriority does nothing where thread priorities are not set
// portably; training then competes with session loops as an equal.
func lowerPriority() {}
