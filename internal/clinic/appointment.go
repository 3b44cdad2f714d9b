package clinic

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/infusiondesk/infusiondesk/internal/i18n"
)

// AppointmentKind says what a visit is for.
type AppointmentKind string

const (
	KindMaintenance AppointmentKind = "maintenance"
	KindLoading     AppointmentKind = "loading"
	KindConsult     AppointmentKind = "consult"
)

// ConsultMinutes is how long a consultation holds a chair.
const ConsultMinutes = 30

// Status is where an appointment stands.
type Status string

const (
	StatusBooked    Status = "booked"
	StatusCheckedIn Status = "checked_in"
	StatusCompleted Status = "completed"
	StatusCancelled Status = "cancelled"
	StatusNoShow    Status = "no_show"
)

// Active reports whether an appointment in this status holds its chair.
func (s Status) Active() bool {
	return s == StatusBooked || s == StatusCheckedIn || s == StatusCompleted
}

// Label is the status as the desk says it.
func (s Status) Label() string {
	switch s {
	case StatusBooked:
		return "Booked"
	case StatusCheckedIn:
		return "Checked in"
	case StatusCompleted:
		return "Completed"
	case StatusCancelled:
		return "Cancelled"
	case StatusNoShow:
		return "No-show"
	}
	return string(s)
}

// Appointment is a patient's visit holding a chair for [Start, End).
type Appointment struct {
	ID        int64
	PatientID int64
	ChairID   int64
	Kind      AppointmentKind
	Status    Status
	Start     time.Time
	End       time.Time
	CourseID  *int64
	SeriesID  *int64
	SessionNo *int
	Version   int
	// AdditionalReason is a physician's reason for a maintenance infusion
	// booked besides the next one; "" for an ordinary visit.
	AdditionalReason string `json:",omitempty"`
	// ConfirmedAt is when the patient confirmed the visit (by its link or
	// a text back); nil until then.
	ConfirmedAt *time.Time `json:",omitempty"`
	// Nurse watches an infusion on a date with nurses on shift; zero
	// otherwise (and for consultations).
	Nurse Assignment `json:",omitzero"`
	// PlacedBy is who put the visit at its time: the desk (""), an offer
	// claimed, or the patient in the portal.
	PlacedBy Placement `json:",omitempty"`
	// Screen is the screen at check-in of an infusion visit; nil before.
	Screen *Screening `json:",omitempty"`
}

// Placement says who put a visit at its time.
type Placement string

const (
	PlacedByDesk  Placement = "desk"
	PlacedByOffer Placement = "offer"
	PlacedBySelf  Placement = "self"
)

// Label is the placement as the day view marks it; "" for the desk.
func (p Placement) Label() string {
	switch p {
	case PlacedBySelf:
		return "Self-booked"
	case PlacedByOffer:
		return "From an offer"
	}
	return ""
}

// Visit is an appointment with the names the calendar shows.
type Visit struct {
	Appointment
	PatientName string
	ChairName   string
	NurseName   string // "" without a nurse
	// Driver is who took the patient home (recorded at check-in);
	// DriverOnFile the driver or escort on the patient's record.
	Driver, DriverOnFile Driver
	MRN                  string
	CancelReason         string
}

// Misfit is a booked appointment that no longer fits the clinic's hours,
// days or chairs, and why.
type Misfit struct {
	Visit
	Reason string
}

// Minutes is how long the appointment holds its chair.
func (a Appointment) Minutes() int { return int(a.End.Sub(a.Start) / time.Minute) }

// MaintenanceDefault is the occupancy of a maintenance infusion for a
// patient without a treatment course: 60 minutes plus 30 of recovery.
var MaintenanceDefault = Numbers{MaintenanceInfusionMinutes: 60, MaintenanceRecoveryMinutes: 30}

// Occupancy is how many minutes a visit of this kind holds its chair: a
// consultation 30; an infusion the infusion and recovery minutes of the
// patient's open course, else of the protocol given. A maintenance
// infusion without either takes the default 60 + 30; a loading session
// needs one or the other.
func Occupancy(kind AppointmentKind, course *Course, protocol *Protocol) (int, error) {
	var numbers *Numbers
	if protocol != nil {
		numbers = &protocol.Numbers
	}
	if course != nil {
		numbers = &course.Numbers
	}
	switch kind {
	case KindConsult:
		return ConsultMinutes, nil
	case KindMaintenance:
		if numbers == nil {
			numbers = &MaintenanceDefault
		}
		return numbers.MaintenanceInfusionMinutes + numbers.MaintenanceRecoveryMinutes, nil
	case KindLoading:
		if numbers == nil {
			return 0, Invalid(map[string]string{"protocol_id": "Choose a protocol: the length of a loading session depends on it."})
		}
		return numbers.InfusionMinutes + numbers.RecoveryMinutes, nil
	}
	return 0, Invalid(map[string]string{"kind": "Choose maintenance, loading or consult."})
}

// ParseKind reads an appointment kind.
func ParseKind(s string) (AppointmentKind, bool) {
	switch k := AppointmentKind(s); k {
	case KindMaintenance, KindLoading, KindConsult:
		return k, true
	}
	return "", false
}

// Action is something the desk or a nurse does to an appointment.
type Action string

const (
	ActReschedule Action = "reschedule"
	ActCancel     Action = "cancel"
	ActCheckIn    Action = "check_in"
	ActNoShow     Action = "no_show"
	ActComplete   Action = "complete"
	ActClear      Action = "clear" // a physician clears a visit held by its screen
)

// Allow decides whether act may be done to the appointment now. A refusal
// because of where the appointment stands is ECONFLICT; one because of the
// time is EINVALID.
func (a Appointment) Allow(act Action, now time.Time, s Schedule) error {
	loc := s.Loc
	switch a.Status {
	case StatusCancelled, StatusNoShow, StatusCompleted:
		return Errorf(ECONFLICT, "This appointment is already %s; it cannot be changed.", strings.ToLower(a.Status.Label()))
	}
	switch act {
	case ActReschedule:
		if a.Status == StatusCheckedIn {
			return Errorf(ECONFLICT, "The patient has already checked in; this appointment can no longer be moved.")
		}
	case ActCancel:
	case ActCheckIn:
		if a.Status == StatusCheckedIn {
			return Errorf(ECONFLICT, "The patient has already checked in.")
		}
		if d := DateOf(a.Start, loc); d != DateOf(now, loc) {
			return Errorf(EINVALID, "Patients check in on the day of their appointment (%s).", s.DayText(d, i18n.ShortYear))
		}
	case ActNoShow:
		if a.Status == StatusCheckedIn {
			return Errorf(ECONFLICT, "The patient has checked in, so they did show up.")
		}
		if now.Before(a.Start) {
			return Errorf(EINVALID, "A patient can be marked as not shown once the appointment time (%s) has come.", s.TimeText(a.Start))
		}
	case ActComplete:
		if a.Status != StatusCheckedIn {
			return Errorf(ECONFLICT, "Check the patient in before completing the visit.")
		}
		return CheckStart(a.Screen)
	case ActClear:
		if a.Status != StatusCheckedIn {
			return Errorf(ECONFLICT, "The patient has not checked in: there is no screen to clear.")
		}
	default:
		return Errorf(EINVALID, "Unknown action %q.", act)
	}
	return nil
}

// CancelReason checks and tidies the reason given for a cancellation.
func CancelReason(s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", Invalid(map[string]string{"reason": "Say why the appointment is cancelled."})
	case utf8.RuneCountInString(s) > 500:
		return "", Invalid(map[string]string{"reason": "Use at most 500 characters."})
	}
	return s, nil
}
