package web

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"tandem/sim"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"tandem/demos"
)

// The browser test drives the real console in a real headless Chromium
// against the real server (in-process, 127.0.0.1:0, SQLite store in a temp
// dir): create a Push-T session from the form, take over with the keyboard,
// hold an arrow key, and check that the agent moves on the canvas, the HUD
// says HUMAN, and the store records human steps from this operator.
//
// It is skipped when no Chromium is installed or in -short mode, unless
// TANDEM_REQUIRE_BROWSER=1.
// The screenshot goes to $TANDEM_ARTIFACTS (or a temp dir); its path is logged.

const (
	browserToken    = "browser-test-token"
	browserOperator = "tester"
	browserPoll     = 50 * time.Millisecond
)

// findBrowser returns the first Chromium-like binary on PATH.
func findBrowser() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// agentJS finds the Push-T agent (royalblue, #4169e1) on the session canvas
// and returns [centroid x, centroid y, pixel count, canvas width], or null.
const agentJS = `(() => {
  const c = document.querySelector('canvas.scene');
  if (!c || !c.width) return null;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let sx = 0, sy = 0, n = 0;
  for (let i = 0; i < d.length; i += 4) {
    if (Math.abs(d[i] - 65) < 10 && Math.abs(d[i+1] - 105) < 10 && Math.abs(d[i+2] - 225) < 10) {
      const p = i / 4; sx += p % c.width; sy += Math.floor(p / c.width); n++;
    }
  }
  return n > 20 ? [sx / n, sy / n, n, c.width] : null;
})()`

