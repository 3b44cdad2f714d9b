package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/postgres"
)

// patientToken gives a test patient a portal account and signs it in to
// the API.
func patientToken(t *testing.T, f *fixture, pid float64, email string) string {
	t.Helper()
	id := int64(pid)
	p, err := f.db.Patient(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.CreateUser(context.Background(), clinic.NewUser{Email: email, Name: p.FullName(), Role: string(clinic.RolePatient),
		Password: "placeholder password", PatientID: &id}, demoHash()); err != nil {
		t.Fatal(err)
	}
	status, _, v := f.api("POST", "/api/v1/auth/token", "", map[string]string{"email": email, "password": "infusiondesk-demo"})
	expect(t, "patient token", status, 200, v)
	return obj(v)["token"].(string)
}

// An infusion visit is checked in only with the current consent form
// signed: refused (422, field consent) before signing, accepted after; a
// new version asks for a new signature.
func TestAPIConsentGate(t *testing.T) {
	f := newFixture(t, fixedClock(march2))
	admin := chicagoClinic(t, f)
	desk, nurse := f.token(clinic.RoleFrontDesk), f.token(clinic.RoleNurse)
	pid := newPatient(t, f, desk, "Consentino")
	patient := patientToken(t, f, pid, "consentino@example.com")
	book := func(start string) float64 {
		status, _, v := f.api("POST", "/api/v1/appointments", desk, map[string]any{"patient_id": pid, "kind": "maintenance", "start": start})
		expect(t, "book "+start, status, 201, v)
		return obj(v)["id"].(float64)
	}
	checkIn := func(id float64) (int, any) {
		status, _, v := f.api("POST", fmt.Sprintf("/api/v1/appointments/%d/check-in", int64(id)), desk,
			screenOK(map[string]any{"driver_name": "Ana Ruiz", "driver_phone": "312-555-0100"}))
		return status, v
	}

	// The demo clinic has version 1; the admin writes the next.
	status, _, v := f.api("GET", "/api/v1/consent-forms/current", desk, nil)
	expect(t, "the demo's form", status, 200, v)
	was := obj(v)["version"].(float64)
	status, _, v = f.api("POST", "/api/v1/consent-forms", desk, map[string]any{"title": "Consent", "body": "…"})
	expect(t, "the desk writes a form", status, 403, v)
	status, _, v = f.api("POST", "/api/v1/consent-forms", admin, map[string]any{"title": " ", "body": ""})
	expect(t, "an empty form", status, 422, v)
	if fields(v)["title"] == nil || fields(v)["body"] == nil {
		t.Fatalf("fields %v", fields(v))
	}
	status, _, v = f.api("POST", "/api/v1/consent-forms", admin, map[string]any{"title": "Consent to ketamine infusion therapy",
		"body": "I understand that ketamine is given under supervision…", "body_es": "Entiendo que la ketamina se administra bajo supervisión…"})
	expect(t, "a new version", status, 201, v)
	v1 := obj(v)
	if v1["version"] != was+1 || len(v1["sha256"].(string)) != 64 {
		t.Fatalf("the new version: %v", v1)
	}
	status, _, v = f.api("GET", "/api/v1/consent-forms/current", nurse, nil)
	expect(t, "current", status, 200, v)
	if obj(v)["id"] != v1["id"] {
		t.Fatalf("current %v; want %v", v, v1)
	}

	// Not signed: refused, naming consent; nothing is written.
	first := book("2026-03-02T10:00:00-06:00")
	status, v = checkIn(first)
	expect(t, "check-in without consent", status, 422, v)
	if fields(v)["consent"] == nil || !strings.Contains(obj(obj(v)["error"])["message"].(string), "has not signed the consent form") {
		t.Fatalf("refusal %v", v)
	}
	status, _, v = f.api("GET", fmt.Sprintf("/api/v1/appointments/%d", int64(first)), desk, nil)
	expect(t, "the visit", status, 200, v)
	if obj(v)["status"] != "booked" || obj(v)["screen"] != nil {
		t.Fatalf("a refused check-in wrote %v", v)
	}

	// The patient signs: a wrong version, a wrong name, then right.
	status, _, v = f.api("POST", "/api/v1/me/consent", patient, map[string]any{"form_id": v1["id"], "version": was, "signed_name": "Test Consentino"})
	expect(t, "a version that is not current", status, 409, v)
	status, _, v = f.api("POST", "/api/v1/me/consent", patient, map[string]any{"form_id": v1["id"], "version": v1["version"], "signed_name": "Someone Else"})
	expect(t, "another name", status, 422, v)
	if fields(v)["signed_name"] == nil {
		t.Fatalf("fields %v", fields(v))
	}
	status, _, v = f.api("POST", "/api/v1/me/consent", patient, map[string]any{"form_id": v1["id"], "version": v1["version"], "signed_name": " test  consentino "})
	expect(t, "sign", status, 201, v)
	if obj(v)["version"] != v1["version"] || obj(v)["signed_name"] != "test consentino" || obj(v)["sha256"] != v1["sha256"] || obj(v)["via"] != "portal" {
		t.Fatalf("signature %v", v)
	}
	status, _, v = f.api("GET", "/api/v1/me/consent", patient, nil)
	expect(t, "my consent", status, 200, v)
	if obj(v)["signed"] != true {
		t.Fatalf("my consent %v", v)
	}
	status, v = checkIn(first)
	expect(t, "check-in after signing", status, 200, v)

	// Version 2 supersedes: signed version 1 no longer counts.
	status, _, v = f.api("POST", "/api/v1/consent-forms", admin, map[string]any{"title": "Consent to ketamine infusion therapy", "body": "Version two."})
	expect(t, "version 2", status, 201, v)
	v2 := obj(v)
	if v2["version"] != was+2 {
		t.Fatalf("version 2: %v", v2)
	}
	status, _, v = f.api("POST", "/api/v1/appointments/"+fmt.Sprint(int64(first))+"/cancel", desk, map[string]any{"reason": "test"})
	expect(t, "cancel checked-in", status, 200, v)
	second := book("2026-03-02T13:00:00-06:00")
	status, v = checkIn(second)
	expect(t, "check-in with an older version signed", status, 422, v)
	if !strings.Contains(obj(obj(v)["error"])["message"].(string), "earlier version") {
		t.Fatalf("refusal %v", v)
	}
	status, _, v = f.api("POST", "/api/v1/me/consent", patient, map[string]any{"form_id": v2["id"], "version": v2["version"], "signed_name": "Test Consentino"})
	expect(t, "sign version 2", status, 201, v)
	status, v = checkIn(second)
	expect(t, "check-in after signing version 2", status, 200, v)

	// A consultation needs no consent.
	other := newPatient(t, f, desk, "Unsigned")
	status, _, v = f.api("POST", "/api/v1/appointments", desk, map[string]any{"patient_id": other, "kind": "consult", "start": "2026-03-02T15:00:00-06:00"})
	expect(t, "consult", status, 201, v)
	status, _, v = f.api("POST", fmt.Sprintf("/api/v1/appointments/%d/check-in", int64(obj(v)["id"].(float64))), desk, nil)
	expect(t, "a consultation's check-in", status, 200, v)
}

// Screening at check-in: 179/109 passes; 180 systolic holds the visit,
// which can't be completed until a physician clears it (desk, nurse and
// admin get 403 on clear).
func TestAPIScreeningHold(t *testing.T) {
	f := newFixture(t, fixedClock(march2))
	chicagoClinic(t, f)
	desk, nurse, physician, admin := f.token(clinic.RoleFrontDesk), f.token(clinic.RoleNurse), f.token(clinic.RolePhysician), f.token(clinic.RoleAdmin)
	standard := protocolID(t, f, desk, "Standard IV loading")
	visit := func(last, start string) (float64, string) {
		pid := newPatient(t, f, desk, last)
		status, _, v := f.api("POST", fmt.Sprintf("/api/v1/patients/%d/courses", int64(pid)), desk, map[string]any{"protocol_id": standard, "started_on": "2026-01-05"})
		expect(t, "course", status, 201, v)
		status, _, v = f.api("POST", "/api/v1/appointments", desk, map[string]any{"patient_id": pid, "kind": "maintenance", "start": start})
		expect(t, "book", status, 201, v)
		signConsent(t, f, int64(pid))
		return obj(v)["id"].(float64), fmt.Sprintf("/api/v1/appointments/%d", int64(obj(v)["id"].(float64)))
	}
	driver := map[string]any{"driver_name": "Ana Ruiz", "driver_phone": "312-555-0100"}
	record := map[string]any{"minutes": 40, "route": "iv", "dose_mg_per_kg_h": 0.5, "weight_kg": 70, "driver_confirmed": true,
		"peg": map[string]any{"pain": 7, "enjoyment": 6, "activity": 6}}

	// Missing answers are named, each.
	_, fine := visit("Borderline", "2026-03-02T10:00:00-06:00")
	status, _, v := f.api("POST", fine+"/check-in", desk, map[string]any{"driver_name": "Ana Ruiz", "driver_phone": "312-555-0100", "bp_systolic": 179})
	expect(t, "check-in without the whole screen", status, 422, v)
	for _, k := range []string{"bp_diastolic", "pregnant", "psychosis_history", "uncontrolled_hypertension", "recent_substance_use"} {
		if fields(v)[k] == nil {
			t.Errorf("no problem named for %s: %v", k, fields(v))
		}
	}
	body := screenOK(driver)
	body["bp_systolic"], body["bp_diastolic"] = 179, 109
	status, _, v = f.api("POST", fine+"/check-in", desk, body)
	expect(t, "179/109", status, 200, v)
	if obj(v)["on_hold"] != false || len(obj(obj(v)["screen"])["holds"].([]any)) != 0 {
		t.Fatalf("179/109 held: %v", v)
	}
	status, _, v = f.api("POST", fine+"/complete", nurse, record)
	expect(t, "complete 179/109", status, 201, v)

	held, path := visit("Hypertensive", "2026-03-02T11:00:00-06:00")
	body["bp_systolic"], body["bp_diastolic"] = 180, 95
	status, _, v = f.api("POST", path+"/check-in", desk, body)
	expect(t, "180/95", status, 200, v)
	if obj(v)["on_hold"] != true || !strings.Contains(fmt.Sprint(obj(obj(v)["screen"])["holds"]), "blood pressure 180/95") {
		t.Fatalf("180/95 not held: %v", v)
	}
	status, _, v = f.api("POST", path+"/complete", nurse, record)
	expect(t, "complete a held visit", status, 422, v)
	if fields(v)["screening"] == nil {
		t.Fatalf("fields %v", fields(v))
	}
	for name, token := range map[string]string{"desk": desk, "nurse": nurse, "admin": admin} {
		status, _, v = f.api("POST", path+"/clear", token, map[string]any{"reason": "Repeat 150/90"})
		expect(t, name+" clears", status, 403, v)
	}
	status, _, v = f.api("POST", path+"/clear", physician, map[string]any{"reason": "  "})
	expect(t, "clear without a reason", status, 422, v)
	if fields(v)["reason"] == nil {
		t.Fatalf("fields %v", fields(v))
	}
	status, _, v = f.api("POST", path+"/clear", physician, map[string]any{"reason": "Repeat reading 150/90 after 10 minutes' rest."})
	expect(t, "the physician clears", status, 200, v)
	if obj(v)["on_hold"] != false || obj(obj(obj(v)["screen"])["clearance"])["reason"] != "Repeat reading 150/90 after 10 minutes' rest." {
		t.Fatalf("cleared %v", v)
	}
	status, _, v = f.api("POST", path+"/clear", physician, map[string]any{"reason": "again"})
	expect(t, "clear twice", status, 409, v)
	status, _, v = f.api("POST", path+"/complete", nurse, record)
	expect(t, "complete the cleared visit", status, 201, v)

	// The clearance is audited, with the physician and the reason.
	rows, err := f.db.ListAudit(context.Background(), postgres.AuditFilter{Action: "appointment.clear", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].ActorRole != string(clinic.RolePhysician) || *rows[0].EntityID != int64(held) ||
		!strings.Contains(string(rows[0].After), "Repeat reading 150/90") {
		t.Fatalf("the audit of the clearance: %+v", rows)
	}
}

// The journal takes PEG and breakthrough doses, dated up to 60 days back;
// rising breakthrough doses flag the plan, the physician's list and its
// count.
func TestAPIJournalSignals(t *testing.T) {
	f := newFixture(t, fixedClock(march2))
	chicagoClinic(t, f)
	desk, physician := f.token(clinic.RoleFrontDesk), f.token(clinic.RolePhysician)
	pid := newPatient(t, f, desk, "Breakthrough")
	base := fmt.Sprintf("/api/v1/patients/%d", int64(pid))
	status, _, v := f.api("POST", base+"/courses", desk, map[string]any{"protocol_id": protocolID(t, f, desk, "Standard IV loading"), "started_on": "2025-12-01"})
	expect(t, "course", status, 201, v)
	for _, d := range []string{"2025-12-01", "2025-12-03", "2025-12-05", "2025-12-08", "2025-12-10", "2025-12-12"} {
		status, _, v := f.api("POST", base+"/infusions", desk, map[string]any{"date": d, "time": "09:00", "phase": "loading", "dose_mg_per_kg_h": 0.3})
		expect(t, "import "+d, status, 201, v)
	}
	status, _, v = f.api("POST", base+"/infusions", desk, map[string]any{"date": "2026-01-23", "time": "09:00", "phase": "maintenance", "dose_mg_per_kg_h": 0.3})
	expect(t, "import maintenance", status, 201, v)
	patient := patientToken(t, f, pid, "breakthrough@example.com")
	today := clinic.D(2026, 3, 2)

	status, _, v = f.api("POST", "/api/v1/me/journal", patient, map[string]any{"date": today.AddDays(-61).String(), "pain": 5})
	expect(t, "61 days back", status, 422, v)
	if fields(v)["date"] == nil {
		t.Fatalf("fields %v", fields(v))
	}
	status, _, v = f.api("POST", "/api/v1/me/journal", patient, map[string]any{"date": today.AddDays(-60).String(), "pain": 5})
	expect(t, "60 days back", status, 201, v)
	status, _, v = f.api("POST", "/api/v1/me/journal", patient, map[string]any{"date": today.String(), "pain": 5, "breakthrough_doses": -1,
		"peg": map[string]any{"pain": 11, "enjoyment": 5, "activity": 5}})
	expect(t, "bad doses and PEG", status, 422, v)
	if fields(v)["breakthrough_doses"] == nil || fields(v)["peg_pain"] == nil {
		t.Fatalf("fields %v", fields(v))
	}
	status, _, v = f.api("POST", "/api/v1/me/journal", patient, map[string]any{"date": today.String(), "pain": 6, "breakthrough_doses": 3,
		"peg": map[string]any{"pain": 7, "enjoyment": 6, "activity": 6}})
	expect(t, "PEG and doses", status, 201, v)
	if obj(v)["breakthrough_doses"] != 3.0 || obj(obj(v)["peg"])["enjoyment"] != 6.0 {
		t.Fatalf("entry %v", v)
	}
	flagged := func() (bool, float64) {
		status, _, v := f.api("GET", base+"/plan", physician, nil)
		expect(t, "plan", status, 200, v)
		counts, err := f.db.Counts(context.Background(), march2)
		if err != nil {
			t.Fatal(err)
		}
		return strings.Contains(fmt.Sprint(obj(v)["flags"]), clinic.FlagBreakthroughRising), float64(counts.Flagged)
	}
	if on, _ := flagged(); on {
		t.Fatal("flagged on one entry")
	}
	// Four recent entries at 3 doses against four before at 1.
	for _, age := range []int{2, 5, 9, 14, 20, 30, 41} {
		doses := 3
		if age >= 14 {
			doses = 1
		}
		status, _, v := f.api("POST", "/api/v1/me/journal", patient, map[string]any{"date": today.AddDays(-age).String(), "pain": 6, "breakthrough_doses": doses})
		expect(t, fmt.Sprintf("entry %d days back", age), status, 201, v)
	}
	on, count := flagged()
	if !on {
		t.Fatal("BREAKTHROUGH_RISING is not in the plan's flags")
	}
	_, physicianPage := f.get(f.signIn(clinic.RolePhysician), "/physician/flags")
	if !strings.Contains(physicianPage, "Test Breakthrough") || !strings.Contains(physicianPage, "More breakthrough medication: 3.0 doses a day") {
		t.Fatal("the physician's Flags list does not show the patient with the reason")
	}
	if count < 1 {
		t.Fatalf("the flagged count is %v", count)
	}
	// The plan page charts PEG and function beside relief, infusions marked.
	_, planPage := f.get(f.signIn(clinic.RolePhysician), fmt.Sprintf("/physician/patients/%d", int64(pid)))
	for _, want := range []string{`id="signal-chart"`, `class="peg-line"`, ">6.3<", "infusion-mark", "More breakthrough medication"} {
		if !strings.Contains(planPage, want) {
			t.Errorf("the plan page lacks %s", want)
		}
	}
}
