package evdev

import (
	"fmt"
	"strconv"
	"strings"
)

// Event types (linux/input-event-codes.h).
const (
	EvSyn      uint16 = 0x00
	EvKey      uint16 = 0x01
	EvRel      uint16 = 0x02
	EvAbs      uint16 = 0x03
	EvMsc      uint16 = 0x04
	EvSw       uint16 = 0x05
	EvLed      uint16 = 0x11
	EvSnd      uint16 = 0x12
	EvRep      uint16 = 0x14
	EvFF       uint16 = 0x15
	EvPwr      uint16 = 0x16
	EvFFStatus uint16 = 0x17
	EvMax      uint16 = 0x1f
)

// Synchronisation codes.
const (
	SynReport   uint16 = 0
	SynConfig   uint16 = 1
	SynMTReport uint16 = 2
	SynDropped  uint16 = 3
)

// Largest code of each type (linux/input-event-codes.h *_MAX).
const (
	KeyMax uint16 = 0x2ff
	RelMax uint16 = 0x0f
	AbsMax uint16 = 0x3f
	MscMax uint16 = 0x07
	SwMax  uint16 = 0x10
	LedMax uint16 = 0x0f
	SndMax uint16 = 0x07
	FFMax  uint16 = 0x7f
)

// Codes tandem's profiles and tests refer to by constant.
const (
	AbsX     uint16 = 0x00
	AbsY     uint16 = 0x01
	AbsZ     uint16 = 0x02
	AbsRX    uint16 = 0x03
	AbsRY    uint16 = 0x04
	AbsRZ    uint16 = 0x05
	AbsHat0X uint16 = 0x10
	AbsHat0Y uint16 = 0x11

	RelX  uint16 = 0x00
	RelY  uint16 = 0x01
	RelZ  uint16 = 0x02
	RelRX uint16 = 0x03
	RelRY uint16 = 0x04
	RelRZ uint16 = 0x05

	Btn0      uint16 = 0x100
	Btn1      uint16 = 0x101
	BtnSouth  uint16 = 0x130
	BtnEast   uint16 = 0x131
	BtnNorth  uint16 = 0x133
	BtnWest   uint16 = 0x134
	BtnTL     uint16 = 0x136
	BtnTR     uint16 = 0x137
	BtnSelect uint16 = 0x13a
	BtnStart  uint16 = 0x13b
	BtnMode   uint16 = 0x13c

	FFRumble   uint16 = 0x50
	FFPeriodic uint16 = 0x51
	FFConstant uint16 = 0x52
	FFGain     uint16 = 0x60
)

// maxCode returns the largest code of an event type, or 0 for types whose
// codes tandem does not track.
func maxCode(typ uint16) uint16 {
	switch typ {
	case EvSyn:
		return 0x0f
	case EvKey:
		return KeyMax
	case EvRel:
		return RelMax
	case EvAbs:
		return AbsMax
	case EvMsc:
		return MscMax
	case EvSw:
		return SwMax
	case EvLed:
		return LedMax
	case EvSnd:
		return SndMax
	case EvRep:
		return 0x01
	case EvFF, EvFFStatus:
		return FFMax
	}
	return 0
}

var typeNames = map[uint16]string{
	EvSyn: "EV_SYN", EvKey: "EV_KEY", EvRel: "EV_REL", EvAbs: "EV_ABS", EvMsc: "EV_MSC",
	EvSw: "EV_SW", EvLed: "EV_LED", EvSnd: "EV_SND", EvRep: "EV_REP", EvFF: "EV_FF",
	EvPwr: "EV_PWR", EvFFStatus: "EV_FF_STATUS",
}

var prefixes = map[uint16]string{
	EvSyn: "SYN_", EvKey: "KEY_", EvRel: "REL_", EvAbs: "ABS_", EvMsc: "MSC_", EvSw: "SW_",
	EvLed: "LED_", EvSnd: "SND_", EvRep: "REP_", EvFF: "FF_",
}

