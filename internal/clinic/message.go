package clinic

import (
	"fmt"
	"html"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/infusiondesk/infusiondesk/internal/i18n"

	"github.com/nyaruka/phonenumbers"
)

// The rules of the messages a clinic sends its patients (issue 12): what
// each says, when reminders go out, when a text may not. A message never
// carries a diagnosis, a dose or a note: only the clinic, the visit's kind
// in plain words, its date, time and length, and practical advice.

// MessageKind is why a message is sent.
type MessageKind string

const (
	MessageConfirmation MessageKind = "confirmation"
	MessageReminder     MessageKind = "reminder"
	MessageMoved        MessageKind = "moved"
	MessageCancelled    MessageKind = "cancelled"
	MessageInvitation   MessageKind = "invitation"
	MessageOffer        MessageKind = "offer" // a freed slot offered, with its claim link
	MessagePEG          MessageKind = "peg"   // the weekly PEG questions, asked in the portal
)

// Channel is how a message reaches the patient.
type Channel string

const (
	ChannelEmail Channel = "email"
	ChannelSMS   Channel = "sms"
)

// MaxSMS is the longest text message sent: two segments.
const MaxSMS = 320

// Quiet hours: no text message between 20:00 and 08:00 clinic time.
const (
	QuietFrom Clock = 20 * 60
	QuietTo   Clock = 8 * 60
)

// Reminders is the clinic's reminder setting.
type Reminders struct {
	OffsetsHours []int `json:"offsets_hours"` // hours before the start
	Email        bool  `json:"email"`
	SMS          bool  `json:"sms"`
}

// DefaultReminders remind three days and one day before, by email and text.
var DefaultReminders = Reminders{OffsetsHours: []int{72, 24}, Email: true, SMS: true}

// Validate tidies the offsets (largest first, no repeats) and names what
// is wrong.
func (r *Reminders) Validate() error {
	p := Problems{}
	if len(r.OffsetsHours) > 5 {
		p.Add("reminders.offsets_hours", "Send at most 5 reminders.")
	}
	for _, h := range r.OffsetsHours {
		if h < 1 || h > 24*30 {
			p.Add("reminders.offsets_hours", "Give each reminder as 1 to 720 hours before the visit.")
		}
	}
	slices.Sort(r.OffsetsHours)
	r.OffsetsHours = slices.Compact(r.OffsetsHours)
	slices.Reverse(r.OffsetsHours)
	return p.Err()
}

// ReminderTimes are the instants the reminders of a visit starting at
// start go out: each offset before it (in real hours), leaving out those
// already past at now, earliest first.
func ReminderTimes(start time.Time, offsetsHours []int, now time.Time) []time.Time {
	var out []time.Time
	for _, h := range offsetsHours {
		if at := start.Add(-time.Duration(h) * time.Hour); at.After(now) {
			out = append(out, at)
		}
	}
	slices.SortFunc(out, func(a, b time.Time) int { return a.Compare(b) })
	return slices.CompactFunc(out, func(a, b time.Time) bool { return a.Equal(b) })
}

// TextSendTime is when a text message due at t may go out: at t, or — in
// the quiet hours — at the next 08:00 clinic time.
func TextSendTime(t time.Time, loc *time.Location) time.Time {
	d, c := DateOf(t, loc), ClockOf(t, loc)
	switch {
	case c >= QuietFrom:
		return d.AddDays(1).At(QuietTo, loc)
	case c < QuietTo:
		return d.At(QuietTo, loc)
	}
	return t
}

// NormalizePhone writes a phone number in E.164 (+16025550142), reading
// numbers without a country code as US numbers.
func NormalizePhone(s string) (string, error) {
	n, err := phonenumbers.Parse(strings.TrimSpace(s), "US")
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return "", fmt.Errorf("%q is not a phone number we can text: give the area code, e.g. (602) 555-0142, or an international number starting with +", s)
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}

