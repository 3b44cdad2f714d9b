package clinic

import (
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/infusiondesk/infusiondesk/internal/i18n"
)

var chicagoZone, _ = time.LoadLocation("America/Chicago")

func TestReminderTimes(t *testing.T) {
	// Monday 9 March 2026, 09:00 CDT: the day after the clocks went forward.
	start := D(2026, 3, 9).At(9*60, chicagoZone)
	utc := func(ts []time.Time) string {
		var out []string
		for _, t := range ts {
			out = append(out, t.UTC().Format("Jan 2 15:04"))
		}
		return strings.Join(out, ", ")
	}
	for _, tc := range []struct {
		name    string
		offsets []int
		now     time.Time
		want    string
	}{
		{"72 and 24 hours before, in real hours across the change", []int{72, 24}, D(2026, 3, 1).At(9*60, chicagoZone), "Mar 6 14:00, Mar 8 14:00"},
		{"an offset already past is skipped", []int{72, 24}, D(2026, 3, 7).At(9*60, chicagoZone), "Mar 8 14:00"},
		{"all past", []int{72, 24}, D(2026, 3, 9).At(8*60, chicagoZone), ""},
		{"repeats once", []int{24, 24, 2}, D(2026, 3, 1).At(9*60, chicagoZone), "Mar 8 14:00, Mar 9 12:00"},
	} {
		if got := utc(ReminderTimes(start, tc.offsets, tc.now)); got != tc.want {
			t.Errorf("%s: %q; want %q", tc.name, got, tc.want)
		}
	}
}

func TestRemindersValidate(t *testing.T) {
	r := Reminders{OffsetsHours: []int{24, 72, 24}}
	if err := r.Validate(); err != nil || len(r.OffsetsHours) != 2 || r.OffsetsHours[0] != 72 {
		t.Fatalf("%v %v", r.OffsetsHours, err)
	}
	for _, bad := range [][]int{{0}, {721}, {1, 2, 3, 4, 5, 6}} {
		r := Reminders{OffsetsHours: bad}
		if ErrorFields(r.Validate())["reminders.offsets_hours"] == "" {
			t.Errorf("%v accepted", bad)
		}
	}
}

// No text between 20:00 and 08:00 clinic time: held until 08:00, on the
// right local day across a clock change.
func TestTextSendTime(t *testing.T) {
	for _, tc := range []struct {
		at, want string // clinic-local
	}{
		{"2026-03-07 19:59", "2026-03-07 19:59"},
		{"2026-03-07 20:00", "2026-03-08 08:00"}, // the clocks go forward that night
		{"2026-03-08 06:30", "2026-03-08 08:00"},
		{"2026-03-08 08:00", "2026-03-08 08:00"},
		{"2026-10-31 23:15", "2026-11-01 08:00"}, // and back
	} {
		at, _ := time.ParseInLocation("2006-01-02 15:04", tc.at, chicagoZone)
		if got := TextSendTime(at, chicagoZone).In(chicagoZone).Format("2006-01-02 15:04"); got != tc.want {
			t.Errorf("%s: %s; want %s", tc.at, got, tc.want)
		}
	}
}

func TestNormalizePhone(t *testing.T) {
	for in, want := range map[string]string{
		"(602) 555-0142":    "+16025550142",
		"602.555.0142":      "+16025550142",
		"+1 602 555 0142":   "+16025550142",
		"1-602-555-0142":    "+16025550142",
		"+44 20 7946 0958":  "+442079460958",
		"555-0142":          "",
		"not a phone":       "",
		"+1 602 555 014299": "",
	} {
		got, err := NormalizePhone(in)
		if got != want || (want == "") != (err != nil) {
			t.Errorf("%q: %q %v; want %q", in, got, err, want)
		}
	}
}

