package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/infusiondesk/infusiondesk/internal/browsertest"
	"github.com/infusiondesk/infusiondesk/internal/clinic"
)

// The admin shortens Fridays and closes a day; nothing is cancelled, and
// the desk finds the appointments that no longer fit.
func TestBrowserAdminChangesHoursDeskSeesMisfits(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	sched, err := f.db.Schedule(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// A Friday 10:30 visit and a Tuesday one, two weeks or more ahead.
	p, err := f.db.CreatePatient(ctx, clinic.Patient{FirstName: "Fay", LastName: "Fridayson", DateOfBirth: clinic.D(1959, 2, 3),
		Condition: clinic.ConditionFibromyalgia}, clinic.D(2026, 1, 1))
	if err != nil {
		t.Fatal(err)
	}
	var friday, tuesday clinic.Date
	for d := clinic.DateOf(time.Now(), sched.Loc).AddDays(14); friday.IsZero() || tuesday.IsZero(); d = d.AddDays(1) {
		switch {
		case d.Weekday() == time.Friday && friday.IsZero() && sched.Open(d):
			friday = d
		case d.Weekday() == time.Tuesday && tuesday.IsZero() && sched.Open(d):
			tuesday = d
		}
	}
	for _, start := range []time.Time{friday.At(10*60+15, sched.Loc), tuesday.At(16*60-90, sched.Loc)} {
		if _, _, err := f.db.Book(ctx, clinic.Booking{PatientID: p.ID, Kind: clinic.KindConsult, Start: start}, time.Now()); err != nil {
			t.Fatalf("booking %s: %v", start, err)
		}
	}
	b := browsertest.Start(t)
	admin := signInTab(t, f, b, clinic.RoleAdmin)
	admin.Open(f.srv.URL + "/admin/clinic")

	// A mistake is named on its field and the input is kept.
	admin.Do(chromedp.SetValue(chromedp.CSS("[id='hours.mon']"), "16:30-07:00"))
	admin.Submit(nil, "#settings-form button[type=submit]")
	if msg := admin.Text("[id='hours.mon-error']"); !strings.Contains(msg, "after") {
		t.Fatalf("closing before opening says %q", msg)
	}
	if v := browsertest.Run(admin, chromedp.Value(chromedp.CSS("[id='hours.mon']"))); v != "16:30-07:00" {
		t.Fatalf("input lost: %q", v)
	}
	screenshot(admin, "settings-error")
	admin.Do(chromedp.SetValue(chromedp.CSS("[id='hours.mon']"), "07:00-16:30"), chromedp.SetValue(chromedp.CSS("[id='hours.fri']"), "08:00-10:00"))
	admin.Submit(nil, "#settings-form button[type=submit]")
	if got := admin.Text("#settings-notice"); got != "The settings are saved." {
		t.Fatalf("after saving: %q", got)
	}
	if got := admin.Text("#settings-misfits"); !strings.Contains(got, "no longer fit") {
		t.Fatalf("misfits line: %q", got)
	}
	// Close the Tuesday.
	admin.Do(chromedp.SetValue(chromedp.CSS("#date"), tuesday.String()), chromedp.SetValue(chromedp.CSS("#reason"), "Building inspection"))
	admin.Submit(nil, "#closure-form button[type=submit]")
	if got := admin.Text("#closures"); !strings.Contains(got, "Building inspection") {
		t.Fatalf("closures: %q", got)
	}

	// The desk is told, and finds both visits still booked on the list.
	desk := signInTab(t, f, b, clinic.RoleFrontDesk)
	if got := desk.Text("#desk-misfits"); !strings.Contains(got, "no longer fit") {
		t.Fatalf("desk home: %q", got)
	}
	desk.Submit(nil, "#desk-misfits a")
	list := desk.Text("#misfits")
	for _, want := range []string{"Fay Fridayson", "Building inspection", "outside the opening hours"} {
		if !strings.Contains(list, want) {
			t.Errorf("misfits list lacks %q:\n%s", want, list)
		}
	}
	screenshot(desk, "misfits")
	visits, err := f.db.PatientVisits(ctx, p.ID)
	if err != nil || len(visits) != 2 || visits[0].Status != clinic.StatusBooked || visits[1].Status != clinic.StatusBooked {
		t.Fatalf("visits after the change: %+v %v", visits, err)
	}
}

// The desk registers a patient (a mistake first), finds them, edits them.
func TestBrowserDeskRegistersFindsEditsPatient(t *testing.T) {
	f := newFixture(t)
	tab := signInTab(t, f, browsertest.Start(t), clinic.RoleFrontDesk)
	tab.Open(f.srv.URL + "/desk/patients/new")
	tab.Do(chromedp.SetValue(chromedp.CSS("#date_of_birth"), "2090-01-01"))
	tab.Submit(map[string]string{"#first_name": "Olwen", "#weight_kg": "seventy"}, "#patient-form button[type=submit]")
	for _, id := range []string{"#last_name-error", "#date_of_birth-error", "#weight_kg-error", "#condition-error"} {
		if tab.Text(id) == "" {
			t.Errorf("no message at %s", id)
		}
	}
	if v := browsertest.Run(tab, chromedp.Value(chromedp.CSS("#first_name"))); v != "Olwen" {
		t.Fatalf("first name lost: %q", v)
	}
	screenshot(tab, "patient-errors")
	browsertest.Run(tab, chromedp.Evaluate[string](`document.querySelector("#date_of_birth").value = "1972-09-30";
		document.querySelector("#weight_kg").value = "";
		document.querySelector("#condition").value = "crps"`))
	tab.Submit(map[string]string{"#last_name": "Pryce-Jönsson", "#phone": "(480) 555-0142"}, "#patient-form button[type=submit]")
	if got := tab.Text("main h1"); !strings.HasPrefix(got, "Olwen Pryce-Jönsson") {
		t.Fatalf("patient page heading %q", got)
	}
	patientPath, _, _ := strings.Cut(tab.Path(), "?")

	// Found by the beginning of a name, by POST (nothing in the URL).
	tab.Open(f.srv.URL + "/desk/patients")
	tab.Submit(map[string]string{"#q": "pryce"}, ".search-form button")
	if tab.Path() != "/desk/patients" {
		t.Fatalf("search went to %s", tab.Path())
	}
	if got := tab.Text("#patients tbody"); !strings.Contains(got, "Pryce-Jönsson, Olwen") {
		t.Fatalf("search results: %q", got)
	}
	tab.Open(f.srv.URL + patientPath + "/edit")
	tab.Submit(map[string]string{"#driver_name": "Rhys Pryce"}, "#patient-form button[type=submit]")
	if got := tab.Text("main dl.facts"); !strings.Contains(got, "Rhys Pryce") {
		t.Fatalf("after editing: %q", got)
	}
}