// FormatPhone writes a stored number the way people read it: a US number
// as (602) 555-0142, another in international form; anything it cannot
// read stays as it is.
func FormatPhone(s string) string {
	n, err := phonenumbers.Parse(s, "US")
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return s
	}
	if n.GetCountryCode() == 1 {
		return phonenumbers.Format(n, phonenumbers.NATIONAL)
	}
	return phonenumbers.Format(n, phonenumbers.INTERNATIONAL)
}

// NoticeVisit is a visit as a message names it.
type NoticeVisit struct {
	Kind       AppointmentKind
	Start, End time.Time
}

// Notice is what a message about visits says: nothing clinical.
type Notice struct {
	Kind        MessageKind
	ClinicName  string
	ClinicPhone string
	// ClinicAddress is where to come; "" leaves it out.
	ClinicAddress string
	Loc           *time.Location
	// Locale is the patient's language in the clinic's style.
	Locale i18n.Locale
	Visits []NoticeVisit // one, or every session of a loading series
	Was    []NoticeVisit // for MessageMoved: the times before
	Link   string        // the visit link (confirm or cancel), "" for none
}

func (v NoticeVisit) what(l i18n.Locale) string {
	if v.Kind.Infusion() {
		return l.T("infusion visit")
	}
	return l.T("appointment")
}

// when writes a visit's time in the patient's language and the clinic's
// style: "Wednesday, December 2, 2026 at 8:00 AM" ("Wed, Dec 2 at 8:00 AM"
// when short, for a text).
func when(t time.Time, loc *time.Location, l i18n.Locale, short bool) string {
	if short {
		return l.At(t.In(loc), i18n.Short)
	}
	return l.At(t.In(loc), i18n.LongYear)
}

func (n Notice) infusion() bool {
	for _, v := range n.Visits {
		if v.Kind.Infusion() {
			return true
		}
	}
	return false
}

// Subject is the email's subject line.
func (n Notice) Subject() string {
	v, l := n.Visits[0], n.Locale
	at := when(v.Start, n.Loc, l, false)
	var s string
	switch n.Kind {
	case MessageConfirmation:
		s = l.T("Your %s on %s", v.what(l), at)
		if len(n.Visits) > 1 {
			s = l.T("Your %d infusion visits from %s", len(n.Visits), at)
		}
	case MessageReminder:
		s = l.T("Reminder: your %s on %s", v.what(l), at)
	case MessageMoved:
		s = l.T("Your %s has moved to %s", v.what(l), at)
		if len(n.Visits) > 1 {
			s = l.T("Your infusion visits have moved, from %s", at)
		}
	case MessageCancelled:
		s = l.T("Cancelled: your %s on %s", v.what(l), at)
	}
	return s + " — " + n.ClinicName
}

// lines is the email's text, paragraph by paragraph.
func (n Notice) lines() []string {
	l := n.Locale
	var out []string
	switch n.Kind {
	case MessageConfirmation:
		out = append(out, l.T("You are booked at %s:", n.ClinicName))
	case MessageReminder:
		out = append(out, l.T("A reminder of your visit to %s:", n.ClinicName))
	case MessageMoved:
		out = append(out, l.T("Your visit to %s has moved. The new time:", n.ClinicName))
	case MessageCancelled:
		out = append(out, l.T("This visit to %s is cancelled:", n.ClinicName))
	}
	for _, v := range n.Visits {
		out = append(out, "- "+l.T("%s, %d minutes (until %s)", when(v.Start, n.Loc, l, false),
			int(v.End.Sub(v.Start)/time.Minute), l.Clock(v.End.In(n.Loc))))
	}
	if len(n.Was) > 0 {
		var was []string
		for _, v := range n.Was {
			was = append(was, when(v.Start, n.Loc, l, false))
		}
		out = append(out, l.T("It was: %s.", strings.Join(was, "; ")))
	}
	if n.Kind != MessageCancelled {
		if n.infusion() {
			out = append(out, l.T("Arrange a driver — you may not drive after an infusion."))
		}
		if n.ClinicAddress != "" {
			out = append(out, l.T("Where: %s", n.ClinicAddress))
		}
		out = append(out, l.T("Please arrive 15 minutes early."))
		if n.Link != "" {
			out = append(out, l.T(confirmOrCancel)+n.Link)
		}
	}
	if n.ClinicPhone != "" {
		out = append(out, l.T("Questions or changes: call %s.", n.ClinicPhone))
	}
	return out
}