// What a message says: the clinic's local date and time (across a clock
// change), length and end, the driver advice for an infusion, arrival,
// the clinic's phone — and nothing clinical; a text fits 320 characters.
func TestNoticeContent(t *testing.T) {
	visit := NoticeVisit{Kind: KindMaintenance, Start: D(2026, 3, 9).At(9*60, chicagoZone), End: D(2026, 3, 9).At(10*60+30, chicagoZone)}
	n := Notice{Kind: MessageConfirmation, ClinicName: "Lakeside Infusion", ClinicPhone: "(312) 555-0100", Loc: chicagoZone,
		Visits: []NoticeVisit{visit}, Link: "https://clinic.example/v/abc123"}
	text := n.Text()
	for _, want := range []string{"Monday, March 9, 2026 at 9:00 AM", "90 minutes (until 10:30 AM)", "Arrange a driver",
		"arrive 15 minutes early", "(312) 555-0100", "https://clinic.example/v/abc123", "Lakeside Infusion"} {
		if !strings.Contains(text, want) {
			t.Errorf("the email lacks %q:\n%s", want, text)
		}
	}
	if s := n.Subject(); s != "Your infusion visit on Monday, March 9, 2026 at 9:00 AM — Lakeside Infusion" {
		t.Errorf("subject %q", s)
	}
	if h := n.HTML(); !strings.Contains(h, "<p>Arrange a driver") || strings.Contains(h, "<script") {
		t.Errorf("html %q", h)
	}
	sms := n.SMS()
	if utf8.RuneCountInString(sms) > MaxSMS || !strings.Contains(sms, "Mon, Mar 9 at 9:00 AM") || !strings.Contains(sms, "driver") || !strings.Contains(sms, n.Link) {
		t.Errorf("sms %q", sms)
	}
	// The week before the change, the same 09:00 is written as 09:00 too.
	n.Visits[0].Start, n.Visits[0].End = D(2026, 3, 6).At(9*60, chicagoZone), D(2026, 3, 6).At(10*60+30, chicagoZone)
	if !strings.Contains(n.Text(), "Friday, March 6, 2026 at 9:00 AM") {
		t.Errorf("before the change:\n%s", n.Text())
	}
	// A consultation needs no driver.
	consult := Notice{Kind: MessageReminder, ClinicName: "Lakeside", Loc: chicagoZone,
		Visits: []NoticeVisit{{Kind: KindConsult, Start: visit.Start, End: visit.Start.Add(30 * time.Minute)}}}
	if strings.Contains(consult.Text(), "driver") || strings.Contains(consult.SMS(), "driver") {
		t.Errorf("a consultation's reminder asks for a driver: %s", consult.Text())
	}
	// Nothing clinical: the words of a diagnosis, a dose or a protocol never appear.
	for _, kind := range []MessageKind{MessageConfirmation, MessageReminder, MessageMoved, MessageCancelled} {
		m := n
		m.Kind, m.Was = kind, []NoticeVisit{visit}
		all := strings.ToLower(m.Subject() + m.Text() + m.HTML() + m.SMS())
		for _, word := range []string{"ketamine", "mg", "crps", "fibromyalgia", "neuropathic", "dose", "loading", "note"} {
			if strings.Contains(all, word) {
				t.Errorf("%s says %q", kind, word)
			}
		}
	}
}

// A loading series is confirmed in one message listing every session; a
// long clinic name still fits a text, dropping the optional parts first.
func TestNoticeSeriesAndLength(t *testing.T) {
	var sessions []NoticeVisit
	for _, d := range []int{2, 4, 6, 9, 11, 13} {
		s := D(2026, 3, d).At(9*60, chicagoZone)
		sessions = append(sessions, NoticeVisit{Kind: KindLoading, Start: s, End: s.Add(90 * time.Minute)})
	}
	n := Notice{Kind: MessageConfirmation, ClinicName: "Lakeside Infusion", ClinicPhone: "(312) 555-0100", Loc: chicagoZone, Visits: sessions}
	text := n.Text()
	if strings.Count(text, "\n- ") != 6 || !strings.Contains(text, "Friday, March 13, 2026 at 9:00 AM") {
		t.Errorf("series confirmation:\n%s", text)
	}
	if sms := n.SMS(); !strings.Contains(sms, "6 infusion visits at 9:00 AM: Mar 2, Mar 4, Mar 6, Mar 9, Mar 11, Mar 13") {
		t.Errorf("series text %q", sms)
	}
	n.ClinicName = strings.Repeat("Very Long Clinic Name ", 8)
	n.Link = "https://clinic.example/v/" + strings.Repeat("x", 43)
	sms := n.SMS()
	if utf8.RuneCountInString(sms) > MaxSMS || !strings.Contains(sms, n.Link) || strings.Contains(sms, "Arrive 15 min early") {
		t.Errorf("long text (%d): %q", utf8.RuneCountInString(sms), sms)
	}
}

