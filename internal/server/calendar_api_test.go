package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/server"
)

// march2 is "now" for the calendar API tests: Monday 2 March 2026, 08:00 in
// Chicago, the week before the clocks change.
var march2 = time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC)

func fixedClock(t time.Time) func(*server.Config) {
	return func(c *server.Config) { c.Now = func() time.Time { return t } }
}

// apiWith is api with extra request headers.
func (f *fixture) apiWith(method, path, token string, headers map[string]string, body any) (int, http.Header, any) {
	f.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, f.srv.URL+path, strings.NewReader(string(b)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		f.t.Fatalf("%s %s: not JSON: %s", method, path, raw)
	}
	checkAgainstOpenAPI(f.t, method, path, resp.StatusCode, v)
	return resp.StatusCode, resp.Header, v
}

func obj(v any) map[string]any { return v.(map[string]any) }

func fields(v any) map[string]any { return obj(obj(v)["error"])["fields"].(map[string]any) }

// expect fails unless the call answered want.
func expect(t *testing.T, what string, status, want int, body any) {
	t.Helper()
	if status != want {
		t.Fatalf("%s: %d %v; want %d", what, status, body, want)
	}
}

// chicagoClinic sets the demo clinic to Chicago time, Monday to Friday
// 07:00–17:00, through the API.
func chicagoClinic(t *testing.T, f *fixture) string {
	admin := f.token(clinic.RoleAdmin)
	hours := map[string]any{"sat": []any{}, "sun": []any{}}
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri"} {
		hours[d] = [][]string{{"07:00", "17:00"}}
	}
	status, _, v := f.api("PUT", "/api/v1/clinic", admin, map[string]any{
		"name": "Lakeside Infusion", "timezone": "America/Chicago", "slot_minutes": 15, "hours": hours})
	expect(t, "PUT /clinic", status, 200, v)
	if obj(v)["timezone"] != "America/Chicago" || obj(v)["misfits"] == nil {
		t.Fatalf("PUT /clinic answered %v", v)
	}
	return admin
}

