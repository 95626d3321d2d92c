// Package evdev is tandem's device half of teleoperation: Linux evdev input
// devices, evemu recordings replayed as if live, device profiles and
// mappings from device axes and buttons to a task's actions and operator
// roles.
//
// # Layers
//
//   - Decoding (event.go, evemu.go): 24-byte input_event records (x86-64
//     layout: timeval 16 bytes, type u16, code u16, value s32) from any
//     io.Reader, and evemu-record text (formats 1.2 and 1.3, and older A:
//     lines without resolution). Pure; malformed input gives an error with a
//     byte offset or line number, never a panic. Axes with min >= max are
//     skipped and counted (Recording.SkippedAxes).
//   - Skips (stats.go): events of an unknown type or with a code above their
//     type's maximum, SYN_DROPPED resyncs, non-finite mapped actions,
//     undecodable records from a live device, backwards timestamps and
//     capped replay gaps are counted per kind in Stats (Device.Stats) and
//     the first of each kind per device is logged (SkipLog); the stream
//     keeps going. Known types tandem ignores (EV_MSC, EV_LED, ...) are not
//     skips.
//   - State (state.go): raw device state assembled from whole SYN_REPORT
//     frames. SYN_DROPPED discards the partial frame and everything up to
//     and including the next SYN_REPORT, then re-reads keys and axes through
//     a StateQuerier (EVIOCGKEY/EVIOCGABS on a live device, a fake in
//     tests). Relative axes (EV_REL) keep their last value for RelHold
//     (100 ms) after their last event, then read 0: the kernel passes only
//     non-zero EV_REL values, so a released SpaceMouse goes silent. The hold
//     is measured in event time, never with the wall clock.
//   - Profiles and layouts (profile.go, profiles.json, layout.go): profiles
//     are embedded JSON data, overridable by a user file. A Layout binds a
//     profile to one device description; ranges come from the device's
//     absinfo, the profile's ranges only stand in for raw event files that
//     carry none.
//   - Mapping (mapping.go): a Mapper turns a State into a teleop.Command in
//     the task's action space. Non-finite actions are counted (Skipped) and
//     never produced.
//   - Player and Replay (player.go, replay.go): frames from recorded events
//     in time order, with relative-axis decays between them; Replay paces
//     them with a sim.Clock and exposes the result as a teleop.Source.
//     Frame times count from the first event. Replay waits the difference
//     between consecutive frames: none when time went backwards, at most
//     MaxReplayGap (1 s) for a long silence, so a replay never stalls.
//   - Devices (open.go, describe.go, device_linux.go): Open accepts a
//     device node or a recording. The live layer is plain Go for linux
//     (golang.org/x/sys/unix ioctls, no cgo), so CGO_ENABLED=0 builds list,
//     inspect and attach devices exactly as cgo builds do; it opens
//     devices on 64-bit little-endian Linux with the generic ioctl
//     encoding (amd64, arm64, riscv64, loong64: liveArch) and says so
//     elsewhere. device_other.go compiles on other systems and returns a
//     clear error for live nodes while recordings still replay. A
//     character device that does not answer EVIOCGID (ENOTTY, EINVAL) is
//     ErrNotInputDevice.
//   - Force feedback (ff.go, haptics.go): ff_effect upload, play and stop,
//     FF_GAIN; Haptics renders contact force and help requests.
//
// # Units and conventions
//
// Normalised values are in [-1, 1] (centred axes: sticks, hats,
// SpaceMouse, pen positions; centre is the range midpoint, so a DualSense
// 0..255 stick is centred at 127.5) or [0, 1] (triggers). Deadzones are
// fractions of the half range (of the range for triggers); the applied
// deadzone is the larger of the profile's and the kernel's flat, and values
// outside it are rescaled to start at 0. Event.Time is the kernel
// timestamp as a duration from its clock's epoch (CLOCK_REALTIME: the Unix
// epoch) or, for evemu recordings, from the recording's start.
// Command.At = Mapper.Epoch + event time.
//
// # Goroutines and allocation
//
// A device or replay owns one goroutine that reads, applies frames and
// maps; its State, Player and Mapper belong to that goroutine. Latest (via
// teleop.Latch) is safe for concurrent use. Decoder.Next, State.Apply and
// Mapper.Map do not allocate in steady state (tested with AllocsPerRun).
// OnFrame callbacks run on the device goroutine and receive reused frames.
//
// # Why not github.com/gvalkov/golang-evdev
//
// tandem used to list nodes with that module's ListInputDevicePaths in cgo
// builds (the module includes linux/input.h through cgo, so a
// CGO_ENABLED=0 build could not import it and had no live devices). The
// listing is now info.go's eventPaths in every build: the same result
// (event<N> entries that are or link to character devices, numeric order,
// nothing opened), and it survives entries whose stat fails, where
// golang-evdev's IsInputDevice dereferences a nil FileInfo (a link loop
// named event* crashed `tandem devices list` and the hot-plug watcher;
// TestListSkipsBrokenLinks). Nothing else of the module was ever used,
// and it is no longer a dependency.
//
// Its Open was never used: reading device.go at
// v0.0.0-20220815104727-7e27d6ce89b6 against the kernel's
// drivers/input/evdev.c shows
//
//   - EVIOCGBIT(0, EV_MAX) is issued into new([4]byte) ((EV_MAX+1)/8 = 4
//     bytes), but the request encodes a size of EV_MAX = 31 and the kernel
//     copies BITS_TO_LONGS(EV_CNT) longs = 8 bytes on 64-bit: a 4-byte
//     overflow of a heap object that may share its tiny-allocator block.
//   - One 96-byte codebits buffer is reused for every event type without
//     clearing, and the request claims KEY_MAX = 767 bytes; the kernel
//     copies only each type's bitmap (8 bytes for EV_ABS and EV_REL), so the
//     remaining bytes still hold EV_KEY bits from the previous call and
//     turn into phantom REL/ABS/FF capabilities. Its loops also stop before
//     EV_MAX and KEY_MAX.
//   - Read allocates 16 zeroed events per call, returns them all (zeroed)
//     with any read error, and trims the batch at the first event whose
//     Time.Sec is 0 rather than by the byte count read.
//   - No absinfo getter, no force feedback, no SYN_DROPPED handling, and
//     Open is read-only (EVIOCSFF and writing EV_FF need O_RDWR).
//
// tandem's device layer issues its own ioctls through golang.org/x/sys/unix
// (describe.go reads a description through a small ioctler seam;
// device_linux.go is the syscall). Every buffer is freshly zeroed and
// exactly as long as its request declares, which node.ioctl checks before
// the syscall; ioctl.go holds the request numbers, tested against the
// x86-64 values in input-reference.md and computed ones. None of this has
// been run against hardware here (the build machine has no /dev/input):
// describe is tested against a fake that answers as evdev.c does (bitmaps
// as unsigned long words, copies bounded by the declared size, EINVAL for
// EV_REP), built from the evemu recordings; the syscall path is tested on
// /dev/null (ENOTTY: not an input device); cmd/tandem's
// TestCgoAndPureGoBinariesAgree compares CGO_ENABLED=0 and =1 binaries.
package evdev
