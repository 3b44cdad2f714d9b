package clinic

import (
	"strings"
	"time"
)

// Booking is one appointment to book.
type Booking struct {
	PatientID int64
	Kind      AppointmentKind
	Start     time.Time
	ChairID   int64 // 0: the first free chair in chair order
	NurseID   int64 // 0: any nurse on shift who can watch it (rostered dates)
	// AdditionalReason books a maintenance infusion besides the patient's
	// next one: a physician's decision, with the reason.
	AdditionalReason string
	// IdempotencyKey makes a retried or double-submitted booking return the
	// appointment the first attempt made. "" for none.
	IdempotencyKey string
	// Via is who places the visit: the desk (""), an offer, the patient.
	Via Placement
}

// Appointment decides the appointment a booking makes for a patient with
// the open course given (nil: none): as long as the course's numbers say
// (clinicwide defaults without one), on an open day, inside the hours, on
// the grid and not in the past; an infusion belongs to the course. Its
// chair is chosen when it is placed.
func (b Booking) Appointment(course *Course, sched Schedule, now time.Time) (Appointment, error) {
	minutes, err := Occupancy(b.Kind, course, nil)
	if err != nil {
		return Appointment{}, err
	}
	if err := sched.Check(b.Start, minutes, now); err != nil {
		return Appointment{}, err
	}
	a := Appointment{PatientID: b.PatientID, Kind: b.Kind, Status: StatusBooked,
		Start: b.Start, End: b.Start.Add(time.Duration(minutes) * time.Minute), Version: 1,
		AdditionalReason: strings.TrimSpace(b.AdditionalReason), PlacedBy: b.Via}
	if course != nil && b.Kind != KindConsult {
		a.CourseID = &course.ID
	}
	return a, nil
}

// Replays reports whether prev, the appointment an earlier request with
// the same idempotency key booked, is this booking; a key reused for a
// different booking is refused.
func (b Booking) Replays(prev Appointment) error {
	if prev.PatientID != b.PatientID || prev.Kind != b.Kind || (b.ChairID != 0 && prev.ChairID != b.ChairID) {
		return Errorf(ECONFLICT, "This idempotency key was already used for a different booking.")
	}
	return nil
}
