package server_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/mail"
	"github.com/infusiondesk/infusiondesk/internal/mail/mailtest"
	"github.com/infusiondesk/infusiondesk/internal/postgres"
	"github.com/infusiondesk/infusiondesk/internal/server"
	"github.com/infusiondesk/infusiondesk/internal/sms"
	"github.com/infusiondesk/infusiondesk/internal/sms/smstest"
	"github.com/jackc/pgx/v5"
)

// deliver sends the fixture's messages by email to a real SMTP server on
// loopback (texts are off) until the test ends, with links to the
// fixture's server; now is the workers' clock.
func (f *fixture) deliver(t *testing.T, now func() time.Time) *mailtest.Inbox {
	t.Helper()
	in := mailtest.Start(t, "127.0.0.1:0")
	cfg, err := mail.ParseURL(in.URL(), "Desert Bloom <desk@desertbloom.example>")
	if err != nil {
		t.Fatal(err)
	}
	run, err := f.db.StartDelivery(context.Background(), postgres.Delivery{Email: mail.NewSender(cfg), SMSOff: "SMS_API_BASE is not set.",
		BaseURL: f.srv.URL, RetryBase: 100 * time.Millisecond, RetryMax: time.Second, PollInterval: 100 * time.Millisecond, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		run.Stop(ctx)
	})
	return in
}

var visitLink = regexp.MustCompile(`https?://[^\s"<>]+/v/[A-Za-z0-9_-]+`)

// yesterdayAt is a clinic-local time yesterday in the demo's Phoenix:
// always past (River runs what is due by the real clock), always a day.
func yesterdayAt(t *testing.T, minutes int) time.Time {
	loc, err := time.LoadLocation("America/Phoenix")
	if err != nil {
		t.Fatal(err)
	}
	return clinic.DateOf(time.Now(), loc).AddDays(-1).At(clinic.Clock(minutes), loc)
}

