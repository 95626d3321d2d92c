package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"tandem/tasks"
	"tandem/teleop"
	"tandem/teleop/evdev"
)

func init() { commands = append(commands, newDevicesCmd) }

func newDevicesCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "devices",
		Short: "List, inspect and replay input devices (evdev) and evemu recordings",
		Args:  noArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newDevicesListCmd(), newDevicesInspectCmd(), newDevicesReplayCmd())
	return cmd
}

func newDevicesListCmd() *cobra.Command {
	var asJSON bool
	var dir string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List input devices with their axes, buttons, force feedback and matched profile",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cmd.Flags().Changed("dir") {
				if fi, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
					return usagef("--dir %s: the directory does not exist", dir)
				} else if err != nil {
					return usagef("--dir %s: %v", dir, err)
				} else if !fi.IsDir() {
					return usagef("--dir %s is not a directory", dir)
				}
			}
			infos, err := evdev.List(dir)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				if !anyReadable(infos) {
					fmt.Fprintf(cmd.ErrOrStderr(), "hint: %v\n", evdev.ErrNoDevices)
				}
				return json.NewEncoder(out).Encode(infos)
			}
			printDeviceList(out, infos, dir)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON array of devices")
	cmd.Flags().StringVar(&dir, "dir", evdev.DefaultDir, "directory holding event device nodes")
	return cmd
}

func anyReadable(infos []evdev.Info) bool {
	for _, in := range infos {
		if in.Error == "" {
			return true
		}
	}
	return false
}

func printDeviceList(out io.Writer, infos []evdev.Info, dir string) {
	if !anyReadable(infos) {
		if len(infos) == 0 {
			fmt.Fprintf(out, "no input devices in %s\n", dir)
		}
		for _, in := range infos {
			fmt.Fprintf(out, "%s: %s\n", in.Path, in.Error)
		}
		fmt.Fprintf(out, "hint: %v\n", evdev.ErrNoDevices)
		fmt.Fprintln(out, "hint: a recording replays as a device: tandem devices replay FILE")
		return
	}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "PATH\tNAME\tID\tPROFILE\tACCESS")
	for _, in := range infos {
		if in.Error != "" {
			fmt.Fprintf(w, "%s\t(%s)\t\t\t\n", in.Path, in.Error)
			continue
		}
		prof := in.Profile
		if prof == "" {
			prof = "-"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", in.Path, in.Name, in.ID, prof, in.Access)
	}
	w.Flush()
	for _, in := range infos {
		if in.Error != "" {
			continue
		}
		fmt.Fprintf(out, "\n%s (%s)\n", in.Path, in.Name)
		printDeviceDetails(out, in, true)
	}
}

// printDeviceDetails prints a device's axes with absinfo (values only
// when live), relative axes, buttons and force feedback.
func printDeviceDetails(out io.Writer, in evdev.Info, values bool) {
	for _, a := range in.Axes {
		fmt.Fprintf(out, "  %-12s %d..%d fuzz %d flat %d res %d", a.Code, a.Min, a.Max, a.Fuzz, a.Flat, a.Resolution)
		if values {
			fmt.Fprintf(out, " value %d", a.Value)
		}
		fmt.Fprintln(out)
	}
	if len(in.Rel) > 0 {
		fmt.Fprintf(out, "  relative: %s\n", strings.Join(in.Rel, " "))
	}
	if len(in.Buttons) > 0 {
		fmt.Fprintf(out, "  buttons: %s\n", strings.Join(in.Buttons, " "))
	}
	if len(in.FF) > 0 {
		fmt.Fprintf(out, "  force feedback: %s (%d effects)\n", strings.Join(in.FF, " "), in.FFEffects)
	}
}

// descriptionOnly reports whether path is a recording that describes a
// device but holds no events (evemu-describe output), and returns it.
// Anything else, unreadable files included, is left to evdev.Open.
func descriptionOnly(path string) (*evdev.Recording, bool) {
	fi, err := os.Stat(path)
	if err != nil || !fi.Mode().IsRegular() {
		return nil, false
	}
	rec, err := evdev.ReadRecording(path)
	if err != nil || len(rec.Events) > 0 || len(rec.Desc.Bits) == 0 && len(rec.Desc.Abs) == 0 {
		return nil, false
	}
	return rec, true
}

// descJSON is `tandem devices inspect --json` for a description without
// events.
type descJSON struct {
	Device evdev.Info `json:"device"`
	Events int        `json:"events"`
	// ProfileError says why no profile matched (pass --profile).
	ProfileError string `json:"profile_error,omitempty"`
	// SkippedAxisLines are A: lines rejected for min >= max.
	SkippedAxisLines []int `json:"skipped_axis_lines,omitempty"`
}

