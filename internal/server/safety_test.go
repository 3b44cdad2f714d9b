package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/demo"
	"github.com/infusiondesk/infusiondesk/internal/server"
	"github.com/jackc/pgx/v5"
)

// The gates through the API: one next infusion (409 naming it, with the
// visit to move), a physician's additional infusion, one infusion a day, a
// driver at check-in, the booking horizon.
func TestAPISafetyGates(t *testing.T) {
	f := newFixture(t, fixedClock(march2))
	admin := chicagoClinic(t, f)
	desk, physician := f.token(clinic.RoleFrontDesk), f.token(clinic.RolePhysician)
	pid := newPatient(t, f, desk, "Gatekeeper")
	book := func(token string, body map[string]any) (int, any) {
		body["patient_id"] = pid
		status, _, v := f.api("POST", "/api/v1/appointments", token, body)
		return status, v
	}
	status, v := book(desk, map[string]any{"kind": "maintenance", "start": "2026-03-09T09:00:00-05:00"})
	expect(t, "the next infusion", status, 201, v)
	next := obj(v)["id"].(float64)
	status, v = book(desk, map[string]any{"kind": "maintenance", "start": "2026-03-11T09:00:00-05:00"})
	expect(t, "a second next infusion", status, 409, v)
	e := obj(obj(v)["error"])
	if !strings.Contains(e["message"].(string), "Mon, Mar 9, 2026 at 9:00 AM") || obj(e["existing"])["appointment_id"] != next {
		t.Fatalf("the refusal does not name the booked visit: %v", e)
	}
	if e["alternatives"] != nil {
		t.Fatalf("other slots offered for a visit that may not be booked at all: %v", e["alternatives"])
	}
	status, v = book(desk, map[string]any{"kind": "maintenance", "start": "2026-03-11T09:00:00-05:00", "additional_reason": "Flare"})
	expect(t, "the desk's additional infusion", status, 403, v)
	status, v = book(physician, map[string]any{"kind": "maintenance", "start": "2026-03-11T09:00:00-05:00", "additional_reason": "Flare after surgery"})
	expect(t, "a physician's additional infusion", status, 201, v)
	if obj(v)["additional_reason"] != "Flare after surgery" {
		t.Fatalf("additional infusion %v", v)
	}
	status, v = book(physician, map[string]any{"kind": "maintenance", "start": "2026-03-09T14:00:00-05:00", "additional_reason": "Twice"})
	expect(t, "a second infusion the same day", status, 422, v)
	if !strings.Contains(fields(v)["start"].(string), "infusion that day") {
		t.Fatalf("fields %v", fields(v))
	}
	status, v = book(desk, map[string]any{"kind": "consult", "start": "2026-03-09T14:00:00-05:00"})
	expect(t, "a consultation on an infusion's day", status, 201, v)

	// The horizon: nothing in 3001, nothing in 1900, no closure last month.
	status, v = book(desk, map[string]any{"kind": "consult", "start": "3001-03-09T09:00:00-06:00"})
	expect(t, "a visit in 3001", status, 422, v)
	if fields(v)["start"] == nil {
		t.Fatalf("fields %v", fields(v))
	}
	status, _, v = f.api("GET", "/api/v1/availability?from=1900-01-01&to=1900-01-02&minutes=90", desk, nil)
	expect(t, "availability in 1900", status, 422, v)
	if fields(v)["from"] == nil {
		t.Fatalf("fields %v", fields(v))
	}
	status, _, v = f.api("POST", "/api/v1/closures", admin, map[string]any{"date": "2026-02-16", "reason": "Presidents' Day"})
	expect(t, "a closure last month", status, 422, v)

	// Check-in of an infusion needs a driver: 422 naming both fields, then 200.
	other := newPatient(t, f, desk, "Nodriver")
	status, _, v = f.api("POST", "/api/v1/appointments", desk, map[string]any{"patient_id": other, "kind": "maintenance", "start": "2026-03-02T10:00:00-06:00"})
	expect(t, "today's visit", status, 201, v)
	visit := int64(obj(v)["id"].(float64))
	signConsent(t, f, int64(other))
	status, _, v = f.api("POST", fmt.Sprintf("/api/v1/appointments/%d/check-in", visit), desk, nil)
	expect(t, "check-in without a driver", status, 422, v)
	if fields(v)["driver_name"] == nil || fields(v)["driver_phone"] == nil {
		t.Fatalf("fields %v", fields(v))
	}
	status, _, v = f.api("POST", fmt.Sprintf("/api/v1/appointments/%d/check-in", visit), desk, screenOK(map[string]any{"driver_name": "Ana Ruiz", "driver_phone": "312-555-0100"}))
	expect(t, "check-in with a driver", status, 200, v)
}