// aWeekOut is 08:00 on the first weekday at least a week after now, in a
// chair of its own.
func aWeekOut(t *testing.T, f *fixture, now time.Time) (time.Time, int64) {
	t.Helper()
	sched, err := f.db.Schedule(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	d := clinic.DateOf(now, sched.Loc).AddDays(7)
	for d.Weekday() < time.Monday || d.Weekday() > time.Thursday || !sched.Open(d) {
		d = d.AddDays(1)
	}
	chair, err := f.db.SaveChair(context.Background(), clinic.Chair{Name: "Recliner 9", Position: 90, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	return d.At(8*60, sched.Loc), chair.ID
}

// The message settings and channels through the API, the message log of
// a booking, and the desk's failed messages with their retry.
func TestAPIMessages(t *testing.T) {
	now := yesterdayAt(t, 10*60)
	f := newFixture(t, fixedClock(now))
	in := f.deliver(t, func() time.Time { return now })
	desk, admin := f.token(clinic.RoleFrontDesk), f.token(clinic.RoleAdmin)

	status, _, v := f.api("GET", "/api/v1/clinic", desk, nil)
	expect(t, "GET /clinic", status, 200, v)
	if r := obj(obj(v)["reminders"]); fmt.Sprint(r["offsets_hours"]) != "[72 24]" || r["email"] != true || r["sms"] != true {
		t.Fatalf("default reminders: %v", r)
	}
	put := func(reminders any) (int, any) {
		body := map[string]any{"name": obj(v)["name"], "timezone": obj(v)["timezone"], "slot_minutes": obj(v)["slot_minutes"],
			"hours": obj(v)["hours"], "phone": "(602) 555-0100", "reminders": reminders}
		status, _, got := f.api("PUT", "/api/v1/clinic", admin, body)
		return status, got
	}
	status, got := put(map[string]any{"offsets_hours": []int{0, 24}, "email": true, "sms": false})
	expect(t, "PUT bad reminders", status, 422, got)
	if !strings.Contains(fmt.Sprint(fields(got)["reminders.offsets_hours"]), "1 to 720 hours") {
		t.Fatalf("fields: %v", fields(got))
	}
	status, got = put(map[string]any{"offsets_hours": []int{24, 48, 24}, "email": true, "sms": true})
	expect(t, "PUT reminders", status, 200, got)
	if r := obj(obj(got)["reminders"]); fmt.Sprint(r["offsets_hours"]) != "[48 24]" || r["sms"] != true || obj(got)["phone"] != "(602) 555-0100" {
		t.Fatalf("saved: %v", got)
	}

	// A patient's number is stored in E.164; one that cannot be is refused,
	// as is a channel without its detail.
	newP := func(body map[string]any) (int, any) {
		base := map[string]any{"first_name": "Lena", "last_name": "Okafor", "date_of_birth": "1975-03-04", "condition": "neuropathic"}
		for k, x := range body {
			base[k] = x
		}
		status, _, got := f.api("POST", "/api/v1/patients", desk, base)
		return status, got
	}
	status, got = newP(map[string]any{"phone": "555-01"})
	expect(t, "POST bad phone", status, 422, got)
	if !strings.Contains(fmt.Sprint(fields(got)["phone"]), "area code") {
		t.Fatalf("fields: %v", fields(got))
	}
	status, got = newP(map[string]any{"contact_by": []string{"sms"}})
	expect(t, "POST sms without phone", status, 422, got)
	status, got = newP(map[string]any{"email": "lena@example.com", "phone": "602.555.0177"})
	expect(t, "POST patient", status, 201, got)
	if obj(got)["phone"] != "+16025550177" || fmt.Sprint(obj(got)["contact_by"]) != "[email sms]" || obj(got)["sms_opted_out_at"] != nil {
		t.Fatalf("patient: %v", got)
	}
	patientID := obj(got)["id"].(float64)

	start, chair := aWeekOut(t, f, now)
	status, _, booked := f.api("POST", "/api/v1/appointments", desk, map[string]any{"patient_id": patientID, "kind": "consult",
		"start": start.Format(time.RFC3339), "chair_id": chair})
	expect(t, "POST /appointments", status, 201, booked)
	id := int64(obj(booked)["id"].(float64))
	if obj(booked)["confirmed_at"] != nil {
		t.Fatalf("confirmed at booking: %v", booked)
	}
	in.Wait(t, 1, 10*time.Second)
	var log []any
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		status, _, lv := f.api("GET", fmt.Sprintf("/api/v1/appointments/%d/messages", id), desk, nil)
		expect(t, "GET messages", status, 200, lv)
		log = lv.([]any)
		if got := messageSummary(log); got == "confirmation/email/sent confirmation/sms/dropped reminder/email/scheduled reminder/email/scheduled reminder/sms/scheduled reminder/sms/scheduled" {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("log: %s", got)
		}
	}
	for _, m := range log {
		m := obj(m)
		if _, err := time.Parse(time.RFC3339, m["scheduled_for"].(string)); err != nil {
			t.Errorf("scheduled_for %v", m["scheduled_for"])
		}
		if m["channel"] == "sms" && m["status"] == "dropped" && !strings.Contains(fmt.Sprint(m["error"]), "SMS_API_BASE is not set") {
			t.Errorf("the dropped text does not say texts are off: %v", m) // the log says why
		}
		if m["kind"] == "reminder" && m["scheduled_for"] != start.Add(-48*time.Hour).UTC().Format(time.RFC3339) &&
			m["scheduled_for"] != start.Add(-24*time.Hour).UTC().Format(time.RFC3339) {
			t.Errorf("reminder at %v", m["scheduled_for"])
		}
	}
	staffNurse := f.token(clinic.RoleNurse)
	if status, _, _ := f.api("GET", fmt.Sprintf("/api/v1/appointments/%d/messages", id), staffNurse, nil); status != 200 {
		t.Fatalf("a nurse reads the log: %d", status)
	}
	if status, _, _ := f.api("GET", "/api/v1/appointments/999999/messages", desk, nil); status != 404 {
		t.Fatalf("no such appointment: %d", status)
	}

	// Retrying what did not fail is refused; a failed message is listed for
	// the desk, counted on its home page, and goes out once retried.
	sent := int64(obj(log[0])["id"].(float64))
	status, _, got = f.api("POST", fmt.Sprintf("/api/v1/messages/%d/retry", sent), desk, nil)
	expect(t, "retry a sent message", status, 409, got)
	conn, err := pgx.Connect(context.Background(), f.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), `UPDATE messages SET status = 'failed', sent_at = NULL, error = 'mail: 550 mailbox unavailable' WHERE id = $1`, sent); err != nil {
		t.Fatal(err)
	}
	c := f.signIn(clinic.RoleFrontDesk)
	if _, page := f.get(c, "/desk"); !strings.Contains(page, "1 message to patients could not be sent") {
		t.Fatal("the desk home does not count the failed message")
	} else if !regexp.MustCompile(`href="/desk/messages">\s*Messages\s*<span class="nav-count"><span class="visually-hidden">: </span>1<`).MatchString(page) {
		t.Fatal("the desk's navigation does not count the failed message")
	}
	if _, page := f.get(c, "/desk/messages"); !strings.Contains(page, "Lena Okafor") || !strings.Contains(page, "550 mailbox unavailable") {
		t.Fatal("the failed message is not listed")
	}
	if _, page := f.get(c, fmt.Sprintf("/desk/appointments/%d", id)); !strings.Contains(page, `id="message-log"`) || !strings.Contains(page, "Send again") {
		t.Fatal("the appointment page does not show the log with its retry")
	}
	resp := f.postForm(c, fmt.Sprintf("/desk/messages/%d/retry", sent), url.Values{})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("retry: %d", resp.StatusCode)
	}
	got2 := in.Wait(t, 2, 20*time.Second)
	if got2[0].MessageID != got2[1].MessageID {
		t.Fatalf("the retried message is not the same message: %q %q", got2[0].MessageID, got2[1].MessageID)
	}
	if _, page := f.get(c, "/desk/messages"); !strings.Contains(page, "No failed messages") {
		t.Fatal("still listed after the retry")
	}
}

