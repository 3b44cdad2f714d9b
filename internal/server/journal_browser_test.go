package server_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/infusiondesk/infusiondesk/internal/browsertest"
	"github.com/infusiondesk/infusiondesk/internal/clinic"
)

// On a phone the journal's scores are rows of large 0–10 buttons, worked
// by tapping or by the keyboard's arrows; the entries saved are listed
// under the chart.
func TestBrowserJournalOnAPhone(t *testing.T) {
	f := newFixture(t)
	tab := signInTab(t, f, browsertest.Start(t), clinic.RolePatient)
	tab.Do(chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	tab.Open(f.srv.URL + "/portal/journal")
	if n := browsertest.Run(tab, chromedp.Evaluate[int](`document.querySelectorAll("#journal-form select").length`)); n != 0 {
		t.Fatalf("the journal still has %d dropdowns", n)
	}
	size := browsertest.Run(tab, chromedp.Evaluate[[]float64](`(() => { const r = document.querySelector("label[for=pain-7]").getBoundingClientRect(); return [r.width, r.height] })()`))
	if size[0] < 44 || size[1] < 44 {
		t.Fatalf("a score button is %v px: too small to tap", size)
	}
	tab.Do(chromedp.Click(chromedp.CSS("label[for=pain-7]")), chromedp.Click(chromedp.CSS("label[for=sleep-3]")))
	// The keyboard: from sleep 3, the right arrow chooses 4.
	tab.Do(chromedp.Focus(chromedp.CSS("#sleep-3")), chromedp.KeyEvent(kb.ArrowRight))
	if !browsertest.Run(tab, chromedp.Evaluate[bool](`document.querySelector("#sleep-4").checked`)) {
		t.Fatal("the arrow key does not move along the sleep score")
	}
	if w := browsertest.Run(tab, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > 390 {
		t.Fatalf("the journal is %d px wide on a 390 px screen", w)
	}
	screenshot(tab, "journal-phone")
	tab.Submit(nil, "#journal-form button[type=submit]")
	if got := tab.Text("#journal-notice"); !strings.Contains(got, "saved") {
		t.Fatalf("after saving: %q", got)
	}
	tab.Do(chromedp.Click(chromedp.CSS("#journal-entries summary")))
	rows := tab.Text("#journal-entries tbody tr")
	if !strings.Contains(rows, "7") || !strings.Contains(rows, "4") {
		t.Fatalf("the newest entry listed: %q", rows)
	}
}