// The plan in the API knows the booked visit: next_visit, no suggested
// slot, no DUE_NOT_BOOKED, and words for a visit booked late.
func TestAPIPlanNextVisit(t *testing.T) {
	f := newFixture(t, fixedClock(march2))
	chicagoClinic(t, f)
	desk := f.token(clinic.RoleFrontDesk)
	pid := newPatient(t, f, desk, "Planner")
	_, _, protocols := f.api("GET", "/api/v1/protocols", desk, nil)
	status, _, v := f.api("POST", fmt.Sprintf("/api/v1/patients/%d/courses", int64(pid)), desk,
		map[string]any{"protocol_id": obj(protocols.([]any)[0])["id"], "started_on": "2026-01-05"})
	expect(t, "course", status, 201, v)
	status, _, v = f.api("POST", fmt.Sprintf("/api/v1/patients/%d/infusions", int64(pid)), desk,
		map[string]any{"date": "2026-02-02", "phase": "maintenance", "dose_mg_per_kg_h": 0.3})
	expect(t, "import", status, 201, v)
	plan := func() map[string]any {
		status, _, v := f.api("GET", fmt.Sprintf("/api/v1/patients/%d/plan", int64(pid)), desk, nil)
		expect(t, "plan", status, 200, v)
		return obj(v)
	}
	hasFlag := func(p map[string]any, code string) bool {
		for _, fl := range p["flags"].([]any) {
			if obj(fl)["code"] == code {
				return true
			}
		}
		return false
	}
	p := plan()
	if p["next_visit"] != nil || p["suggested_slot"] == nil || !hasFlag(p, "DUE_NOT_BOOKED") {
		t.Fatalf("before booking: %v", p)
	}
	status, _, v = f.api("POST", "/api/v1/appointments", desk, map[string]any{"patient_id": pid, "kind": "maintenance", "start": "2026-03-11T09:00:00-05:00"})
	expect(t, "book", status, 201, v)
	p = plan()
	nv, _ := p["next_visit"].(map[string]any)
	if nv == nil || nv["appointment_id"] != obj(v)["id"] || nv["start"] != "2026-03-11T09:00:00-05:00" {
		t.Fatalf("next_visit %v", p["next_visit"])
	}
	if p["suggested_slot"] != nil || hasFlag(p, "DUE_NOT_BOOKED") || p["next_note"] != "Booked 9 days after the due date." {
		t.Fatalf("with the next visit booked: %v", p)
	}
}

