package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/infusiondesk/infusiondesk/internal/browsertest"
	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/demo"
	"github.com/infusiondesk/infusiondesk/internal/i18n"
)

// A patient signs the consent form on a phone; the desk checks them in
// with a high blood pressure; the nurse sees the hold; the physician
// clears it with a reason; the nurse records the infusion.
func TestBrowserConsentHoldClearRecord(t *testing.T) {
	now := nextMonday(t)
	f := newFixture(t, fixedClock(now))
	ctx := context.Background()
	sched, _ := f.db.Schedule(ctx)
	today := clinic.DateOf(now, sched.Loc)
	weight := 72.0
	p, err := f.db.CreatePatient(ctx, clinic.Patient{FirstName: "Olive", LastName: "Okonkwo", DateOfBirth: clinic.D(1968, 6, 1),
		Condition: clinic.ConditionCRPS, WeightKg: &weight, Email: "olive@example.com", DriverName: "Obi Okonkwo", DriverPhone: "602-555-0111"}, today)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.CreateCourse(ctx, p.ID, int64(protocolID(t, f, f.token(clinic.RoleFrontDesk), "Standard IV loading")), today.AddDays(-70)); err != nil {
		t.Fatal(err)
	}
	for _, back := range []int{70, 68, 66, 63, 61, 59} {
		if _, err := f.db.ImportInfusion(ctx, p.ID, today.AddDays(-back), nil, clinic.PhaseLoading, 0.3, now); err != nil {
			t.Fatal(err)
		}
	}
	chair, err := f.db.SaveChair(ctx, clinic.Chair{Name: "Recliner 8", Position: 80, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	a, _, err := f.db.Book(ctx, clinic.Booking{PatientID: p.ID, Kind: clinic.KindMaintenance, Start: today.At(10*60, sched.Loc), ChairID: chair.ID}, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.CreateUser(ctx, clinic.NewUser{Email: p.Email, Name: p.FullName(), Role: string(clinic.RolePatient), Password: "placeholder password",
		PatientID: &p.ID}, demoHash()); err != nil {
		t.Fatal(err)
	}
	b := browsertest.Start(t)

	// The desk cannot check in yet: the consent is not signed.
	desk := signInTab(t, f, b, clinic.RoleFrontDesk)
	visit := f.srv.URL + fmt.Sprintf("/desk/appointments/%d", a.ID)
	desk.Open(visit)
	if got := desk.Text("#consent-state"); !strings.Contains(got, "Consent not signed") {
		t.Fatalf("the check-in form says %q", got)
	}
	fillScreen(desk, "120", "80")
	desk.Submit(nil, "#do-check-in")
	if got := desk.Text("#consent-error"); got == "" || desk.Text("#appointment-status") != "Booked" {
		t.Fatalf("checked in without consent (%q)", got)
	}

	// The patient signs on a phone.
	phone := b.Tab(t)
	phone.Do(chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)))
	phone.Open(f.srv.URL + "/login")
	phone.Submit(map[string]string{"#email": p.Email, "#password": demo.Password}, "button[type=submit]")
	if got := phone.Text("#consent-due"); !strings.Contains(got, "sign the clinic's consent form") {
		t.Fatalf("the portal does not ask for consent: %q", got)
	}
	phone.Submit(nil, "#consent-link")
	if got := phone.Text("#consent-text"); !strings.Contains(got, "ketamine by intravenous infusion") {
		t.Fatalf("the form reads %q", got)
	}
	phone.Submit(map[string]string{"#signed_name": "Olive Okonkwo"}, "#sign-consent")
	if got := phone.Text("#agree-error"); got == "" {
		t.Fatal("signed without the tick")
	}
	if got := browsertest.Run(phone, chromedp.Value(chromedp.CSS("#signed_name"))); got != "Olive Okonkwo" {
		t.Fatalf("the typed name was lost: %q", got)
	}
	phone.Do(chromedp.Click(chromedp.CSS("#agree")))
	phone.Submit(nil, "#sign-consent")
	if got := phone.Text("#consent-signed"); !strings.Contains(got, "You signed version 1") || !strings.Contains(got, "Olive Okonkwo") {
		t.Fatalf("after signing: %q", got)
	}
	if w := browsertest.Run(phone, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > 390 {
		t.Errorf("the consent page is %d px wide on a 390 px phone", w)
	}
	screenshot(phone, "consent-signed-phone")

	// The desk checks the patient in with a high blood pressure: on hold.
	desk.Open(visit)
	if got := desk.Text("#consent-state"); !strings.Contains(got, "Consent signed") {
		t.Fatalf("the desk sees %q", got)
	}
	fillScreen(desk, "184", "96")
	desk.Submit(nil, "#do-check-in")
	if got := desk.Text("#appointment-status"); got != "Checked in" {
		t.Fatalf("status after check-in: %q (%s)", got, desk.Text("#appointment-error"))
	}
	if got := desk.Text("#hold-notice"); !strings.Contains(got, "On hold") || !strings.Contains(got, "blood pressure 184/96") {
		t.Fatalf("the hold: %q", got)
	}

	// The nurse sees the hold first, in words, and no record button.
	nurse := signInTab(t, f, b, clinic.RoleNurse)
	if got := nurse.Text("#held-visits"); !strings.Contains(got, "Olive Okonkwo") || !strings.Contains(got, "blood pressure 184/96 mmHg") ||
		!strings.Contains(got, "waits until a physician clears it") {
		t.Fatalf("the floor's holds: %q", got)
	}
	first := browsertest.Run(nurse, chromedp.Evaluate[string](`document.querySelector("main section, main .chair-grid").id`))
	if first != "held-visits" {
		t.Errorf("the first section of the floor is %q; want the holds", first)
	}
	record := fmt.Sprintf(`a[href="/nurse/appointments/%d/record"]`, a.ID)
	if n := browsertest.Run(nurse, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll(%q).length`, record))); n != 0 {
		t.Fatal("the floor offers to record a held infusion")
	}
	screenshot(nurse, "floor-hold")

	// The physician clears it with a reason.
	physician := signInTab(t, f, b, clinic.RolePhysician)
	physician.Open(f.srv.URL + "/physician")
	if got := physician.Text("#work-counts"); !strings.Contains(got, "1 visits on hold") {
		t.Errorf("the physician's counts: %q", got)
	}
	physician.Open(f.srv.URL + "/physician/flags")
	if got := physician.Text(fmt.Sprintf("#held-%d", a.ID)); !strings.Contains(got, "Held for blood pressure 184/96") {
		t.Fatalf("the physician's list: %q", got)
	}
	physician.Submit(nil, fmt.Sprintf("#clear-%d", a.ID))
	if got := physician.Text(fmt.Sprintf("#reason-%d-error", a.ID)); got == "" {
		t.Fatal("cleared without a reason")
	}
	physician.Do(chromedp.SendKeys(chromedp.CSS(fmt.Sprintf("#reason-%d", a.ID)), "Repeat reading 150/88 after 10 minutes' rest."))
	physician.Submit(nil, fmt.Sprintf("#clear-%d", a.ID))
	if got := physician.Text("#work-notice"); !strings.Contains(got, "cleared") {
		t.Fatalf("after clearing: %q", got)
	}

	// The nurse records the infusion, with the PEG asked before the start.
	nurse.Open(f.srv.URL + "/nurse")
	nurse.Submit(nil, record)
	if got := nurse.Text("#hold-notice"); !strings.Contains(got, "Cleared by Dr. Samuel Okafor") || !strings.Contains(got, "Repeat reading 150/88") {
		t.Fatalf("the record page's screen: %q", got)
	}
	for sel, v := range map[string]string{"#dose_mg_per_kg_h": "0.5", "#peg_pain": "7", "#peg_enjoyment": "6", "#peg_activity": "6",
		"#before_bp_systolic": "150", "#before_bp_diastolic": "88"} {
		nurse.Do(chromedp.SendKeys(chromedp.CSS(sel), v))
	}
	nurse.Submit(nil, "#save-record")
	if got := nurse.Text("#nurse-notice"); got != "The infusion is recorded and the visit completed." {
		t.Fatalf("after recording: %q (%s)", got, nurse.Text("#record-error"))
	}
	if g, err := f.db.VisitPEG(ctx, a.ID); err != nil || g == nil || g.ScoreText() != "6.3" {
		t.Fatalf("the visit's PEG: %+v %v", g, err)
	}
	for _, tab := range []*browsertest.Tab{desk, phone, nurse, physician} {
		for _, p := range tab.TakeProblems() {
			t.Errorf("console: %s", p)
		}
	}
}

// The desk hands its tablet to a patient who has not signed: the desk is
// signed out on it; the patient answers PEG and signs; the tablet can
// then only go back to the sign-in page.
func TestBrowserKioskConsent(t *testing.T) {
	now := nextMonday(t)
	f := newFixture(t, fixedClock(now))
	ctx := context.Background()
	sched, _ := f.db.Schedule(ctx)
	today := clinic.DateOf(now, sched.Loc)
	p, err := f.db.CreatePatient(ctx, clinic.Patient{FirstName: "Pilar", LastName: "Peña", DateOfBirth: clinic.D(1980, 2, 2),
		Condition: clinic.ConditionOther, Language: "es", DriverName: "Pablo Peña", DriverPhone: "602-555-0122"}, today)
	if err != nil {
		t.Fatal(err)
	}
	a, _, err := f.db.Book(ctx, clinic.Booking{PatientID: p.ID, Kind: clinic.KindMaintenance, Start: today.At(11*60, sched.Loc)}, now)
	if err != nil {
		t.Fatal(err)
	}
	b := browsertest.Start(t)
	tablet := signInTab(t, f, b, clinic.RoleFrontDesk)
	tablet.Open(f.srv.URL + fmt.Sprintf("/desk/appointments/%d", a.ID))
	tablet.Submit(nil, "#hand-tablet")
	if got := tablet.Text("h1"); got != "Consent to ketamine infusion therapy" {
		t.Fatalf("the tablet shows %q", got)
	}
	if got := tablet.Text("#consent-text"); !strings.Contains(got, "Acepto recibir ketamina") {
		t.Fatalf("the Spanish patient reads %q", got)
	}
	kiosk := tablet.Path()
	tablet.Submit(nil, "#sign-consent")
	if tablet.Text("#peg_pain-error") == "" || tablet.Text("#agree-error") == "" {
		t.Fatal("the tablet took an empty form")
	}
	tablet.Do(chromedp.Click(chromedp.CSS("label[for=peg_pain-8]")), chromedp.Click(chromedp.CSS("label[for=peg_enjoyment-7]")), chromedp.Click(chromedp.CSS("label[for=peg_activity-6]")),
		chromedp.Click(chromedp.CSS("#agree")))
	tablet.Submit(map[string]string{"#signed_name": "pilar pena"}, "#sign-consent")
	if got := tablet.Text("#kiosk-done"); !strings.Contains(got, "Gracias") || !strings.Contains(got, "devuelva la tableta") {
		t.Fatalf("after signing: %q", got)
	}
	st, err := f.db.Consent(ctx, p.ID)
	if err != nil || !st.Signed || st.Signatures[0].Via != "kiosk" || st.Signatures[0].Lang != "es" {
		t.Fatalf("the signature: %+v %v", st, err)
	}
	if g, _ := f.db.VisitPEG(ctx, a.ID); g == nil || g.Pain != 8 {
		t.Fatalf("the visit's PEG: %+v", g)
	}
	// The link is used up, and the desk's session is gone from the tablet.
	if status := tablet.Open(f.srv.URL + kiosk); status != 404 {
		t.Errorf("the used kiosk link answers %d", status)
	}
	tablet.Open(f.srv.URL + "/desk")
	if path := tablet.Path(); !strings.HasPrefix(path, "/login") {
		t.Errorf("the tablet opens the desk at %s; want the sign-in page", path)
	}
	for _, k := range i18n.Missing() {
		t.Errorf("no Spanish for %q", k)
	}
}