const confirmOrCancel = "Confirm or cancel: "

// Text is the email's plain-text part.
func (n Notice) Text() string { return strings.Join(n.lines(), "\n\n") + "\n" }

// HTML is the email's HTML part: the same paragraphs, escaped.
func (n Notice) HTML() string {
	return htmlParagraphs(n.lines(), n.Locale.T(confirmOrCancel), n.Link, n.Locale.T("Confirm or cancel this visit"))
}

// htmlParagraphs writes an email's HTML part: each line a paragraph,
// escaped; the line linkLead+link (when link is set) a link reading label.
func htmlParagraphs(lines []string, linkLead, link, label string) string {
	var b strings.Builder
	b.WriteString("<!doctype html><html><body>")
	for _, l := range lines {
		if link != "" && l == linkLead+link {
			fmt.Fprintf(&b, `<p><a href="%s">%s</a></p>`, html.EscapeString(link), html.EscapeString(label))
			continue
		}
		b.WriteString("<p>" + html.EscapeString(l) + "</p>")
	}
	b.WriteString("</body></html>")
	return b.String()
}

// SMS is the text message, at most MaxSMS characters: the optional parts
// (arrival advice, then the phone) go first when it is too long.
func (n Notice) SMS() string {
	v, l := n.Visits[0], n.Locale
	at := when(v.Start, n.Loc, l, true)
	var head string
	switch n.Kind {
	case MessageConfirmation:
		head = l.T("booked: %s %s (%d min)", v.what(l), at, int(v.End.Sub(v.Start)/time.Minute))
		if len(n.Visits) > 1 {
			var days []string
			for _, s := range n.Visits {
				days = append(days, l.Date(s.Start.In(n.Loc), i18n.DayMonth))
			}
			head = l.T("booked: %d infusion visits at %s: %s", len(n.Visits), l.Clock(v.Start.In(n.Loc)), strings.Join(days, ", "))
		}
	case MessageReminder:
		head = l.T("reminder: %s %s", v.what(l), at)
	case MessageMoved:
		head = l.T("your %s moved to %s", v.what(l), at)
	case MessageCancelled:
		head = l.T("cancelled: %s %s", v.what(l), at)
	}
	parts := []string{head + "."}
	var optional []string
	if n.Kind != MessageCancelled {
		if n.infusion() {
			parts = append(parts, l.T("Arrange a driver: no driving after an infusion."))
		}
		if n.Link != "" {
			parts = append(parts, l.T("Confirm/cancel: %s", n.Link))
		}
	}
	// Dropped from the end when too long: the arrival advice, then the phone.
	if n.ClinicPhone != "" {
		optional = append(optional, l.T("Call %s.", n.ClinicPhone))
	}
	if n.Kind != MessageCancelled {
		optional = append(optional, l.T("Arrive 15 min early."))
	}
	// The clinic's name leads; a name too long for the rest is shortened,
	// never the visit or its link.
	name := []rune(n.ClinicName)
	if room := MaxSMS - utf8.RuneCountInString(strings.Join(parts, " ")) - len(": "); len(name) > room {
		name = append(name[:max(room-1, 0)], '…')
	}
	parts[0] = string(name) + ": " + parts[0]
	length := func(ps []string) int { return utf8.RuneCountInString(strings.Join(ps, " ")) }
	for len(optional) > 0 && length(append(slices.Clone(parts), optional...)) > MaxSMS {
		optional = optional[:len(optional)-1]
	}
	s := strings.Join(append(parts, optional...), " ")
	if r := []rune(s); len(r) > MaxSMS {
		s = string(r[:MaxSMS-1]) + "…"
	}
	return s
}

// Recipient is how a patient is reached.
type Recipient struct {
	Email, Phone string
	ContactBy    []Channel
	SMSOptedOut  bool
}