func TestPlanVisitMessages(t *testing.T) {
	// Monday 9 March 2026, 09:00 CDT: the clocks went forward on Sunday.
	start := time.Date(2026, 3, 9, 9, 0, 0, 0, chicagoZone)
	visit := []NoticeVisit{{Kind: KindMaintenance, Start: start, End: start.Add(3 * time.Hour)}}
	both := Recipient{Email: "a@example.com", Phone: "+13125550100", ContactBy: []Channel{ChannelEmail, ChannelSMS}}
	at := func(m PlannedMessage) string {
		return string(m.Kind) + "/" + string(m.Channel) + "@" + m.At.UTC().Format("Jan 2 15:04")
	}
	cases := []struct {
		name string
		kind MessageKind
		to   Recipient
		r    Reminders
		now  time.Time
		want []string
	}{
		{"booked a week ahead at 10:00 CST", MessageConfirmation, both, DefaultReminders, time.Date(2026, 3, 2, 10, 0, 0, 0, chicagoZone),
			[]string{"confirmation/email@Mar 2 16:00", "reminder/email@Mar 6 14:00", "reminder/email@Mar 8 14:00",
				"confirmation/sms@Mar 2 16:00", "reminder/sms@Mar 6 14:00", "reminder/sms@Mar 8 14:00"}},
		{"booked at 21:00 two days ahead: the 72 h reminder is past, the text waits for 08:00", MessageConfirmation, both, DefaultReminders,
			time.Date(2026, 3, 6, 21, 0, 0, 0, chicagoZone),
			[]string{"confirmation/email@Mar 7 03:00", "reminder/email@Mar 8 14:00", "confirmation/sms@Mar 7 14:00", "reminder/sms@Mar 8 14:00"}},
		{"a reminder in the quiet hours is held to 08:00", MessageMoved, both, Reminders{OffsetsHours: []int{12}, Email: true, SMS: true},
			time.Date(2026, 3, 2, 10, 0, 0, 0, chicagoZone),
			[]string{"moved/email@Mar 2 16:00", "reminder/email@Mar 9 02:00", "moved/sms@Mar 2 16:00", "reminder/sms@Mar 9 13:00"}},
		{"a cancellation drops nothing new and has no reminders", MessageCancelled, both, DefaultReminders, time.Date(2026, 3, 2, 10, 0, 0, 0, chicagoZone),
			[]string{"cancelled/email@Mar 2 16:00", "cancelled/sms@Mar 2 16:00"}},
		{"texts off at the clinic", MessageConfirmation, both, Reminders{OffsetsHours: []int{24}, Email: true}, time.Date(2026, 3, 2, 10, 0, 0, 0, chicagoZone),
			[]string{"confirmation/email@Mar 2 16:00", "reminder/email@Mar 8 14:00"}},
		{"opted out of texts", MessageConfirmation, Recipient{Email: "a@example.com", Phone: "+13125550100", ContactBy: []Channel{ChannelSMS}, SMSOptedOut: true},
			DefaultReminders, time.Date(2026, 3, 2, 10, 0, 0, 0, chicagoZone), nil},
		{"no messages wanted", MessageConfirmation, Recipient{Email: "a@example.com", ContactBy: []Channel{}}, DefaultReminders,
			time.Date(2026, 3, 2, 10, 0, 0, 0, chicagoZone), nil},
		{"email chosen but none on file", MessageConfirmation, Recipient{ContactBy: []Channel{ChannelEmail}}, DefaultReminders,
			time.Date(2026, 3, 2, 10, 0, 0, 0, chicagoZone), nil},
		{"booked at 06:30 for 07:00 the same day: the text would come too late", MessageConfirmation,
			Recipient{Phone: "+13125550100", ContactBy: []Channel{ChannelSMS}}, DefaultReminders, time.Date(2026, 3, 9, 6, 30, 0, 0, chicagoZone), nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := visit
			if strings.Contains(c.name, "07:00") {
				v = []NoticeVisit{{Kind: KindMaintenance, Start: time.Date(2026, 3, 9, 7, 0, 0, 0, chicagoZone), End: time.Date(2026, 3, 9, 10, 0, 0, 0, chicagoZone)}}
			}
			var got []string
			for _, m := range PlanVisitMessages(c.kind, v, c.to, c.r, c.now, chicagoZone) {
				got = append(got, at(m))
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("got  %q\nwant %q", got, c.want)
			}
		})
	}
}

