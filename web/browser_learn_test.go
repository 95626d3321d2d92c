package web

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"tandem/live"
)

// TestBrowserConsoleLearning runs tandem serve --learn bc with the
// default reach session learning under a simulated operator, waits for
// the online trainer's first version, then checks the console: the
// Learning page lists it (promoting it with its Promote button if the
// trainer kept it back) and shows a learned version current, with a point
// in the success chart next to its held-out evaluation, a row in the
// history, and the session running it; the fleet tile and the session
// view name the version in control; the session view's learning toggle
// turns learning off and on. The trainer goes on training meanwhile, so
// the checks follow whichever version is current.
func TestBrowserConsoleLearning(t *testing.T) {
	srv, _, bin := startBrowserServerWith(t, func(c *Config) {
		c.NoDefaultSession = false
		c.Task, c.Mode, c.Operator, c.Seed = "reach", "shared", "sim", 3
		c.Learn = &live.OnlineConfig{Algo: "bc", Params: map[string]string{"steps": "200"}, MinNewEpisodes: 3, EvalEpisodes: 5,
			Every: 200 * time.Millisecond}
	})
	sid := srv.Hub().List()[0].ID()
	var version string
	promoted := false
	deadline := time.Now().Add(90 * time.Second)
	for version == "" {
		if time.Now().After(deadline) {
			t.Fatalf("no version trained within 90 s; events %+v", srv.Hub().LearnEvents())
		}
		for _, e := range srv.Hub().LearnEvents() {
			if e.Version != "" && e.Err == "" {
				version, promoted = e.Version, e.Promoted
				break
			}
		}
		time.Sleep(browserPoll)
	}
	t.Logf("the trainer made %s (promoted by it: %v)", version, promoted)

	b := newBrowserPage(t, bin, cspWatchJS)
	b.step("learning page", chromedp.Navigate(fmt.Sprintf("%s/?token=%s&operator=%s#/learning?task=reach", srv.URL(), browserToken, browserOperator)))
	row := fmt.Sprintf(`document.querySelector('table.versions tr[data-version=%q]')`, version)
	b.waitJS("the trained version listed", row+` !== null`, 15*time.Second)
	b.waitJS("the trainer named", `document.querySelector('.learning .trainer').textContent.includes('bc')`, 5*time.Second)
	if !promoted {
		b.step("promote it", chromedp.Evaluate[chromedp.Void](row+`.querySelector('button').click(); undefined`))
	}
	// The trainer keeps training and may promote a newer version at any
	// time: each check reads the current version and what shows it from
	// one drawing of the page.
	const current = `document.querySelector('.learning .current').dataset.version`
	b.waitJS("a learned version current, with its point in the success chart, its held-out evaluation and its promotion in the history",
		`(() => { const cur = `+current+`;
		  if (!/^reach-bc-\d+$/.test(cur)) return false;
		  const p = JSON.parse(document.querySelector('canvas[data-chart=version-success]').dataset.points || '[]').find((x) => x.version === cur);
		  const row = document.querySelector('table.versions tr[data-version="' + cur + '"]');
		  const promoted = [...document.querySelectorAll('table.history tr.promoted td:nth-child(3), table.history tr.rolled-back-to td:nth-child(3)')].some((td) => td.textContent === cur);
		  return !!p && p.current && typeof p.eval_success === 'number' && !!row && row.classList.contains('current') && promoted; })()`, 15*time.Second)
	b.waitJS("the first version has its point too",
		fmt.Sprintf(`JSON.parse(document.querySelector('canvas[data-chart=version-success]').dataset.points || '[]').some((x) => x.version === %q && typeof x.eval_success === 'number')`, version), 5*time.Second)
	b.waitJS("Roll back offered to the operator", `!document.querySelector('.learning .rollback').disabled`, 5*time.Second)
	// The session follows the current version from its next episode.
	b.waitJS("the session runs the current version", fmt.Sprintf(`document.querySelector('.learning .in-control').textContent.includes(%q + %s)`, sid+" runs ", current), 30*time.Second)
	b.screenshot("console-learning.png")

	b.step("fleet", chromedp.Navigate(srv.URL()+"/#/"))
	b.waitJS("the tile names the version in control and learning",
		fmt.Sprintf(`(() => { const t = [...document.querySelectorAll('.tiles .tile')].find((x) => x.querySelector('.tile-id')?.textContent === %q);
		  return !!t && /^reach-bc-\d+$/.test(t.dataset.version) && t.querySelector('.tile-policy').textContent.includes('▶ ' + t.dataset.version + ' · learning'); })()`, sid), 10*time.Second)

	b.step("session view", chromedp.Navigate(srv.URL()+"/#/s/"+sid))
	b.waitJS("the HUD names the version in control", `/^reach-bc-\d+/.test(document.querySelector('[data-hud=version]').textContent)`, 10*time.Second)
	b.waitJS("learning on", `document.querySelector('[data-hud=learning] span').textContent === 'on (bc)' && !document.querySelector('.learn-toggle').disabled`, 10*time.Second)
	b.step("stop learning", chromedp.Evaluate[chromedp.Void](`document.querySelector('.learn-toggle').click(); undefined`))
	b.waitJS("learning off", `document.querySelector('[data-hud=learning] span').textContent === 'off' && document.querySelector('.learn-toggle').textContent === 'Learn'`, 10*time.Second)
	s, err := srv.Hub().Get(sid)
	if err != nil || s.Learning() {
		t.Fatalf("session %s learning %v after the toggle (%v); want off", sid, s != nil && s.Learning(), err)
	}
	b.step("learn again", chromedp.Evaluate[chromedp.Void](`document.querySelector('.learn-toggle').click(); undefined`))
	b.waitJS("learning on again", `document.querySelector('[data-hud=learning] span').textContent === 'on (bc)'`, 10*time.Second)

	csp, _ := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](`window.__csp`))
	if len(csp) != 0 {
		t.Errorf("Content-Security-Policy violations: %v", csp)
	}
	b.checkExceptions()
}