// Channels are the channels a message goes out on: those the patient
// chose and has details for, that the clinic uses (r), and no texts to a
// patient who texted STOP.
func (to Recipient) Channels(r Reminders) []Channel {
	var out []Channel
	if slices.Contains(to.ContactBy, ChannelEmail) && to.Email != "" && r.Email {
		out = append(out, ChannelEmail)
	}
	if slices.Contains(to.ContactBy, ChannelSMS) && to.Phone != "" && r.SMS && !to.SMSOptedOut {
		out = append(out, ChannelSMS)
	}
	return out
}

// PlannedMessage is one message to send: its kind, channel and time, and
// for a reminder the visit (an index into the visits planned for).
type PlannedMessage struct {
	Kind    MessageKind
	Channel Channel
	At      time.Time
	Visit   int // the visit a reminder is for; -1 for a message about all of them
}

// PlanVisitMessages is what a change to visits sends: one message of kind
// about all of them on each channel at once (a text held past the quiet
// hours), and — for a confirmation or a move — each visit's reminders at
// the clinic's offsets, those already past left out. A text that the quiet
// hours would hold until the visit has begun is not sent at all.
func PlanVisitMessages(kind MessageKind, visits []NoticeVisit, to Recipient, r Reminders, now time.Time, loc *time.Location) []PlannedMessage {
	if len(visits) == 0 {
		return nil
	}
	var out []PlannedMessage
	for _, ch := range to.Channels(r) {
		at := now
		if ch == ChannelSMS {
			at = TextSendTime(now, loc)
		}
		if kind == MessageCancelled || at.Before(visits[0].Start) {
			out = append(out, PlannedMessage{Kind: kind, Channel: ch, At: at, Visit: -1})
		}
		if kind != MessageConfirmation && kind != MessageMoved {
			continue
		}
		for i, v := range visits {
			var last time.Time
			for _, t := range ReminderTimes(v.Start, r.OffsetsHours, now) {
				if ch == ChannelSMS {
					t = TextSendTime(t, loc)
				}
				if !t.Before(v.Start) || t.Equal(last) {
					continue
				}
				last = t
				out = append(out, PlannedMessage{Kind: MessageReminder, Channel: ch, At: t, Visit: i})
			}
		}
	}
	return out
}

// Invitation is the portal invitation's email.
type Invitation struct {
	ClinicName, FirstName, Link string
	Valid                       time.Duration
	Locale                      i18n.Locale
}

// Subject is the invitation's subject line.
func (i Invitation) Subject() string {
	return i.Locale.T("Your patient portal invitation") + " — " + i.ClinicName
}

func (i Invitation) lines() []string {
	l := i.Locale
	return []string{
		l.T("Hello %s,", i.FirstName),
		l.T("%s invites you to its patient portal, where you can see and change your visits and tell the clinic how you are doing.", i.ClinicName),
		l.T("Set your password here within %d hours:", int(i.Valid/time.Hour)),
		i.Link,
		l.T("If you did not expect this message, you can ignore it."),
	}
}

// Text is the invitation's plain-text part.
func (i Invitation) Text() string { return strings.Join(i.lines(), "\n\n") + "\n" }

// HTML is the invitation's HTML part.
func (i Invitation) HTML() string { return htmlParagraphs(i.lines(), "", i.Link, i.Link) }

// SMS is the invitation as a text message.
func (i Invitation) SMS() string {
	return i.ClinicName + ": " + i.Locale.T("set up your patient portal within %d hours: %s", int(i.Valid/time.Hour), i.Link)
}

// PEGReminder asks a patient the weekly PEG questions in the portal. It
// names no condition, dose or score: only that there are questions.
type PEGReminder struct {
	ClinicName, FirstName, Link string
	Locale                      i18n.Locale
}

// Subject is the reminder's subject line.
func (r PEGReminder) Subject() string {
	return r.Locale.T("Three questions for this week") + " — " + r.ClinicName
}

func (r PEGReminder) lines() []string {
	l := r.Locale
	return []string{
		l.T("Hello %s,", r.FirstName),
		l.T("How has your pain been this week? Your care team asks three short questions each week to follow how you are doing between visits."),
		l.T("Answer them in your patient portal:"),
		r.Link,
	}
}

