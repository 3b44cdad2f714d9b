package clinic

import "time"

// Infusion is an infusion given, recorded from a completed appointment or
// imported from a paper chart.
type Infusion struct {
	ID            int64
	PatientID     int64
	CourseID      int64
	AppointmentID *int64
	GivenOn       Date
	StartedAt     *time.Time
	Phase         Phase // loading or maintenance
	Route         string
	DoseMgPerKgH  float64
	WeightKg      *float64
	Minutes       *int
}

// ReliefStatus is what a relief report says.
type ReliefStatus string

const (
	ReliefEnded   ReliefStatus = "ended"   // pain came back on the date
	ReliefHolding ReliefStatus = "holding" // still relieved on the date
)

// ReliefReport is one report about relief after an infusion.
type ReliefReport struct {
	ID         int64
	InfusionID int64
	Status     ReliefStatus
	OnDate     Date
	Source     string // patient, desk, nurse, physician
}
