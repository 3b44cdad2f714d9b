package clinic

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/infusiondesk/infusiondesk/internal/i18n"
)

// The safety gates of the booking engine (README.md, "Booking one visit"): what
// a clinic must never book, whoever asks.

// Infusion reports whether a visit of this kind is an infusion (loading or
// maintenance); consultations are not.
func (k AppointmentKind) Infusion() bool { return k == KindLoading || k == KindMaintenance }

// DefaultBookingHorizonDays is how far ahead a clinic books unless it says
// otherwise: about eighteen months.
const DefaultBookingHorizonDays = 540

// MaxAdditionalReason is the longest reason for an additional infusion.
const MaxAdditionalReason = 500

// NewVisit is a visit about to be booked or moved, as the gates see it.
type NewVisit struct {
	ID         int64 // the appointment being moved; 0 for a new one
	Kind       AppointmentKind
	Start      time.Time
	Additional string // a physician's reason for an additional maintenance infusion
}

// CheckInfusionGates decides whether v may be booked next to the
// patient's other active appointments (theirs, any status that holds a
// chair): at most one booked maintenance visit still to come, unless a
// physician books an additional infusion with a reason; never two
// infusions on one clinic-local date. by is the role asking.
func CheckInfusionGates(v NewVisit, others []Appointment, by Role, s Schedule) error {
	loc := s.Loc
	if v.Additional != "" {
		switch {
		case v.Kind != KindMaintenance:
			return Invalid(map[string]string{"additional_reason": "Only a maintenance infusion can be booked as an additional infusion."})
		case by != RolePhysician && v.ID == 0: // anyone may move one already booked
			return Errorf(EFORBIDDEN, "Only a physician can book an additional infusion.")
		case utf8.RuneCountInString(v.Additional) > MaxAdditionalReason:
			return Invalid(map[string]string{"additional_reason": fmt.Sprintf("Use at most %d characters.", MaxAdditionalReason)})
		}
	}
	if !v.Kind.Infusion() {
		return nil
	}
	day := DateOf(v.Start, loc)
	for _, o := range others {
		if o.ID == v.ID || !o.Status.Active() || !o.Kind.Infusion() {
			continue
		}
		if DateOf(o.Start, loc) == day {
			return &Error{Code: EINVALID, Reason: ReasonInfusionThatDay,
				Message: fmt.Sprintf("The patient already has an infusion that day: %s. Never two infusions on one day.", o.Describe(s)),
				Fields:  map[string]string{"start": fmt.Sprintf("The patient already has an infusion that day (%s).", o.Describe(s))}}
		}
	}
	if v.Kind != KindMaintenance || v.Additional != "" {
		return nil
	}
	for _, o := range others {
		if o.ID != v.ID && o.Kind == KindMaintenance && o.Status == StatusBooked && o.AdditionalReason == "" {
			return &Error{Code: ECONFLICT, Reason: ReasonNextInfusionBooked, Existing: &o,
				Message: fmt.Sprintf("The patient's next infusion is already booked: %s. Move that visit instead; "+
					"an extra infusion needs a physician to book it as an additional infusion, with a reason.", o.Describe(s))}
		}
	}
	return nil
}

// Describe names an appointment for a message: kind, day and time.
func (a Appointment) Describe(s Schedule) string {
	what := map[AppointmentKind]string{KindMaintenance: "maintenance infusion", KindLoading: "loading session", KindConsult: "consultation"}[a.Kind]
	if a.SessionNo != nil {
		what = fmt.Sprintf("loading session %d", *a.SessionNo)
	}
	return fmt.Sprintf("%s on %s at %s", what, s.DayText(DateOf(a.Start, s.Loc), i18n.ShortYear), s.TimeText(a.Start))
}

// ConsultationFirst is the earliest first date of a loading series for a
// patient with consultations booked: the day after the latest one still to
// come (a series starts after the patient has been seen). It returns
// earliest unchanged, and "" as the reason, when no consultation is in the
// way.
func ConsultationFirst(earliest Date, consults []Appointment, now time.Time, s Schedule) (Date, string) {
	loc := s.Loc
	var latest *Appointment
	for i, c := range consults {
		if c.Kind != KindConsult || c.Status != StatusBooked || !c.End.After(now) {
			continue
		}
		if latest == nil || c.Start.After(latest.Start) {
			latest = &consults[i]
		}
	}
	if latest == nil {
		return earliest, ""
	}
	after := DateOf(latest.Start, loc).AddDays(1)
	if !after.After(earliest) {
		return earliest, ""
	}
	return after, fmt.Sprintf("The series starts after the patient's consultation (%s), so its first date is %s at the earliest.",
		latest.Describe(s), s.DayText(after, i18n.Short))
}

// Arrival is what the desk enters at check-in: who takes the patient
// home, and the screen of an infusion visit.
type Arrival struct {
	Driver Driver
	Screen ScreenInput
}

// Driver is who takes the patient home after an infusion.
type Driver struct {
	Name  string
	Phone string
}

// CheckDriver decides the driver for checking in a visit: the one entered
// at check-in, else the one on file. An infusion is not checked in without
// a driver or escort (name and phone); a consultation needs none.
func CheckDriver(kind AppointmentKind, entered, onFile Driver) (Driver, error) {
	entered.Name, entered.Phone = strings.TrimSpace(entered.Name), strings.TrimSpace(entered.Phone)
	p := Problems{}
	if utf8.RuneCountInString(entered.Name) > 200 {
		p.Add("driver_name", "Use at most 200 characters.")
	}
	if utf8.RuneCountInString(entered.Phone) > 40 {
		p.Add("driver_phone", "Use at most 40 characters.")
	}
	p.checkText(map[string]string{"driver_name": entered.Name, "driver_phone": entered.Phone}, false)
	if err := p.Err(); err != nil {
		return Driver{}, err
	}
	if entered.Name != "" || entered.Phone != "" {
		if entered.Name == "" {
			p.Add("driver_name", "Give the driver's or escort's name.")
		}
		if entered.Phone == "" {
			p.Add("driver_phone", "Give a phone number for the driver or escort.")
		}
		return entered, p.Err()
	}
	if !kind.Infusion() || onFile.Name != "" && onFile.Phone != "" {
		return onFile, nil
	}
	return Driver{}, &Error{Code: EINVALID, Reason: ReasonDriverMissing,
		Message: "No driver or escort is on file: patients may not drive after an infusion. Enter who takes the patient home.",
		Fields: map[string]string{"driver_name": "Enter the driver's or escort's name.",
			"driver_phone": "Enter a phone number for the driver or escort."}}
}

// Horizon is the span of dates the clinic books: from today to today +
// BookingHorizonDays.
func (s Schedule) Horizon(now time.Time) (first, last Date) {
	days := s.Settings.BookingHorizonDays
	if days <= 0 {
		days = DefaultBookingHorizonDays
	}
	today := DateOf(now, s.Loc)
	return today, today.AddDays(days)
}

// CheckHorizon refuses a date outside the booking horizon, naming field.
func (s Schedule) CheckHorizon(field string, d Date, now time.Time) error {
	first, last := s.Horizon(now)
	switch {
	case d.Before(first):
		return Invalid(map[string]string{field: "That date has already passed."})
	case d.After(last):
		return Invalid(map[string]string{field: fmt.Sprintf("The clinic books up to %d days ahead, until %s.",
			last.DaysSince(first), s.DayText(last, i18n.ShortYear))})
	}
	return nil
}
