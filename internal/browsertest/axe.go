package browsertest

import (
	_ "embed"

	"github.com/chromedp/chromedp"
)

// axeSource is axe-core (npm, vendored by 'make vendor'), injected into a
// page under test through the DevTools protocol: it is never served.
//
//go:embed axe/axe.min.js
var axeSource string

// axeTags are the rules checked: WCAG 2.0 and 2.1, levels A and AA.
const axeRun = `axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}, resultTypes: ["violations"]})
	.then(r => r.violations.map(v => v.id + " (" + v.impact + "): " + v.help + " — " +
		v.nodes.slice(0, 4).map(n => n.target.join(" ") + (n.failureSummary ? " [" + n.failureSummary.split("\n").slice(1, 2).join("").trim() + "]" : "")).join("; ")))`

// Axe runs axe-core's WCAG 2.1 A and AA rules on the current page and
// returns each violation in words: the rule, its help, and where.
func (tab *Tab) Axe() []string {
	tab.t.Helper()
	if !Run(tab, chromedp.Evaluate[bool](`typeof axe !== "undefined"`)) {
		Run(tab, chromedp.Evaluate[bool](axeSource+";true"))
	}
	return Run(tab, chromedp.Evaluate[[]string](axeRun, chromedp.EvalAwaitPromise))
}

// Accessible fails the test for each accessibility violation on the
// current page, naming the page as where.
func (tab *Tab) Accessible(where string) {
	tab.t.Helper()
	for _, v := range tab.Axe() {
		tab.t.Errorf("%s: %s", where, v)
	}
}