func TestBrowserConsoleTakeOver(t *testing.T) {
	srv, dataDir, bin := startBrowserServer(t)
	b := newBrowserPage(t, bin, "")
	ctx, step, waitJS, agent := b.ctx, b.step, b.waitJS, b.agent

	// 1. Open the console with the token and a name; the form lists tasks.
	step("open console", chromedp.Navigate(fmt.Sprintf("%s/?token=%s&operator=%s#/", srv.URL(), browserToken, browserOperator)))
	waitJS("task list loaded", `!!document.querySelector('#create select[name=task] option[value="push-t"]')`, 10*time.Second)
	if got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.search`)); got != "" {
		t.Errorf("token left in the address bar: got search %q; want it removed", got)
	}

	// 2. Create a shared Push-T session from the form; the console opens it.
	step("create session",
		chromedp.SetValue(chromedp.CSS(`#create select[name=task]`), "push-t"),
		chromedp.SetValue(chromedp.CSS(`#create select[name=mode]`), "shared"),
		chromedp.SetValue(chromedp.CSS(`#create input[name=seed]`), "7"),
		chromedp.Click(chromedp.CSS(`#create button[type=submit]`)),
	)
	waitJS("session view with the robot in control",
		`location.hash.startsWith('#/s/') && document.querySelector('.banner')?.dataset.who === 'robot'`, 15*time.Second)
	waitJS("agent drawn", agentJS+` !== null`, 10*time.Second)
	before, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('canvas.scene').toDataURL()`))
	if err != nil {
		t.Fatalf("canvas pixels: %v", err)
	}

	// 3. Take over with the T key; the banner must say HUMAN (tester).
	step("focus canvas", chromedp.Focus(chromedp.CSS(`canvas.scene`)))
	step("press T", keyDown("t", "KeyT", 84), keyUp("t", "KeyT", 84))
	waitJS("banner shows the human in control",
		`(() => { const b = document.querySelector('.banner');
		  return b.dataset.who === 'human' && b.querySelector('.who').textContent === 'HUMAN (`+browserOperator+`)'; })()`,
		10*time.Second)

	// 4. Hold an arrow key towards the middle; the agent must follow it.
	a0 := agent()
	if a0 == nil {
		t.Fatal("agent not visible on the canvas after take over")
	}
	key, code, vk, dir := "ArrowRight", "ArrowRight", int64(39), 1.0
	if a0[0] > a0[3]/2 {
		key, code, vk, dir = "ArrowLeft", "ArrowLeft", 37, -1.0
	}
	step("hold "+key, keyDown(key, code, vk))
	moved := fmt.Sprintf(`(() => { const a = %s; return a !== null && (a[0] - %f) * %f > 40; })()`, agentJS, a0[0], dir)
	waitJS("agent moves with the held "+key, moved, 10*time.Second)
	step("release "+key, keyUp(key, code, vk))
	a1 := agent()
	t.Logf("agent moved from x=%.0f to x=%.0f canvas px with %s", a0[0], a1[0], key)

	after, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('canvas.scene').toDataURL()`))
	if err != nil {
		t.Fatalf("canvas pixels: %v", err)
	}
	if after == before {
		t.Error("canvas pixels unchanged after driving; want a different image")
	}
	sub, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('.banner .sub').textContent`))
	if !strings.Contains(sub, "YOU are in control") {
		t.Errorf("banner subtitle: got %q; want it to contain %q", sub, "YOU are in control")
	}

	// 5. Screenshot as an artefact.
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	dir0 := os.Getenv("TANDEM_ARTIFACTS")
	if dir0 == "" {
		dir0 = t.TempDir()
	} else if err := os.MkdirAll(dir0, 0o755); err != nil {
		t.Fatalf("artefacts dir: %v", err)
	}
	shot := filepath.Join(dir0, "console-takeover.png")
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatalf("write screenshot: %v", err)
	}
	t.Logf("screenshot: %s", shot)

	// 6. The store records human steps from this operator.
	n := waitHumanSteps(t, dataDir, "browser:"+browserOperator)
	t.Logf("store has %d human steps by browser:%s", n, browserOperator)

	// 7. Hand back with H: the robot is in control again.
	step("press H", keyDown("h", "KeyH", 72), keyUp("h", "KeyH", 72))
	waitJS("banner shows the robot again", `document.querySelector('.banner').dataset.who === 'robot'`, 10*time.Second)
	b.checkExceptions()
}

// fakePadJS replaces navigator.getGamepads with one standard-mapping pad
// whose axes and button values the test sets through window.__pad.
const fakePadJS = `
window.__pad = { axes: [0, 0, 0, 0], buttons: new Array(17).fill(0) };
Object.defineProperty(navigator, 'getGamepads', { configurable: true, value: () => [{
  id: 'fake standard pad', index: 0, connected: true, mapping: 'standard', timestamp: performance.now(),
  axes: window.__pad.axes.slice(),
  buttons: window.__pad.buttons.map((v) => ({ pressed: v > 0.5, touched: v > 0, value: v })),
}] });`

// TestBrowserConsolePointerAndGamepad drives Push-T by pressing the mouse on
// the canvas (the agent goes to the point under the pointer, and control
// returns to the robot on release) and by a standard gamepad (RB held with
// the left stick pushed), then checks the store.
func TestBrowserConsolePointerAndGamepad(t *testing.T) {
	srv, dataDir, bin := startBrowserServer(t)
	info, err := srv.CreateSession(SessionOptions{Task: "push-t", Mode: string(sim.ModeShared), Policy: "expert", Seed: 11})
	if err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	b := newBrowserPage(t, bin, fakePadJS)
	const op = "padtester"
	b.step("open session", chromedp.Navigate(fmt.Sprintf("%s/?token=%s&operator=%s#/s/%s", srv.URL(), browserToken, op, info.ID)))
	b.waitJS("robot in control", `document.querySelector('.banner')?.dataset.who === 'robot'`, 15*time.Second)
	b.waitJS("agent drawn", agentJS+` !== null`, 10*time.Second)

	// Pointer: press on the far side of the field at the agent's height.
	a0 := b.agent()
	rect, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]float64](`(() => { const r = document.querySelector('canvas.scene').getBoundingClientRect(); return [r.left, r.top]; })()`))
	if err != nil || len(rect) != 2 {
		t.Fatalf("canvas rect: %v %v", rect, err)
	}
	tx := a0[3] * 0.3
	if a0[0] < a0[3]/2 {
		tx = a0[3] * 0.7
	}
	px, py := rect[0]+tx, rect[1]+a0[1]
	b.step("press on the canvas", chromedp.MouseEvent(input.DispatchMouseEventTypeMousePressed, px, py, chromedp.ButtonLeft))
	b.waitJS("human in control while the pointer is down", `document.querySelector('.banner').dataset.who === 'human'`, 10*time.Second)
	near := fmt.Sprintf(`(() => { const a = %s; return a !== null && Math.abs(a[0] - %f) < 25; })()`, agentJS, tx)
	b.waitJS("agent reaches the point under the pointer", near, 10*time.Second)
	b.step("release", chromedp.MouseEvent(input.DispatchMouseEventTypeMouseReleased, px, py, chromedp.ButtonLeft))
	b.waitJS("robot again after release", `document.querySelector('.banner').dataset.who === 'robot'`, 10*time.Second)

	// Gamepad: hold RB (intervene) and push the left stick towards the middle.
	a1 := b.agent()
	dir := 1.0
	if a1[0] > a1[3]/2 {
		dir = -1
	}
	b.step("pad: RB + left stick", chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`window.__pad.buttons[5] = 1; window.__pad.axes[0] = %f; undefined`, dir)))
	b.waitJS("human in control with RB held", `document.querySelector('.banner').dataset.who === 'human'`, 10*time.Second)
	b.waitJS("RB row lit in the mapping", `!!document.querySelector('.map tr[data-id=hold].on')`, 5*time.Second)
	moved := fmt.Sprintf(`(() => { const a = %s; return a !== null && (a[0] - %f) * %f > 40; })()`, agentJS, a1[0], dir)
	b.waitJS("agent follows the stick", moved, 10*time.Second)
	pad, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.querySelector('.mapping .pad').textContent`))
	if !strings.Contains(pad, "fake standard pad") {
		t.Errorf("mapping pad label: got %q; want it to name %q", pad, "fake standard pad")
	}
	b.step("pad: release", chromedp.Evaluate[chromedp.Void](`window.__pad.buttons[5] = 0; window.__pad.axes[0] = 0; undefined`))
	b.waitJS("robot again after the pad is released", `document.querySelector('.banner').dataset.who === 'robot'`, 10*time.Second)

	n := waitHumanSteps(t, dataDir, "browser:"+op)
	t.Logf("store has %d human steps by browser:%s", n, op)
	b.checkExceptions()
}

