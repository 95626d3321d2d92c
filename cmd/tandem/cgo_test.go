package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestCgoAndPureGoBinariesAgree builds tandem with CGO_ENABLED=0 and =1
// and runs the same device commands with both: inspecting the evemu
// recordings (events and descriptions), listing a directory of fake nodes
// (character devices that are not input devices, a link loop, a dangling
// link, a regular file, names that are not event<N>) and inspecting one of
// those nodes. Stdout, stderr (log times masked) and exit status must
// match byte for byte: a build without cgo lists, inspects and attaches
// devices exactly as a cgo build does.
func TestCgoAndPureGoBinariesAgree(t *testing.T) {
	goTool := goCommand(t)
	cc := goEnv(t, goTool, "CC")
	if f := strings.Fields(cc); len(f) == 0 {
		t.Skip("no C compiler configured (go env CC is empty): cannot build the cgo side")
	} else if _, err := exec.LookPath(f[0]); err != nil {
		t.Skipf("no C compiler (%s) for the cgo build: %v", f[0], err)
	}
	bins := buildBothWays(t, goTool)

	recs := evemuInputs(t)
	nodes := fakeNodeDir(t)
	madcatz := recs[0]
	runs := [][]string{
		{"devices", "list", "--json", "--dir", nodes},
		{"devices", "list", "--dir", nodes},
		{"devices", "inspect", "--json", filepath.Join(nodes, "event1")},
		{"devices", "inspect", "--json", "--fast", "--task", "needle-reach", madcatz},
		{"devices", "replay", "--json", "--fast", madcatz},
	}
	for _, r := range recs {
		runs = append(runs, []string{"devices", "inspect", "--json", "--fast", r})
	}
	for _, args := range runs {
		name := strings.Join(args, " ")
		var res [2]cmdResult
		for i, bin := range bins {
			res[i] = runTandem(t, bin, args...)
		}
		if res[0] != res[1] {
			t.Errorf("tandem %s differs:\nCGO_ENABLED=0: %s\nCGO_ENABLED=1: %s", name, res[0], res[1])
			continue
		}
		if res[0].stdout == "" && res[0].stderr == "" {
			t.Errorf("tandem %s printed nothing", name)
		}
	}

	// The runs exercised the live layer, not only recordings: both builds
	// probed the fake nodes and told the user what they are.
	list := runTandem(t, bins[0], "devices", "list", "--json", "--dir", nodes)
	if n := strings.Count(list.stdout, "not an input device"); n != 2 || list.code != 0 {
		t.Errorf("list: %s; want event1 and event12 listed as not input devices", list)
	}
	node := runTandem(t, bins[0], "devices", "inspect", filepath.Join(nodes, "event1"))
	if node.code == 0 || !strings.Contains(node.stderr, "event1: not an input device") {
		t.Errorf("inspect of a non-input node: %s; want it refused as not an input device", node)
	}
	rec := runTandem(t, bins[0], "devices", "inspect", "--json", "--fast", madcatz)
	if rec.code != 0 || !strings.Contains(rec.stdout, `{"summary":{"frames":234,`) {
		t.Errorf("inspect %s: %s; want 234 frames", madcatz, rec)
	}
}

// goCommand finds the go tool that runs this test.
func goCommand(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	p := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(p); err != nil {
		t.Skipf("no go tool to build with: %v", err)
	}
	return p
}

func goEnv(t *testing.T, goTool, key string) string {
	t.Helper()
	out, err := exec.Command(goTool, "env", key).Output()
	if err != nil {
		t.Fatalf("go env %s: %v", key, err)
	}
	return strings.TrimSpace(string(out))
}

// buildBothWays builds this command into t.TempDir() with CGO_ENABLED=0
// and =1 (in that order) and checks that each binary records the setting.
func buildBothWays(t *testing.T, goTool string) [2]string {
	t.Helper()
	dir := t.TempDir()
	var bins [2]string
	var errs [2]error
	var wg sync.WaitGroup
	for i, cgo := range []string{"0", "1"} {
		bins[i] = filepath.Join(dir, "tandem-cgo"+cgo)
		wg.Go(func() {
			cmd := exec.Command(goTool, "build", "-buildvcs=false", "-o", bins[i], ".")
			cmd.Env = append(os.Environ(), "CGO_ENABLED="+cgo)
			if out, err := cmd.CombinedOutput(); err != nil {
				errs[i] = errors.New("CGO_ENABLED=" + cgo + " go build: " + err.Error() + "\n" + string(out))
				return
			}
			out, err := exec.Command(goTool, "version", "-m", bins[i]).Output()
			if err != nil || !strings.Contains(string(out), "CGO_ENABLED="+cgo+"\n") {
				errs[i] = errors.New("go version -m " + bins[i] + ": want build setting CGO_ENABLED=" + cgo + ", got:\n" + string(out))
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return bins
}

// evemuInputs lists the recordings in teleop/evdev/testdata (the Mad Catz
// event recording first) and in the shared test data beside the
// repository, when there is one.
func evemuInputs(t *testing.T) []string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	out := []string{filepath.Join(root, "teleop/evdev/testdata/madcatz-xbox360.events")}
	dirs := []string{filepath.Join(root, "teleop/evdev/testdata")}
	for d, i := filepath.Dir(root), 0; i < 3; d, i = filepath.Dir(d), i+1 {
		if fi, err := os.Stat(filepath.Join(d, "shared/testdata/evemu")); err == nil && fi.IsDir() {
			dirs = append(dirs, filepath.Join(d, "shared/testdata/evemu"))
			break
		}
	}
	for _, d := range dirs {
		for _, pat := range []string{"*.events", "*.desc"} {
			m, _ := filepath.Glob(filepath.Join(d, pat))
			for _, p := range m {
				if p != out[0] {
					out = append(out, p)
				}
			}
		}
	}
	if len(out) < 3 {
		t.Fatalf("recordings %v; want at least the three in teleop/evdev/testdata", out)
	}
	return out
}

// fakeNodeDir stands in for /dev/input, which this machine lacks: links to
// character devices that are not input devices under event<N> names, and
// entries the listing must pass over.
func fakeNodeDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, target := range map[string]string{
		"event1":  "/dev/null",
		"event12": "/dev/zero",
		"event2":  "event2", // a link loop
		"event3":  filepath.Join(dir, "missing"),
		"event+5": "/dev/null",
		"js0":     "/dev/null",
	} {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Skipf("cannot make fake device nodes: %v", err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "event4"), []byte("not a device"), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

type cmdResult struct {
	stdout, stderr string
	code           int
}

func (r cmdResult) String() string {
	return fmt.Sprintf("exit %d, stdout %q, stderr %q", r.code, tail(r.stdout), tail(r.stderr))
}

// tail keeps the end of long output for failure messages.
func tail(s string) string {
	if len(s) > 1500 {
		return "..." + s[len(s)-1500:]
	}
	return s
}

// logTime matches slog's time attribute, the one field that differs
// between two runs.
var logTime = regexp.MustCompile(`time=\S+`)

func runTandem(t *testing.T, bin string, args ...string) cmdResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatalf("%s %v: %v", bin, args, err)
	}
	return cmdResult{stdout: stdout.String(), stderr: logTime.ReplaceAllString(stderr.String(), "time=T"), code: code}
}
