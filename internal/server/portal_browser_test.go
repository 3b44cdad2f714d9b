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

// On a phone-sized screen: the patient opens the desk's invitation, sets a
// password, sees the next appointment, reports that the pain came back —
// and the physician's plan changes with it.
func TestBrowserPortalOnAPhone(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	sched, _ := f.db.Schedule(ctx)
	today := clinic.DateOf(time.Now(), sched.Loc)
	p, err := f.db.CreatePatient(ctx, clinic.Patient{FirstName: "Poppy", LastName: "Phone", DateOfBirth: clinic.D(1975, 6, 6),
		Condition: clinic.ConditionCRPS, Email: "poppy@example.com"}, today)
	if err != nil {
		t.Fatal(err)
	}
	protocols, _ := f.db.Protocols(ctx)
	if _, err := f.db.CreateCourse(ctx, p.ID, protocols[0].ID, today.AddDays(-60)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.ImportInfusion(ctx, p.ID, today.AddDays(-40), nil, clinic.PhaseMaintenance, 0.3, time.Now()); err != nil {
		t.Fatal(err)
	}
	day := openDays(t, f, 1)[0]
	if _, _, err := f.db.Book(ctx, clinic.Booking{PatientID: p.ID, Kind: clinic.KindMaintenance, Start: day.At(13*60, sched.Loc)}, time.Now()); err != nil {
		t.Fatal(err)
	}
	before, err := f.db.PatientPlan(ctx, p.ID, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	link := invitePatient(t, f, f.signIn(clinic.RoleFrontDesk), p.ID)

	tab := browsertest.Start(t).Tab(t)
	tab.Do(chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	tab.Open(link)
	tab.Submit(map[string]string{"#password": "poppy's own password", "#password2": "poppy's own password"}, "#invite-form button")
	if tab.Path() != "/portal" {
		t.Fatalf("after setting the password: %s", tab.Path())
	}
	next := tab.Text(".next-visit h3")
	if !strings.Contains(next, usDate(day, i18n.Long)) || !strings.Contains(next, "1:00 PM") {
		t.Fatalf("next visit shows %q", next)
	}
	if !strings.Contains(tab.Text(".next-visit"), "Arrange a driver") {
		t.Fatal("no driver reminder")
	}
	// Nothing wider than the phone's screen.
	if w := browsertest.Run(tab, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > 390 {
		t.Fatalf("the portal is %d px wide on a 390 px screen", w)
	}
	screenshot(tab, "portal-phone")
	tab.Submit(nil, "#pain-back")
	if got := tab.Text("#portal-notice"); !strings.Contains(got, "pain came back") {
		t.Fatalf("after reporting: %q", got)
	}
	after, err := f.db.PatientPlan(ctx, p.ID, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if after.Plan.Last == nil || after.Plan.Last.Relief == nil || after.Plan.Last.Relief.Status != clinic.ReliefEnded ||
		after.Plan.Case != 2 || after.Plan.DueDate == before.Plan.DueDate {
		t.Fatalf("the plan did not follow the report: before %s (case %d), after %s (case %d)",
			before.Plan.DueDate, before.Plan.Case, after.Plan.DueDate, after.Plan.Case)
	}
	// The physician's page says so.
	phys := signInTab(t, f, browsertest.Start(t), clinic.RolePhysician)
	phys.Open(f.srv.URL + fmt.Sprintf("/physician/patients/%d", p.ID))
	if got := phys.Text("#plan-rationale"); !strings.Contains(got, "Relief 40 d") {
		t.Fatalf("physician's plan: %q", got)
	}
}