// startBrowserServer finds Chromium (or skips) and starts the real server
// on 127.0.0.1:0 with a store in a temp dir and no default session.
func startBrowserServer(t *testing.T) (*Server, string, string) {
	t.Helper()
	return startBrowserServerWith(t, nil)
}

// startBrowserServerWith is startBrowserServer with edit applied to the
// configuration first.
func startBrowserServerWith(t *testing.T, edit func(*Config)) (*Server, string, string) {
	t.Helper()
	required := os.Getenv("TANDEM_REQUIRE_BROWSER") == "1"
	if testing.Short() && !required {
		t.Skip("browser test skipped in -short mode")
	}
	bin := findBrowser()
	if bin == "" {
		if required {
			t.Fatal("TANDEM_REQUIRE_BROWSER=1 but no chromium, chromium-browser or google-chrome on PATH")
		}
		t.Skip("no Chromium on PATH (set TANDEM_REQUIRE_BROWSER=1 to make this a failure)")
	}
	dataDir := t.TempDir()
	cfg := Config{
		Addr:             "127.0.0.1:0",
		DataDir:          dataDir,
		Token:            browserToken,
		NoDefaultSession: true,
		Log:              io.Discard,
	}
	if edit != nil {
		edit(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := srv.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return srv, dataDir, bin
}

// browserPage is one headless Chromium tab with a 60 s deadline. It
// collects uncaught JavaScript exceptions; checkExceptions fails on any.
type browserPage struct {
	t   *testing.T
	ctx context.Context

	mu         sync.Mutex
	exceptions []string
}

// newBrowserPage launches Chromium with a fresh profile; preload, if set,
// runs in every document before the page's own scripts.
func newBrowserPage(t *testing.T, bin, preload string) *browserPage {
	t.Helper()
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(bin),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("force-device-scale-factor", "1"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	t.Cleanup(cancelAlloc)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelCtx)
	// The first Run starts the browser; it must not carry the deadline.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	if preload != "" {
		err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: preload})
			return err
		}))
		if err != nil {
			t.Fatalf("preload script: %v", err)
		}
	}
	ctx, cancelT := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(cancelT)
	b := &browserPage{t: t, ctx: ctx}
	go func() {
		for m, err := range chromedp.Console(ctx) {
			if err != nil {
				return
			}
			if m.IsException() {
				b.mu.Lock()
				b.exceptions = append(b.exceptions, fmt.Sprintf("%s (%s:%d)", m.Text, m.URL, m.Line+1))
				b.mu.Unlock()
			}
		}
	}()
	return b
}

