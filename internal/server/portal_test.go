package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	ical "github.com/emersion/go-ical"
	"github.com/go-chi/chi/v5"
	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/server"
)

var inviteLink = regexp.MustCompile(`http://[^"]+/invite/[A-Za-z0-9_-]+`)

// invitePatient creates an invitation on the desk's patient page and
// returns the link shown there.
func invitePatient(t *testing.T, f *fixture, desk *http.Client, patientID int64) string {
	t.Helper()
	status, page := f.post(desk, fmt.Sprintf("/desk/patients/%d/invite", patientID), url.Values{})
	link := inviteLink.FindString(page)
	if status != http.StatusOK || link == "" {
		t.Fatalf("invite: %d, no link on the page", status)
	}
	return link
}

// The desk invites; the link works once, within 72 hours; the patient sets
// a password and is signed in; revoking access ends it all.
func TestPortalInvitation(t *testing.T) {
	clock := time.Now()
	f := newFixture(t, func(c *server.Config) { c.Now = func() time.Time { return clock } })
	ctx := context.Background()
	p, err := f.db.CreatePatient(ctx, clinic.Patient{FirstName: "Ivy", LastName: "Invitee", DateOfBirth: clinic.D(1980, 2, 2),
		Condition: clinic.ConditionOther, Email: "ivy@example.com"}, clinic.D(2026, 1, 1))
	if err != nil {
		t.Fatal(err)
	}
	desk := f.signIn(clinic.RoleFrontDesk)
	link := invitePatient(t, f, desk, p.ID)
	path := strings.TrimPrefix(link, f.srv.URL)
	anon := f.client()
	if resp, page := f.get(anon, path); resp.StatusCode != 200 || !strings.Contains(page, "Welcome, Ivy") {
		t.Fatalf("invitation page: %d", resp.StatusCode)
	}
	if status, page := f.post(anon, path, url.Values{"password": {"short"}, "password2": {"short"}}); status != 422 || !strings.Contains(page, `id="password-error"`) {
		t.Fatalf("short password: %d", status)
	}
	if status, page := f.post(anon, path, url.Values{"password": {"a long enough password"}, "password2": {"another long password"}}); status != 422 || !strings.Contains(page, `id="password2-error"`) {
		t.Fatalf("passwords differ: %d", status)
	}
	resp := f.postForm(anon, path, url.Values{"password": {"ivy's portal password"}, "password2": {"ivy's portal password"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/portal" {
		t.Fatalf("accept: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, page := f.get(anon, "/portal"); resp.StatusCode != 200 || !strings.Contains(page, "My visits") {
		t.Fatalf("signed in after accepting: %d", resp.StatusCode)
	}
	// Used once: refused after.
	if resp, _ := f.get(f.client(), path); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("reused link: %d", resp.StatusCode)
	}
	// The patient signs in with the password.
	c := f.client()
	if resp := f.postForm(c, "/login", url.Values{"email": {"ivy@example.com"}, "password": {"ivy's portal password"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in: %d", resp.StatusCode)
	}
	// A new link expires after 72 hours.
	late := invitePatient(t, f, desk, p.ID)
	clock = clock.Add(72*time.Hour + time.Minute)
	if resp, _ := f.get(f.client(), strings.TrimPrefix(late, f.srv.URL)); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("expired link: %d", resp.StatusCode)
	}
	// Revoking ends the sessions and the account.
	if status, _ := f.post(desk, fmt.Sprintf("/desk/patients/%d/revoke-portal", p.ID), url.Values{}); status != http.StatusSeeOther {
		t.Fatalf("revoke: %d", status)
	}
	if resp, _ := f.get(c, "/portal"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("after revoking, the session still opens the portal: %d", resp.StatusCode)
	}
	// The API's invitation.
	status, _, v := f.api("POST", fmt.Sprintf("/api/v1/patients/%d/invite", p.ID), f.token(clinic.RoleFrontDesk), nil)
	expect(t, "API invite", status, 201, v)
	exp, _ := time.Parse(time.RFC3339, obj(v)["expires_at"].(string))
	if d := exp.Sub(clock); d < 71*time.Hour || d > 73*time.Hour || !strings.Contains(obj(v)["url"].(string), "/invite/") {
		t.Fatalf("API invite %v", v)
	}
	status, _, v = f.api("POST", "/api/v1/patients/999999/invite", f.token(clinic.RoleFrontDesk), nil)
	expect(t, "API invite unknown patient", status, 404, v)
}

// portalPair makes two portal patients, each with an appointment, an
// infusion and a request; it returns patient A's signed-in client and
// token, and B's record.
func portalPair(t *testing.T, f *fixture) (*http.Client, string, clinic.Patient, clinic.Patient, clinic.Appointment) {
	ctx := context.Background()
	sched, _ := f.db.Schedule(ctx)
	days := openDays(t, f, 2)
	protocols, _ := f.db.Protocols(ctx)
	var patients []clinic.Patient
	var appts []clinic.Appointment
	for i, name := range []string{"Aster", "Bramble"} {
		p, err := f.db.CreatePatient(ctx, clinic.Patient{FirstName: name, LastName: name + "son", DateOfBirth: clinic.D(1970, 1, 1+i),
			Condition: clinic.ConditionOther, Email: strings.ToLower(name) + "@example.com"}, clinic.D(2026, 1, 1))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.db.CreateCourse(ctx, p.ID, protocols[0].ID, clinic.DateOf(time.Now(), sched.Loc).AddDays(-30)); err != nil {
			t.Fatal(err)
		}
		if _, err := f.db.ImportInfusion(ctx, p.ID, clinic.DateOf(time.Now(), sched.Loc).AddDays(-20), nil, clinic.PhaseMaintenance, 0.3, time.Now()); err != nil {
			t.Fatal(err)
		}
		a, _, err := f.db.Book(ctx, clinic.Booking{PatientID: p.ID, Kind: clinic.KindMaintenance, Start: days[i].At(13*60, sched.Loc)}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.db.CreateUser(ctx, clinic.NewUser{Email: p.Email, Name: p.FullName(), Role: string(clinic.RolePatient), Password: "placeholder password",
			PatientID: &p.ID}, demoHash()); err != nil {
			t.Fatal(err)
		}
		if _, err := f.db.CreateRequest(ctx, p.ID, a.ID, clinic.RequestMove, "Mornings suit me", time.Now()); err != nil {
			t.Fatal(err)
		}
		patients, appts = append(patients, p), append(appts, a)
	}
	c := f.client()
	if resp := f.postForm(c, "/login", url.Values{"email": {patients[0].Email}, "password": {"infusiondesk-demo"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in: %d", resp.StatusCode)
	}
	status, _, v := f.api("POST", "/api/v1/auth/token", "", map[string]string{"email": patients[0].Email, "password": "infusiondesk-demo"})
	expect(t, "token", status, 200, v)
	return c, obj(v)["token"].(string), patients[0], patients[1], appts[1]
}

// Signed in as patient A, every route that takes an id — pages and API,
// with B's ids — answers 403 or 404 and shows none of B's data.
func TestPortalIsolation(t *testing.T) {
	f := newFixture(t)
	c, token, a, b, bAppt := portalPair(t, f)
	ctx := context.Background()
	bInfusions, _ := f.db.PatientInfusions(ctx, b.ID)
	bSeries := int64(1)
	reqs, _ := f.db.Requests(ctx, &b.ID)
	ids := map[string]string{
		"appointments": fmt.Sprint(bAppt.ID), "patients": fmt.Sprint(b.ID), "infusions": fmt.Sprint(bInfusions[0].ID),
		"series": fmt.Sprint(bSeries), "requests": fmt.Sprint(reqs[0].ID), "users": "1", "chairs": "1", "protocols": "1",
	}
	secrets := []string{b.LastName, b.MRN, b.Email}
	routes := 0
	err := chi.Walk(server.New(nil, server.DefaultConfig(), testLogger(t)).Routes(), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if !strings.Contains(route, "{") || strings.HasPrefix(route, "/static") {
			return nil
		}
		path := route
		segs := strings.Split(route, "/")
		for i, s := range segs {
			switch s {
			case "{id}":
				segs[i] = ids[segs[i-1]]
			case "{file}":
				segs[i] = fmt.Sprint(bAppt.ID) + ".ics"
			case "{token}":
				segs[i] = "not-a-real-token"
			case "{date}":
				segs[i] = "2026-03-11"
			case "{action}":
				segs[i] = "cancel"
			}
		}
		path = strings.Join(segs, "/")
		routes++
		req, _ := http.NewRequest(method, f.srv.URL+path, strings.NewReader(`{"reason":"x","status":"ended","date":"2026-01-01"}`))
		client := c
		if strings.HasPrefix(path, "/api/") {
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/json")
			client = http.DefaultClient
		} else {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s %s as patient A: %d; want 403 or 404", method, path, resp.StatusCode)
		}
		for _, secret := range secrets {
			if strings.Contains(string(body), secret) {
				t.Errorf("%s %s shows patient B's %q", method, path, secret)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if routes < 40 {
		t.Fatalf("only %d id-taking routes walked", routes)
	}
	sched, _ := f.db.Schedule(ctx)
	today := clinic.DateOf(time.Now(), sched.Loc).String()
	// A's own: the portal and /me work on A only.
	_, page := f.get(c, "/portal")
	if !strings.Contains(page, "Mornings suit me") || strings.Contains(page, b.LastName) {
		t.Fatal("the portal does not show A's own request, or shows B")
	}
	status, _, v := f.api("GET", "/api/v1/me/appointments", token, nil)
	expect(t, "me/appointments", status, 200, v)
	for _, x := range v.([]any) {
		if int64(obj(x)["patient_id"].(float64)) != a.ID {
			t.Fatalf("me/appointments lists %v", x)
		}
	}
	// Extra fields naming another patient are ignored.
	status, _, v = f.api("POST", "/api/v1/me/journal", token, map[string]any{"date": today, "pain": 6, "patient_id": b.ID})
	expect(t, "me/journal", status, 201, v)
	if j, _ := f.db.Journal(ctx, b.ID, clinic.D(2020, 1, 1)); len(j) != 0 {
		t.Fatal("a journal entry landed on patient B")
	}
	status, _, v = f.api("POST", "/api/v1/me/relief", token, map[string]any{"status": "holding", "date": today, "infusion_id": bInfusions[0].ID})
	expect(t, "me/relief", status, 201, v)
	if rows, _ := f.db.PatientInfusions(ctx, b.ID); rows[0].Relief != nil {
		t.Fatal("patient A's relief report landed on patient B's infusion")
	}
	status, _, v = f.api("POST", "/api/v1/me/journal", token, map[string]any{"date": "2099-01-01", "pain": 11})
	expect(t, "bad journal", status, 422, v)
	// Staff API routes without ids refuse the patient.
	for _, p := range []string{"/api/v1/appointments?from=2026-01-01&to=2026-01-02", "/api/v1/patients?q=bram", "/api/v1/chairs", "/api/v1/users"} {
		status, _, v := f.api("GET", p, token, nil)
		expect(t, p, status, 403, v)
	}
}

// The private calendar feed, parsed back by an iCalendar library: visits at
// 09:00 in Chicago across the 2026-03-08 change, a moved visit keeps its UID
// with a higher SEQUENCE, a cancelled one is marked; a replaced address
// stops working.
func TestPortalCalendarFeed(t *testing.T) {
	f := newFixture(t, fixedClock(march2))
	chicagoClinic(t, f)
	chairA, _ := newChairs(t, f)
	ctx := context.Background()
	p, err := f.db.CreatePatient(ctx, clinic.Patient{FirstName: "Cal", LastName: "Endar", DateOfBirth: clinic.D(1980, 2, 2),
		Condition: clinic.ConditionOther, Email: "cal@example.com"}, clinic.D(2026, 1, 1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.CreateUser(ctx, clinic.NewUser{Email: p.Email, Name: p.FullName(), Role: string(clinic.RolePatient), Password: "placeholder password", PatientID: &p.ID}, demoHash()); err != nil {
		t.Fatal(err)
	}
	desk := f.token(clinic.RoleFrontDesk)
	var ids []int64
	for i, start := range []string{"2026-03-06T09:00:00-06:00", "2026-03-09T09:00:00-05:00", "2026-03-10T09:00:00-05:00"} {
		kind := "consult" // one next maintenance infusion at a time
		if i == 0 {
			kind = "maintenance"
		}
		status, _, v := f.api("POST", "/api/v1/appointments", desk, map[string]any{"patient_id": p.ID, "kind": kind, "start": start, "chair_id": chairA})
		expect(t, "book "+start, status, 201, v)
		ids = append(ids, int64(obj(v)["id"].(float64)))
	}
	status, _, v := f.api("POST", fmt.Sprintf("/api/v1/appointments/%d/reschedule", ids[1]), desk, map[string]any{"start": "2026-03-09T11:00:00-05:00", "version": 1})
	expect(t, "move", status, 200, v)
	status, _, v = f.api("POST", fmt.Sprintf("/api/v1/appointments/%d/cancel", ids[2]), desk, map[string]any{"reason": "Holiday"})
	expect(t, "cancel", status, 200, v)

	_, _, tv := f.api("POST", "/api/v1/auth/token", "", map[string]string{"email": p.Email, "password": "infusiondesk-demo"})
	token := obj(tv)["token"].(string)
	status, _, v = f.api("GET", "/api/v1/me/calendar", token, nil)
	expect(t, "me/calendar before it is on", status, 200, v)
	if obj(v)["enabled"] != false || obj(v)["url"] != nil {
		t.Fatalf("a read created a calendar address: %v", v)
	}
	status, _, v = f.api("POST", "/api/v1/me/calendar", token, nil)
	expect(t, "turn the calendar on", status, 201, v)
	feed := obj(v)["url"].(string)
	status, _, again := f.api("GET", "/api/v1/me/calendar", token, nil)
	if status != 200 || obj(again)["url"] != feed {
		t.Fatal("the address changes between reads")
	}
	resp, err := http.Get(feed)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/calendar") {
		t.Fatalf("feed: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	cal, err := ical.NewDecoder(strings.NewReader(string(body))).Decode()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, e := range cal.Events() {
		uid, _ := e.Props.Text(ical.PropUID)
		start, err := e.DateTimeStart(nil)
		if err != nil {
			t.Fatal(err)
		}
		status, _ := e.Props.Text(ical.PropStatus)
		seq := ""
		if p := e.Props.Get(ical.PropSequence); p != nil {
			seq = p.Value
		}
		got[uid] = start.UTC().Format(time.RFC3339) + " " + status + " " + seq
		if e.Props.Get(ical.PropDateTimeStart).Params.Get(ical.ParamTimezoneID) != "America/Chicago" {
			t.Errorf("%s without the clinic's TZID", uid)
		}
	}
	host := strings.TrimPrefix(f.srv.URL, "http://")
	want := map[string]string{
		fmt.Sprintf("appointment-%d@%s", ids[0], host): "2026-03-06T15:00:00Z CONFIRMED 1",
		fmt.Sprintf("appointment-%d@%s", ids[1], host): "2026-03-09T16:00:00Z CONFIRMED 2",
		fmt.Sprintf("appointment-%d@%s", ids[2], host): "2026-03-10T14:00:00Z CANCELLED 2",
	}
	for uid, w := range want {
		if got[uid] != w {
			t.Errorf("%s: %q; want %q", uid, got[uid], w)
		}
	}
	// One visit as a download, from the portal.
	c := f.client()
	f.postForm(c, "/login", url.Values{"email": {p.Email}, "password": {"infusiondesk-demo"}})
	if resp, page := f.get(c, fmt.Sprintf("/portal/appointments/%d.ics", ids[0])); resp.StatusCode != 200 || strings.Count(page, "BEGIN:VEVENT") != 1 {
		t.Fatalf("one visit's .ics: %d", resp.StatusCode)
	}
	// A new address; the old one stops working.
	if resp := f.postForm(c, "/portal/calendar/renew", url.Values{}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("renew: %d", resp.StatusCode)
	}
	if resp, _ := http.Get(feed); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("old address after renewing: %d", resp.StatusCode)
	}
}

// A patient's request reaches the desk's list; the answer reaches the
// patient. The journal page takes entries and names mistakes.
func TestPortalRequestsAndJournal(t *testing.T) {
	f := newFixture(t)
	c, _, a, _, _ := portalPair(t, f)
	ctx := context.Background()
	visits, _ := f.db.PatientVisits(ctx, a.ID)
	desk := f.signIn(clinic.RoleFrontDesk)
	if status, _ := f.post(c, "/portal/requests", url.Values{"appointment_id": {fmt.Sprint(visits[0].ID)}, "kind": {"cancel"}, "message": {" "}}); status != 422 {
		t.Fatalf("empty message: %d", status)
	}
	if status, _ := f.post(c, "/portal/requests", url.Values{"appointment_id": {fmt.Sprint(visits[0].ID)}, "kind": {"cancel"}, "message": {"I have a cold"}}); status != http.StatusSeeOther {
		t.Fatalf("request: %d", status)
	}
	_, page := f.get(desk, "/desk/requests")
	if !strings.Contains(page, "I have a cold") || !strings.Contains(page, "Mornings suit me") {
		t.Fatal("the desk does not see the requests")
	}
	reqs, _ := f.db.Requests(ctx, &a.ID)
	if status, _ := f.post(desk, fmt.Sprintf("/desk/requests/%d/answer", reqs[0].ID), url.Values{"answer": {""}}); status != 422 {
		t.Fatalf("empty answer: %d", status)
	}
	if status, _ := f.post(desk, fmt.Sprintf("/desk/requests/%d/answer", reqs[0].ID), url.Values{"answer": {"Cancelled; get well soon"}}); status != http.StatusSeeOther {
		t.Fatalf("answer: %d", status)
	}
	if status, _ := f.post(desk, fmt.Sprintf("/desk/requests/%d/answer", reqs[0].ID), url.Values{"answer": {"Again"}}); status != http.StatusConflict {
		t.Fatalf("answering twice: %d", status)
	}
	if _, page := f.get(c, "/portal"); !strings.Contains(page, "Cancelled; get well soon") {
		t.Fatal("the patient does not see the answer")
	}
	sched, _ := f.db.Schedule(ctx)
	today := clinic.DateOf(time.Now(), sched.Loc)
	if status, page := f.post(c, "/portal/journal", url.Values{"date": {today.AddDays(1).String()}, "pain": {"12"}}); status != 422 ||
		!strings.Contains(page, `id="date-error"`) || !strings.Contains(page, `id="pain-error"`) {
		t.Fatalf("bad journal entry: %d", status)
	}
	if status, _ := f.post(c, "/portal/journal", url.Values{"date": {today.String()}, "pain": {"5"}, "sleep": {"6"}, "breakthrough_medication": {"ibuprofen 400 mg"}}); status != http.StatusSeeOther {
		t.Fatalf("journal entry: %d", status)
	}
	if _, page := f.get(c, "/portal/journal"); !strings.Contains(page, "<polyline") {
		t.Fatal("no chart with an entry")
	}
	if _, page := f.get(desk, fmt.Sprintf("/desk/patients/%d", a.ID)); !strings.Contains(page, "ibuprofen 400 mg") {
		t.Fatal("the desk does not see the journal")
	}
}