// showDescription prints a device description that has no events: name,
// ids, axes with absinfo, buttons, the matched profile and its mapping.
func showDescription(cmd *cobra.Command, path string, rec *evdev.Recording, o evdev.Options, asJSON bool) error {
	out := cmd.OutOrStdout()
	m, rerr := evdev.Resolve(&rec.Desc, o)
	profile := ""
	if rerr == nil {
		profile = m.Layout.Profile.Name
	}
	in := evdev.DescribeInfo(path, &rec.Desc, profile)
	in.Access = "file"
	if asJSON {
		j := descJSON{Device: in, SkippedAxisLines: rec.SkippedAxes}
		if rerr != nil {
			j.ProfileError = rerr.Error()
		}
		return json.NewEncoder(out).Encode(j)
	}
	version := rec.Version
	if version == "" {
		version = "unknown"
	}
	fmt.Fprintf(out, "%s: %s [%s] bus 0x%02x version 0x%04x (evemu format %s)\n", path, in.Name, in.ID, in.Bus, in.Version, version)
	printDeviceDetails(out, in, false)
	for _, n := range rec.SkippedAxes {
		fmt.Fprintf(out, "  skipped axis at line %d (min >= max)\n", n)
	}
	if rerr != nil {
		fmt.Fprintf(out, "profile: none (%v)\n", rerr)
	} else {
		fmt.Fprintf(out, "profile: %s, rule %s, %d actions\n", profile, m.Rule, m.ActionSize())
		for _, l := range m.Layout.Describe() {
			fmt.Fprintln(out, "  axis", l)
		}
		for _, l := range m.Describe() {
			fmt.Fprintln(out, "  map ", l)
		}
	}
	_, err := fmt.Fprintf(out, "no events: %s is a device description only; record events (evemu-record) to replay or inspect them live\n", path)
	return err
}

// deviceFlags are the options inspect and replay share.
type deviceFlags struct {
	profile, mapping, rule, task string
	fast, asJSON                 bool
}

func (f *deviceFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.profile, "profile", "", "profile to use instead of matching (see docs/devices.md)")
	cmd.Flags().StringVar(&f.mapping, "mapping", "", "user mapping/profile JSON file")
	cmd.Flags().StringVar(&f.rule, "rule", "", "takeover rule: norm[:THRESHOLD], nonzero or button (default: the profile's)")
	cmd.Flags().StringVar(&f.task, "task", "", "task whose actions the mapping targets (adds \"action\" to --json output)")
	cmd.Flags().BoolVar(&f.fast, "fast", false, "replay a recording without waiting")
	cmd.Flags().BoolVar(&f.asJSON, "json", false, "print one JSON object per SYN_REPORT frame")
}

// options validates the flags (usage errors) and builds evdev options.
func (f *deviceFlags) options() (evdev.Options, []string, error) {
	var o evdev.Options
	if f.rule != "" {
		if _, err := teleop.ParseRule(f.rule); err != nil {
			return o, nil, usagef("--rule: %v", err)
		}
	}
	if f.profile != "" {
		cat, err := evdev.Builtin()
		if err != nil {
			return o, nil, err
		}
		if f.mapping == "" {
			if _, err := cat.Lookup(f.profile); err != nil {
				return o, nil, usagef("--profile: %v", err)
			}
		}
	}
	var names []string
	if f.task != "" {
		spec, err := tasks.Spec(f.task)
		if err != nil {
			return o, nil, usagef("--task: %v", err)
		}
		names = append([]string(nil), spec.ActionNames...)
	}
	o = evdev.Options{Profile: f.profile, MappingFile: f.mapping, Rule: f.rule, ActionNames: names, Fast: f.fast}
	return o, names, nil
}

func newDevicesInspectCmd() *cobra.Command {
	var f deviceFlags
	var grab bool
	cmd := &cobra.Command{
		Use:   "inspect PATH",
		Short: "Show a device's (or recording's) normalised axes, buttons and mapped command live",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o, names, err := f.options()
			if err != nil {
				return err
			}
			o.Grab = grab
			if rec, ok := descriptionOnly(args[0]); ok {
				return showDescription(cmd, args[0], rec, o, f.asJSON)
			}
			return playDevice(cmd, args[0], o, names, f.asJSON, true)
		},
	}
	f.add(cmd)
	cmd.Flags().BoolVar(&grab, "grab", false, "grab the device exclusively (EVIOCGRAB)")
	return cmd
}

func newDevicesReplayCmd() *cobra.Command {
	var f deviceFlags
	cmd := &cobra.Command{
		Use:   "replay FILE",
		Short: "Replay an evemu or raw input_event recording through a profile and print the mapped commands",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o, names, err := f.options()
			if err != nil {
				return err
			}
			if fi, err := os.Stat(args[0]); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
				return usagef("replay takes a recording; use tandem devices inspect %s for a live device", args[0])
			}
			err = playDevice(cmd, args[0], o, names, f.asJSON, false)
			if errors.Is(err, evdev.ErrNoEvents) {
				return fmt.Errorf("%w (tandem devices inspect %s shows the description)", err, args[0])
			}
			return err
		},
	}
	f.add(cmd)
	return cmd
}

