package browsertest

import (
	"fmt"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// Keys types keys into whatever has the focus, as a person at a keyboard
// does (kb.Tab, kb.Enter, " ", kb.ArrowRight, or text).
func (tab *Tab) Keys(keys string) {
	tab.t.Helper()
	tab.Do(chromedp.KeyEvent(keys))
}

// TabTo presses Tab (at most max times) until the element matching css
// has the focus; it fails the test when Tab never reaches it.
func (tab *Tab) TabTo(css string, max int) {
	tab.t.Helper()
	check := fmt.Sprintf(`!!document.activeElement && document.activeElement.matches(%q)`, css)
	for range max {
		if Run(tab, chromedp.Evaluate[bool](check)) {
			return
		}
		tab.Keys(kb.Tab)
	}
	tab.t.Fatalf("keyboard: %d presses of Tab never reached %s (focus on %s)", max, css,
		Run(tab, chromedp.Evaluate[string](`document.activeElement ? document.activeElement.outerHTML.slice(0, 120) : "nothing"`)))
}

// KeysAndWait types keys that leave the page (Enter on a link or a
// submit button) and waits until the next page has loaded.
func (tab *Tab) KeysAndWait(keys string) {
	tab.t.Helper()
	Run(tab, chromedp.Evaluate[bool](`window.__leaving = true`))
	tab.Keys(keys)
	tab.WaitNewPage()
}