func TestAPIClinicSettings(t *testing.T) {
	f := newFixture(t, fixedClock(march2))
	admin := chicagoClinic(t, f)
	status, _, v := f.api("GET", "/api/v1/clinic", admin, nil)
	expect(t, "GET /clinic", status, 200, v)
	hours := obj(v)["hours"].(map[string]any)
	if fmt.Sprint(hours["mon"]) != "[[07:00 17:00]]" || fmt.Sprint(hours["sun"]) != "[]" {
		t.Fatalf("hours %v", hours)
	}
	version := obj(v)["version"].(float64)

	// Each mistake is named on its field.
	status, _, v = f.api("PUT", "/api/v1/clinic", admin, map[string]any{
		"name": "", "timezone": "America/Chicgo", "slot_minutes": 7,
		"hours": map[string]any{"mon": [][]string{{"17:00", "07:00"}}, "tue": [][]string{{"07:00", "12:00"}, {"11:00", "15:00"}},
			"wed": [][]string{{"7am", "3pm"}}, "someday": [][]string{}}})
	expect(t, "invalid PUT /clinic", status, 422, v)
	for _, k := range []string{"name", "timezone", "slot_minutes", "hours.mon", "hours.tue", "hours.wed", "hours.someday"} {
		if fields(v)[k] == nil {
			t.Errorf("no message for %s: %v", k, fields(v))
		}
	}
	// A stale version is refused; nothing changes.
	status, _, v = f.api("PUT", "/api/v1/clinic", admin, map[string]any{"name": "Other", "timezone": "UTC", "slot_minutes": 15,
		"hours": map[string]any{}, "version": version - 1})
	expect(t, "stale PUT /clinic", status, 409, v)
	if _, _, v = f.api("GET", "/api/v1/clinic", admin, nil); obj(v)["name"] != "Lakeside Infusion" {
		t.Fatalf("a refused PUT changed the clinic: %v", v)
	}
	// Only an admin changes settings.
	status, _, v = f.api("PUT", "/api/v1/clinic", f.token(clinic.RoleFrontDesk), map[string]any{"name": "x"})
	expect(t, "desk PUT /clinic", status, 403, v)

	// Closures.
	status, _, v = f.api("POST", "/api/v1/closures", admin, map[string]any{"date": "2026-03-11", "reason": "Staff training"})
	expect(t, "POST /closures", status, 201, v)
	status, _, v = f.api("POST", "/api/v1/closures", admin, map[string]any{"date": "2026-03-11", "reason": "Again"})
	expect(t, "closing twice", status, 422, v)
	status, _, v = f.api("POST", "/api/v1/closures", admin, map[string]any{"date": "2026-03-12"})
	expect(t, "closure without reason", status, 422, v)
	status, _, v = f.api("POST", "/api/v1/closures", admin, `{"date": "12 March"}`)
	expect(t, "closure with a bad date", status, 422, v)
	status, _, v = f.api("DELETE", "/api/v1/closures/2026-03-11", admin, nil)
	expect(t, "DELETE /closures", status, 204, v)
	status, _, v = f.api("DELETE", "/api/v1/closures/2026-03-11", admin, nil)
	expect(t, "DELETE /closures twice", status, 404, v)

	// Chairs and protocols, for staff.
	desk := f.token(clinic.RoleFrontDesk)
	status, _, v = f.api("GET", "/api/v1/chairs", desk, nil)
	expect(t, "GET /chairs", status, 200, v)
	if len(v.([]any)) != 6 || obj(v.([]any)[0])["name"] != "Chair 1" {
		t.Fatalf("chairs %v", v)
	}
	status, _, v = f.api("GET", "/api/v1/protocols", desk, nil)
	expect(t, "GET /protocols", status, 200, v)
	if len(v.([]any)) == 0 || obj(v.([]any)[0])["max_span_days"] == nil {
		t.Fatalf("protocols %v", v)
	}
	status, _, v = f.api("GET", "/api/v1/chairs", f.token(clinic.RolePatient), nil)
	expect(t, "patient GET /chairs", status, 403, v)
}

func TestAPIPatients(t *testing.T) {
	f := newFixture(t, fixedClock(march2))
	desk := f.token(clinic.RoleFrontDesk)
	status, _, v := f.api("POST", "/api/v1/patients", desk, map[string]any{"first_name": "Ada", "last_name": "Quist",
		"date_of_birth": "1970-05-06", "email": "ada@example.com", "phone": "(312) 555-0100", "weight_kg": 61.5, "condition": "crps"})
	expect(t, "POST /patients", status, 201, v)
	id := obj(v)["id"].(float64)
	if !strings.HasPrefix(obj(v)["mrn"].(string), "MRN") {
		t.Fatalf("no record number: %v", v)
	}
	status, _, v = f.api("POST", "/api/v1/patients", desk, map[string]any{"first_name": " ", "date_of_birth": "2099-01-01",
		"email": "not-an-email", "weight_kg": 900, "condition": "headache", "extra": "ignored"})
	expect(t, "invalid POST /patients", status, 422, v)
	for _, k := range []string{"first_name", "last_name", "date_of_birth", "email", "weight_kg", "condition"} {
		if fields(v)[k] == nil {
			t.Errorf("no message for %s: %v", k, fields(v))
		}
	}
	status, _, v = f.api("POST", "/api/v1/patients", desk, `{"first_name": "Ada", "weight_kg": "heavy"}`)
	expect(t, "wrong type", status, 422, v)
	status, _, v = f.api("GET", fmt.Sprintf("/api/v1/patients/%d", int64(id)), desk, nil)
	expect(t, "GET /patients/{id}", status, 200, v)
	if obj(v)["weight_kg"] != 61.5 || obj(v)["condition"] != "crps" {
		t.Fatalf("patient %v", v)
	}
	for _, q := range []string{"quis", "ada qu", "1970-05-06", obj(v)["mrn"].(string)} {
		status, _, v = f.api("GET", "/api/v1/patients?q="+strings.ReplaceAll(q, " ", "+"), desk, nil)
		expect(t, "search "+q, status, 200, v)
		if len(v.([]any)) != 1 || obj(v.([]any)[0])["id"] != id {
			t.Errorf("search %q: %v", q, v)
		}
	}
	status, _, v = f.api("GET", "/api/v1/patients/999999", desk, nil)
	expect(t, "unknown patient", status, 404, v)
	status, _, v = f.api("POST", "/api/v1/patients", f.token(clinic.RoleNurse), map[string]any{"first_name": "N"})
	expect(t, "nurse registers a patient", status, 403, v)
	status, _, v = f.api("GET", "/api/v1/patients?q=quist", f.token(clinic.RolePatient), nil)
	expect(t, "patient searches patients", status, 403, v)
}

