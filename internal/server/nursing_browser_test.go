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
)

// The admin adds a shift on the roster page; the desk's booking at a time
// the one nurse cannot take is refused with the nurse named, and the desk
// books the alternative offered.
func TestBrowserNursingRoster(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	sched, err := f.db.Schedule(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s := sched.Settings
	s.Nursing = clinic.Nursing{PatientsPerNurse: 1, StartSpacingMinutes: 15}
	if _, err := f.db.UpdateSettings(ctx, s); err != nil {
		t.Fatal(err)
	}
	day := rosterDay(t)
	b := browsertest.Start(t)
	admin := signInTab(t, f, b, clinic.RoleAdmin)
	admin.Open(f.srv.URL + "/admin/roster?week=" + day.String())
	// A shift ending before it starts is named on its field.
	nurse := browsertest.Run(admin, chromedp.Evaluate[string](`[...document.querySelectorAll("#shift-nurse option")].find(o => o.textContent.startsWith("Rosa")).value`))
	admin.Do(chromedp.SetValue(chromedp.CSS("#shift-nurse"), nurse), chromedp.SetValue(chromedp.CSS("#date"), day.String()),
		chromedp.SetValue(chromedp.CSS("#from"), "12:00"), chromedp.SetValue(chromedp.CSS("#to"), "09:00"))
	admin.Submit(nil, "form[action='/admin/roster/shifts'] button[type=submit]")
	if msg := admin.Text("#to-error"); !strings.Contains(msg, "end after") {
		t.Fatalf("a backwards shift says %q", msg)
	}
	admin.Do(chromedp.SetValue(chromedp.CSS("#from"), "07:00"), chromedp.SetValue(chromedp.CSS("#to"), "16:30"))
	admin.Submit(nil, "form[action='/admin/roster/shifts'] button[type=submit]")
	if got := admin.Text("p.notice"); !strings.HasPrefix(got, "The shift is added.") {
		t.Fatalf("after adding: %q", got)
	}
	if got := admin.Text("#roster"); !strings.Contains(got, "Rosa Delgado, RN 7:00 AM–4:30 PM") {
		t.Fatalf("the roster shows %q", got)
	}
	screenshot(admin, "nursing-roster")

	// Another patient is booked at 09:00 with the one nurse.
	var ids []int64
	for _, last := range []string{"Firstcome", "Secondtry"} {
		p, err := f.db.CreatePatient(ctx, clinic.Patient{FirstName: "Nina", LastName: last, DateOfBirth: clinic.D(1966, 4, 4),
			Condition: clinic.ConditionCRPS}, clinic.D(2026, 1, 1))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, p.ID)
	}
	if _, _, err := f.db.Book(ctx, clinic.Booking{PatientID: ids[0], Kind: clinic.KindMaintenance, Start: day.At(9*60, sched.Loc)}, time.Now()); err != nil {
		t.Fatal(err)
	}

	desk := signInTab(t, f, b, clinic.RoleFrontDesk)
	desk.Open(f.srv.URL + fmt.Sprintf("/desk/book?patient=%d&date=%s&time=09:00", ids[1], day))
	desk.Submit(nil, "#book-form button[type=submit]")
	if got := desk.Text("#book-error"); !strings.Contains(got, "Rosa Delgado, RN starts Nina Firstcome at 9:00 AM") {
		t.Fatalf("the refusal says %q", got)
	}
	screenshot(desk, "nursing-refusal")
	desk.Submit(nil, "button.alt")
	if got := desk.Text("#appointment-notice"); got != "Booked." {
		t.Fatalf("booking the alternative: %q", got)
	}
	if got := desk.Text("#appointment-nurse"); got != "Rosa Delgado, RN" {
		t.Fatalf("the booked visit's nurse: %q", got)
	}
	// The day view names each infusion's nurse and shows her load.
	desk.Open(f.srv.URL + "/desk/calendar?date=" + day.String())
	strip := desk.Text("#nurse-strip")
	if !strings.Contains(strip, "Rosa Delgado, RN 7:00 AM–4:30 PM: 2 patients, at most 1 at once") || !strings.Contains(strip, "at the limit of 1") {
		t.Fatalf("the nurse strip says %q", strip)
	}
	if n := browsertest.Run(desk, chromedp.Evaluate[int](`[...document.querySelectorAll("td.appt .nurse")].filter(e => e.textContent.includes("Rosa Delgado")).length`)); n != 2 {
		t.Fatalf("%d infusion blocks name the nurse; want 2", n)
	}
	screenshot(desk, "nursing-day")
	visits, err := f.db.PatientVisits(ctx, ids[1])
	if err != nil || len(visits) != 1 || visits[0].Nurse.NurseID == 0 {
		t.Fatalf("the second patient's visits: %+v %v", visits, err)
	}
}