func messageSummary(log []any) string {
	var parts []string
	for _, m := range log {
		m := obj(m)
		parts = append(parts, fmt.Sprintf("%s/%s/%s", m["kind"], m["channel"], m["status"]))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

// The visit link's page, without signing in: the clinic, the date, time
// and address, nothing clinical; it confirms the visit and cancels it.
func TestVisitLinkPage(t *testing.T) {
	now := yesterdayAt(t, 10*60)
	f := newFixture(t, fixedClock(now))
	in := f.deliver(t, func() time.Time { return now })
	ctx := context.Background()
	sched, _ := f.db.Schedule(ctx)
	p, err := f.db.CreatePatient(ctx, clinic.Patient{FirstName: "Omar", LastName: "Haddad", DateOfBirth: clinic.D(1959, 9, 9),
		Email: "omar@example.com", Condition: clinic.ConditionFibromyalgia, Notes: "Fibromyalgia; ketamine 0.3 mg/kg/h"}, clinic.DateOf(now, sched.Loc))
	if err != nil {
		t.Fatal(err)
	}
	start, chair := aWeekOut(t, f, now)
	a, _, err := f.db.Book(ctx, clinic.Booking{PatientID: p.ID, Kind: clinic.KindMaintenance, Start: start, ChairID: chair}, now)
	if err != nil {
		t.Fatal(err)
	}
	link := visitLink.FindString(in.Wait(t, 1, 10*time.Second)[0].Text)
	if !strings.HasPrefix(link, f.srv.URL+"/v/") {
		t.Fatalf("link %q", link)
	}
	path := strings.TrimPrefix(link, f.srv.URL)
	anon := f.client()
	resp, page := f.get(anon, path)
	if resp.StatusCode != 200 {
		t.Fatalf("the link page: %d", resp.StatusCode)
	}
	for _, want := range []string{html.EscapeString(f.clin.Settings.Name), start.In(sched.Loc).Format("Monday, January 2, 2006"), "8:00 AM", f.clin.Settings.Address, html.EscapeString("I'll be there")} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	for _, never := range []string{"Fibromyalgia", "ketamine", "mg/kg", "Haddad"} {
		if strings.Contains(page, never) {
			t.Errorf("the page shows %q", never)
		}
	}
	if resp, _ := f.get(anon, path+"x"); resp.StatusCode != 404 {
		t.Fatalf("a wrong token: %d", resp.StatusCode)
	}
	if resp, body := f.postFormBody(anon, path, url.Values{"action": {"maybe"}}); resp.StatusCode != 422 || !strings.Contains(body, "Choose whether you will come") {
		t.Fatalf("a bad action: %d", resp.StatusCode)
	}
	if resp, body := f.postFormBody(anon, path, url.Values{"action": {"confirm"}}); resp.StatusCode != 200 || !strings.Contains(body, "your visit is confirmed") {
		t.Fatalf("confirm: %d", resp.StatusCode)
	}
	status, _, v := f.api("GET", fmt.Sprintf("/api/v1/appointments/%d", a.ID), f.token(clinic.RoleFrontDesk), nil)
	if status != 200 || obj(v)["confirmed_at"] == nil {
		t.Fatalf("confirmed_at: %v", v)
	}
	if resp, body := f.postFormBody(anon, path, url.Values{"action": {"cancel"}}); resp.StatusCode != 200 || !strings.Contains(body, "cancelled") {
		t.Fatalf("cancel: %d", resp.StatusCode)
	}
	v2, _ := f.db.Visit(ctx, a.ID)
	if v2.Status != clinic.StatusCancelled || v2.CancelReason != postgres.CancelByLinkReason {
		t.Fatalf("after cancel: %+v", v2)
	}
	if resp, _ := f.postFormBody(anon, path, url.Values{"action": {"cancel"}}); resp.StatusCode != 409 {
		t.Fatalf("cancelling twice: %d", resp.StatusCode)
	}
}

// The gateway's webhook: refused unsigned or mis-signed; STOP and START
// switch the sender's texts; C confirms their next visit.
func TestSMSWebhook(t *testing.T) {
	now := yesterdayAt(t, 10*60)
	const base = "https://clinic.example"
	f := newFixture(t, fixedClock(now), func(c *server.Config) { c.BaseURL, c.SMSAuthToken = base, smstest.AuthToken })
	ctx := context.Background()
	sched, _ := f.db.Schedule(ctx)
	p, err := f.db.CreatePatient(ctx, clinic.Patient{FirstName: "June", LastName: "Park", DateOfBirth: clinic.D(1971, 1, 1),
		Phone: "(602) 555-0188", Condition: clinic.ConditionCRPS}, clinic.DateOf(now, sched.Loc))
	if err != nil {
		t.Fatal(err)
	}
	start, chair := aWeekOut(t, f, now)
	a, _, err := f.db.Book(ctx, clinic.Booking{PatientID: p.ID, Kind: clinic.KindConsult, Start: start, ChairID: chair}, now)
	if err != nil {
		t.Fatal(err)
	}
	hook := func(body string, sign func(url.Values) string) (int, string) {
		form := url.Values{"From": {"+16025550188"}, "To": {smstest.From}, "Body": {body}, "MessageSid": {"SM1"}}
		req, _ := http.NewRequest("POST", f.srv.URL+"/api/v1/sms/inbound", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", sign(form))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, readAll(resp)
	}
	good := func(form url.Values) string {
		return sms.Signature(smstest.AuthToken, base+"/api/v1/sms/inbound", form)
	}
	if status, _ := hook("STOP", func(url.Values) string { return "" }); status != 403 {
		t.Fatalf("unsigned: %d", status)
	}
	if status, _ := hook("STOP", func(form url.Values) string { return sms.Signature("wrong", base+"/api/v1/sms/inbound", form) }); status != 403 {
		t.Fatalf("mis-signed: %d", status)
	}
	optedOut := func() bool {
		got, err := f.db.Patient(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.SMSOptedOut != nil
	}
	if status, body := hook("Stop", good); status != 200 || !strings.Contains(body, "<Response>") || !optedOut() {
		t.Fatalf("STOP: %d %s, opted out %v", status, body, optedOut())
	}
	if status, _ := hook("START", good); status != 200 || optedOut() {
		t.Fatalf("START: %d, opted out %v", status, optedOut())
	}
	if status, _ := hook("C", good); status != 200 {
		t.Fatalf("C: %d", status)
	}
	if v, _ := f.db.Visit(ctx, a.ID); v.ConfirmedAt == nil {
		t.Fatal("C did not confirm the next visit")
	}
	// Texts off on a server: the webhook is not there.
	off := newFixture(t)
	if status, _, _ := off.apiRaw("POST", "/api/v1/sms/inbound"); status != 404 {
		t.Fatalf("webhook with texts off: %d", status)
	}
}

// The admin's settings page keeps the clinic's phone, address and
// reminders, with a message per field; the patient form keeps the
// channels, and a new patient's ticked boxes leave out a channel without
// its detail.
func TestPageMessageSettings(t *testing.T) {
	f := newFixture(t)
	admin := f.signIn(clinic.RoleAdmin)
	_, page := f.get(admin, "/admin/clinic")
	if !strings.Contains(page, `value="72, 24"`) || !strings.Contains(page, `id="reminders.sms"`) {
		t.Fatal("the settings page has no reminder fields")
	}
	sched, _ := f.db.Schedule(context.Background())
	form := url.Values{"version": {fmt.Sprint(sched.Settings.Version)}, "name": {sched.Settings.Name}, "timezone": {sched.Settings.TimeZone},
		"slot_minutes": {"15"}, "booking_horizon_days": {"540"}, "phone": {"(602) 555-0100"}, "address": {"2150 E Camelback Rd"},
		"reminders.offsets_hours": {"72, soon"}, "reminders.email": {"on"}}
	for wd, key := range clinic.WeekdayKeys {
		form.Set("hours."+key, clinic.FormatRanges(sched.Settings.Hours[wd]))
	}
	status, page := f.post(admin, "/admin/clinic", form)
	if status != http.StatusUnprocessableEntity || !strings.Contains(page, `id="reminders.offsets_hours-error"`) || !strings.Contains(page, `value="72, soon"`) {
		t.Fatalf("bad offsets: %d", status)
	}
	form.Set("reminders.offsets_hours", "48, 2")
	if status, _ := f.post(admin, "/admin/clinic", form); status != http.StatusSeeOther {
		t.Fatalf("save: %d", status)
	}
	sched, _ = f.db.Schedule(context.Background())
	if r := sched.Settings.Reminders; fmt.Sprint(r.OffsetsHours) != "[48 2]" || !r.Email || r.SMS || sched.Settings.Address != "2150 E Camelback Rd" {
		t.Fatalf("saved: %+v", sched.Settings)
	}

	desk := f.signIn(clinic.RoleFrontDesk)
	_, page = f.get(desk, "/desk/patients/new")
	if !strings.Contains(page, `id="contact_by.email" name="contact_by.email" checked`) {
		t.Fatal("a new patient's channels are not ticked")
	}
	newForm := url.Values{"first_name": {"Nia"}, "last_name": {"Boxes"}, "date_of_birth": {"1980-01-01"}, "condition": {"other"},
		"email": {"nia@example.com"}, "contact_by.email": {"on"}, "contact_by.sms": {"on"}}
	resp := f.postForm(desk, "/desk/patients/new", newForm)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("new patient: %d", resp.StatusCode)
	}
	ps, _ := f.db.SearchPatients(context.Background(), clinic.ParsePatientQuery("nia boxes"))
	if len(ps) != 1 || fmt.Sprint(ps[0].ContactBy) != "[email]" {
		t.Fatalf("channels: %+v", ps)
	}
	edit := url.Values{"version": {fmt.Sprint(ps[0].Version)}, "first_name": {"Nia"}, "last_name": {"Boxes"}, "date_of_birth": {"1980-01-01"},
		"condition": {"other"}, "email": {"nia@example.com"}, "contact_by.sms": {"on"}}
	status, page = f.post(desk, fmt.Sprintf("/desk/patients/%d/edit", ps[0].ID), edit)
	if status != http.StatusUnprocessableEntity || !strings.Contains(page, "Enter a phone number to send text messages") {
		t.Fatalf("texts without a phone: %d", status)
	}
}