// newChairs adds two chairs at the end of the order, free of the demo's
// appointments, and returns their ids.
func newChairs(t *testing.T, f *fixture) (float64, float64) {
	var ids []float64
	for _, name := range []string{"Test chair A", "Test chair B"} {
		c, err := f.db.SaveChair(context.Background(), clinic.Chair{Name: name, Position: 50, Active: true})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, float64(c.ID))
	}
	return ids[0], ids[1]
}

// newPatient registers a patient without appointments and returns the id.
func newPatient(t *testing.T, f *fixture, desk, last string) float64 {
	status, _, v := f.api("POST", "/api/v1/patients", desk, map[string]any{"first_name": "Test", "last_name": last,
		"date_of_birth": "1975-01-01", "condition": "other"})
	expect(t, "POST /patients", status, 201, v)
	return obj(v)["id"].(float64)
}

func TestAPIBookingAcrossDaylightSaving(t *testing.T) {
	f := newFixture(t, fixedClock(march2))
	chicagoClinic(t, f)
	desk := f.token(clinic.RoleFrontDesk)
	pid := newPatient(t, f, desk, "Zeller")
	for _, tc := range []struct{ start, want, wantEnd string }{
		{"2026-03-06T09:00:00-06:00", "2026-03-06T09:00:00-06:00", "2026-03-06T10:30:00-06:00"},
		// Given in UTC, answered in the clinic's new offset.
		{"2026-03-09T14:00:00Z", "2026-03-09T09:00:00-05:00", "2026-03-09T10:30:00-05:00"},
	} {
		status, _, v := f.api("POST", "/api/v1/appointments", desk, map[string]any{"patient_id": pid, "kind": "maintenance", "start": tc.start})
		expect(t, "book "+tc.start, status, 201, v)
		// The next one is the next infusion again: the first one was a cancelled plan.
		cancel, _, cv := f.api("POST", fmt.Sprintf("/api/v1/appointments/%d/cancel", int64(obj(v)["id"].(float64))), desk, map[string]any{"reason": "moved to the next week"})
		expect(t, "cancel", cancel, 200, cv)
		if obj(v)["start"] != tc.want || obj(v)["end"] != tc.wantEnd || obj(v)["status"] != "booked" || obj(v)["chair_id"] == nil {
			t.Errorf("booked %s as %v; want %s–%s", tc.start, v, tc.want, tc.wantEnd)
		}
	}
	status, _, v := f.api("GET", fmt.Sprintf("/api/v1/appointments?from=2026-03-06&to=2026-03-09&patient_id=%d", int64(pid)), desk, nil)
	expect(t, "GET /appointments", status, 200, v)
	if len(v.([]any)) != 2 {
		t.Fatalf("appointments %v", v)
	}
}

