package clinic

import "time"

// Protocol is a treatment plan's numbers: the loading series (sessions, gaps,
// span, occupancy, dose range) and the maintenance defaults.
type Protocol struct {
	ID                         int64   `json:"id"`
	Name                       string  `json:"name"`
	Sessions                   int     `json:"sessions"`
	MinGapDays                 int     `json:"min_gap_days"`
	MaxGapDays                 int     `json:"max_gap_days"`
	MaxSpanDays                int     `json:"max_span_days"`
	InfusionMinutes            int     `json:"infusion_minutes"`
	RecoveryMinutes            int     `json:"recovery_minutes"`
	DoseMinMgPerKgH            float64 `json:"dose_min_mg_per_kg_h"`
	DoseMaxMgPerKgH            float64 `json:"dose_max_mg_per_kg_h"`
	FirstIntervalDays          int     `json:"first_interval_days"`
	MinIntervalDays            int     `json:"min_interval_days"`
	MaxIntervalDays            int     `json:"max_interval_days"`
	LeadDays                   int     `json:"lead_days"`
	StepDays                   int     `json:"step_days"`
	MaintenanceInfusionMinutes int     `json:"maintenance_infusion_minutes"`
	MaintenanceRecoveryMinutes int     `json:"maintenance_recovery_minutes"`
}

// LoadingOccupancy is how long a loading session holds its chair.
func (p Protocol) LoadingOccupancy() time.Duration {
	return time.Duration(p.InfusionMinutes+p.RecoveryMinutes) * time.Minute
}

// MaintenanceOccupancy is how long a maintenance infusion holds its chair.
func (p Protocol) MaintenanceOccupancy() time.Duration {
	return time.Duration(p.MaintenanceInfusionMinutes+p.MaintenanceRecoveryMinutes) * time.Minute
}

// Condition is the pain condition a patient is treated for.
type Condition string

const (
	ConditionCRPS         Condition = "crps"
	ConditionNeuropathic  Condition = "neuropathic"
	ConditionFibromyalgia Condition = "fibromyalgia"
	ConditionOther        Condition = "other"
)

// Label is the condition's name as clinicians write it.
func (c Condition) Label() string {
	switch c {
	case ConditionCRPS:
		return "CRPS"
	case ConditionNeuropathic:
		return "Neuropathic pain"
	case ConditionFibromyalgia:
		return "Fibromyalgia"
	case ConditionOther:
		return "Other"
	}
	return string(c)
}

// Patient is a person treated at the clinic.
type Patient struct {
	ID          int64     `json:"id"`
	MRN         string    `json:"mrn"`
	FirstName   string    `json:"first_name"`
	LastName    string    `json:"last_name"`
	DateOfBirth Date      `json:"date_of_birth"`
	Phone       string    `json:"phone"`
	Email       string    `json:"email"`
	WeightKg    *float64  `json:"weight_kg"`
	Condition   Condition `json:"condition"`
	DriverName  string    `json:"driver_name"`
	DriverPhone string    `json:"driver_phone"`
	Notes       string    `json:"notes"`
	Version     int       `json:"version"`
}

// FullName is "First Last".
func (p Patient) FullName() string { return p.FirstName + " " + p.LastName }

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
	Numbers           Protocol // the course's own copy of the protocol's numbers
	FixedIntervalDays *int
	Version           int
}

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
}

// Visit is an appointment with the names the calendar shows.
type Visit struct {
	Appointment
	PatientName string
	ChairName   string
	MRN         string
}

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
