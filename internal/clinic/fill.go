package clinic

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/infusiondesk/infusiondesk/internal/i18n"
)

// Filling freed chairs (issue 16): who could take a slot that came free,
// best first; the waitlist's wishes; the window in which a maintenance
// patient books their own next infusion; offers of a slot.

// FillReason is why a patient could take a freed slot.
type FillReason string

const (
	FillOverdue        FillReason = "overdue"         // due date passed, nothing booked
	FillDueWindow      FillReason = "due_window"      // the slot's day lies in their booking window, nothing booked
	FillWaitlist       FillReason = "waitlist"        // they asked for an earlier day like this one
	FillLoadingEarlier FillReason = "loading_earlier" // a loading session could move to this day
)

// Label is the reason as the desk reads it in a list.
func (r FillReason) Label() string {
	switch r {
	case FillOverdue:
		return "Overdue"
	case FillDueWindow:
		return "Due"
	case FillWaitlist:
		return "Waitlist"
	case FillLoadingEarlier:
		return "Loading, earlier"
	}
	return string(r)
}

// PartOfDay is when a waitlisted patient can come.
type PartOfDay string

const (
	Mornings   PartOfDay = "morning"   // starts before noon
	Afternoons PartOfDay = "afternoon" // starts at noon or later
	AnyTime    PartOfDay = "any"
)

// Noon divides mornings from afternoons.
const Noon Clock = 12 * 60

// ParsePartOfDay reads "morning", "afternoon" or "any" ("" is any).
func ParsePartOfDay(s string) (PartOfDay, bool) {
	switch p := PartOfDay(strings.TrimSpace(s)); p {
	case Mornings, Afternoons, AnyTime:
		return p, true
	case "":
		return AnyTime, true
	}
	return "", false
}

// Matches reports whether a visit starting at c suits p.
func (p PartOfDay) Matches(c Clock) bool {
	switch p {
	case Mornings:
		return c < Noon
	case Afternoons:
		return c >= Noon
	}
	return true
}

// Label is p in words.
func (p PartOfDay) Label() string {
	switch p {
	case Mornings:
		return "mornings"
	case Afternoons:
		return "afternoons"
	}
	return "any time of day"
}

// MaxWaitlistDays is how far ahead a waitlist wish may reach.
const MaxWaitlistDays = 180

// Wish is a patient's place on the waitlist: any day before Before (not
// on it), at Part of the day. It lapses at Before.
type Wish struct {
	Before Date
	Part   PartOfDay
	Since  time.Time // when the patient was put on the list
}

// CheckWish names what is wrong with a wish made today.
func CheckWish(w Wish, today Date) error {
	p := Problems{}
	switch {
	case w.Before.IsZero():
		p.Add("before", "Give the day before which the patient would like to come.")
	case !w.Before.After(today.AddDays(1)):
		p.Add("before", "Give a day after tomorrow: the wish is for any day before it.")
	case w.Before.After(today.AddDays(MaxWaitlistDays)):
		p.Add("before", fmt.Sprintf("Give a day within %d days.", MaxWaitlistDays))
	}
	if _, ok := ParsePartOfDay(string(w.Part)); !ok {
		p.Add("part_of_day", "Choose mornings, afternoons or any time.")
	}
	return p.Err()
}

// SelfBooking is how many days before and after the due date a patient may
// book their own next infusion (physician-adjustable per course).
type SelfBooking struct {
	DaysBefore int `json:"self_booking_days_before"`
	DaysAfter  int `json:"self_booking_days_after"`
}

// DefaultSelfBooking is three days either side of the due date.
var DefaultSelfBooking = SelfBooking{DaysBefore: 3, DaysAfter: 3}

// MaxSelfBookingDays bounds either side of the window.
const MaxSelfBookingDays = 28

// Window is a span of clinic days, both ends included.
type Window struct {
	From, To Date
}

// Contains reports whether d lies in w.
func (w Window) Contains(d Date) bool { return !d.Before(w.From) && !d.After(w.To) }

// Text writes the window as people read it, in the clinic's style:
// "Tue, Nov 3 – Fri, Nov 6".
func (w Window) Text(st i18n.Style) string {
	if w.From == w.To {
		return DayText(st, w.From, i18n.Short)
	}
	return DayText(st, w.From, i18n.Short) + " – " + DayText(st, w.To, i18n.Short)
}

// BookingWindow is the days in which a maintenance patient due on due,
// whose last infusion was on last, books their next infusion: from
// DaysBefore before the due date to DaysAfter after it, never sooner than
// the course's shortest interval after the last infusion, never before
// today. A window already over (the patient is overdue) becomes the coming
// days, as many as the window is long: an overdue patient should come
// soon, not be told to call.
func BookingWindow(due, last Date, minInterval int, sb SelfBooking, today Date) Window {
	from := due.AddDays(-sb.DaysBefore)
	if earliest := last.AddDays(minInterval); earliest.After(from) {
		from = earliest
	}
	if today.After(from) {
		from = today
	}
	to := due.AddDays(sb.DaysAfter)
	if to.Before(from) {
		to = from.AddDays(sb.DaysBefore + sb.DaysAfter)
	}
	return Window{From: from, To: to}
}