// checkExceptions fails the test if the page threw an uncaught exception.
func (b *browserPage) checkExceptions() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, e := range b.exceptions {
		b.t.Errorf("uncaught JavaScript exception: %s", e)
	}
}

func (b *browserPage) step(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// screenshot saves the page as name in $TANDEM_ARTIFACTS (else a temp
// dir) and logs the path.
func (b *browserPage) screenshot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatalf("screenshot: %v", err)
	}
	dir := os.Getenv("TANDEM_ARTIFACTS")
	if dir == "" {
		dir = b.t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatalf("artefacts dir: %v", err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatalf("write screenshot: %v", err)
	}
	b.t.Logf("screenshot: %s", path)
}

// waitJS polls expr (a boolean JavaScript expression) until true.
func (b *browserPage) waitJS(what, expr string, timeout time.Duration) {
	b.t.Helper()
	_, err := chromedp.Run(b.ctx, chromedp.Poll[bool](expr,
		chromedp.WithPollingInterval(browserPoll), chromedp.WithPollingTimeout(timeout)))
	if err != nil {
		shown, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.querySelector('.banner')?.innerText || document.body.innerText.slice(0, 300)`))
		b.t.Fatalf("%s: %v (page shows %q)", what, err, shown)
	}
}

// agent returns the agent's canvas centroid [x, y, pixels, canvas width], or nil.
func (b *browserPage) agent() []float64 {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]float64](agentJS))
	if err != nil {
		b.t.Fatalf("read canvas: %v", err)
	}
	return v
}

// waitHumanSteps polls the SQLite store until it holds human steps by operator.
func waitHumanSteps(t *testing.T, dataDir, operator string) int {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(dataDir, demos.DBName))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	defer db.Close()
	var n int
	deadline := time.Now().Add(15 * time.Second)
	for {
		err = db.QueryRow(`SELECT COUNT(*) FROM steps WHERE source = 'human' AND operator = ?`, operator).Scan(&n)
		if err == nil && n > 0 {
			return n
		}
		if time.Now().After(deadline) {
			t.Fatalf("human steps by %s in the store: got %d (err %v); want > 0", operator, n, err)
		}
		time.Sleep(browserPoll)
	}
}

func keyDown(key, code string, vk int64) chromedp.Action[chromedp.Void] {
	return keyEvent(input.DispatchKeyEventTypeKeyDown, key, code, vk)
}

func keyUp(key, code string, vk int64) chromedp.Action[chromedp.Void] {
	return keyEvent(input.DispatchKeyEventTypeKeyUp, key, code, vk)
}

// keyEvent dispatches one key event with its DOM code set: the console reads
// KeyboardEvent.code, which chromedp.KeyEvent does not fill for letters.
func keyEvent(typ input.DispatchKeyEventType, key, code string, vk int64) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		p := input.DispatchKeyEventParams{Type: typ, Key: key, Code: code, WindowsVirtualKeyCode: vk, NativeVirtualKeyCode: vk}
		if typ == input.DispatchKeyEventTypeKeyDown && len(key) == 1 {
			p.Text = key
		}
		if _, err := cdp.Call(ctx, t, input.DispatchKeyEvent, p); err != nil {
			return errors.New("dispatch " + string(typ) + " " + key + ": " + err.Error())
		}
		return nil
	})
}

// captureFramesJS wraps WebSocket so that every step frame the console
// receives is kept in window.__frames, as the page decoded it.
const captureFramesJS = `
window.__frames = [];
(() => {
  const Real = window.WebSocket;
  function Capturing(url, protocols) {
    const ws = protocols === undefined ? new Real(url) : new Real(url, protocols);
    ws.addEventListener('message', (e) => {
      if (typeof e.data !== 'string') return;
      try { const m = JSON.parse(e.data); if (m.type === 'frame' && m.kind === 'step') window.__frames.push(m); } catch (_) {}
    });
    return ws;
  }
  Capturing.prototype = Real.prototype;
  for (const k of ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED']) Capturing[k] = Real[k];
  window.WebSocket = Capturing;
})();`

// TestBrowserFramesMatchStoredSteps drives a surgical session (5 Hz
// learning steps, 20 Hz sub-ticks) from the console with the keyboard and
// checks that every step frame the page received agrees, field for field,
// with the step the store holds for the same tick.
func TestBrowserFramesMatchStoredSteps(t *testing.T) {
	srv, dataDir, bin := startBrowserServer(t)
	info, err := srv.CreateSession(SessionOptions{Task: "needle-reach", Mode: string(sim.ModeShared), Policy: "expert", Seed: 3})
	if err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	b := newBrowserPage(t, bin, captureFramesJS)
	b.step("open session", chromedp.Navigate(fmt.Sprintf("%s/?token=%s&operator=%s#/s/%s", srv.URL(), browserToken, browserOperator, info.ID)))
	b.waitJS("robot in control", `document.querySelector('.banner')?.dataset.who === 'robot'`, 15*time.Second)
	b.step("focus canvas", chromedp.Focus(chromedp.CSS(`canvas.scene`)))
	b.step("press T", keyDown("t", "KeyT", 84), keyUp("t", "KeyT", 84))
	b.waitJS("human in control", `document.querySelector('.banner').dataset.who === 'human'`, 10*time.Second)
	b.step("hold ArrowUp", keyDown("ArrowUp", "ArrowUp", 38))
	b.waitJS("a few human steps", `window.__frames.filter((f) => f.hud.source === 'human').length >= 4`, 15*time.Second)
	b.step("release ArrowUp", keyUp("ArrowUp", "ArrowUp", 38))
	b.step("press H", keyDown("h", "KeyH", 72), keyUp("h", "KeyH", 72))
	b.waitJS("robot again", `document.querySelector('.banner').dataset.who === 'robot'`, 10*time.Second)
	b.waitJS("robot steps after the hand-back", `window.__frames.length >= 12 && window.__frames.slice(-4).every((f) => f.hud.source === 'robot')`, 15*time.Second)
	type hud struct {
		Source, Operator string
		PolicyVersion    string  `json:"policy_version"`
		Reward           float64 `json:"reward"`
		Success, Help    bool
		Holder, Mode     string
		Paused           bool
	}
	type stepFrame struct {
		Episode      int       `json:"episode"`
		T            int       `json:"t"`
		Action       []float64 `json:"action"`
		PolicyAction []float64 `json:"policy_action"`
		Events       []string  `json:"events"`
		HUD          hud       `json:"hud"`
	}
	raw, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`JSON.stringify(window.__frames)`))
	if err != nil {
		t.Fatal(err)
	}
	var frames []stepFrame
	if err := json.Unmarshal([]byte(raw), &frames); err != nil {
		t.Fatal(err)
	}
	b.checkExceptions()
	if err := srv.DeleteSession(info.ID); err != nil { // flushes the recording
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := demos.Open(ctx, dataDir, demos.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	eps, err := st.ListEpisodes(ctx, demos.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	steps := map[int][]demos.Step{} // by the session's episode counter
	modes := map[int]sim.Mode{}
	for i, ep := range eps {
		s, err := st.Steps(ctx, ep.ID)
		if err != nil {
			t.Fatal(err)
		}
		steps[i+1], modes[i+1] = s, ep.Mode
	}
	compared, human := 0, 0
	for _, f := range frames {
		ss := steps[f.Episode]
		if f.T < 1 || f.T > len(ss) {
			t.Fatalf("frame of episode %d step %d has no stored step (%d stored)", f.Episode, f.T, len(ss))
		}
		s := ss[f.T-1]
		iv := slices.Contains(f.Events, "intervention_start")
		// Who held authority at the tick: the stored step's operator
		// while a human acted, the robot otherwise; a recorded step is
		// never paused, and the mode is the episode's.
		holder := "robot"
		if s.Source == sim.Human {
			holder = s.Operator
		}
		if f.HUD.Holder != holder || f.HUD.Mode != string(modes[f.Episode]) || f.HUD.Paused {
			t.Fatalf("episode %d step %d: frame holder %q mode %q paused %v; stored source %s operator %q, episode mode %s",
				f.Episode, f.T, f.HUD.Holder, f.HUD.Mode, f.HUD.Paused, s.Source, s.Operator, modes[f.Episode])
		}
		if !slices.Equal(f.Action, s.Action) || !slices.Equal(f.PolicyAction, s.PolicyAction) ||
			f.HUD.Source != string(s.Source) || f.HUD.Operator != s.Operator || f.HUD.PolicyVersion != s.PolicyVersion ||
			f.HUD.Reward != s.Reward || f.HUD.Success != s.Success || f.HUD.Help != s.Help || iv != s.InterventionStart {
			t.Fatalf("episode %d step %d: frame %+v; stored %+v", f.Episode, f.T, f, s)
		}
		if s.Source == sim.Human {
			human++
			if len(s.Subticks) != 4*len(s.Action) {
				t.Errorf("human step %d stores %d sub-tick values; want 4 sub-ticks of %d", s.T, len(s.Subticks), len(s.Action))
			}
		}
		compared++
	}
	if compared < 10 || human < 4 {
		t.Fatalf("compared %d step frames, %d human; want at least 10 and 4", compared, human)
	}
	t.Logf("%d step frames agree with the store (%d human)", compared, human)
}

// cspWatchJS records Content-Security-Policy violations in window.__csp:
// the console must run under the server's policy (no inline script or
// style, nothing foreign).
const cspWatchJS = `window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));`

// TestBrowserConsoleRejectedTokenRunningEpisodesAndStop opens the console
// with a wrong token: it falls back to read-only viewing and says the
// token was rejected; the episode still being recorded is listed as
// running and left out of the charts' rates; a replay's controls are
// disabled for the viewer. With the right token, Stop ends a session.
func TestBrowserConsoleRejectedTokenRunningEpisodesAndStop(t *testing.T) {
	srv, _, bin := startBrowserServer(t)
	info, err := srv.CreateSession(SessionOptions{Task: "push-t", Mode: string(sim.ModeShared), Policy: "expert", Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	store := srv.Hub().Store()
	ctx := context.Background()
	episodes := func() []demos.Episode {
		eps, err := store.ListEpisodes(ctx, demos.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		return eps
	}
	deadline := time.Now().Add(15 * time.Second)
	for len(episodes()) == 0 || episodes()[0].Length < 3 {
		if time.Now().After(deadline) {
			t.Fatal("no recorded steps")
		}
		time.Sleep(browserPoll)
	}
	if err := srv.Hub().List()[0].Reset(nil); err != nil { // episode 1 is cut, 2 runs
		t.Fatal(err)
	}
	for len(episodes()) < 2 {
		if time.Now().After(deadline) {
			t.Fatal("no second episode")
		}
		time.Sleep(browserPoll)
	}
	first := episodes()[0].ID
	rp, err := srv.Hub().CreateReplay(ctx, first, 1, true)
	if err != nil {
		t.Fatal(err)
	}

	b := newBrowserPage(t, bin, cspWatchJS)
	b.step("open with a wrong token", chromedp.Navigate(srv.URL()+"/?token=wrong-token-123#/episodes"))
	b.waitJS("read-only strip says the token was rejected",
		`(() => { const r = document.getElementById('readonly'); return !r.hidden && r.classList.contains('rejected') && r.textContent.includes('rejected'); })()`, 10*time.Second)
	b.waitJS("badge", `document.getElementById('auth-toggle').textContent.includes('token rejected')`, 5*time.Second)
	b.waitJS("episodes listed as a viewer", `document.querySelectorAll('table.eps tbody tr.ep-row').length >= 2`, 10*time.Second)
	b.waitJS("the running episode reads running, the cut one (cut)",
		`(() => { const rows = [...document.querySelectorAll('table.eps tbody tr.ep-row')];
		  return rows.some((r) => r.classList.contains('running') && r.querySelector('td.running')?.textContent === 'running' && r.textContent.includes('(running)'))
		      && rows.some((r) => r.textContent.includes('(cut)')); })()`, 5*time.Second)

	b.step("sessions", chromedp.Navigate(srv.URL()+"/#/"))
	b.waitJS("fleet tiles shown and the create form locked",
		`document.querySelectorAll('.tiles .tile').length >= 2 && document.querySelector('#create button[type=submit]').disabled`, 10*time.Second)

	b.step("charts", chromedp.Navigate(srv.URL()+"/#/charts"))
	b.waitJS("charts leave the running episode out",
		`(() => { const l = document.querySelector('.legend')?.textContent || '';
		  return l.includes('1 running episode not counted') && !l.includes('unknown') && l.includes('1 episodes'); })()`, 10*time.Second)

	b.step("replay as a viewer", chromedp.Navigate(srv.URL()+"/#/s/"+rp.ID()))
	b.waitJS("replay banner", `document.querySelector('.banner')?.dataset.who === 'replay'`, 10*time.Second)
	b.waitJS("replay controls disabled for the viewer",
		`(() => { const bar = document.querySelector('.replay-bar');
		  return !bar.hidden && [...bar.querySelectorAll('button, select')].every((x) => x.disabled)
		      && document.querySelector('.controls [data-stop]').disabled; })()`, 5*time.Second)

	b.step("save the right token",
		chromedp.Click(chromedp.CSS(`#auth-toggle`)),
		chromedp.SetValue(chromedp.CSS(`#auth-token`), browserToken),
		chromedp.Click(chromedp.CSS(`#auth button[type=submit]`)))
	b.waitJS("operator badge", `document.getElementById('auth-toggle').textContent.startsWith('operator') && document.getElementById('readonly').hidden`, 5*time.Second)
	b.step("open the live session", chromedp.Navigate(srv.URL()+"/#/s/"+info.ID))
	b.waitJS("stop enabled for the operator", `document.querySelector('.banner')?.dataset.who === 'robot' && !document.querySelector('.controls [data-stop]').disabled`, 10*time.Second)
	// Clicked from script: the toasts at the bottom right may cover the button.
	click := chromedp.Evaluate[chromedp.Void](`document.querySelector('.controls [data-stop]').click(); undefined`)
	b.step("stop: arm", click)
	b.waitJS("armed", `document.querySelector('.controls [data-stop]').textContent.includes('again')`, 5*time.Second)
	b.step("stop: confirm", click)
	b.waitJS("session stopped", `document.querySelector('.banner .who').textContent.startsWith('SESSION')`, 10*time.Second)
	if _, err := srv.Hub().Get(info.ID); err == nil {
		t.Errorf("session %s still live after Stop", info.ID)
	}
	csp, _ := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](`window.__csp`))
	if len(csp) != 0 {
		t.Errorf("Content-Security-Policy violations: %v", csp)
	}
	b.checkExceptions()
}
