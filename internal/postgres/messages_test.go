package postgres_test

import (
	"context"
	"log/slog"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/auth"
	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/mail"
	"github.com/infusiondesk/infusiondesk/internal/mail/mailtest"
	"github.com/infusiondesk/infusiondesk/internal/postgres"
	"github.com/infusiondesk/infusiondesk/internal/sms"
	"github.com/infusiondesk/infusiondesk/internal/sms/smstest"
	"github.com/jackc/pgx/v5"
)

// The message tests run River against the real clock (a job is due when
// its time has passed), so the clinic's "now" is yesterday at 10:00 in
// Chicago: always past, always in the day. Visits are a week or more
// ahead, so their reminders are scheduled but never due during a test.

const baseURL = "https://lakeside.example"

// messagingClinic is the test clinic with its phone and address, and one
// patient taking email and texts, whose record has clinical notes that no
// message may carry.
type messagingClinic struct {
	*testClinic
	patient clinic.Patient
	inbox   *mailtest.Inbox
	texts   *smstest.Gateway
}

func newMessagingClinic(t *testing.T) *messagingClinic {
	t.Helper()
	c := newTestClinic(t, 0)
	today := clinic.DateOf(time.Now(), chicago)
	c.now = today.AddDays(-1).At(10*60, chicago)
	sched, err := c.db.Schedule(c.ctx)
	if err != nil {
		t.Fatal(err)
	}
	s := sched.Settings
	s.Phone, s.Address = "(312) 555-0100", "1 Lakeside Plaza, Chicago, IL 60601"
	if _, err := c.db.UpdateSettings(c.ctx, s); err != nil {
		t.Fatal(err)
	}
	p, err := c.db.CreatePatient(c.ctx, clinic.Patient{FirstName: "Rosa", LastName: "Delgado", DateOfBirth: clinic.D(1968, 5, 4),
		Email: "rosa@example.com", Phone: "(312) 555-0142", Condition: clinic.ConditionCRPS,
		Notes: "CRPS type 1, left foot. Ketamine 0.5 mg/kg/h; nausea last time."}, today)
	if err != nil {
		t.Fatal(err)
	}
	c.patients = []int64{p.ID}
	return &messagingClinic{testClinic: c, patient: p, inbox: mailtest.Start(t, "127.0.0.1:0"), texts: smstest.Start(t)}
}

// deliver runs the message workers until the test ends.
func (c *messagingClinic) deliver(t *testing.T, tweak ...func(*postgres.Delivery)) {
	t.Helper()
	cfg, err := mail.ParseURL(c.inbox.URL(), "Lakeside <desk@lakeside.example>")
	if err != nil {
		t.Fatal(err)
	}
	d := postgres.Delivery{Email: mail.NewSender(cfg), SMS: sms.NewClient(c.texts.Config()), BaseURL: baseURL,
		RetryBase: 100 * time.Millisecond, RetryMax: time.Second, PollInterval: 100 * time.Millisecond,
		Now: func() time.Time { return c.now }}
	if testing.Verbose() {
		d.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	for _, f := range tweak {
		f(&d)
	}
	run, err := c.db.StartDelivery(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		run.Stop(ctx)
	})
}

