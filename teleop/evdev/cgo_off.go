//go:build !cgo

package evdev

const cgoEnabled = false