// The API reads exactly one JSON value sent as JSON, as UTF-8 text without
// control characters or invisible direction marks, and a required number
// that is missing or null is named, never stored as 0.
func TestAPIStrictJSON(t *testing.T) {
	f := newFixture(t, fixedClock(march2))
	chicagoClinic(t, f)
	desk := f.token(clinic.RoleFrontDesk)
	pid := newPatient(t, f, desk, "Strict")
	raw := func(contentType, body string) (int, any) {
		req, _ := http.NewRequest("POST", f.srv.URL+"/api/v1/appointments", strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("Authorization", "Bearer "+desk)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v any
		b, _ := io.ReadAll(resp.Body)
		decodeJSONBody(t, b, &v)
		checkAgainstOpenAPI(t, "POST", "/api/v1/appointments", resp.StatusCode, v)
		return resp.StatusCode, v
	}
	good := fmt.Sprintf(`{"patient_id":%d,"kind":"consult","start":"2026-03-04T09:00:00-06:00"}`, int64(pid))
	status, v := raw("application/json", good+`garbage{{{`)
	expect(t, "trailing data", status, 400, v)
	status, v = raw("text/plain", good)
	expect(t, "a body sent as text/plain", status, 415, v)
	status, v = raw("application/json", strings.Replace(good, "consult", "cons\xffult", 1))
	expect(t, "invalid UTF-8", status, 400, v)
	status, _, v = f.api("GET", fmt.Sprintf("/api/v1/appointments?from=2026-03-04&to=2026-03-04&patient_id=%d", int64(pid)), desk, nil)
	if status != 200 || len(v.([]any)) != 0 {
		t.Fatalf("something was booked by a refused request: %v", v)
	}
	status, v = raw("application/json; charset=utf-8", good)
	expect(t, "the good request", status, 201, v)

	for name, first := range map[string]string{"a right-to-left override": "Ana\u202eanA", "a bell": "Ana\u0007", "a line break": "Ana\nBell"} {
		status, _, v := f.api("POST", "/api/v1/patients", desk, map[string]any{"first_name": first, "last_name": "Bidi",
			"date_of_birth": "1975-01-01", "condition": "other"})
		expect(t, name+" in a name", status, 422, v)
		if fields(v)["first_name"] == nil {
			t.Fatalf("%s: fields %v", name, fields(v))
		}
	}
	status, _, v = f.api("POST", "/api/v1/patients", desk, map[string]any{"first_name": "Ana", "last_name": "Notes",
		"date_of_birth": "1975-01-01", "condition": "other", "notes": "line one\nline two\ttabbed"})
	expect(t, "line breaks and tabs in notes", status, 201, v)

	patient := f.token(clinic.RolePatient)
	for _, body := range []string{`{"date":"2026-03-01"}`, `{"date":"2026-03-01","pain":null}`} {
		status, _, v := f.api("POST", "/api/v1/me/journal", patient, body)
		expect(t, "journal "+body, status, 422, v)
		if fields(v)["pain"] == nil {
			t.Fatalf("fields %v", fields(v))
		}
	}
	status, _, v = f.api("POST", "/api/v1/me/journal", patient, `{"date":"2026-03-01","pain":0}`)
	expect(t, "a journal entry with no pain", status, 201, v)
	if obj(v)["pain"] != 0.0 {
		t.Fatalf("entry %v", v)
	}
	status, _, v = f.api("POST", fmt.Sprintf("/api/v1/patients/%d/infusions", int64(pid)), desk, `{"date":"2026-02-02","phase":"maintenance"}`)
	expect(t, "an import without its dose", status, 422, v)
	if fields(v)["dose_mg_per_kg_h"] == nil {
		t.Fatalf("fields %v", fields(v))
	}
}

func decodeJSONBody(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := jsonUnmarshal(b, v); err != nil {
		t.Fatalf("not JSON: %s", b)
	}
}

// Sign-in text is bounded before anything is hashed or looked up, and
// such failures are throttled like any other; a success clears only that
// account's failures from that address.
func TestSignInLimitsAndThrottle(t *testing.T) {
	f := newFixture(t, func(c *server.Config) { c.TrustProxyHeaders = true })
	from := func(addr, email, password string) int {
		req, _ := http.NewRequest("POST", f.srv.URL+"/login", strings.NewReader(url.Values{"email": {email}, "password": {password}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", addr)
		resp, err := f.client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	long := strings.Repeat("a", 3000) + "@example.com"
	status, _, v := f.api("POST", "/api/v1/auth/token", "", map[string]string{"email": long, "password": "whatever it is"})
	expect(t, "a 3,000-character email", status, 401, v)
	var got []int
	for i := 0; i < 7; i++ {
		got = append(got, from("10.1.1.1", long, "x"))
	}
	if got[0] != 422 && got[0] != 401 || got[6] != 429 {
		t.Fatalf("3,000-character sign-ins from one address answered %v; want refusals, then 429", got)
	}
	if s := from("10.1.1.2", f.email(clinic.RoleNurse), strings.Repeat("p", 5000)); s != 401 && s != 422 {
		t.Fatalf("a 5,000-character password: %d", s)
	}

	// An attacker at 10.6.6.6 guesses the nurse's password until refused.
	nurse := f.email(clinic.RoleNurse)
	for i := 0; i < 5; i++ {
		from("10.6.6.6", nurse, fmt.Sprintf("guess %d", i))
	}
	if s := from("10.6.6.6", nurse, "guess 5"); s != 429 {
		t.Fatalf("the sixth guess: %d; want 429", s)
	}
	// The real nurse signs in from the ward.
	if s := from("10.2.2.2", nurse, demo.Password); s != http.StatusSeeOther {
		t.Fatalf("the nurse's own sign-in: %d", s)
	}
	// The attacker gets no fresh guesses.
	if s := from("10.6.6.6", nurse, "guess 6"); s != 429 {
		t.Fatalf("after the nurse signed in elsewhere, the attacker's guess: %d; want still 429", s)
	}
	var rows int
	su, err := pgx.Connect(context.Background(), f.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer su.Close(context.Background())
	su.QueryRow(context.Background(), `SELECT count(*) FROM login_failures WHERE length(email) > 254`).Scan(&rows)
	if rows != 0 {
		t.Fatalf("%d overlong emails stored", rows)
	}
}

// A clinic whose zone cannot be read answers 503, never times in UTC.
func TestClinicZoneUnreadableIs503(t *testing.T) {
	f := newFixture(t)
	page := f.signIn(clinic.RoleFrontDesk)
	desk := f.token(clinic.RoleFrontDesk)
	su, err := pgx.Connect(context.Background(), f.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer su.Close(context.Background())
	if _, err := su.Exec(context.Background(), `UPDATE clinic SET timezone = 'Nowhere/Atlantis'`); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/desk", "/desk/calendar", "/desk/misfits", "/desk/work"} {
		if resp, _ := f.get(page, path); resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("%s with the zone unreadable: %d; want 503", path, resp.StatusCode)
		}
	}
	status, _, v := f.api("GET", "/api/v1/appointments?from=2026-03-02&to=2026-03-03", desk, nil)
	expect(t, "appointments with the zone unreadable", status, 503, v)
}

// Reading the calendar address never creates one; turning it off stays off.
func TestCalendarFeedOffStaysOff(t *testing.T) {
	f := newFixture(t)
	patient := f.token(clinic.RolePatient)
	status, _, v := f.api("POST", "/api/v1/me/calendar", patient, nil)
	expect(t, "turn on", status, 201, v)
	feed := obj(v)["url"].(string)
	status, _, v = f.api("DELETE", "/api/v1/me/calendar", patient, nil)
	expect(t, "turn off", status, 204, v)
	for i := 0; i < 2; i++ {
		status, _, v = f.api("GET", "/api/v1/me/calendar", patient, nil)
		expect(t, "read", status, 200, v)
		if obj(v)["enabled"] != false || obj(v)["url"] != nil {
			t.Fatalf("a read after turning it off: %v", v)
		}
	}
	resp, err := http.Get(feed)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("the old address after turning it off: %d", resp.StatusCode)
	}
	// On again: a new address, the old one still dead.
	status, _, v = f.api("POST", "/api/v1/me/calendar", patient, nil)
	expect(t, "turn on again", status, 201, v)
	if obj(v)["url"] == feed {
		t.Fatal("the old address came back")
	}
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// Text of 3,000 characters in any field of any request is refused (or
// stored, where it fits) with a 4xx, never a 500 from an index or a CHECK.
func TestLongTextEverywhere(t *testing.T) {
	f := newFixture(t, fixedClock(march2))
	admin := chicagoClinic(t, f)
	desk, physician, patient := f.token(clinic.RoleFrontDesk), f.token(clinic.RolePhysician), f.token(clinic.RolePatient)
	pid := int64(newPatient(t, f, desk, "Longtext"))
	status, _, v := f.api("POST", "/api/v1/appointments", desk, map[string]any{"patient_id": pid, "kind": "maintenance", "start": "2026-03-02T10:00:00-06:00"})
	expect(t, "book", status, 201, v)
	appt := int64(obj(v)["id"].(float64))
	long := strings.Repeat("ä", 3000)
	requests := []struct {
		method, path, token string
		body                map[string]any
	}{
		{"POST", "/api/v1/auth/token", "", map[string]any{"email": "a@b.example", "password": "x"}},
		{"POST", "/api/v1/patients", desk, map[string]any{"first_name": "A", "last_name": "B", "date_of_birth": "1970-01-01", "condition": "other",
			"phone": "", "email": "", "driver_name": "", "driver_phone": "", "notes": ""}},
		{"POST", "/api/v1/appointments", physician, map[string]any{"patient_id": pid, "kind": "maintenance", "start": "2026-03-20T09:00:00-05:00", "additional_reason": "x"}},
		{"PUT", "/api/v1/clinic", admin, map[string]any{"name": "X", "timezone": "America/Chicago", "slot_minutes": 15}},
		{"POST", "/api/v1/closures", admin, map[string]any{"date": "2026-04-01", "reason": "x"}},
		{"POST", fmt.Sprintf("/api/v1/appointments/%d/cancel", appt), desk, map[string]any{"reason": "x"}},
		{"POST", fmt.Sprintf("/api/v1/appointments/%d/check-in", appt), desk, map[string]any{"driver_name": "x", "driver_phone": "1"}},
		{"POST", "/api/v1/me/journal", patient, map[string]any{"date": "2026-03-01", "pain": 3, "breakthrough_medication": "", "note": ""}},
		{"POST", fmt.Sprintf("/api/v1/patients/%d/loading-series", pid), desk, map[string]any{"protocol_id": 1, "start_date": "2026-03-10", "preferred_time": "09:00", "dry_run": true}},
		{"PUT", fmt.Sprintf("/api/v1/patients/%d/plan", pid), physician, map[string]any{"note": "x"}},
	}
	for _, rq := range requests {
		for field, value := range rq.body {
			if _, isText := value.(string); !isText {
				continue
			}
			body := map[string]any{}
			for k, v := range rq.body {
				body[k] = v
			}
			body[field] = long
			status, _, v := f.api(rq.method, rq.path, rq.token, body)
			if status >= 500 {
				t.Errorf("%s %s with 3,000 characters in %s: %d %v", rq.method, rq.path, field, status, v)
			}
		}
	}
	for _, path := range []string{"/api/v1/patients?q=" + url.QueryEscape(long), "/api/v1/availability?minutes=90&from=" + url.QueryEscape(long) + "&to=2026-03-03"} {
		if status, _, v := f.api("GET", path, desk, nil); status >= 500 {
			t.Errorf("GET %s…: %d %v", path[:30], status, v)
		}
	}
}

// The pages of the gates: the series wizard says why its dates moved after
// a consultation; the physician's additional infusion needs a reason; the
// clinic settings keep the booking horizon.
func TestPageSafetyGates(t *testing.T) {
	now := nextMonday(t)
	f := newFixture(t, fixedClock(now))
	ctx := context.Background()
	sched, _ := f.db.Schedule(ctx)
	today := clinic.DateOf(now, sched.Loc)
	p, err := f.db.CreatePatient(ctx, clinic.Patient{FirstName: "Cora", LastName: "Consult", DateOfBirth: clinic.D(1966, 6, 6),
		Condition: clinic.ConditionCRPS}, today)
	if err != nil {
		t.Fatal(err)
	}
	consultDay := today.AddDays(3) // a Thursday
	if _, _, err := f.db.Book(ctx, clinic.Booking{PatientID: p.ID, Kind: clinic.KindConsult, Start: consultDay.At(9*60, sched.Loc)}, now); err != nil {
		t.Fatal(err)
	}
	protocols, _ := f.db.Protocols(ctx)
	desk := f.signIn(clinic.RoleFrontDesk)
	status, body := f.post(desk, fmt.Sprintf("/desk/patients/%d/series/propose", p.ID), url.Values{
		"protocol_id": {fmt.Sprint(protocols[0].ID)}, "start_date": {today.AddDays(1).String()}, "preferred": {"09:00"}})
	if status != 200 || !strings.Contains(body, `id="series-moved"`) || !strings.Contains(body, "after the patient&#39;s consultation") {
		t.Fatalf("the wizard after a consultation: %d, no word on why the dates moved", status)
	}
	_, rest, _ := strings.Cut(body, `name="date.1" value="`)
	if first, err := clinic.ParseDate(rest[:min(10, len(rest))]); err != nil || first.Before(consultDay.AddDays(1)) {
		t.Fatalf("the proposal starts %q, before the day after the consultation (%s)", rest[:min(10, len(rest))], consultDay)
	}

	physician := f.signIn(clinic.RolePhysician)
	path := fmt.Sprintf("/physician/patients/%d/additional", p.ID)
	form := url.Values{"date": {today.AddDays(8).String()}, "time": {"09:00"}}
	if status, body := f.post(physician, path, form); status != 422 || !strings.Contains(body, `id="additional_reason-error"`) {
		t.Fatalf("an additional infusion without a reason: %d", status)
	}
	form.Set("additional_reason", "Flare after a fall")
	if status, _ := f.post(physician, path, form); status != http.StatusSeeOther && status != 200 {
		t.Fatalf("an additional infusion with a reason: %d", status)
	}
	visits, _ := f.db.PatientVisits(ctx, p.ID)
	found := false
	for _, v := range visits {
		found = found || v.AdditionalReason == "Flare after a fall"
	}
	if !found {
		t.Fatal("the additional infusion was not booked")
	}
	if status, _ := f.post(desk, path, form); status != http.StatusForbidden {
		t.Fatalf("the desk on the physician's form: %d", status)
	}

	admin := f.signIn(clinic.RoleAdmin)
	_, page := f.get(admin, "/admin/clinic")
	if !strings.Contains(page, `name="booking_horizon_days"`) || !strings.Contains(page, `value="540"`) {
		t.Fatal("the settings page has no booking horizon")
	}
}