// Text is the reminder's plain-text part.
func (r PEGReminder) Text() string { return strings.Join(r.lines(), "\n\n") + "\n" }

// HTML is the reminder's HTML part.
func (r PEGReminder) HTML() string { return htmlParagraphs(r.lines(), "", r.Link, r.Link) }

// SMS is the reminder as a text message.
func (r PEGReminder) SMS() string {
	return r.ClinicName + ": " + r.Locale.T("How has your pain been this week? Answer three short questions in your patient portal: %s", r.Link)
}

// PEGEveryDays is how often the portal asks PEG, and reminds.
const PEGEveryDays = 7

// PEGReminderDue decides whether a patient is reminded of the weekly PEG
// today: neither an answer nor a reminder in the last PEGEveryDays days
// (nil: never).
func PEGReminderDue(lastAnswer, lastReminder *Date, today Date) bool {
	recent := func(d *Date) bool { return d != nil && today.DaysSince(*d) < PEGEveryDays }
	return !recent(lastAnswer) && !recent(lastReminder)
}

// Outgoing is one message, finished, as it is handed to the mail server
// or the text-message gateway.
type Outgoing struct {
	Channel   Channel
	To        string // an email address, or an E.164 number
	MessageID string // the email's Message-ID, the same on every try
	Subject   string
	Text      string // an email's text part, or the text message
	HTML      string
}

// SendCheck is what the send-time check decides about one message.
type SendCheck struct {
	To   string        // the email address or E.164 number to send to
	Drop string        // why the message is not sent at all; "" to send
	Wait time.Duration // a text due in the quiet hours waits this long
}

// CheckSend decides, when a message on ch is due at now, whether and where
// it goes: off says why the channel is off on this server ("" when it is
// on); the patient's choice, a STOP, and missing or unusable details drop
// it, saying why; a text in the quiet hours waits for 08:00.
func CheckSend(ch Channel, to Recipient, off string, now time.Time, loc *time.Location) SendCheck {
	switch {
	case off != "" && ch == ChannelSMS:
		return SendCheck{Drop: "Text messages are off on this server: " + off}
	case off != "":
		return SendCheck{Drop: "Email is off on this server: " + off}
	case !slices.Contains(to.ContactBy, ch):
		return SendCheck{Drop: "The patient does not want messages by " + ch.Name() + "."}
	case ch == ChannelEmail && to.Email == "":
		return SendCheck{Drop: "There is no email address on file."}
	case ch == ChannelEmail:
		return SendCheck{To: to.Email}
	case to.SMSOptedOut:
		return SendCheck{Drop: "The patient texted STOP: no text messages until they text START."}
	}
	phone, err := NormalizePhone(to.Phone)
	if err != nil {
		return SendCheck{Drop: "The phone number on file cannot receive text messages."}
	}
	return SendCheck{To: phone, Wait: TextSendTime(now, loc).Sub(now)}
}

// Name is the channel in words.
func (c Channel) Name() string {
	if c == ChannelSMS {
		return "text message"
	}
	return "email"
}

// MessageContent is what a message says, as email and as a text.
type MessageContent interface {
	Subject() string
	Text() string
	HTML() string
	SMS() string
}

// Write fills the message's words for its channel from c.
func (o *Outgoing) Write(c MessageContent) {
	if o.Channel == ChannelSMS {
		o.Text = c.SMS()
		return
	}
	o.Subject, o.Text, o.HTML = c.Subject(), c.Text(), c.HTML()
}

// MessageEntry is one message as the message log shows it.
type MessageEntry struct {
	ID            int64
	AppointmentID *int64
	PatientID     int64
	PatientName   string
	Kind          MessageKind
	Channel       Channel
	Status        string // scheduled, sent, failed or dropped
	ScheduledFor  time.Time
	SentAt        *time.Time
	Error         string // the last try's error, or why it was dropped
	Attempts      int
	VisitStart    *time.Time // the appointment's start, for the desk's list
}