func TestPatientContactBy(t *testing.T) {
	today := D(2026, 12, 1)
	base := func() Patient {
		return Patient{FirstName: "Ada", LastName: "Park", DateOfBirth: D(1970, 1, 1), Condition: ConditionCRPS}
	}
	p := base()
	p.Email, p.Phone = "ada@example.com", "(312) 555-0142"
	if err := p.Validate(today); err != nil || !slices.Equal(p.ContactBy, []Channel{ChannelEmail, ChannelSMS}) || p.Phone != "+13125550142" {
		t.Fatalf("default: %v %v %q", err, p.ContactBy, p.Phone)
	}
	p = base()
	p.Email = "ada@example.com"
	if err := p.Validate(today); err != nil || !slices.Equal(p.ContactBy, []Channel{ChannelEmail}) {
		t.Fatalf("email only: %v %v", err, p.ContactBy)
	}
	p = base()
	p.Email, p.ContactBy = "ada@example.com", []Channel{}
	if err := p.Validate(today); err != nil || p.ContactBy == nil || len(p.ContactBy) != 0 {
		t.Fatalf("none chosen: %v %v", err, p.ContactBy)
	}
	p = base()
	p.ContactBy = []Channel{ChannelSMS, "pigeon"}
	if f := ErrorFields(p.Validate(today)); !strings.Contains(f["contact_by"], "email and sms") {
		t.Fatalf("unknown channel: %v", f)
	}
	p = base()
	p.ContactBy = []Channel{ChannelSMS}
	if f := ErrorFields(p.Validate(today)); !strings.Contains(f["contact_by"], "phone number") {
		t.Fatalf("sms without phone: %v", f)
	}
	p = base()
	p.Phone = "555-0100"
	if f := ErrorFields(p.Validate(today)); !strings.Contains(f["phone"], "area code") {
		t.Fatalf("phone without area code: %v", f)
	}
}

func TestCheckSend(t *testing.T) {
	day := time.Date(2026, 3, 9, 10, 0, 0, 0, chicagoZone)
	night := time.Date(2026, 3, 9, 21, 30, 0, 0, chicagoZone)
	both := Recipient{Email: "a@example.com", Phone: "+13125550142", ContactBy: []Channel{ChannelEmail, ChannelSMS}}
	for _, c := range []struct {
		name string
		ch   Channel
		to   Recipient
		off  string
		now  time.Time
		want SendCheck
	}{
		{"email", ChannelEmail, both, "", day, SendCheck{To: "a@example.com"}},
		{"text by day", ChannelSMS, both, "", day, SendCheck{To: "+13125550142"}},
		{"text at night waits for 08:00", ChannelSMS, both, "", night, SendCheck{To: "+13125550142", Wait: 10*time.Hour + 30*time.Minute}},
		{"text stored as typed", ChannelSMS, Recipient{Phone: "(312) 555-0142", ContactBy: []Channel{ChannelSMS}}, "", day, SendCheck{To: "+13125550142"}},
		{"email off on the server", ChannelEmail, both, "SMTP_URL is not set.", day, SendCheck{Drop: "Email is off on this server: SMTP_URL is not set."}},
		{"texts off on the server", ChannelSMS, both, "SMS_API_BASE is not set.", day, SendCheck{Drop: "Text messages are off on this server: SMS_API_BASE is not set."}},
		{"no longer wanted", ChannelSMS, Recipient{Email: "a@example.com", Phone: "+13125550142", ContactBy: []Channel{ChannelEmail}}, "", day,
			SendCheck{Drop: "The patient does not want messages by text message."}},
		{"STOP", ChannelSMS, Recipient{Phone: "+13125550142", ContactBy: []Channel{ChannelSMS}, SMSOptedOut: true}, "", day,
			SendCheck{Drop: "The patient texted STOP: no text messages until they text START."}},
		{"email removed", ChannelEmail, Recipient{ContactBy: []Channel{ChannelEmail}}, "", day, SendCheck{Drop: "There is no email address on file."}},
		{"number unusable", ChannelSMS, Recipient{Phone: "555-01", ContactBy: []Channel{ChannelSMS}}, "", day,
			SendCheck{Drop: "The phone number on file cannot receive text messages."}},
	} {
		if got := CheckSend(c.ch, c.to, c.off, c.now, chicagoZone); got != c.want {
			t.Errorf("%s: %+v; want %+v", c.name, got, c.want)
		}
	}
}