// CheckSelfBooking names what is wrong with a course's window.
func CheckSelfBooking(sb SelfBooking, p Problems) {
	for field, v := range map[string]int{"self_booking_days_before": sb.DaysBefore, "self_booking_days_after": sb.DaysAfter} {
		if v < 0 || v > MaxSelfBookingDays {
			p.Add(field, fmt.Sprintf("Enter 0 to %d days.", MaxSelfBookingDays))
		}
	}
}

// FillFacts are what the ranking knows of one patient with an open course.
type FillFacts struct {
	PatientID int64
	Name      string
	Phase     Phase
	// Maintenance: the plan's due date and last infusion, the shortest
	// interval and the booking window's days.
	Due, Last   *Date
	MinInterval int
	SelfBooking SelfBooking
	// Booked is the patient's next maintenance visit, when one is booked.
	Booked *Appointment
	Wish   *Wish
	// Session is, for a loading patient, the first session after the
	// slot's day, when moving it to the slot keeps the series' spacing.
	Session *Appointment
	// Minutes is their visit's occupancy (infusion and recovery). Free:
	// the patient has nothing overlapping the slot and no other infusion
	// that day; Fits: Minutes fits in the slot.
	Minutes    int
	Free, Fits bool
	// Offers is false for a patient who does not want offers.
	Offers bool
}

// FillCandidate is one patient who could take a freed slot.
type FillCandidate struct {
	PatientID int64
	Name      string
	Reason    FillReason
	DueDate   *Date
	Score     int
	Why       string // the reason in words
	// Moves is the visit that moves into the slot (a booked maintenance
	// visit of a waitlisted patient, or a loading session); nil for a new
	// booking.
	Moves *Appointment
}

// RankFill ranks who could take a slot starting on day at the clock at,
// best first: overdue maintenance patients (most overdue first), those
// whose booking window holds the day and who have nothing booked, those
// on the waitlist whose wish matches (longest waiting first), then loading
// patients whose next session could move to it (most days gained first).
// A patient busy then, already booked at their due time, too soon after
// their last infusion, whose visit does not fit, or who does not want
// offers, is not listed. Ties go by name.
func RankFill(day Date, at Clock, today Date, facts []FillFacts, s Schedule) []FillCandidate {
	var out []FillCandidate
	for _, f := range facts {
		if !f.Free || !f.Fits || !f.Offers {
			continue
		}
		if c, ok := fillCandidate(f, day, at, today, s); ok {
			out = append(out, c)
		}
	}
	slices.SortStableFunc(out, func(a, b FillCandidate) int {
		return cmp.Or(cmp.Compare(b.Score, a.Score), strings.Compare(a.Name, b.Name), cmp.Compare(a.PatientID, b.PatientID))
	})
	return out
}

func fillCandidate(f FillFacts, day Date, at Clock, today Date, s Schedule) (FillCandidate, bool) {
	c := FillCandidate{PatientID: f.PatientID, Name: f.Name, DueDate: f.Due}
	switch {
	case f.Phase == PhaseLoading && f.Session != nil:
		from := DateOf(f.Session.Start, s.Loc)
		gain := from.DaysSince(day)
		if gain <= 0 {
			return c, false
		}
		c.Reason, c.Score, c.Moves = FillLoadingEarlier, 100+min(gain, 99), f.Session
		c.Why = fmt.Sprintf("Loading session %d could move here from %s (%s earlier); the series keeps its spacing.",
			deref(f.Session.SessionNo), s.DayText(from, i18n.Short), plural(gain, "day"))
		return c, true
	case f.Phase != PhaseMaintenance || f.Due == nil || f.Last == nil:
		return c, false
	}
	if day.Before(f.Last.AddDays(f.MinInterval)) {
		return c, false // sooner after the last infusion than the shortest interval
	}
	due := *f.Due
	if f.Booked == nil {
		if due.Before(today) {
			late := today.DaysSince(due)
			c.Reason, c.Score = FillOverdue, 3000+min(late, 999)
			c.Why = fmt.Sprintf("Overdue since %s (%s); nothing booked.", s.DayText(due, i18n.Short), plural(late, "day"))
			return c, true
		}
		w := BookingWindow(due, *f.Last, f.MinInterval, f.SelfBooking, today)
		if w.Contains(day) {
			off := day.DaysSince(due)
			c.Reason, c.Score = FillDueWindow, 2000-min(max(off, -off), 999)
			c.Why = fmt.Sprintf("Due %s; this day is in their window (%s); nothing booked.", s.DayText(due, i18n.Short), w.Text(s.Settings.Style))
			return c, true
		}
	}
	if f.Wish == nil || !day.Before(f.Wish.Before) || !f.Wish.Part.Matches(at) {
		return c, false
	}
	if f.Booked != nil && !day.Before(DateOf(f.Booked.Start, s.Loc)) {
		return c, false // no earlier than what they have
	}
	waited := today.DaysSince(DateOf(f.Wish.Since, s.Loc))
	c.Reason, c.Score, c.Moves = FillWaitlist, 1000+min(max(waited, 0), 999), f.Booked
	c.Why = fmt.Sprintf("On the waitlist for any day before %s, %s.", s.DayText(f.Wish.Before, i18n.Short), f.Wish.Part.Label())
	if f.Booked != nil {
		c.Why += fmt.Sprintf(" Booked %s now; it would move here.", s.DayText(DateOf(f.Booked.Start, s.Loc), i18n.Short)+" "+s.TimeText(f.Booked.Start))
	}
	return c, true
}

