package server_test

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/infusiondesk/infusiondesk/internal/browsertest"
	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/demo"
	"github.com/infusiondesk/infusiondesk/internal/i18n"
)

// openDays returns the next n Monday-to-Thursday clinic days at least two
// weeks from now, when the demo clinic has room.
func openDays(t *testing.T, f *fixture, n int) []clinic.Date {
	sched, err := f.db.Schedule(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []clinic.Date
	for d := clinic.DateOf(time.Now(), sched.Loc).AddDays(14); len(out) < n; d = d.AddDays(1) {
		if wd := d.Weekday(); wd >= time.Monday && wd <= time.Thursday && sched.Open(d) {
			out = append(out, d)
		}
	}
	return out
}

// fillScreen types a check-in screen into the form: the pressure, and
// every question answered no except those in yes.
func fillScreen(tab *browsertest.Tab, systolic, diastolic string, yes ...string) {
	steps := []chromedp.Action[chromedp.Void]{chromedp.Clear(chromedp.CSS("#bp_systolic")), chromedp.SendKeys(chromedp.CSS("#bp_systolic"), systolic),
		chromedp.Clear(chromedp.CSS("#bp_diastolic")), chromedp.SendKeys(chromedp.CSS("#bp_diastolic"), diastolic)}
	for _, q := range clinic.Questions {
		answer := "-no"
		if slices.Contains(yes, q.Field) {
			answer = "-yes"
		}
		steps = append(steps, chromedp.Click(chromedp.CSS("#"+q.Field+answer)))
	}
	tab.Do(steps...)
}

func signInTab(t *testing.T, f *fixture, b *browsertest.Browser, role clinic.Role) *browsertest.Tab {
	tab := b.Tab(t)
	tab.Open(f.srv.URL + "/login")
	tab.Submit(map[string]string{"#email": f.email(role), "#password": demo.Password}, "button[type=submit]")
	return tab
}

// choosePatient finds a patient in the booking form's search (htmx) and
// picks them.
func choosePatient(t *testing.T, tab *browsertest.Tab, search, name string) {
	t.Helper()
	tab.Do(chromedp.SendKeys(chromedp.CSS("#patient-q"), search))
	pick := fmt.Sprintf(`(() => { const r = document.querySelector('input[name=patient_id][data-name=%q]'); if (r) r.click(); return !!r && r.checked })()`, name)
	for deadline := time.Now().Add(10 * time.Second); !browsertest.Run(tab, chromedp.Evaluate[bool](pick)); {
		if time.Now().After(deadline) {
			t.Fatalf("the patient search never offered %s", name)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// chooseFreeCell marks (id "chosen") the first free cell of the day view
// where a 90-minute visit fits and returns its booking link.
func chooseFreeCell(t *testing.T, tab *browsertest.Tab) string {
	t.Helper()
	href := browsertest.Run(tab, chromedp.Evaluate[string](`(() => {
		const td = [...document.querySelectorAll("td.free")].find(td => Number(td.dataset.free) >= 90);
		if (!td) return "";
		td.id = "chosen";
		return td.querySelector("a").getAttribute("href");
	})()`))
	if href == "" {
		t.Fatal("no free cell where 90 minutes fit")
	}
	return href
}

// The desk books an appointment from a free cell of the day view, moves it
// to another day, and cancels it; a slot taken while the form was open is
// refused with alternatives, one of which books.
func TestBrowserDeskBooksReschedulesCancels(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	p, err := f.db.CreatePatient(ctx, clinic.Patient{FirstName: "Rosalind", LastName: "Testwood", DateOfBirth: clinic.D(1968, 7, 14),
		Condition: clinic.ConditionCRPS}, clinic.D(2026, 1, 1))
	if err != nil {
		t.Fatal(err)
	}
	days := openDays(t, f, 3)
	tab := signInTab(t, f, browsertest.Start(t), clinic.RoleFrontDesk)

	// A free cell of the day view starts a booking for that chair and time.
	tab.Open(f.srv.URL + "/desk/calendar?date=" + days[0].String())
	href := chooseFreeCell(t, tab)
	cell, err := url.Parse(href)
	if err != nil {
		t.Fatal(err)
	}
	screenshot(tab, "day-view")
	tab.Submit(nil, "#chosen a")
	if got := browsertest.Run(tab, chromedp.Value(chromedp.CSS("#date"))); got != days[0].String() {
		t.Fatalf("booking form date %q; want %s", got, days[0])
	}
	if got := browsertest.Run(tab, chromedp.Value(chromedp.CSS("#time"))); got != cell.Query().Get("time") {
		t.Fatalf("booking form time %q; want %s", got, cell.Query().Get("time"))
	}
	choosePatient(t, tab, "testw", "Rosalind Testwood")
	screenshot(tab, "book-form")
	tab.Submit(nil, "#book-form button[type=submit]")
	if got := tab.Text("#appointment-notice"); got != "Booked." {
		t.Fatalf("after booking: %q at %s", got, tab.Path())
	}
	apptPath, _, _ := strings.Cut(tab.Path(), "?")
	booked, _ := clinic.ParseClock(cell.Query().Get("time"))
	if got := tab.Text("#appointment-when"); !strings.Contains(got, usClock(booked)) {
		t.Fatalf("booked at %q; want %s", got, cell.Query().Get("time"))
	}
	// The day view shows the block.
	tab.Open(f.srv.URL + "/desk/calendar?date=" + days[0].String())
	if n := browsertest.Run(tab, chromedp.Evaluate[int](`[...document.querySelectorAll("td.appt")].filter(td => td.textContent.includes("Rosalind Testwood")).length`)); n != 1 {
		t.Fatalf("the day view shows the booking %d times", n)
	}

	// Move it to the next day, to a start the calendar says is free.
	_, free, err := f.db.Availability(ctx, days[1], days[1], 90, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var target clinic.Clock = -1
	for _, c := range free[0].Chairs {
		if len(c.Starts) > 0 {
			target = c.Starts[len(c.Starts)/2]
			break
		}
	}
	if target < 0 {
		t.Fatalf("no free chair on %s", days[1])
	}
	tab.Open(f.srv.URL + apptPath)
	tab.Do(chromedp.SetValue(chromedp.CSS("#date"), days[1].String()), chromedp.SetValue(chromedp.CSS("#time"), target.String()))
	tab.Submit(nil, "#reschedule-form button[type=submit]")
	if got := tab.Text("#appointment-notice"); got != "Moved." {
		t.Fatalf("after moving: %q; error %q", got, browsertest.Run(tab, chromedp.Evaluate[string](`(document.querySelector("#appointment-error")||{}).textContent||""`)))
	}
	if got := tab.Text("#appointment-when"); !strings.Contains(got, usDate(days[1], i18n.Long)) || !strings.Contains(got, usClock(target)) {
		t.Fatalf("moved to %q; want %s %s", got, days[1], target)
	}

	// Cancel it, with a reason.
	tab.Do(chromedp.SetValue(chromedp.CSS("#reason"), "Patient is travelling"))
	tab.Submit(nil, "#cancel-form button[type=submit]")
	if got := tab.Text("#appointment-status"); got != "Cancelled" {
		t.Fatalf("after cancelling the status is %q", got)
	}
	screenshot(tab, "appointment-cancelled")

	// Taken while the form was open: refused, alternatives offered.
	tab.Open(f.srv.URL + "/desk/calendar?date=" + days[2].String())
	href = chooseFreeCell(t, tab)
	cell, _ = url.Parse(href)
	tab.Submit(nil, "#chosen a")
	choosePatient(t, tab, "testw", "Rosalind Testwood")
	sched, _ := f.db.Schedule(ctx)
	var chair int64
	fmt.Sscan(cell.Query().Get("chair"), &chair)
	clock, _ := clinic.ParseClock(cell.Query().Get("time"))
	other, err := f.db.CreatePatient(ctx, clinic.Patient{FirstName: "Quick", LastName: "Other", DateOfBirth: clinic.D(1980, 1, 1),
		Condition: clinic.ConditionOther}, clinic.D(2026, 1, 1))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.db.Book(ctx, clinic.Booking{PatientID: other.ID, Kind: clinic.KindMaintenance,
		Start: days[2].At(clock, sched.Loc), ChairID: chair}, time.Now()); err != nil {
		t.Fatal(err)
	}
	tab.Do(chromedp.SetValue(chromedp.CSS("#chair"), cell.Query().Get("chair")))
	tab.Submit(nil, "#book-form button[type=submit]")
	if got := tab.Text("#book-error"); !strings.Contains(got, "taken") {
		t.Fatalf("a taken slot says %q", got)
	}
	screenshot(tab, "book-conflict")
	tab.Submit(nil, "button.alt")
	if got := tab.Text("#appointment-notice"); got != "Booked." {
		t.Fatalf("booking an alternative: %q", got)
	}
	visits, err := f.db.PatientVisits(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(visits) != 2 || visits[0].Status != clinic.StatusCancelled || visits[1].Status != clinic.StatusBooked {
		t.Fatalf("Rosalind's appointments: %+v", visits)
	}
}
