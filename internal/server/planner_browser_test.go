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

// nextMonday is 07:30 on the next Monday in the demo clinic's zone.
func nextMonday(t *testing.T) time.Time {
	loc, err := time.LoadLocation("America/Phoenix")
	if err != nil {
		t.Fatal(err)
	}
	d := clinic.DateOf(time.Now(), loc).AddDays(1)
	for d.Weekday() != time.Monday {
		d = d.AddDays(1)
	}
	return d.At(7*60+30, loc)
}

// The nurse records an infusion (the dose worked out live, a rate outside
// the range confirmed with a reason); the desk records "relief ended"; the
// physician sets a fixed interval and sees it in the history; the desk
// books the suggested slot from the plan.
func TestBrowserPlannerFlows(t *testing.T) {
	now := nextMonday(t)
	f := newFixture(t, fixedClock(now))
	ctx := context.Background()
	sched, _ := f.db.Schedule(ctx)
	today := clinic.DateOf(now, sched.Loc)
	weight := 70.0
	p, err := f.db.CreatePatient(ctx, clinic.Patient{FirstName: "Nell", LastName: "Nightingale", DateOfBirth: clinic.D(1970, 4, 4),
		Condition: clinic.ConditionFibromyalgia, WeightKg: &weight}, today)
	if err != nil {
		t.Fatal(err)
	}
	protocols, _ := f.db.Protocols(ctx)
	var standard int64
	for _, pr := range protocols {
		if pr.Name == "Standard IV loading" {
			standard = pr.ID
		}
	}
	if _, err := f.db.CreateCourse(ctx, p.ID, standard, today.AddDays(-70)); err != nil {
		t.Fatal(err)
	}
	for _, back := range []int{70, 68, 66, 63, 61, 59} {
		if _, err := f.db.ImportInfusion(ctx, p.ID, today.AddDays(-back), nil, clinic.PhaseLoading, 0.3, now); err != nil {
			t.Fatal(err)
		}
	}
	// Today's maintenance visit at 10:00 in a chair of its own, checked in.
	chair, err := f.db.SaveChair(ctx, clinic.Chair{Name: "Recliner 9", Position: 90, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	a, _, err := f.db.Book(ctx, clinic.Booking{PatientID: p.ID, Kind: clinic.KindMaintenance, Start: today.At(10*60, sched.Loc), ChairID: chair.ID}, now)
	if err != nil {
		t.Fatal(err)
	}
	signConsent(t, f, p.ID)
	if _, err := f.db.CheckIn(ctx, a.ID, a.Version, testArrival, now); err != nil {
		t.Fatal(err)
	}
	b := browsertest.Start(t)

	// The nurse.
	nurse := signInTab(t, f, b, clinic.RoleNurse)
	nurse.Submit(nil, fmt.Sprintf(`a[href="/nurse/appointments/%d/record"]`, a.ID))
	nurse.Do(chromedp.SendKeys(chromedp.CSS("#dose_mg_per_kg_h"), "0.6"))
	waitText(t, nurse, "#dose-calc", "42.0 mg/h")
	waitText(t, nurse, "#dose-calc", "outside the protocol")
	screenshot(nurse, "record-dose")
	for sel, v := range map[string]string{"#before_bp_systolic": "124", "#before_bp_diastolic": "78", "#before_heart_rate": "70",
		"#before_spo2": "98", "#pain_before": "7", "#pain_after": "3"} {
		nurse.Do(chromedp.SendKeys(chromedp.CSS(sel), v))
	}
	setField(nurse, "#effect-dissociation", "mild")
	nurse.Submit(nil, "#save-record")
	if msg := nurse.Text("#dose_confirmed-error"); !strings.Contains(msg, "Confirm") {
		t.Fatalf("an out-of-range rate saved without confirmation: %q", msg)
	}
	if v := browsertest.Run(nurse, chromedp.Value(chromedp.CSS("#before_bp_systolic"))); v != "124" {
		t.Fatalf("input lost: %q", v)
	}
	nurse.Do(chromedp.Click(chromedp.CSS("#dose_confirmed")), chromedp.SendKeys(chromedp.CSS("#dose_reason"), "Physician order after poor response"))
	nurse.Submit(nil, "#save-record")
	if got := nurse.Text("#nurse-notice"); got != "The infusion is recorded and the visit completed." {
		t.Fatalf("after recording: %q", got)
	}
	rows, err := f.db.PatientInfusions(ctx, p.ID)
	if err != nil || len(rows) != 7 || rows[0].DoseMgPerKgH != 0.6 || rows[0].TotalMg == nil || *rows[0].TotalMg != 42 {
		t.Fatalf("infusions after the record: %+v %v", rows[0], err)
	}

	// The desk: relief after the last loading infusion ended 40 days after it.
	desk := signInTab(t, f, b, clinic.RoleFrontDesk)
	desk.Open(f.srv.URL + fmt.Sprintf("/desk/patients/%d", p.ID))
	lastLoading := fmt.Sprint(rows[1].ID)
	setField(desk, "#infusion_id", lastLoading)
	setField(desk, "#relief_status", "ended")
	setField(desk, "#relief_date", today.AddDays(-59+40).String())
	desk.Submit(nil, "#relief-form button")
	if got := desk.Text("p.notice"); !strings.Contains(got, "relief report is saved") {
		t.Fatalf("after the relief report: %q", got)
	}
	// Today's infusion is L (no report), the observed 40 d gives 33 d.
	if got := desk.Text("#plan-rationale"); !strings.Contains(got, "Relief 40 d") || !strings.Contains(got, "33 d") {
		t.Fatalf("plan after the report: %q", got)
	}

	// The physician fixes the interval at 42 days; the history shows it.
	physician := signInTab(t, f, b, clinic.RolePhysician)
	physician.Open(f.srv.URL + fmt.Sprintf("/physician/patients/%d", p.ID))
	screenshot(physician, "plan-page")
	physician.Submit(map[string]string{"#fixed_interval_days": "42"}, "#intervals-form button")
	if msg := physician.Text("#note-error"); msg == "" {
		t.Fatal("saved without a note")
	}
	physician.Do(chromedp.SendKeys(chromedp.CSS("#note"), "Six weeks suits her work"))
	physician.Submit(nil, "#intervals-form button")
	if got := physician.Text("#interval-history"); !strings.Contains(got, "Six weeks suits her work") || !strings.Contains(got, "fixed 42 d") {
		t.Fatalf("interval history: %q", got)
	}
	if got := physician.Text("#plan-due"); got != usDate(today.AddDays(42), i18n.LongYear) {
		t.Fatalf("due %q", got)
	}
	screenshot(physician, "plan-page-fixed")

	// The desk books the suggested slot in one action.
	desk.Open(f.srv.URL + fmt.Sprintf("/desk/patients/%d", p.ID))
	slot := desk.Text("#book-plan button")
	desk.Submit(nil, "#book-plan button")
	if got := desk.Text("#appointment-notice"); got != "Booked." {
		t.Fatalf("booking from the plan (%s): %q", slot, got)
	}
	if when := desk.Text("#appointment-when"); !strings.Contains(when, usDate(today.AddDays(42), i18n.Long)) &&
		!strings.Contains(when, usDate(today.AddDays(41), i18n.Long)) && !strings.Contains(when, usDate(today.AddDays(40), i18n.Long)) &&
		!strings.Contains(when, usDate(today.AddDays(39), i18n.Long)) {
		t.Fatalf("booked %q; want on (or up to 3 days before) the due date", when)
	}
}