func deref(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

// A free slot (to fill or offer) is 15 to 720 minutes: the longest
// occupancy a course allows.
const (
	MinSlotMinutes = 15
	MaxSlotMinutes = 720
)

// CheckSlotMinutes names a free time's length outside those bounds.
func CheckSlotMinutes(minutes int, p Problems) {
	if minutes < MinSlotMinutes || minutes > MaxSlotMinutes {
		p.Add("minutes", fmt.Sprintf("Give the free time as %d to %d minutes.", MinSlotMinutes, MaxSlotMinutes))
	}
}

// Offer limits.
const (
	MaxOfferPatients   = 20
	DefaultOfferExpiry = 2 * time.Hour
)

// NewOffer is the desk offering a freed slot to patients.
type NewOffer struct {
	Start      time.Time
	ChairID    int64
	Minutes    int
	Expires    time.Time // zero: DefaultOfferExpiry from now, never after the slot
	PatientIDs []int64
}

// Check decides the offer's expiry and names what is wrong.
func (o *NewOffer) Check(now time.Time) error {
	p := Problems{}
	CheckSlotMinutes(o.Minutes, p)
	if o.ChairID <= 0 {
		p.Add("chair_id", "Choose the chair that is free.")
	}
	seen := map[int64]bool{}
	ids := o.PatientIDs[:0:0]
	for _, id := range o.PatientIDs {
		if id > 0 && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	o.PatientIDs = ids
	switch {
	case len(ids) == 0:
		p.Add("patient_ids", "Choose at least one patient to offer the slot to.")
	case len(ids) > MaxOfferPatients:
		p.Add("patient_ids", fmt.Sprintf("Offer a slot to at most %d patients at once.", MaxOfferPatients))
	}
	if o.Start.IsZero() {
		p.Add("start", "Give the slot's start.")
	} else if o.Expires.IsZero() {
		o.Expires = now.Add(DefaultOfferExpiry)
		if o.Expires.After(o.Start) {
			o.Expires = o.Start
		}
	}
	switch {
	case o.Expires.IsZero():
	case !o.Expires.After(now):
		p.Add("expires_at", "The offer must end in the future.")
	case !o.Start.IsZero() && o.Expires.After(o.Start):
		p.Add("expires_at", "The offer must end by the time the slot begins.")
	}
	return p.Err()
}

// OfferNotice is the message offering a slot: when, how long, until when
// the offer stands, and the claim link. Nothing clinical.
type OfferNotice struct {
	ClinicName, ClinicPhone string
	Loc                     *time.Location
	Locale                  i18n.Locale // the patient's language in the clinic's style
	Start                   time.Time
	Minutes                 int
	Expires                 time.Time
	Link                    string
}

// Subject is the email's subject line.
func (n OfferNotice) Subject() string {
	return n.Locale.T("An earlier infusion time: %s", when(n.Start, n.Loc, n.Locale, false)) + " — " + n.ClinicName
}

func (n OfferNotice) lines() []string {
	l := n.Locale
	out := []string{
		l.T("A chair has come free at %s, and your next infusion is due around then:", n.ClinicName),
		"- " + l.T("%s, %d minutes (until %s)", when(n.Start, n.Loc, l, false), n.Minutes,
			l.Clock(n.Start.Add(time.Duration(n.Minutes)*time.Minute).In(n.Loc))),
		l.T("It goes to the first patient who takes it. The offer ends %s.", when(n.Expires, n.Loc, l, true)),
		l.T(takeIt) + n.Link,
		l.T("Arrange a driver — you may not drive after an infusion."),
	}
	if n.ClinicPhone != "" {
		out = append(out, l.T("Questions: call %s.", n.ClinicPhone))
	}
	return out
}

const takeIt = "Take this time: "

// Text is the email's plain-text part.
func (n OfferNotice) Text() string { return strings.Join(n.lines(), "\n\n") + "\n" }

// HTML is the email's HTML part.
func (n OfferNotice) HTML() string {
	return htmlParagraphs(n.lines(), n.Locale.T(takeIt), n.Link, n.Locale.T("Take this time"))
}

// SMS is the offer as a text message.
func (n OfferNotice) SMS() string {
	s := n.Locale.T("an earlier infusion time is free: %s (%d min). First to take it gets it, until %s: %s",
		when(n.Start, n.Loc, n.Locale, true), n.Minutes, n.Locale.Clock(n.Expires.In(n.Loc)), n.Link)
	name := []rune(n.ClinicName)
	if room := MaxSMS - utf8.RuneCountInString(s) - len(": "); len(name) > room {
		name = append(name[:max(room-1, 0)], '…')
	}
	return string(name) + ": " + s
}