func TestAPIAppointments(t *testing.T) {
	f := newFixture(t, fixedClock(march2))
	admin := chicagoClinic(t, f)
	f.api("POST", "/api/v1/closures", admin, map[string]any{"date": "2026-03-11", "reason": "Staff training"})
	desk := f.token(clinic.RoleFrontDesk)
	ada, ben := newPatient(t, f, desk, "Ashdown"), newPatient(t, f, desk, "Brook")
	chair1, _ := newChairs(t, f)

	book := func(pid float64, start string, chair any, key string) (int, http.Header, any) {
		body := map[string]any{"patient_id": pid, "kind": "maintenance", "start": start}
		if chair != nil {
			body["chair_id"] = chair
		}
		h := map[string]string{}
		if key != "" {
			h["Idempotency-Key"] = key
		}
		return f.apiWith("POST", "/api/v1/appointments", desk, h, body)
	}
	status, _, a := book(ada, "2026-03-09T09:00:00-05:00", chair1, "k-1")
	expect(t, "book", status, 201, a)
	id := int64(obj(a)["id"].(float64))
	// The same request again (a retry) answers the same appointment.
	status, h, again := book(ada, "2026-03-09T09:00:00-05:00", chair1, "k-1")
	expect(t, "retry", status, 201, again)
	if obj(again)["id"] != obj(a)["id"] || h.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry booked %v (replayed %q)", again, h.Get("Idempotent-Replayed"))
	}
	// The chair is taken: 409 with free alternatives.
	status, _, v := book(ben, "2026-03-09T09:30:00-05:00", chair1, "")
	expect(t, "taken", status, 409, v)
	alts, _ := obj(obj(v)["error"])["alternatives"].([]any)
	if len(alts) == 0 || !strings.Contains(obj(v)["error"].(map[string]any)["message"].(string), "taken") {
		t.Fatalf("conflict without alternatives or message: %v", v)
	}
	// Refusals that name the start.
	for name, start := range map[string]string{
		"before opening": "2026-03-09T06:00:00-05:00",
		"closed day":     "2026-03-11T09:00:00-05:00",
		"weekend":        "2026-03-07T09:00:00-06:00",
		"off the grid":   "2026-03-09T13:10:00-05:00",
		"in the past":    "2026-03-02T07:00:00-06:00",
		"not a time":     "next Monday",
	} {
		status, _, v := book(ben, start, nil, "")
		expect(t, name, status, 422, v)
		if fields(v)["start"] == nil {
			t.Errorf("%s: no message on start: %v", name, v)
		}
	}
	status, _, v = f.api("POST", "/api/v1/appointments", desk, map[string]any{"patient_id": ben, "kind": "spa", "start": "2026-03-09T13:00:00-05:00"})
	expect(t, "unknown kind", status, 422, v)
	status, _, v = f.api("POST", "/api/v1/appointments", desk, "{not json")
	expect(t, "not JSON", status, 400, v)

	// Reschedule: stale version refused, current version moves it.
	path := fmt.Sprintf("/api/v1/appointments/%d", id)
	status, _, v = f.api("POST", path+"/reschedule", desk, map[string]any{"start": "2026-03-10T09:00:00-05:00", "version": 7})
	expect(t, "stale reschedule", status, 409, v)
	status, _, v = f.api("POST", path+"/reschedule", desk, map[string]any{"start": "2026-03-10T09:00:00-05:00", "version": 1})
	expect(t, "reschedule", status, 200, v)
	if obj(v)["start"] != "2026-03-10T09:00:00-05:00" || obj(v)["version"] != 2.0 || obj(v)["chair_id"] != chair1 {
		t.Fatalf("rescheduled: %v", v)
	}
	status, _, v = f.api("POST", path+"/reschedule", desk, map[string]any{"start": "2026-03-10T09:00:00-05:00"})
	expect(t, "reschedule without version", status, 422, v)
	status, _, v = f.api("GET", path, f.token(clinic.RoleNurse), nil)
	expect(t, "GET /appointments/{id}", status, 200, v)

	// Check-in only on the day; no-show only once the time has come.
	status, _, v = f.api("POST", path+"/check-in", desk, nil)
	expect(t, "check-in a week early", status, 422, v)
	status, _, v = f.api("POST", path+"/no-show", desk, map[string]any{"version": 2})
	expect(t, "no-show early", status, 422, v)
	status, _, v = f.api("POST", path+"/cancel", desk, map[string]any{"reason": ""})
	expect(t, "cancel without reason", status, 422, v)
	status, _, v = f.api("POST", path+"/cancel", desk, map[string]any{"reason": "Patient is travelling"})
	expect(t, "cancel", status, 200, v)
	if obj(v)["status"] != "cancelled" {
		t.Fatalf("cancelled: %v", v)
	}
	status, _, v = f.api("POST", path+"/reschedule", desk, map[string]any{"start": "2026-03-10T11:00:00-05:00", "version": 3})
	expect(t, "moving a cancelled appointment", status, 409, v)
	status, _, v = f.api("POST", "/api/v1/appointments/999999/cancel", desk, map[string]any{"reason": "x"})
	expect(t, "unknown appointment", status, 404, v)

	// Roles.
	status, _, v = f.api("POST", "/api/v1/appointments", f.token(clinic.RoleNurse), map[string]any{"patient_id": ben})
	expect(t, "nurse books", status, 403, v)
	status, _, v = f.api("GET", "/api/v1/appointments?from=2026-03-09&to=2026-03-09", f.token(clinic.RolePatient), nil)
	expect(t, "patient lists appointments", status, 403, v)
}

