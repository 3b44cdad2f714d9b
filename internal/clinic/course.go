package clinic

import "time"

// Phase is where a treatment course stands.
type Phase string

const (
	PhaseLoading     Phase = "loading"
	PhaseMaintenance Phase = "maintenance"
	PhasePaused      Phase = "paused"
	PhaseEnded       Phase = "ended"
)

// Course is one patient's treatment under a protocol whose numbers were
// copied onto it (and may since have been adjusted for this patient).
type Course struct {
	ID                int64
	PatientID         int64
	ProtocolID        int64
	Phase             Phase
	StartedOn         Date
	EndedOn           Date
	Numbers           Numbers // the course's own copy of the protocol's numbers
	FixedIntervalDays *int
	SelfBooking       SelfBooking // the days around the due date the patient books in
	Version           int
}

// Intervals are the course's maintenance numbers as the planner uses them.
func (c Course) Intervals() Intervals {
	return Intervals{Fixed: c.FixedIntervalDays, First: c.Numbers.FirstIntervalDays, Min: c.Numbers.MinIntervalDays,
		Max: c.Numbers.MaxIntervalDays, Lead: c.Numbers.LeadDays, Step: c.Numbers.StepDays, SelfBooking: c.SelfBooking}
}

// CourseSummary is one patient's open course as the physician's list shows it.
type CourseSummary struct {
	PatientID    int64
	PatientName  string
	MRN          string
	Condition    Condition
	Phase        Phase
	Protocol     string
	StartedOn    Date
	Infusions    int
	LastInfusion Date // zero when none yet
	NextVisit    *time.Time
}
