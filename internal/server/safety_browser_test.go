package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/infusiondesk/infusiondesk/internal/browsertest"
	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/i18n"
)

// The safety gates as the desk and the nurse meet them: a patient whose
// next infusion is booked shows it in the plan box with Move and no Book;
// booking another is refused with the booked visit offered to move; an
// infusion visit is checked in only once a driver is entered; the nurse's
// record never comes with "driver confirmed" ticked.
func TestBrowserSafetyGates(t *testing.T) {
	now := nextMonday(t)
	f := newFixture(t, fixedClock(now))
	ctx := context.Background()
	sched, _ := f.db.Schedule(ctx)
	today := clinic.DateOf(now, sched.Loc)
	protocols, _ := f.db.Protocols(ctx)
	var standard int64
	for _, pr := range protocols {
		if pr.Name == "Standard IV loading" {
			standard = pr.ID
		}
	}
	chair, err := f.db.SaveChair(ctx, clinic.Chair{Name: "Recliner 9", Position: 90, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	newPatient := func(first, last string) clinic.Patient {
		weight := 70.0
		p, err := f.db.CreatePatient(ctx, clinic.Patient{FirstName: first, LastName: last, DateOfBirth: clinic.D(1968, 5, 5),
			Condition: clinic.ConditionNeuropathic, WeightKg: &weight}, today)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.db.CreateCourse(ctx, p.ID, standard, today.AddDays(-70)); err != nil {
			t.Fatal(err)
		}
		for _, back := range []int{70, 68, 66, 63, 61, 59} {
			if _, err := f.db.ImportInfusion(ctx, p.ID, today.AddDays(-back), nil, clinic.PhaseLoading, 0.3, now); err != nil {
				t.Fatal(err)
			}
		}
		return p
	}
	// Due 28 days after the last loading infusion, 31 days ago: overdue.
	booked := newPatient("Maria", "Alvarado")
	next, _, err := f.db.Book(ctx, clinic.Booking{PatientID: booked.ID, Kind: clinic.KindMaintenance,
		Start: today.AddDays(2).At(8*60, sched.Loc), ChairID: chair.ID}, now)
	if err != nil {
		t.Fatal(err)
	}
	b := browsertest.Start(t)
	desk := signInTab(t, f, b, clinic.RoleFrontDesk)

	// The plan box shows the booked visit, with Move and no Book.
	desk.Open(f.srv.URL + fmt.Sprintf("/desk/patients/%d", booked.ID))
	screenshot(desk, "plan-next-booked")
	if got := desk.Text("#plan-next"); !strings.Contains(got, usDate(today.AddDays(2), i18n.LongYear)) ||
		!strings.Contains(got, "8:00 AM") || !strings.Contains(got, "days after the due date") {
		t.Fatalf("plan box: %q", got)
	}
	if n := browsertest.Run(desk, chromedp.Evaluate[int](`document.querySelectorAll("#book-plan").length`)); n != 0 {
		t.Fatal("the plan box offers to book a second infusion")
	}
	if strings.Contains(desk.Text("#plan"), "DUE_NOT_BOOKED") || strings.Contains(desk.Text("#plan"), "no maintenance visit is booked") {
		t.Fatalf("the plan box says nothing is booked: %q", desk.Text("#plan"))
	}
	desk.Submit(nil, "#plan-move")
	if p := desk.Path(); !strings.HasPrefix(p, fmt.Sprintf("/desk/appointments/%d", next.ID)) {
		t.Fatalf("Move opened %s", p)
	}

	// Booking another next infusion is refused, with the booked one to move.
	desk.Open(f.srv.URL + fmt.Sprintf("/desk/book?patient=%d&date=%s&time=09:00", booked.ID, today.AddDays(9)))
	desk.Submit(nil, "#book-form button[type=submit]")
	if got := desk.Text("#book-error"); !strings.Contains(got, "already booked") {
		t.Fatalf("a second next infusion: %q", got)
	}
	desk.Submit(nil, "#move-existing")
	if p := desk.Path(); !strings.HasPrefix(p, fmt.Sprintf("/desk/appointments/%d", next.ID)) {
		t.Fatalf("Move the booked visit opened %s", p)
	}

	// Today's visit of a patient with no driver on file: check-in asks for one.
	walker := newPatient("Walt", "Walker")
	visit, _, err := f.db.Book(ctx, clinic.Booking{PatientID: walker.ID, Kind: clinic.KindMaintenance,
		Start: today.At(10*60, sched.Loc), ChairID: chair.ID}, now)
	if err != nil {
		t.Fatal(err)
	}
	signConsent(t, f, walker.ID)
	desk.Open(f.srv.URL + fmt.Sprintf("/desk/appointments/%d", visit.ID))
	if got := desk.Text("#driver-on-file"); !strings.Contains(got, "No driver or escort is on file") {
		t.Fatalf("check-in form: %q", got)
	}
	desk.Submit(nil, "#do-check-in")
	if got := desk.Text("#driver_name-error"); got == "" {
		t.Fatal("checked in without a driver")
	}
	if got := desk.Text("#appointment-status"); got != "Booked" {
		t.Fatalf("status after the refused check-in: %q", got)
	}
	if got := desk.Text("#bp_systolic-error"); got == "" {
		t.Fatal("checked in without a screen")
	}
	fillScreen(desk, "124", "78")
	desk.Submit(map[string]string{"#driver_name": "Wendy Walker (daughter)", "#driver_phone": "(480) 555-0177"}, "#do-check-in")
	if got := desk.Text("#appointment-status"); got != "Checked in" {
		t.Fatalf("status after check-in with a driver: %q", got)
	}
	if got := desk.Text("#appointment-driver"); !strings.Contains(got, "Wendy Walker") {
		t.Fatalf("driver shown: %q", got)
	}

	// The nurse's record: "driver confirmed" is for the nurse to tick.
	nurse := signInTab(t, f, b, clinic.RoleNurse)
	nurse.Open(f.srv.URL + fmt.Sprintf("/nurse/appointments/%d/record", visit.ID))
	if browsertest.Run(nurse, chromedp.Evaluate[bool](`document.querySelector("#driver_confirmed").checked`)) {
		t.Fatal("the record form comes with the driver confirmed")
	}
}
