package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
)

// Booking from the desk's "Who is due" list leads back to the list with a
// notice; a "back" naming anywhere else leads to the appointment.
func TestBookingFromWhoIsDueReturnsToTheList(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	sched, _ := f.db.Schedule(ctx)
	today := clinic.DateOf(time.Now(), sched.Loc)
	p := maintenancePatient(t, f, "Wanda", "Worklist", "wanda@example.com", today.AddDays(-20))
	q := maintenancePatient(t, f, "Quentin", "Worklist", "quentin@example.com", today.AddDays(-20))
	desk := f.signIn(clinic.RoleFrontDesk)
	if _, page := f.get(desk, "/desk/work?list=due"); !strings.Contains(page, `name="back" value="/desk/work?list=due&amp;sort=due"`) {
		t.Fatal("the due list's booking forms do not name the list to come back to")
	}
	day := openDays(t, f, 1)[0]
	_, free, err := f.db.Availability(ctx, day, day, 90, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var slots []clinic.Slot
	for _, c := range free[0].Chairs {
		if len(c.Starts) > 0 {
			slots = append(slots, clinic.Slot{ChairID: c.ChairID, Interval: sched.Interval(day, c.Starts[0], 90)})
		}
	}
	book := func(patient int64, slot clinic.Slot, back string) *http.Response {
		return f.postForm(desk, "/desk/book", url.Values{"patient_id": {strconv.FormatInt(patient, 10)}, "kind": {"maintenance"},
			"date": {day.String()}, "time": {clinic.ClockOf(slot.Start, sched.Loc).String()}, "chair_id": {strconv.FormatInt(slot.ChairID, 10)},
			"back": {back}})
	}
	resp := book(p.ID, slots[0], "/desk/work?list=due&sort=name")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/desk/work?done=booked&list=due&sort=name" {
		t.Fatalf("booked from the list: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, page := f.get(desk, resp.Header.Get("Location")); !strings.Contains(page, `id="work-notice"`) {
		t.Fatal("the list does not say the appointment is booked")
	}
	resp = book(q.ID, slots[1], "https://elsewhere.example/desk/work?list=due")
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/desk/appointments/") {
		t.Fatalf("a foreign back: %d %s", resp.StatusCode, loc)
	}
}

// The desk's home page counts the patients' requests waiting for an answer.
func TestDeskHomeCountsOpenRequests(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	desk := f.signIn(clinic.RoleFrontDesk)
	before, err := f.db.Requests(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	open := 0
	for _, r := range before {
		if r.AnsweredAt == nil {
			open++
		}
	}
	portalPair(t, f) // two patients, a request each
	_, page := f.get(desk, "/desk")
	want := strconv.Itoa(open+2) + " requests from patients wait to be answered"
	if !strings.Contains(page, want) {
		t.Fatalf("the desk home does not say %q:\n%s", want, extractSection(page, "desk-open-requests"))
	}
}