// codeNames holds the names tandem prints; other codes print as PREFIX_0xNN.
var codeNames = map[uint16]map[uint16]string{
	EvSyn: {0: "SYN_REPORT", 1: "SYN_CONFIG", 2: "SYN_MT_REPORT", 3: "SYN_DROPPED"},
	EvRel: {0: "REL_X", 1: "REL_Y", 2: "REL_Z", 3: "REL_RX", 4: "REL_RY", 5: "REL_RZ",
		6: "REL_HWHEEL", 7: "REL_DIAL", 8: "REL_WHEEL", 9: "REL_MISC",
		0x0b: "REL_WHEEL_HI_RES", 0x0c: "REL_HWHEEL_HI_RES"},
	EvAbs: {0: "ABS_X", 1: "ABS_Y", 2: "ABS_Z", 3: "ABS_RX", 4: "ABS_RY", 5: "ABS_RZ",
		6: "ABS_THROTTLE", 7: "ABS_RUDDER", 8: "ABS_WHEEL", 9: "ABS_GAS", 0x0a: "ABS_BRAKE",
		0x10: "ABS_HAT0X", 0x11: "ABS_HAT0Y", 0x12: "ABS_HAT1X", 0x13: "ABS_HAT1Y",
		0x14: "ABS_HAT2X", 0x15: "ABS_HAT2Y", 0x16: "ABS_HAT3X", 0x17: "ABS_HAT3Y",
		0x18: "ABS_PRESSURE", 0x19: "ABS_DISTANCE", 0x1a: "ABS_TILT_X", 0x1b: "ABS_TILT_Y",
		0x1c: "ABS_TOOL_WIDTH", 0x20: "ABS_VOLUME", 0x21: "ABS_PROFILE", 0x28: "ABS_MISC",
		0x2f: "ABS_MT_SLOT", 0x30: "ABS_MT_TOUCH_MAJOR", 0x31: "ABS_MT_TOUCH_MINOR",
		0x32: "ABS_MT_WIDTH_MAJOR", 0x33: "ABS_MT_WIDTH_MINOR", 0x34: "ABS_MT_ORIENTATION",
		0x35: "ABS_MT_POSITION_X", 0x36: "ABS_MT_POSITION_Y", 0x37: "ABS_MT_TOOL_TYPE",
		0x38: "ABS_MT_BLOB_ID", 0x39: "ABS_MT_TRACKING_ID", 0x3a: "ABS_MT_PRESSURE",
		0x3b: "ABS_MT_DISTANCE", 0x3c: "ABS_MT_TOOL_X", 0x3d: "ABS_MT_TOOL_Y"},
	EvMsc: {0: "MSC_SERIAL", 1: "MSC_PULSELED", 2: "MSC_GESTURE", 3: "MSC_RAW", 4: "MSC_SCAN", 5: "MSC_TIMESTAMP"},
	EvLed: {0: "LED_NUML", 1: "LED_CAPSL", 2: "LED_SCROLLL", 8: "LED_MISC"},
	EvFF: {0x50: "FF_RUMBLE", 0x51: "FF_PERIODIC", 0x52: "FF_CONSTANT", 0x53: "FF_SPRING",
		0x54: "FF_FRICTION", 0x55: "FF_DAMPER", 0x56: "FF_INERTIA", 0x57: "FF_RAMP",
		0x58: "FF_SQUARE", 0x59: "FF_TRIANGLE", 0x5a: "FF_SINE", 0x5b: "FF_SAW_UP",
		0x5c: "FF_SAW_DOWN", 0x5d: "FF_CUSTOM", 0x60: "FF_GAIN", 0x61: "FF_AUTOCENTER"},
	EvKey: keyNames(),
}

