package server_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/infusiondesk/infusiondesk/internal/browsertest"
	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/i18n"
)

var offerLink = regexp.MustCompile(`https?://[^\s"<>]+/o/[A-Za-z0-9_-]+`)

// maintenancePatient is a patient in maintenance whose last infusion was
// on last (so due 28 days after it), reached by email.
func maintenancePatient(t *testing.T, f *fixture, first, last, email string, lastOn clinic.Date) clinic.Patient {
	t.Helper()
	ctx := context.Background()
	sched, _ := f.db.Schedule(ctx)
	today := clinic.DateOf(time.Now(), sched.Loc)
	p, err := f.db.CreatePatient(ctx, clinic.Patient{FirstName: first, LastName: last, DateOfBirth: clinic.D(1970, 3, 3),
		Condition: clinic.ConditionNeuropathic, Email: email, ContactBy: []clinic.Channel{clinic.ChannelEmail}}, today)
	if err != nil {
		t.Fatal(err)
	}
	protocols, _ := f.db.Protocols(ctx)
	if _, err := f.db.CreateCourse(ctx, p.ID, protocols[0].ID, lastOn.AddDays(-30)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.ImportInfusion(ctx, p.ID, lastOn, nil, clinic.PhaseMaintenance, 0.3, time.Now()); err != nil {
		t.Fatal(err)
	}
	return p
}

// The desk cancels a visit and opens its freed chair: the candidates are
// led by an overdue patient; the desk offers the slot to two; the first
// claim link books it, the second is told it has just been taken.
func TestBrowserDeskFillsAFreedChair(t *testing.T) {
	f := newFixture(t)
	in := f.deliver(t, time.Now)
	ctx := context.Background()
	sched, _ := f.db.Schedule(ctx)
	today := clinic.DateOf(time.Now(), sched.Loc)
	day := openDays(t, f, 1)[0]
	olive := maintenancePatient(t, f, "Olive", "Overdue", "olive@example.com", today.AddDays(-150))
	dan := maintenancePatient(t, f, "Dan", "Duesoon", "dan@example.com", day.AddDays(-28))
	cara := maintenancePatient(t, f, "Cara", "Cancels", "cara@example.com", day.AddDays(-28))
	slot := firstFree(t, f, day)
	visit, _, err := f.db.Book(ctx, clinic.Booking{PatientID: cara.ID, Kind: clinic.KindMaintenance, Start: slot.Start, ChairID: slot.ChairID}, time.Now())
	if err != nil {
		t.Fatal(err)
	}

	b := browsertest.Start(t)
	desk := signInTab(t, f, b, clinic.RoleFrontDesk)
	desk.Open(f.srv.URL + fmt.Sprintf("/desk/appointments/%d", visit.ID))
	setField(desk, "#reason", "patient has the flu")
	desk.Submit(nil, "#cancel-form button[type=submit]")
	if got := desk.Text("#appointment-notice"); got != "Cancelled." {
		t.Fatalf("after cancelling: %q", got)
	}
	desk.Submit(nil, "#fill-this-chair")
	screenshot(desk, "fill-candidates")
	first := browsertest.Run(desk, chromedp.Evaluate[[]string](`(() => { const tr = document.querySelector("#fill-candidates tbody tr");
		return [tr.dataset.patient, tr.dataset.reason] })()`))
	if first[0] != fmt.Sprint(olive.ID) || first[1] != "overdue" {
		t.Fatalf("the first candidate is %v; want Olive Overdue (%d), overdue", first, olive.ID)
	}
	listed := browsertest.Run(desk, chromedp.Evaluate[string](`document.querySelector("#fill-candidates").innerText`))
	if strings.Contains(listed, "Cara Cancels") || !strings.Contains(listed, "Dan Duesoon") {
		t.Fatalf("candidates:\n%s", listed)
	}
	for _, id := range []int64{olive.ID, dan.ID} {
		browsertest.Run(desk, chromedp.Evaluate[bool](fmt.Sprintf(`(() => { const c = document.querySelector('#offer-form input[name=patient_id][value="%d"]');
			c.click(); return c.checked })()`, id)))
	}
	desk.Submit(nil, "#send-offers")
	if got := desk.Text("#fill-notice"); !strings.Contains(got, "offers are on their way") {
		t.Fatalf("after sending offers: %q", got)
	}

	// Cara's confirmation and cancellation arrive too: wait for both offers.
	links := map[string]string{}
	for n := 2; len(links) < 2 && n <= 6; n++ {
		for _, m := range in.Wait(t, n, 20*time.Second) {
			if l := offerLink.FindString(m.Text); l != "" && strings.Contains(m.Subject, "earlier infusion time") {
				links[m.To[0]] = l
			}
		}
	}
	if len(links) != 2 || links[dan.Email] == "" || links[olive.Email] == "" {
		t.Fatalf("offer links %v", links)
	}
	// Both open their links; Dan takes it first.
	other := b.Tab(t)
	other.Open(links[olive.Email])
	patient := b.Tab(t) // not signed in
	patient.Open(links[dan.Email])
	if got := patient.Text("#offer-when"); !strings.Contains(got, day.At(0, time.UTC).Format("Monday, January 2, 2006")) || !strings.Contains(got, slot.Start.In(sched.Loc).Format("3:04 PM")) {
		t.Fatalf("the offer page shows %q", got)
	}
	patient.Submit(nil, "#offer-claim")
	screenshot(patient, "offer-claimed")
	if got := patient.Text("#offer-notice"); !strings.Contains(got, "It is yours") {
		t.Fatalf("the first claim: %q", got)
	}
	other.Submit(nil, "#offer-claim")
	screenshot(other, "offer-taken")
	if got := other.Text("#offer-notice"); !strings.Contains(got, "this slot has just been taken") {
		t.Fatalf("the second claim: %q", got)
	}
	if got := other.Text("#offer-next"); !strings.Contains(got, "The next free time for your infusion is") {
		t.Fatalf("the second claimant is offered %q", got)
	}
	// Opening the link again says the same, without a button to take it.
	other.Open(links[olive.Email])
	if n := browsertest.Run(other, chromedp.Evaluate[int](`document.querySelectorAll("#offer-claim").length`)); n != 0 ||
		!strings.Contains(other.Text("#offer-notice"), "just been taken") {
		t.Fatal("a taken offer's link still offers to take it")
	}
	visits, err := f.db.PatientVisits(ctx, dan.ID)
	if err != nil || len(visits) != 1 || !visits[0].Start.Equal(slot.Start) || visits[0].PlacedBy != clinic.PlacedByOffer {
		t.Fatalf("Dan's visits: %+v (%v)", visits, err)
	}
	if v, _ := f.db.PatientVisits(ctx, olive.ID); len(v) != 0 {
		t.Fatalf("Olive was booked too: %+v", v)
	}
	// The fill page says who took it; the day view marks the visit.
	desk.Open(f.srv.URL + fmt.Sprintf("/desk/appointments/%d", visit.ID))
	if n := browsertest.Run(desk, chromedp.Evaluate[int](`document.querySelectorAll("#fill-this-chair").length`)); n != 1 {
		t.Fatal("the cancelled visit's page lost its fill link")
	}
	desk.Submit(nil, "#fill-this-chair")
	if got := desk.Text("#fill-offers"); !strings.Contains(got, "taken by Dan Duesoon") {
		t.Fatalf("offers on the fill page: %q", got)
	}
	desk.Open(f.srv.URL + "/desk/calendar?date=" + day.String())
	marked := browsertest.Run(desk, chromedp.Evaluate[bool](`[...document.querySelectorAll("td.appt")].some(td =>
		td.textContent.includes("Dan Duesoon") && td.querySelector(".badge.placed-offer") !== null)`))
	if !marked {
		t.Fatal("the day view does not mark the visit taken from an offer")
	}
}

// On a phone: a patient due in four days books a time inside their window
// in the portal, then moves it within the window; a time outside is not
// offered, and the API refuses it.
func TestBrowserPatientBooksOwnNextInfusion(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	sched, _ := f.db.Schedule(ctx)
	today := clinic.DateOf(time.Now(), sched.Loc)
	p := maintenancePatient(t, f, "Sadie", "Selfbook", "sadie@example.com", today.AddDays(-24)) // due in 4 days
	link := invitePatient(t, f, f.signIn(clinic.RoleFrontDesk), p.ID)
	due := today.AddDays(4)
	window := clinic.Window{From: due, To: due.AddDays(3)} // not before the shortest interval (28 d) after the last

	tab := browsertest.Start(t).Tab(t)
	tab.Do(chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	tab.Open(link)
	tab.Submit(map[string]string{"#password": "sadie's own password", "#password2": "sadie's own password"}, "#invite-form button")
	if got := tab.Text("#portal-book"); got != "Book my next infusion" {
		t.Fatalf("the portal offers %q", got)
	}
	tab.Submit(nil, "#portal-book")
	if got := tab.Text("#book-window"); !strings.Contains(got, usDate(due, i18n.Long)) {
		t.Fatalf("the window says %q", got)
	}
	days := browsertest.Run(tab, chromedp.Evaluate[[]string](`[...document.querySelectorAll("form.book-day")].map(f => f.id.slice(5))`))
	if len(days) == 0 {
		t.Fatal("no day to book in the window")
	}
	for _, d := range days {
		date, err := clinic.ParseDate(d)
		if err != nil || !window.Contains(date) {
			t.Fatalf("the portal offers %s, outside the window %s", d, window)
		}
	}
	if w := browsertest.Run(tab, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > 390 {
		t.Fatalf("the booking page is %d px wide on a 390 px screen", w)
	}
	screenshot(tab, "portal-book-phone")
	firstStart := browsertest.Run(tab, chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector("#start-%s").value`, days[0])))
	tab.Submit(nil, fmt.Sprintf("#book-%s button[type=submit]", days[0]))
	if got := tab.Text("#portal-notice"); !strings.Contains(got, "is booked") {
		t.Fatalf("after booking: %q", got)
	}
	booked, err := f.db.PatientVisits(ctx, p.ID)
	if err != nil || len(booked) != 1 || booked[0].Start.UTC().Format(time.RFC3339) != firstStart || booked[0].PlacedBy != clinic.PlacedBySelf {
		t.Fatalf("booked %+v, chose %s (%v)", booked, firstStart, err)
	}

	// Move it to the last time offered in the window.
	if got := tab.Text("#portal-book"); got != "Move my next infusion" {
		t.Fatalf("after booking the portal offers %q", got)
	}
	tab.Submit(nil, "#portal-book")
	lastDay := browsertest.Run(tab, chromedp.Evaluate[string](`[...document.querySelectorAll("form.book-day")].pop().id.slice(5)`))
	lastStart := browsertest.Run(tab, chromedp.Evaluate[string](fmt.Sprintf(`(() => { const s = document.querySelector("#start-%s");
		s.selectedIndex = s.options.length - 1; return s.value })()`, lastDay)))
	if lastStart == firstStart {
		t.Fatal("nothing else to move to")
	}
	tab.Submit(nil, fmt.Sprintf("#book-%s button[type=submit]", lastDay))
	if got := tab.Text("#portal-notice"); !strings.Contains(got, "is moved") {
		t.Fatalf("after moving: %q", got)
	}
	moved, _ := f.db.PatientVisits(ctx, p.ID)
	if len(moved) != 1 || moved[0].Start.UTC().Format(time.RFC3339) != lastStart {
		t.Fatalf("after the move: %+v, want %s", moved, lastStart)
	}

	// The desk's day view marks the visit as the patient's own booking.
	if _, page := f.get(f.signIn(clinic.RoleFrontDesk), "/desk/calendar?date="+clinic.DateOf(moved[0].Start, sched.Loc).String()); !strings.Contains(page, `badge placed-self`) {
		t.Fatal("the day view does not mark the self-booked visit")
	}

	// The API: a time outside the window is not offered, and refused.
	status, _, v := f.api("POST", "/api/v1/auth/token", "", map[string]string{"email": p.Email, "password": "sadie's own password"})
	if status != http.StatusOK {
		t.Fatalf("token: %d %v", status, v)
	}
	token := obj(v)["token"].(string)
	status, _, v = f.api("GET", "/api/v1/me/booking-options", token, nil)
	expect(t, "booking options", status, http.StatusOK, v)
	if w := obj(obj(v)["window"]); w["from"] != window.From.String() || w["to"] != window.To.String() {
		t.Fatalf("the API's window: %v", w)
	}
	for _, s := range obj(v)["slots"].([]any) {
		start, _ := time.Parse(time.RFC3339, obj(s)["start"].(string))
		if !window.Contains(clinic.DateOf(start, sched.Loc)) {
			t.Fatalf("the API offers %v, outside the window", s)
		}
	}
	outside := window.To.AddDays(1)
	for !sched.Open(outside) {
		outside = outside.AddDays(1)
	}
	start := outside.At(9*60, sched.Loc).Format(time.RFC3339)
	status, _, v = f.api("POST", fmt.Sprintf("/api/v1/me/appointments/%d/reschedule", moved[0].ID), token,
		map[string]any{"start": start, "version": moved[0].Version})
	expect(t, "moving outside the window", status, http.StatusUnprocessableEntity, v)
	if !strings.Contains(fields(v)["start"].(string), "outside your booking window") {
		t.Fatalf("the refusal: %v", v)
	}
	status, _, v = f.api("POST", "/api/v1/me/appointments", token, map[string]any{"start": start})
	expect(t, "a second booking", status, http.StatusUnprocessableEntity, v)
}

// firstFree is the first free 90 minutes on day, in the first chair that
// has any, as availability answers it (the demo clinic is busy).
func firstFree(t *testing.T, f *fixture, day clinic.Date) clinic.Slot {
	t.Helper()
	ctx := context.Background()
	sched, err := f.db.Schedule(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, free, err := f.db.Availability(ctx, day, day, 90, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range free[0].Chairs {
		if len(c.Starts) > 0 {
			return clinic.Slot{ChairID: c.ChairID, Interval: sched.Interval(day, c.Starts[0], 90)}
		}
	}
	t.Fatalf("no 90 minutes free on %s", day)
	return clinic.Slot{}
}