// frameJSON is one line of --json output.
type frameJSON struct {
	T       float64            `json:"t"`
	Axes    map[string]float64 `json:"axes"`
	Buttons []string           `json:"buttons"`
	Engaged bool               `json:"engaged"`
	Action  map[string]float64 `json:"action,omitempty"`
}

// playDevice opens a device or recording and prints each frame until it
// ends or the user interrupts.
func playDevice(cmd *cobra.Command, path string, o evdev.Options, names []string, asJSON, header bool) error {
	out := cmd.OutOrStdout()
	errOut := &syncWriter{w: cmd.ErrOrStderr()}
	o.Logger = slog.New(slog.NewTextHandler(errOut, nil))
	enc := json.NewEncoder(out)
	var layout *evdev.Layout
	var writeErr error
	o.OnFrame = func(fr *evdev.Frame) {
		if fr.Decay || writeErr != nil {
			return
		}
		if asJSON {
			j := frameJSON{T: round6(fr.T.Seconds()), Axes: map[string]float64{}, Buttons: append([]string{}, fr.Held...), Engaged: fr.OK && fr.Cmd.Engaged}
			for i, v := range fr.Axes {
				if !math.IsNaN(v) {
					j.Axes[layout.AxisName(i)] = round6(v)
				}
			}
			if names != nil && fr.OK {
				j.Action = map[string]float64{}
				for i, v := range fr.Cmd.Action.Slice() {
					j.Action[names[i]] = round6(v)
				}
			}
			writeErr = enc.Encode(j)
			return
		}
		var b strings.Builder
		fmt.Fprintf(&b, "%9.3f", fr.T.Seconds())
		for i, v := range fr.Axes {
			fmt.Fprintf(&b, " %s=%+.3f", layout.AxisName(i), v)
		}
		fmt.Fprintf(&b, " held=[%s]", strings.Join(fr.Held, " "))
		if fr.OK {
			fmt.Fprintf(&b, " action=%s engaged=%v", fmtVec(fr.Cmd.Action.Slice()), fr.Cmd.Engaged)
			if fr.Cmd.Clutch {
				b.WriteString(" clutch")
			}
		} else {
			b.WriteString(" skipped (non-finite action)")
		}
		if fr.Resync {
			b.WriteString(" resync")
		}
		_, writeErr = fmt.Fprintln(out, b.String())
	}
	// The layout is known only after Open; frames wait for it.
	ready := make(chan struct{})
	userFrame := o.OnFrame
	o.OnFrame = func(fr *evdev.Frame) { <-ready; userFrame(fr) }
	dev, err := evdev.Open(path, o)
	if err != nil {
		return err
	}
	defer dev.Close()
	m := dev.Mapper()
	layout = m.Layout
	if header && !asJSON {
		in := dev.Info()
		fmt.Fprintf(out, "%s: %s [%s] profile %s, rule %s, %d actions\n", dev.Path(), in.Name, in.ID, layout.Profile.Name, m.Rule, m.ActionSize())
		for _, l := range layout.Describe() {
			fmt.Fprintln(out, "  axis", l)
		}
		for _, l := range m.Describe() {
			fmt.Fprintln(out, "  map ", l)
		}
	}
	if !asJSON {
		unbound := append([]string(nil), m.Unbound...)
		sort.Strings(unbound)
		for _, u := range unbound {
			fmt.Fprintln(errOut, "note: unbound", u)
		}
	}
	close(ready)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	select {
	case <-dev.Done():
	case <-ctx.Done():
	}
	dev.Close()
	if writeErr != nil {
		return writeErr
	}
	return printSummary(out, dev.Stats(), asJSON)
}

// printSummary ends a replay or inspection with the counts of frames and
// of skipped input: one {"summary":{...}} line with --json.
func printSummary(out io.Writer, st evdev.Stats, asJSON bool) error {
	if asJSON {
		return json.NewEncoder(out).Encode(struct {
			Summary evdev.Stats `json:"summary"`
		}{st})
	}
	_, err := fmt.Fprintf(out, "summary: %d frames, %d decays; skipped: %d unknown types, %d unknown codes, %d SYN_DROPPED (%d resyncs, %d failed re-reads), %d non-finite actions, %d bad records; timing: %d backwards, %d gaps capped at %v\n",
		st.Frames, st.Decays, st.UnknownType, st.UnknownCode, st.Dropped, st.Resyncs, st.QueryFailed, st.NaNSkips, st.BadRecords, st.Backwards, st.CappedGaps, evdev.MaxReplayGap)
	return err
}

// syncWriter serialises writes from the device goroutine's logger and
// the command's notes.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func round6(x float64) float64 { return math.Round(x*1e6) / 1e6 }

func fmtVec(v []float64) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = fmt.Sprintf("%+.3f", x)
	}
	return "[" + strings.Join(parts, " ") + "]"
}