func keyNames() map[uint16]string {
	m := map[uint16]string{
		1: "KEY_ESC", 12: "KEY_MINUS", 13: "KEY_EQUAL", 14: "KEY_BACKSPACE", 15: "KEY_TAB",
		26: "KEY_LEFTBRACE", 27: "KEY_RIGHTBRACE", 28: "KEY_ENTER", 29: "KEY_LEFTCTRL",
		39: "KEY_SEMICOLON", 40: "KEY_APOSTROPHE", 41: "KEY_GRAVE", 42: "KEY_LEFTSHIFT",
		43: "KEY_BACKSLASH", 51: "KEY_COMMA", 52: "KEY_DOT", 53: "KEY_SLASH",
		54: "KEY_RIGHTSHIFT", 55: "KEY_KPASTERISK", 56: "KEY_LEFTALT", 57: "KEY_SPACE",
		58: "KEY_CAPSLOCK", 97: "KEY_RIGHTCTRL", 100: "KEY_RIGHTALT", 102: "KEY_HOME",
		103: "KEY_UP", 104: "KEY_PAGEUP", 105: "KEY_LEFT", 106: "KEY_RIGHT", 107: "KEY_END",
		108: "KEY_DOWN", 109: "KEY_PAGEDOWN",
		// Mouse and joystick buttons.
		0x110: "BTN_LEFT", 0x111: "BTN_RIGHT", 0x112: "BTN_MIDDLE", 0x113: "BTN_SIDE",
		0x114: "BTN_EXTRA", 0x115: "BTN_FORWARD", 0x116: "BTN_BACK", 0x117: "BTN_TASK",
		0x120: "BTN_TRIGGER", 0x121: "BTN_THUMB", 0x122: "BTN_THUMB2", 0x123: "BTN_TOP",
		0x124: "BTN_TOP2", 0x125: "BTN_PINKIE", 0x126: "BTN_BASE", 0x127: "BTN_BASE2",
		0x128: "BTN_BASE3", 0x129: "BTN_BASE4", 0x12a: "BTN_BASE5", 0x12b: "BTN_BASE6",
		0x12f: "BTN_DEAD",
		// Gamepad buttons (the kernel's positional names).
		0x130: "BTN_SOUTH", 0x131: "BTN_EAST", 0x132: "BTN_C", 0x133: "BTN_NORTH",
		0x134: "BTN_WEST", 0x135: "BTN_Z", 0x136: "BTN_TL", 0x137: "BTN_TR", 0x138: "BTN_TL2",
		0x139: "BTN_TR2", 0x13a: "BTN_SELECT", 0x13b: "BTN_START", 0x13c: "BTN_MODE",
		0x13d: "BTN_THUMBL", 0x13e: "BTN_THUMBR",
		// Digitizer / pen buttons.
		0x140: "BTN_TOOL_PEN", 0x149: "BTN_STYLUS3", 0x14a: "BTN_TOUCH", 0x14b: "BTN_STYLUS",
		0x14c: "BTN_STYLUS2",
		0x220: "BTN_DPAD_UP", 0x221: "BTN_DPAD_DOWN", 0x222: "BTN_DPAD_LEFT", 0x223: "BTN_DPAD_RIGHT",
	}
	for i, c := range "1234567890" {
		m[uint16(2+i)] = "KEY_" + string(c)
	}
	for i, c := range "QWERTYUIOP" {
		m[uint16(16+i)] = "KEY_" + string(c)
	}
	for i, c := range "ASDFGHJKL" {
		m[uint16(30+i)] = "KEY_" + string(c)
	}
	for i, c := range "ZXCVBNM" {
		m[uint16(44+i)] = "KEY_" + string(c)
	}
	for i := 0; i < 10; i++ {
		m[uint16(59+i)] = fmt.Sprintf("KEY_F%d", i+1)
		m[uint16(0x100+i)] = fmt.Sprintf("BTN_%d", i)
	}
	for i := 0; i < 40; i++ {
		m[uint16(0x2c0+i)] = fmt.Sprintf("BTN_TRIGGER_HAPPY%d", i+1)
	}
	return m
}

// codeByName is the reverse of codeNames, plus the kernel's aliases.
var codeByName = func() map[string][2]uint16 {
	m := make(map[string][2]uint16)
	for typ, names := range codeNames {
		for code, n := range names {
			m[n] = [2]uint16{typ, code}
		}
	}
	for alias, code := range map[string]uint16{"BTN_A": 0x130, "BTN_B": 0x131, "BTN_X": 0x133, "BTN_Y": 0x134,
		"BTN_GAMEPAD": 0x130, "BTN_JOYSTICK": 0x120, "BTN_MISC": 0x100, "BTN_MOUSE": 0x110} {
		m[alias] = [2]uint16{EvKey, code}
	}
	return m
}()

// TypeName returns the kernel name of an event type ("EV_ABS").
func TypeName(typ uint16) string {
	if n, ok := typeNames[typ]; ok {
		return n
	}
	return fmt.Sprintf("EV_0x%02x", typ)
}

// CodeName returns the kernel name of a code ("ABS_X", "BTN_SOUTH"), or
// PREFIX_0xNN for codes without a name here.
func CodeName(typ, code uint16) string {
	if n, ok := codeNames[typ][code]; ok {
		return n
	}
	if p, ok := prefixes[typ]; ok {
		if typ == EvKey && code >= 0x100 {
			p = "BTN_"
		}
		return fmt.Sprintf("%s0x%02x", p, code)
	}
	return fmt.Sprintf("%s_0x%02x", TypeName(typ), code)
}

// ParseCode reads a code name ("ABS_RX", "BTN_SOUTH", "KEY_W", "ABS_0x29")
// and returns its type and code. Names are case-insensitive.
func ParseCode(name string) (typ, code uint16, err error) {
	up := strings.ToUpper(strings.TrimSpace(name))
	if tc, ok := codeByName[up]; ok {
		return tc[0], tc[1], nil
	}
	if i := strings.Index(up, "_0X"); i > 0 {
		pfx := up[:i+1]
		n, perr := strconv.ParseUint(up[i+3:], 16, 16)
		if perr == nil {
			for t, p := range prefixes {
				if p == pfx || (t == EvKey && pfx == "BTN_") {
					if uint16(n) <= maxCode(t) {
						return t, uint16(n), nil
					}
				}
			}
		}
	}
	return 0, 0, fmt.Errorf("evdev: unknown event code %q (use kernel names such as ABS_X, REL_RZ, BTN_SOUTH, KEY_W)", name)
}
