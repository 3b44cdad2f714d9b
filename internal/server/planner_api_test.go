package server_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
)

// may22 is "now" for the planner API test: Friday 22 May 2026, 07:00 in
// the demo clinic (Phoenix).
var may22 = time.Date(2026, 5, 22, 14, 0, 0, 0, time.UTC)

// A history built through the API — course, six loading infusions and two
// maintenance ones imported, relief reports — gives the plan of README.md's
// E2; the physician fixes the interval; the nurse records today's infusion.
func TestAPIPlanFromHistory(t *testing.T) {
	f := newFixture(t, fixedClock(may22))
	desk, nurse, physician := f.token(clinic.RoleFrontDesk), f.token(clinic.RoleNurse), f.token(clinic.RolePhysician)
	standard := protocolID(t, f, desk, "Standard IV loading")
	status, _, v := f.api("POST", "/api/v1/patients", desk, map[string]any{"first_name": "Hal", "last_name": "History",
		"date_of_birth": "1960-02-02", "condition": "crps", "weight_kg": 80})
	expect(t, "patient", status, 201, v)
	pid := int64(obj(v)["id"].(float64))
	base := fmt.Sprintf("/api/v1/patients/%d", pid)
	status, _, v = f.api("POST", base+"/infusions", desk, map[string]any{"date": "2026-01-05", "phase": "loading", "dose_mg_per_kg_h": 0.3})
	expect(t, "import without a course", status, 409, v)
	status, _, v = f.api("POST", base+"/courses", desk, map[string]any{"protocol_id": standard, "started_on": "2026-01-05"})
	expect(t, "course", status, 201, v)

	importOne := func(date, phase string) int64 {
		status, _, v := f.api("POST", base+"/infusions", desk, map[string]any{"date": date, "time": "09:00", "phase": phase, "dose_mg_per_kg_h": 0.3})
		expect(t, "import "+date, status, 201, v)
		return int64(obj(v)["id"].(float64))
	}
	for _, d := range []string{"2026-01-05", "2026-01-07", "2026-01-09", "2026-01-12", "2026-01-14"} {
		importOne(d, "loading")
	}
	lastLoading := importOne("2026-01-16", "loading")
	m1 := importOne("2026-02-27", "maintenance")
	m2 := importOne("2026-04-10", "maintenance")

	// Before any report: case 5, the first interval from the last infusion.
	status, _, v = f.api("GET", base+"/plan", desk, nil)
	expect(t, "plan", status, 200, v)
	if obj(v)["phase"] != "maintenance" || obj(v)["due_date"] != "2026-05-08" || obj(v)["interval_days"] != 28.0 {
		t.Fatalf("plan before reports: %v", v)
	}
	relief := func(id int64, status, date string) (int, any) {
		s, _, v := f.api("POST", fmt.Sprintf("/api/v1/infusions/%d/relief", id), desk, map[string]any{"status": status, "date": date})
		return s, v
	}
	for _, r := range []struct {
		id   int64
		date string
	}{{lastLoading, "2026-02-27"}, {m1, "2026-04-10"}, {m2, "2026-05-21"}} {
		if s, v := relief(r.id, "ended", r.date); s != 201 || obj(v)["source"] != "desk" {
			t.Fatalf("relief %d: %d %v", r.id, s, v)
		}
	}
	if s, v := relief(m2, "ended", "2026-06-01"); s != 422 || fields(v)["date"] == nil {
		t.Fatalf("relief in the future: %d %v", s, v)
	}
	if s, v := relief(m2, "ended", "2026-04-09"); s != 422 || fields(v)["date"] == nil {
		t.Fatalf("relief before the infusion: %d %v", s, v)
	}
	if s, v := relief(m2, "gone", "2026-05-01"); s != 422 || fields(v)["status"] == nil {
		t.Fatalf("relief with an unknown status: %d %v", s, v)
	}
	if s, _ := relief(999999, "ended", "2026-05-01"); s != 404 {
		t.Fatalf("relief for an unknown infusion: %d", s)
	}

	// E2: durations 42, 42, 41, L = 10 Apr ended → 35 d, due 15 May (now overdue, not booked).
	status, _, v = f.api("GET", base+"/plan", desk, nil)
	expect(t, "plan", status, 200, v)
	plan := obj(v)
	if plan["due_date"] != "2026-05-15" || plan["interval_days"] != 35.0 || !strings.Contains(plan["rationale"].(string), "Median relief 42 d") {
		t.Fatalf("E2 plan: %v", plan)
	}
	if !strings.Contains(fmt.Sprint(plan["flags"]), "DUE_NOT_BOOKED") {
		t.Fatalf("an overdue plan without DUE_NOT_BOOKED: %v", plan["flags"])
	}
	slot := obj(plan["suggested_slot"])
	if !strings.HasPrefix(slot["start"].(string), "2026-05-2") || !strings.HasSuffix(slot["start"].(string), "-07:00") {
		t.Fatalf("suggested slot %v; want the first free one from tomorrow", slot)
	}

	// The physician fixes the interval; a note is required; the desk may not.
	status, _, v = f.api("PUT", base+"/plan", physician, map[string]any{"fixed_interval_days": 42})
	expect(t, "no note", status, 422, v)
	status, _, v = f.api("PUT", base+"/plan", desk, map[string]any{"fixed_interval_days": 42, "note": "x"})
	expect(t, "desk", status, 403, v)
	status, _, v = f.api("PUT", base+"/plan", physician, map[string]any{"fixed_interval_days": 42, "note": "Patient prefers six weeks"})
	expect(t, "fixed", status, 200, v)
	if obj(v)["interval_days"] != 42.0 || obj(v)["due_date"] != "2026-05-22" || !strings.Contains(obj(v)["rationale"].(string), "Fixed interval 42 d") {
		t.Fatalf("fixed plan: %v", v)
	}
	status, _, v = f.api("PUT", base+"/plan", physician, map[string]any{"fixed_interval_days": 14, "note": "Short trial"})
	expect(t, "fixed outside the range", status, 200, v)
	if !strings.Contains(fmt.Sprint(obj(v)["flags"]), "OVERRIDE_OUTSIDE_RANGE") {
		t.Fatalf("override outside the range not flagged: %v", v)
	}
	status, _, v = f.api("PUT", base+"/plan", physician, map[string]any{"fixed_interval_days": nil, "min_interval_days": 21, "note": "Back to the planner"})
	expect(t, "cleared", status, 200, v)
	if obj(v)["interval_days"] != 35.0 || obj(obj(v)["intervals"])["min_interval_days"] != 21.0 {
		t.Fatalf("cleared plan: %v", v)
	}
	status, _, v = f.api("PUT", base+"/plan", physician, map[string]any{"min_interval_days": 90, "note": "x"})
	expect(t, "min above max", status, 422, v)

	// Today's infusion, recorded by the nurse through the API.
	newChairs(t, f)
	_, _, chairs := f.api("GET", "/api/v1/chairs", desk, nil)
	chair := obj(chairs.([]any)[len(chairs.([]any))-1])["id"]
	status, _, v = f.api("POST", "/api/v1/appointments", desk, map[string]any{"patient_id": pid, "kind": "maintenance",
		"start": "2026-05-22T09:00:00-07:00", "chair_id": chair})
	expect(t, "book today", status, 201, v)
	appt := int64(obj(v)["id"].(float64))
	signConsent(t, f, pid)
	status, _, v = f.api("POST", fmt.Sprintf("/api/v1/appointments/%d/check-in", appt), desk, nil)
	expect(t, "check in without a driver", status, 422, v)
	status, _, v = f.api("POST", fmt.Sprintf("/api/v1/appointments/%d/check-in", appt), desk,
		screenOK(map[string]any{"driver_name": "Ana Ruiz", "driver_phone": "602-555-0199"}))
	expect(t, "check in", status, 200, v)
	complete := fmt.Sprintf("/api/v1/appointments/%d/complete", appt)
	record := map[string]any{"minutes": 60, "route": "iv", "dose_mg_per_kg_h": 0.7, "driver_confirmed": true,
		"vitals_before": map[string]any{"bp_systolic": 128, "bp_diastolic": 82, "heart_rate": 72, "spo2": 98},
		"side_effects":  []any{map[string]any{"effect": "dissociation", "severity": "mild"}}, "pain_before": 7, "pain_after": 3}
	status, _, v = f.api("POST", complete, nurse, record)
	expect(t, "dose above the range, unconfirmed", status, 422, v)
	if fields(v)["dose_confirmed"] == nil {
		t.Fatalf("no confirmation asked: %v", v)
	}
	record["dose_mg_per_kg_h"] = 1.5
	status, _, v = f.api("POST", complete, nurse, record)
	expect(t, "dose above 1", status, 422, v)
	record["dose_mg_per_kg_h"] = 0.4
	status, _, v = f.api("POST", complete, nurse, record)
	expect(t, "record", status, 201, v)
	if obj(v)["dose_mg_per_h"] != 32.0 || obj(v)["total_mg"] != 32.0 || obj(v)["date"] != "2026-05-22" || obj(v)["source"] != "recorded" {
		t.Fatalf("infusion %v", v)
	}
	status, _, v = f.api("POST", complete, nurse, record)
	expect(t, "recording twice", status, 409, v)
	status, _, v = f.api("GET", base+"/infusions", nurse, nil)
	expect(t, "infusions", status, 200, v)
	if list := v.([]any); len(list) != 9 || obj(list[0])["date"] != "2026-05-22" {
		t.Fatalf("infusions %v", v)
	}
	// The new infusion is L now, without a report: case 4 from the durations, due 26 Jun.
	_, _, v = f.api("GET", base+"/plan", physician, nil)
	if obj(v)["due_date"] != "2026-06-26" {
		t.Fatalf("plan after today's infusion: %v", v)
	}
	status, _, v = f.api("GET", base+"/plan", f.token(clinic.RolePatient), nil)
	expect(t, "patient reads the staff plan API", status, 403, v)
}