func TestAPIAvailability(t *testing.T) {
	f := newFixture(t, fixedClock(march2))
	chicagoClinic(t, f)
	desk := f.token(clinic.RoleFrontDesk)
	pid := newPatient(t, f, desk, "Avery")
	chair1, chair2 := newChairs(t, f)
	status, _, v := f.api("POST", "/api/v1/appointments", desk, map[string]any{"patient_id": pid, "kind": "maintenance",
		"start": "2026-03-09T09:00:00-05:00", "chair_id": chair1})
	expect(t, "book", status, 201, v)

	status, _, v = f.api("GET", "/api/v1/availability?from=2026-03-07&to=2026-03-09&minutes=90", desk, nil)
	expect(t, "GET /availability", status, 200, v)
	if obj(v)["timezone"] != "America/Chicago" {
		t.Fatalf("zone %v", obj(v)["timezone"])
	}
	days := obj(v)["days"].([]any)
	if len(days) != 3 || obj(days[0])["closed"] == "" {
		t.Fatalf("days %v", days)
	}
	starts := map[float64]string{}
	for _, c := range obj(days[2])["chairs"].([]any) {
		starts[obj(c)["chair_id"].(float64)] = fmt.Sprint(obj(c)["starts"])
	}
	first, second := starts[chair1], starts[chair2]
	if strings.Contains(first, "09:00") || strings.Contains(first, "10:15") || !strings.Contains(first, "07:30") || !strings.Contains(first, "10:30") {
		t.Errorf("chair 1 around its 09:00–10:30 booking: %s", first)
	}
	if !strings.Contains(second, "09:00") || !strings.HasPrefix(second, "[07:00") || !strings.HasSuffix(second, "15:30]") {
		t.Errorf("chair 2 free all day: %s", second)
	}
	for name, q := range map[string]string{
		"no dates":      "minutes=90",
		"backwards":     "from=2026-03-09&to=2026-03-01&minutes=90",
		"too long":      "from=2026-03-01&to=2026-06-01&minutes=90",
		"no minutes":    "from=2026-03-09&to=2026-03-09",
		"silly minutes": "from=2026-03-09&to=2026-03-09&minutes=9999",
	} {
		status, _, v := f.api("GET", "/api/v1/availability?"+q, desk, nil)
		expect(t, name, status, 422, v)
	}
}
