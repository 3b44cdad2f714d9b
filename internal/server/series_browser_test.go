package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/infusiondesk/infusiondesk/internal/browsertest"
	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/i18n"
)

// setField sets a form control's value as a person would, firing the
// change event (which the series table re-checks on).
func setField(tab *browsertest.Tab, css, value string) {
	browsertest.Run(tab, chromedp.Evaluate[bool](fmt.Sprintf(`(() => {
		const el = document.querySelector(%q);
		el.value = %q;
		el.dispatchEvent(new Event("change", {bubbles: true}));
		return true })()`, css, value)))
}

// waitText waits until the element's text contains want.
func waitText(t *testing.T, tab *browsertest.Tab, css, want string) {
	t.Helper()
	js := fmt.Sprintf(`(document.querySelector(%q) || {}).innerText || ""`, css)
	var got string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if got = browsertest.Run(tab, chromedp.Evaluate[string](js)); strings.Contains(got, want) {
			return
		}
	}
	t.Fatalf("%s says %q; want %q", css, got, want)
}

// The desk books a loading series with the wizard — from the patient's
// page, through the proposal (a session changed, re-checked live, changed
// back) to the confirmed series — then moves session 2 and re-flows the rest.
func TestBrowserSeriesWizardAndReflow(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	sched, err := f.db.Schedule(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// A Monday at least two weeks ahead with Monday to Thursday open.
	monday := clinic.DateOf(time.Now(), sched.Loc).AddDays(14)
	for monday.Weekday() != time.Monday || !sched.Open(monday) || !sched.Open(monday.AddDays(1)) ||
		!sched.Open(monday.AddDays(2)) || !sched.Open(monday.AddDays(3)) {
		monday = monday.AddDays(1)
	}
	p, err := f.db.CreatePatient(ctx, clinic.Patient{FirstName: "Serena", LastName: "Wizard", DateOfBirth: clinic.D(1977, 3, 21),
		Condition: clinic.ConditionNeuropathic}, clinic.D(2026, 1, 1))
	if err != nil {
		t.Fatal(err)
	}
	tab := signInTab(t, f, browsertest.Start(t), clinic.RoleFrontDesk)
	tab.Open(f.srv.URL + fmt.Sprintf("/desk/patients/%d", p.ID))
	tab.Submit(nil, "#book-series")

	// Protocol, first date, preferred time → the proposal.
	protocol := browsertest.Run(tab, chromedp.Evaluate[string](`[...document.querySelectorAll("#protocol_id option")].find(o => o.textContent.includes("Short loading")).value`))
	setField(tab, "#protocol_id", protocol)
	setField(tab, "#start_date", monday.String())
	setField(tab, "#preferred", "09:00")
	tab.Submit(nil, "#series-choose button")
	rows := browsertest.Run(tab, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#series-rows tbody tr")].map(tr => tr.querySelector("input[type=date]").value + " " + tr.querySelector("input[type=time]").value)`))
	want := fmt.Sprint([]string{monday.String() + " 09:00", monday.AddDays(1).String() + " 09:00", monday.AddDays(2).String() + " 09:00"})
	if fmt.Sprint(rows) != want {
		t.Fatalf("proposal %v; want %s", rows, want)
	}
	screenshot(tab, "series-proposal")

	// Session 2 on the same day as session 1: the table says which rule breaks, at once.
	setField(tab, "input[name='date.2']", monday.String())
	waitText(t, tab, "#session-2", "0 days after the previous session")
	screenshot(tab, "series-live-check")
	setField(tab, "input[name='date.2']", monday.AddDays(1).String())
	waitText(t, tab, "#session-2", "✓")

	tab.Submit(nil, "#confirm-series")
	if got := tab.Text("p.notice"); got != "The loading series is booked." {
		t.Fatalf("after booking: %q", got)
	}
	if got := tab.Text(".series-progress"); got != "0 of 3 done" {
		t.Fatalf("progress %q", got)
	}

	// Move session 2 to Wednesday: session 3 re-flows to Thursday.
	tab.Submit(nil, ".series-sessions li:nth-child(2) a")
	if got := tab.Text("#appointment-session"); got != "Loading session 2" {
		t.Fatalf("session page: %q", got)
	}
	browsertest.Run(tab, chromedp.Evaluate[bool](fmt.Sprintf(`document.querySelector("#reflow-form #date").value = %q; true`, monday.AddDays(2).String())))
	tab.Submit(nil, "#reflow-form button[type=submit]")
	preview := tab.Text("#reflow")
	if !strings.Contains(preview, usDate(monday.AddDays(3), i18n.Short)) {
		t.Fatalf("the preview does not move session 3 to Thursday:\n%s", preview)
	}
	screenshot(tab, "series-reflow-preview")
	tab.Submit(nil, "#reflow-confirm button")
	if got := tab.Text("p.notice"); got != "The series is re-flowed." {
		t.Fatalf("after the re-flow: %q", got)
	}
	visits, err := f.db.PatientVisits(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range visits {
		got = append(got, clinic.DateOf(v.Start, sched.Loc).String())
	}
	if w := fmt.Sprint([]string{monday.String(), monday.AddDays(2).String(), monday.AddDays(3).String()}); fmt.Sprint(got) != w {
		t.Fatalf("after the re-flow the sessions are on %v; want %s", got, w)
	}
}
