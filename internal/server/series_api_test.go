package server_test

import (
	"fmt"
	"testing"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
)

// protocolID finds a demo protocol by name through the API.
func protocolID(t *testing.T, f *fixture, token, name string) float64 {
	_, _, v := f.api("GET", "/api/v1/protocols", token, nil)
	for _, p := range v.([]any) {
		if obj(p)["name"] == name {
			return obj(p)["id"].(float64)
		}
	}
	t.Fatalf("no protocol %q", name)
	return 0
}

func TestAPICourses(t *testing.T) {
	f := newFixture(t, fixedClock(march2))
	desk := f.token(clinic.RoleFrontDesk)
	pid := newPatient(t, f, desk, "Coursework")
	standard := protocolID(t, f, desk, "Standard IV loading")
	path := fmt.Sprintf("/api/v1/patients/%d/courses", int64(pid))
	status, _, v := f.api("POST", path, desk, map[string]any{"protocol_id": standard, "started_on": "2026-03-02"})
	expect(t, "POST courses", status, 201, v)
	if obj(v)["phase"] != "loading" || obj(v)["sessions"] != 6.0 || obj(v)["max_span_days"] != 14.0 {
		t.Fatalf("course %v", v)
	}
	status, _, v = f.api("POST", path, f.token(clinic.RolePhysician), map[string]any{"protocol_id": standard, "started_on": "2026-03-02"})
	expect(t, "a second open course", status, 409, v)
	status, _, v = f.api("POST", path, desk, map[string]any{"protocol_id": 999999, "started_on": "2026-03-02"})
	expect(t, "unknown protocol", status, 422, v)
	status, _, v = f.api("POST", path, desk, map[string]any{"protocol_id": standard, "started_on": "March"})
	expect(t, "bad date", status, 422, v)
	status, _, v = f.api("POST", "/api/v1/patients/999999/courses", desk, map[string]any{"protocol_id": standard, "started_on": "2026-03-02"})
	expect(t, "unknown patient", status, 404, v)
	status, _, v = f.api("POST", path, f.token(clinic.RoleNurse), map[string]any{"protocol_id": standard, "started_on": "2026-03-02"})
	expect(t, "nurse", status, 403, v)
}

func TestAPILoadingSeries(t *testing.T) {
	f := newFixture(t, fixedClock(march2))
	chicagoClinic(t, f)
	newChairs(t, f) // chairs free of the demo's March history
	desk := f.token(clinic.RoleFrontDesk)
	pid := newPatient(t, f, desk, "Serial")
	standard := protocolID(t, f, desk, "Standard IV loading")
	path := fmt.Sprintf("/api/v1/patients/%d/loading-series", int64(pid))
	body := map[string]any{"protocol_id": standard, "start_date": "2026-03-02", "preferred_time": "09:00", "dry_run": true}
	status, _, v := f.api("POST", path, desk, body)
	expect(t, "dry run", status, 200, v)
	var starts []string
	for _, a := range obj(v)["appointments"].([]any) {
		starts = append(starts, obj(a)["start"].(string))
	}
	// 09:00 local on every date, the offset changing with the clocks on 8 March.
	want := "[2026-03-02T09:00:00-06:00 2026-03-04T09:00:00-06:00 2026-03-06T09:00:00-06:00 2026-03-09T09:00:00-05:00 2026-03-11T09:00:00-05:00 2026-03-13T09:00:00-05:00]"
	if fmt.Sprint(starts) != want {
		t.Fatalf("proposal %v\nwant %s", starts, want)
	}
	// Nothing was booked by the dry run.
	_, _, list := f.api("GET", fmt.Sprintf("/api/v1/appointments?from=2026-03-01&to=2026-03-31&patient_id=%d", int64(pid)), desk, nil)
	if len(list.([]any)) != 0 {
		t.Fatalf("a dry run booked %v", list)
	}
	body["dry_run"] = false
	status, h, v := f.apiWith("POST", path, desk, map[string]string{"Idempotency-Key": "series-1"}, body)
	expect(t, "book", status, 201, v)
	if h.Get("Idempotent-Replayed") == "true" {
		t.Fatal("the first booking says it was a replay")
	}
	series := obj(v)["series_id"]
	appts := obj(v)["appointments"].([]any)
	if len(appts) != 6 || obj(appts[5])["session_no"] != 6.0 || obj(appts[0])["series_id"] != series || obj(appts[0])["kind"] != "loading" {
		t.Fatalf("booked %v", v)
	}
	status, h, again := f.apiWith("POST", path, desk, map[string]string{"Idempotency-Key": "series-1"}, body)
	expect(t, "retry", status, 201, again)
	if obj(again)["series_id"] != series || h.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry booked another series: %v", again)
	}
	status, _, v = f.api("POST", path, desk, body)
	expect(t, "a second series", status, 409, v)

	// Refusals name their field.
	other := newPatient(t, f, desk, "Other")
	otherPath := fmt.Sprintf("/api/v1/patients/%d/loading-series", int64(other))
	for name, b := range map[string]map[string]any{
		"past start":     {"protocol_id": standard, "start_date": "2026-02-01"},
		"bad time":       {"protocol_id": standard, "start_date": "2026-03-09", "preferred_time": "9am"},
		"no protocol":    {"start_date": "2026-03-09"},
		"bad date":       {"protocol_id": standard, "start_date": "soon"},
		"other protocol": {"protocol_id": 999999, "start_date": "2026-03-09"},
	} {
		status, _, v := f.api("POST", otherPath, desk, b)
		expect(t, name, status, 422, v)
	}
	status, _, v = f.api("POST", "/api/v1/patients/999999/loading-series", desk, map[string]any{"protocol_id": standard, "start_date": "2026-03-09"})
	expect(t, "unknown patient", status, 404, v)
	status, _, v = f.api("POST", otherPath, f.token(clinic.RoleNurse), map[string]any{"protocol_id": standard, "start_date": "2026-03-09"})
	expect(t, "nurse", status, 403, v)
}