// settle waits until no message that is due is still to go.
func (c *messagingClinic) settle(t *testing.T) {
	t.Helper()
	conn := superuser(t, c.url)
	deadline := time.Now().Add(30 * time.Second)
	for {
		var n int
		if err := conn.QueryRow(c.ctx, `SELECT count(*) FROM messages WHERE status = 'scheduled' AND scheduled_for <= now()`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d due messages still not sent or dropped", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// visitDay is the first clinic day (Monday to Thursday) at least n days
// after the clinic's today.
func (c *messagingClinic) visitDay(n int) clinic.Date {
	d := clinic.DateOf(c.now, chicago).AddDays(n)
	for d.Weekday() == time.Friday || d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
		d = d.AddDays(1)
	}
	return d
}

func (c *messagingClinic) log(t *testing.T, appointmentID int64) []clinic.MessageEntry {
	t.Helper()
	ms, err := c.db.AppointmentMessages(c.ctx, appointmentID)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// scheduled lists the log's pending messages as "kind/channel@RFC 3339".
func scheduled(ms []clinic.MessageEntry) []string {
	var out []string
	for _, m := range ms {
		if m.Status == "scheduled" {
			out = append(out, string(m.Kind)+"/"+string(m.Channel)+"@"+m.ScheduledFor.UTC().Format(time.RFC3339))
		}
	}
	sort.Strings(out) // by kind and channel, then time
	return out
}

func statuses(ms []clinic.MessageEntry) map[string]int {
	out := map[string]int{}
	for _, m := range ms {
		out[string(m.Kind)+"/"+string(m.Channel)+"/"+m.Status]++
	}
	return out
}

// nothingClinical fails when a message carries the patient's notes.
func nothingClinical(t *testing.T, texts ...string) {
	t.Helper()
	for _, s := range texts {
		for _, word := range []string{"CRPS", "Ketamine", "ketamine", "mg/kg", "nausea", "foot"} {
			if strings.Contains(s, word) {
				t.Errorf("a message carries %q:\n%s", word, s)
			}
		}
	}
}

var linkPattern = regexp.MustCompile(regexp.QuoteMeta(baseURL) + `/v/([A-Za-z0-9_-]+)`)

// The confirmation of a visit on the Monday after the clocks go forward
// says its local time; its reminders are due exactly 72 and 24 real hours
// before, across the change.
func TestConfirmationAndRemindersAcrossDST(t *testing.T) {
	c := newMessagingClinic(t)
	// The next spring-forward Sunday after today, and the Monday after it.
	d := clinic.DateOf(c.now, chicago)
	for {
		_, before := d.At(12*60, chicago).Zone()
		_, after := d.AddDays(1).At(12*60, chicago).Zone()
		if after > before {
			break
		}
		d = d.AddDays(1)
	}
	monday := d.AddDays(2) // the change happens at 02:00 on Sunday d+1
	start := monday.At(9*60, chicago)
	a := mustBook(t, c.testClinic, clinic.Booking{PatientID: c.patient.ID, Start: start})

	want := []string{
		"reminder/email@" + start.Add(-72*time.Hour).UTC().Format(time.RFC3339),
		"reminder/email@" + start.Add(-24*time.Hour).UTC().Format(time.RFC3339),
		"reminder/sms@" + start.Add(-72*time.Hour).UTC().Format(time.RFC3339),
		"reminder/sms@" + start.Add(-24*time.Hour).UTC().Format(time.RFC3339),
	}
	// 72 hours before 09:00 CDT is 08:00 CST on the Friday.
	if got := start.Add(-72 * time.Hour).In(chicago).Format("Mon 15:04 MST"); got != "Fri 08:00 CST" {
		t.Fatalf("the test's Monday is not after a change: %s", got)
	}
	c.deliver(t)
	c.settle(t)
	log := c.log(t, a.ID)
	if got := scheduled(log); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("scheduled:\n%q\nwant\n%q", got, want)
	}
	if n := statuses(log); n["confirmation/email/sent"] != 1 || n["confirmation/sms/sent"] != 1 {
		t.Fatalf("confirmations: %v", n)
	}
	// River holds each reminder's job for exactly that instant.
	conn := superuser(t, c.url)
	rows, err := conn.Query(c.ctx, `SELECT j.scheduled_at FROM messages m JOIN river.river_job j ON j.id = m.job_id
		WHERE m.appointment_id = $1 AND m.kind = 'reminder' ORDER BY m.channel, j.scheduled_at`, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := pgx.CollectRows(rows, pgx.RowTo[time.Time])
	if err != nil {
		t.Fatal(err)
	}
	for i, j := range jobs {
		if !strings.HasSuffix(want[i], j.UTC().Format(time.RFC3339)) {
			t.Errorf("job %d due %s, want %s", i, j.UTC(), want[i])
		}
	}

	mails := c.inbox.Wait(t, 1, 10*time.Second)
	m := mails[0]
	if m.To[0] != "rosa@example.com" || !strings.HasSuffix(m.MessageID, "@lakeside.example") {
		t.Fatalf("to %v, Message-ID %q", m.To, m.MessageID)
	}
	day := start.Format("Monday, January 2, 2006") + " at 9:00 AM"
	for _, s := range []string{day, "90 minutes (until 10:30 AM)", "Arrange a driver", "(312) 555-0100", "1 Lakeside Plaza", "arrive 15 minutes early"} {
		if !strings.Contains(m.Text, s) {
			t.Errorf("the email lacks %q:\n%s", s, m.Text)
		}
	}
	if !strings.Contains(m.Subject, day) || m.HTML == "" || !linkPattern.MatchString(m.Text) {
		t.Errorf("subject %q, html %d bytes, link in text: %v", m.Subject, len(m.HTML), linkPattern.MatchString(m.Text))
	}
	texts := c.texts.Wait(t, 1, 10*time.Second)
	if texts[0].Get("To") != "+13125550142" || texts[0].Get("From") != smstest.From || len([]rune(texts[0].Get("Body"))) > clinic.MaxSMS ||
		!strings.Contains(texts[0].Get("Body"), start.Format("Mon, Jan 2")+" at 9:00 AM") || !linkPattern.MatchString(texts[0].Get("Body")) {
		t.Errorf("text: %v", texts[0])
	}
	nothingClinical(t, m.Subject, m.Text, m.HTML, texts[0].Get("Body"))
}

// A move drops the reminders of the old time, schedules the new time's
// and says where the visit went; a cancellation drops what was still to
// come and says so.
func TestMoveReplacesRemindersAndCancelDropsThem(t *testing.T) {
	c := newMessagingClinic(t)
	c.deliver(t)
	first := c.visitDay(7).At(9*60, chicago)
	a := mustBook(t, c.testClinic, clinic.Booking{PatientID: c.patient.ID, Start: first})
	c.settle(t)
	second := c.visitDay(14).At(13*60, chicago)
	moved, err := c.db.Reschedule(c.ctx, a.ID, a.Version, second, 0, c.now)
	if err != nil {
		t.Fatal(err)
	}
	c.settle(t)
	log := c.log(t, a.ID)
	want := []string{
		"reminder/email@" + second.Add(-72*time.Hour).UTC().Format(time.RFC3339),
		"reminder/email@" + second.Add(-24*time.Hour).UTC().Format(time.RFC3339),
		"reminder/sms@" + second.Add(-72*time.Hour).UTC().Format(time.RFC3339),
		"reminder/sms@" + second.Add(-24*time.Hour).UTC().Format(time.RFC3339),
	}
	if got := scheduled(log); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("after the move:\n%q\nwant\n%q", got, want)
	}
	if n := statuses(log); n["reminder/email/dropped"] != 2 || n["reminder/sms/dropped"] != 2 || n["moved/email/sent"] != 1 || n["moved/sms/sent"] != 1 {
		t.Fatalf("after the move: %v", n)
	}
	mails := c.inbox.Wait(t, 2, 10*time.Second)
	mv := mails[1]
	if !strings.Contains(mv.Subject, "has moved to "+second.Format("Monday, January 2, 2006")+" at 1:00 PM") ||
		!strings.Contains(mv.Text, "It was: "+first.Format("Monday, January 2, 2006")+" at 9:00 AM") {
		t.Errorf("moved email: %q\n%s", mv.Subject, mv.Text)
	}

	if _, err := c.db.Cancel(c.ctx, a.ID, moved.Version, "Patient has the flu", c.now); err != nil {
		t.Fatal(err)
	}
	c.settle(t)
	log = c.log(t, a.ID)
	if got := scheduled(log); len(got) != 0 {
		t.Fatalf("still scheduled after the cancellation: %q", got)
	}
	if n := statuses(log); n["reminder/email/dropped"] != 4 || n["cancelled/email/sent"] != 1 || n["cancelled/sms/sent"] != 1 {
		t.Fatalf("after the cancellation: %v", n)
	}
	mails = c.inbox.Wait(t, 3, 10*time.Second)
	if cancelled := mails[2]; !strings.HasPrefix(cancelled.Subject, "Cancelled: ") || linkPattern.MatchString(cancelled.Text) {
		t.Errorf("cancelled email: %q\n%s", cancelled.Subject, cancelled.Text)
	}
	for _, m := range mails {
		nothingClinical(t, m.Subject, m.Text, m.HTML)
	}
}

// A six-session loading series is one confirmation listing every session,
// by email and by text, not six; each session has its own reminders.
func TestSeriesGetsOneConfirmation(t *testing.T) {
	c := newMessagingClinic(t)
	c.deliver(t)
	proto := c.protocol(t, "Six in two weeks", 6, 2, 3, 14, 240)
	s, _, err := c.db.BookSeries(c.ctx, clinic.SeriesRequest{PatientID: c.patient.ID, ProtocolID: proto,
		StartDate: c.visitDay(7), Preferred: 8 * 60}, c.now)
	if err != nil {
		t.Fatal(err)
	}
	c.settle(t)
	c.inbox.Wait(t, 1, 10*time.Second)
	time.Sleep(300 * time.Millisecond) // nothing more may come
	mails := c.inbox.Messages()
	if len(mails) != 1 {
		t.Fatalf("%d emails for one series", len(mails))
	}
	if texts := c.texts.Sent(); len(texts) != 1 {
		t.Fatalf("%d texts for one series", len(texts))
	}
	for _, a := range s.Sessions {
		if !strings.Contains(mails[0].Text, a.Start.In(chicago).Format("Monday, January 2, 2006 at 3:04 PM")) {
			t.Errorf("session on %s not listed:\n%s", a.Start.In(chicago), mails[0].Text)
		}
		if n := statuses(c.log(t, a.ID)); n["reminder/email/scheduled"] != 2 || n["reminder/sms/scheduled"] != 2 {
			t.Errorf("session %d reminders: %v", *a.SessionNo, n)
		}
	}
	if !strings.Contains(mails[0].Subject, "6 infusion visits") {
		t.Errorf("subject %q", mails[0].Subject)
	}
}

// The visit link shows the visit and confirms it; a maintenance visit
// cancelled by its link frees the chair, a loading session becomes a
// request to the desk.
func TestVisitLink(t *testing.T) {
	c := newMessagingClinic(t)
	c.deliver(t)
	a := mustBook(t, c.testClinic, clinic.Booking{PatientID: c.patient.ID, Start: c.visitDay(7).At(9*60, chicago)})
	m := c.inbox.Wait(t, 1, 10*time.Second)[0]
	token := linkPattern.FindStringSubmatch(m.Text)[1]
	hash := auth.HashToken(token)
	v, err := c.db.OpenVisitLink(c.ctx, hash, c.now)
	if err != nil || v.AppointmentID != a.ID || v.Clinic.Address == "" || v.ConfirmedAt != nil {
		t.Fatalf("%+v %v", v, err)
	}
	if _, err := c.db.OpenVisitLink(c.ctx, auth.HashToken(token+"x"), c.now); clinic.ErrorCode(err) != clinic.ENOTFOUND {
		t.Fatalf("a wrong token: %v", err)
	}
	if _, err := c.db.OpenVisitLink(c.ctx, hash, a.End); clinic.ErrorCode(err) != clinic.ENOTFOUND {
		t.Fatalf("after the visit: %v", err)
	}
	if v, err = c.db.ConfirmByLink(c.ctx, hash, c.now); err != nil || v.ConfirmedAt == nil {
		t.Fatalf("confirm: %+v %v", v, err)
	}
	got, err := c.db.Visit(c.ctx, a.ID)
	if err != nil || got.ConfirmedAt == nil || got.Version != a.Version {
		t.Fatalf("after confirming: %+v %v", got, err)
	}
	if v, err = c.db.CancelByLink(c.ctx, hash, c.now); err != nil || v.Status != clinic.StatusCancelled {
		t.Fatalf("cancel: %+v %v", v, err)
	}
	got, _ = c.db.Visit(c.ctx, a.ID)
	if got.CancelReason != postgres.CancelByLinkReason {
		t.Fatalf("reason %q", got.CancelReason)
	}
	// The chair is free again.
	mustBook(t, c.testClinic, clinic.Booking{PatientID: c.patient.ID, Start: a.Start, ChairID: a.ChairID})
	if _, err := c.db.CancelByLink(c.ctx, hash, c.now); clinic.ErrorCode(err) != clinic.ECONFLICT {
		t.Fatalf("cancelling twice: %v", err)
	}

	// A loading session: a request for the desk, the session stays.
	proto := c.protocol(t, "Six in two weeks", 6, 2, 3, 14, 240)
	other, err := c.db.CreatePatient(c.ctx, clinic.Patient{FirstName: "Ana", LastName: "Ruiz", DateOfBirth: clinic.D(1980, 1, 2),
		Email: "ana@example.com", Condition: clinic.ConditionCRPS}, clinic.DateOf(c.now, chicago))
	if err != nil {
		t.Fatal(err)
	}
	s, _, err := c.db.BookSeries(c.ctx, clinic.SeriesRequest{PatientID: other.ID, ProtocolID: proto,
		StartDate: c.visitDay(21), Preferred: 8 * 60}, c.now)
	if err != nil {
		t.Fatal(err)
	}
	var series mailtest.Received
	for _, m := range c.inbox.Wait(t, 4, 10*time.Second) {
		if m.To[0] == "ana@example.com" {
			series = m
		}
	}
	hash = auth.HashToken(linkPattern.FindStringSubmatch(series.Text)[1])
	if v, err = c.db.CancelByLink(c.ctx, hash, c.now); err != nil || !v.CancelAsked || v.Status != clinic.StatusBooked || v.AppointmentID != s.Sessions[0].ID {
		t.Fatalf("loading session by link: %+v %v", v, err)
	}
	reqs, err := c.db.Requests(c.ctx, &other.ID)
	if err != nil || len(reqs) != 1 || reqs[0].Kind != clinic.RequestCancel || reqs[0].AppointmentID != s.Sessions[0].ID {
		t.Fatalf("requests: %+v %v", reqs, err)
	}
	if _, err = c.db.CancelByLink(c.ctx, hash, c.now); err != nil {
		t.Fatal(err)
	}
	if reqs, _ = c.db.Requests(c.ctx, &other.ID); len(reqs) != 1 {
		t.Fatalf("asking twice filed %d requests", len(reqs))
	}
}

// With the mail server down the confirmation is tried again, with its
// error in the log; once the server is back it arrives, once, with the
// same Message-ID as every try.
func TestMailServerDownThenUp(t *testing.T) {
	c := newMessagingClinic(t)
	c.inbox.Close()
	c.deliver(t)
	a := mustBook(t, c.testClinic, clinic.Booking{PatientID: c.patient.ID, Start: c.visitDay(7).At(9*60, chicago)})
	var failedOnce clinic.MessageEntry
	deadline := time.Now().Add(20 * time.Second)
	for failedOnce.ID == 0 {
		for _, m := range c.log(t, a.ID) {
			if m.Kind == clinic.MessageConfirmation && m.Channel == clinic.ChannelEmail && m.Error != "" {
				failedOnce = m
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no failed try recorded: %+v", c.log(t, a.ID))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if failedOnce.Status != "scheduled" || failedOnce.Attempts < 1 {
		t.Fatalf("a failed try: %+v", failedOnce)
	}
	back := mailtest.Start(t, c.inbox.Addr)
	back.Wait(t, 1, 30*time.Second)
	c.settle(t)
	time.Sleep(300 * time.Millisecond)
	if got := back.Messages(); len(got) != 1 {
		t.Fatalf("%d emails after the server came back", len(got))
	}
	for _, m := range c.log(t, a.ID) {
		if m.ID == failedOnce.ID && (m.Status != "sent" || m.Error != "" || m.SentAt == nil) {
			t.Fatalf("after delivery: %+v", m)
		}
	}
}

// A booking committed while no process sends (the server died right
// after) keeps its messages; a send that was under way when its process
// died is found and tried again, and sent once.
func TestKilledServerLosesNoMessage(t *testing.T) {
	c := newMessagingClinic(t)
	a := mustBook(t, c.testClinic, clinic.Booking{PatientID: c.patient.ID, Start: c.visitDay(7).At(9*60, chicago)})
	conn := superuser(t, c.url)
	// The email's job was taken by a process that then died: running,
	// attempted an hour ago, never finished.
	tag, err := conn.Exec(c.ctx, `UPDATE river.river_job j SET state = 'running', attempt = 1, attempted_at = now() - interval '1 hour',
			attempted_by = '{dead-host}'
		FROM messages m WHERE m.job_id = j.id AND m.appointment_id = $1 AND m.kind = 'confirmation' AND m.channel = 'email'`, a.ID)
	if err != nil || tag.RowsAffected() != 1 {
		t.Fatalf("%v %v", tag, err)
	}
	c.deliver(t, func(d *postgres.Delivery) { d.RescueAfter = 2 * time.Minute })
	c.inbox.Wait(t, 1, 60*time.Second)
	c.texts.Wait(t, 1, 10*time.Second)
	c.settle(t)
	time.Sleep(300 * time.Millisecond)
	if n := len(c.inbox.Messages()); n != 1 {
		t.Fatalf("%d emails", n)
	}
	if n := statuses(c.log(t, a.ID)); n["confirmation/email/sent"] != 1 || n["confirmation/sms/sent"] != 1 {
		t.Fatalf("%v", n)
	}
}

// STOP is respected from then on: a text due is dropped, saying why;
// START turns texts back on; C confirms the next visit.
func TestTextOptOut(t *testing.T) {
	c := newMessagingClinic(t)
	if n, err := c.db.SetTexting(c.ctx, "+13125550142", false, c.now); err != nil || n != 1 {
		t.Fatalf("%d %v", n, err)
	}
	a := mustBook(t, c.testClinic, clinic.Booking{PatientID: c.patient.ID, Start: c.visitDay(7).At(9*60, chicago)})
	if n := statuses(c.log(t, a.ID)); n["confirmation/sms/scheduled"] != 0 || n["confirmation/email/scheduled"] != 1 {
		t.Fatalf("opted out at booking: %v", n)
	}
	if n, err := c.db.SetTexting(c.ctx, "+13125550142", true, c.now); err != nil || n != 1 {
		t.Fatalf("%d %v", n, err)
	}
	b := mustBook(t, c.testClinic, clinic.Booking{PatientID: c.patient.ID, Kind: clinic.KindConsult, Start: c.visitDay(8).At(13*60, chicago)})
	// STOP again before anything went out: the text due is not sent.
	if _, err := c.db.SetTexting(c.ctx, "+13125550142", false, c.now); err != nil {
		t.Fatal(err)
	}
	c.deliver(t)
	c.settle(t)
	for _, m := range c.log(t, b.ID) {
		if m.Kind == clinic.MessageConfirmation && m.Channel == clinic.ChannelSMS && (m.Status != "dropped" || !strings.Contains(m.Error, "STOP")) {
			t.Fatalf("a text to an opted-out patient: %+v", m)
		}
	}
	if len(c.texts.Sent()) != 0 {
		t.Fatalf("texts sent: %v", c.texts.Sent())
	}
	ok, err := c.db.ConfirmNextByText(c.ctx, "+13125550142", c.now)
	if err != nil || !ok {
		t.Fatalf("%v %v", ok, err)
	}
	if v, _ := c.db.Visit(c.ctx, a.ID); v.ConfirmedAt == nil {
		t.Fatal("the next visit is not confirmed")
	}
	if v, _ := c.db.Visit(c.ctx, b.ID); v.ConfirmedAt != nil {
		t.Fatal("a later visit was confirmed")
	}
}

// No text between 20:00 and 08:00 clinic time: booked at 21:30, the text
// is scheduled for 08:00 the next morning (the email at once); a text
// whose time comes in the quiet hours waits for 08:00.
func TestQuietHours(t *testing.T) {
	c := newMessagingClinic(t)
	c.now = clinic.DateOf(c.now, chicago).At(21*60+30, chicago)
	a := mustBook(t, c.testClinic, clinic.Booking{PatientID: c.patient.ID, Start: c.visitDay(7).At(9*60, chicago)})
	morning := clinic.DateOf(c.now, chicago).AddDays(1).At(8*60, chicago)
	for _, m := range c.log(t, a.ID) {
		if m.Kind != clinic.MessageConfirmation {
			continue
		}
		want := c.now
		if m.Channel == clinic.ChannelSMS {
			want = morning
		}
		if !m.ScheduledFor.Equal(want) {
			t.Errorf("%s confirmation at %s, want %s", m.Channel, m.ScheduledFor.In(chicago), want.In(chicago))
		}
	}
	// A text due now (its time passed) while the worker's clock is at
	// 22:00 is held: its job waits about ten hours.
	conn := superuser(t, c.url)
	if _, err := conn.Exec(c.ctx, `UPDATE river.river_job j SET scheduled_at = now() FROM messages m
		WHERE m.job_id = j.id AND m.appointment_id = $1 AND m.kind = 'confirmation' AND m.channel = 'sms'`, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(c.ctx, `UPDATE messages SET scheduled_for = now() WHERE appointment_id = $1 AND kind = 'confirmation'`, a.ID); err != nil {
		t.Fatal(err)
	}
	c.now = clinic.DateOf(c.now, chicago).At(22*60, chicago)
	c.deliver(t)
	c.inbox.Wait(t, 1, 10*time.Second)
	deadline := time.Now().Add(20 * time.Second)
	for {
		var secs float64
		var state string
		err := conn.QueryRow(c.ctx, `SELECT j.state, extract(epoch FROM j.scheduled_at - now())::float8 FROM messages m JOIN river.river_job j ON j.id = m.job_id
			WHERE m.appointment_id = $1 AND m.kind = 'confirmation' AND m.channel = 'sms'`, a.ID).Scan(&state, &secs)
		if err != nil {
			t.Fatal(err)
		}
		wait := time.Duration(secs * float64(time.Second))
		if state == "scheduled" && wait > 9*time.Hour && wait <= 10*time.Hour {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the text's job: %s, due in %s", state, wait)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(c.texts.Sent()) != 0 {
		t.Fatal("a text went out in the quiet hours")
	}
}
