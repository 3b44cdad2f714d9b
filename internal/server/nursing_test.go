package server_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/demo"
)

// rosterDay is a Monday after the demo's roster, in the demo clinic's
// zone: no shifts yet.
func rosterDay(t *testing.T) clinic.Date {
	t.Helper()
	loc, err := time.LoadLocation(demo.TimeZone)
	if err != nil {
		t.Fatal(err)
	}
	d := clinic.DateOf(time.Now(), loc).AddDays(demo.RosterDays + 7)
	for d.Weekday() != time.Monday {
		d = d.AddDays(1)
	}
	return d
}

// The roster and nursing through the API: the admin keeps shifts, the desk
// reads them; a booking at a time no nurse can take is refused with the
// nurse named and alternatives; removing a shift cancels nothing.
func TestAPINursing(t *testing.T) {
	f := newFixture(t)
	admin, desk, nurse := f.token(clinic.RoleAdmin), f.token(clinic.RoleFrontDesk), f.token(clinic.RoleNurse)
	_, _, users := f.api("GET", "/api/v1/users", admin, nil)
	ids := map[string]int64{}
	for _, u := range users.([]any) {
		ids[obj(u)["role"].(string)] = int64(obj(u)["id"].(float64))
	}
	day := rosterDay(t)
	shift := map[string]any{"nurse_id": ids["nurse"], "date": day.String(), "from": "07:00", "to": "16:30"}
	status, _, v := f.api("POST", "/api/v1/nurse-shifts", desk, shift)
	expect(t, "the desk adds a shift", status, 403, v)
	status, _, v = f.api("POST", "/api/v1/nurse-shifts", admin, map[string]any{"nurse_id": ids["front_desk"], "date": day.String(), "from": "07:00", "to": "16:30"})
	expect(t, "a shift for the desk", status, 422, v)
	if fields(v)["nurse_id"] == nil {
		t.Fatalf("no word on nurse_id: %v", v)
	}
	status, _, v = f.api("POST", "/api/v1/nurse-shifts", admin, map[string]any{"nurse_id": ids["nurse"], "date": day.String(), "from": "12:00", "to": "09:00"})
	expect(t, "a shift ending before it starts", status, 422, v)
	status, _, v = f.api("POST", "/api/v1/nurse-shifts", admin, shift)
	expect(t, "the admin adds a shift", status, 201, v)
	shiftID := int64(obj(v)["id"].(float64))
	if obj(v)["from"] != "07:00" || obj(v)["to"] != "16:30" || obj(v)["date"] != day.String() {
		t.Fatalf("shift %v", v)
	}
	status, _, v = f.api("POST", "/api/v1/nurse-shifts", admin, map[string]any{"nurse_id": ids["nurse"], "date": day.String(), "from": "16:00", "to": "18:00"})
	expect(t, "an overlapping shift", status, 422, v)
	if fields(v)["from"] == nil {
		t.Fatalf("no word on from: %v", v)
	}
	list := fmt.Sprintf("/api/v1/nurse-shifts?from=%s&to=%s", day, day)
	status, _, v = f.api("GET", list, desk, nil)
	expect(t, "the desk reads the roster", status, 200, v)
	if len(v.([]any)) != 1 {
		t.Fatalf("roster %v", v)
	}
	status, _, v = f.api("GET", list, nurse, nil)
	expect(t, "a nurse reads the roster API", status, 403, v)

	// One patient per nurse.
	status, _, v = f.api("GET", "/api/v1/clinic", admin, nil)
	expect(t, "GET /clinic", status, 200, v)
	if n := obj(obj(v)["nursing"]); n["patients_per_nurse"] != 3.0 || n["start_spacing_minutes"] != 15.0 {
		t.Fatalf("nursing %v", n)
	}
	put := obj(v)
	put["nursing"] = map[string]any{"patients_per_nurse": 0, "start_spacing_minutes": 15}
	status, _, v = f.api("PUT", "/api/v1/clinic", admin, put)
	expect(t, "no patients per nurse", status, 422, v)
	if fields(v)["nursing.patients_per_nurse"] == nil {
		t.Fatalf("no word on nursing: %v", v)
	}
	put["nursing"] = map[string]any{"patients_per_nurse": 1, "start_spacing_minutes": 15}
	status, _, v = f.api("PUT", "/api/v1/clinic", admin, put)
	expect(t, "one patient per nurse", status, 200, v)

	var patients []int64
	for i := range 2 {
		status, _, v := f.api("POST", "/api/v1/patients", desk, map[string]any{"first_name": "Nora", "last_name": fmt.Sprintf("Rostered%d", i),
			"date_of_birth": "1970-05-06", "condition": "crps"})
		expect(t, "POST /patients", status, 201, v)
		patients = append(patients, int64(obj(v)["id"].(float64)))
	}
	start := day.String() + "T09:00:00-07:00"
	status, _, v = f.api("POST", "/api/v1/appointments", desk, map[string]any{"patient_id": patients[0], "kind": "maintenance", "start": start})
	expect(t, "book 09:00", status, 201, v)
	first := int64(obj(v)["id"].(float64))
	if obj(v)["nurse_id"] != float64(ids["nurse"]) {
		t.Fatalf("the booking's nurse: %v", v)
	}
	status, _, v = f.api("POST", "/api/v1/appointments", desk, map[string]any{"patient_id": patients[1], "kind": "maintenance", "start": start})
	expect(t, "a second infusion at 09:00 with one nurse", status, 409, v)
	if msg := obj(obj(v)["error"])["message"].(string); !strings.Contains(msg, "starts Nora Rostered0 at 9:00 AM") {
		t.Fatalf("the refusal does not name the nurse's patient: %q", msg)
	}
	if alts, _ := obj(obj(v)["error"])["alternatives"].([]any); len(alts) == 0 {
		t.Fatalf("no alternatives: %v", v)
	}
	status, _, v = f.api("POST", "/api/v1/appointments", desk, map[string]any{"patient_id": patients[1], "kind": "consult", "start": start})
	expect(t, "a consultation needs no nurse", status, 201, v)
	if obj(v)["nurse_id"] != nil {
		t.Fatalf("a consultation with a nurse: %v", v)
	}

	// The nurse goes home: nothing is cancelled, the visit is listed to move.
	status, _, v = f.api("DELETE", fmt.Sprintf("/api/v1/nurse-shifts/%d", shiftID), admin, nil)
	expect(t, "remove the shift", status, 200, v)
	if toMove := obj(v)["to_move"].([]any); len(toMove) != 0 {
		t.Fatalf("to move %v: the date has no shift left, so nursing no longer limits it", toMove)
	}
	status, _, v = f.api("GET", fmt.Sprintf("/api/v1/appointments/%d", first), desk, nil)
	expect(t, "the visit after the shift went", status, 200, v)
	if obj(v)["status"] != "booked" || obj(v)["nurse_id"] != nil {
		t.Fatalf("the visit %v", v)
	}
}