// A patient who reads Spanish gets every message in Spanish, the dates in
// Spanish and the clinic's clock, and no English left in it.
func TestMessagesInSpanish(t *testing.T) {
	loc, _ := time.LoadLocation("America/Phoenix")
	start := time.Date(2026, 3, 9, 13, 0, 0, 0, loc)
	es := i18n.Locale{Lang: i18n.Spanish, Style: i18n.Style{Clock24: true}}
	n := Notice{Kind: MessageReminder, ClinicName: "Desert Bloom", ClinicPhone: "(602) 555-0100", ClinicAddress: "2150 E Camelback Rd",
		Loc: loc, Locale: es, Visits: []NoticeVisit{{Kind: KindMaintenance, Start: start, End: start.Add(90 * time.Minute)}},
		Link: "https://clinic.example/v/abc"}
	if got, want := n.Subject(), "Recordatorio: su cita de infusión el lunes, 9 de marzo de 2026 a las 13:00 — Desert Bloom"; got != want {
		t.Errorf("subject = %q; want %q", got, want)
	}
	for _, want := range []string{"Le recordamos su cita en Desert Bloom:", "- lunes, 9 de marzo de 2026 a las 13:00, 90 minutos (hasta las 14:30)",
		"no puede conducir", "Llegue 15 minutos antes", "Confirmar o cancelar: https://clinic.example/v/abc", "llame al (602) 555-0100"} {
		if !strings.Contains(n.Text(), want) {
			t.Errorf("text lacks %q:\n%s", want, n.Text())
		}
	}
	if !strings.Contains(n.HTML(), ">Confirmar o cancelar esta cita</a>") {
		t.Errorf("html link label not in Spanish: %s", n.HTML())
	}
	if sms := n.SMS(); !strings.HasPrefix(sms, "Desert Bloom: recordatorio: cita de infusión el lun 9 mar a las 13:00.") || utf8.RuneCountInString(sms) > MaxSMS {
		t.Errorf("sms = %q", sms)
	}
	n.Locale.Style.Clock24 = false
	if got := n.Subject(); !strings.Contains(got, "a la 1:00 p. m.") {
		t.Errorf("12-hour Spanish subject = %q; want one o'clock in the singular", got)
	}
	inv := Invitation{ClinicName: "Desert Bloom", FirstName: "Lucía", Link: "https://clinic.example/i/x", Valid: 72 * time.Hour, Locale: es}
	if !strings.HasPrefix(inv.Text(), "Hola, Lucía:") || !strings.Contains(inv.Text(), "en las próximas 72 horas") || !strings.Contains(inv.Subject(), "Su invitación") {
		t.Errorf("invitation:\n%s\n%s", inv.Subject(), inv.Text())
	}
	o := OfferNotice{ClinicName: "Desert Bloom", Loc: loc, Locale: es, Start: start, Minutes: 90, Expires: start.Add(-20 * time.Hour), Link: "https://clinic.example/o/y"}
	if !strings.Contains(o.Text(), "Tomar esta hora: https://clinic.example/o/y") || !strings.Contains(o.Subject(), "Una hora de infusión más pronto") {
		t.Errorf("offer:\n%s\n%s", o.Subject(), o.Text())
	}
	for _, k := range i18n.Missing() {
		t.Errorf("no Spanish for %q", k)
	}
}

func TestPEGReminderDue(t *testing.T) {
	today := D(2026, 12, 3)
	ago := func(n int) *Date { d := today.AddDays(-n); return &d }
	tests := []struct {
		name           string
		answer, remind *Date
		want           bool
	}{
		{"never asked", nil, nil, true},
		{"answered 6 days ago", ago(6), nil, false},
		{"answered 7 days ago", ago(7), nil, true},
		{"reminded 6 days ago, no answer", nil, ago(6), false},
		{"reminded 7 days ago, no answer", nil, ago(7), true},
		{"answered 10, reminded 3 days ago", ago(10), ago(3), false},
	}
	for _, tt := range tests {
		if got := PEGReminderDue(tt.answer, tt.remind, today); got != tt.want {
			t.Errorf("%s: due = %v; want %v", tt.name, got, tt.want)
		}
	}
	r := PEGReminder{ClinicName: "Desert Bloom", FirstName: "Ana", Link: "https://clinic.example/portal/journal"}
	for _, text := range []string{r.Subject(), r.Text(), r.HTML(), r.SMS()} {
		for _, never := range []string{"ketamine", "pain score", "mg", "diagnos"} {
			if strings.Contains(strings.ToLower(text), never) {
				t.Errorf("the reminder says %q: %s", never, text)
			}
		}
	}
	if !strings.Contains(r.SMS(), r.Link) || len([]rune(r.SMS())) > MaxSMS {
		t.Errorf("the text message: %q", r.SMS())
	}
}
