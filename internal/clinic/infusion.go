package clinic

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/infusiondesk/infusiondesk/internal/i18n"
)

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

// Check refuses a status that is neither.
func (s ReliefStatus) Check() error {
	if s != ReliefEnded && s != ReliefHolding {
		return Invalid(map[string]string{"status": "Say whether relief ended or is still holding."})
	}
	return nil
}

// ReliefReport is one report about relief after an infusion.
type ReliefReport struct {
	ID         int64
	InfusionID int64
	Status     ReliefStatus
	OnDate     Date
	Source     string // patient, desk, nurse, physician
}

// MaxDoseRate is the highest dose rate ever accepted, in mg/kg/h.
const MaxDoseRate = 1.0

// SideEffects are the side effects a nurse records, in form order.
var SideEffects = []struct{ Code, Label string }{
	{"dissociation", "Dissociation"},
	{"nausea", "Nausea or vomiting"},
	{"hallucinations", "Hallucinations"},
	{"blood_pressure", "Blood pressure change"},
	{"drowsiness", "Drowsiness"},
	{"other", "Other"},
}

// Severities of a side effect.
var Severities = []string{"mild", "moderate", "severe"}

// SideEffect is one side effect seen during an infusion.
type SideEffect struct {
	Effect   string `json:"effect"`
	Severity string `json:"severity"`
}

// Vitals are the readings before or after an infusion; nil when not taken.
type Vitals struct {
	Systolic  *int `json:"bp_systolic"`
	Diastolic *int `json:"bp_diastolic"`
	HeartRate *int `json:"heart_rate"`
	SpO2      *int `json:"spo2"`
}

// InfusionRecord is what the nurse records when an infusion is done.
type InfusionRecord struct {
	StartedAt       time.Time
	Minutes         int
	Route           string // iv or subcutaneous
	DoseRate        float64
	WeightKg        float64
	Before, After   Vitals
	SideEffects     []SideEffect
	PainBefore      *int
	PainAfter       *int
	DriverConfirmed bool
	// DoseConfirmed and DoseReason accept a dose rate outside the
	// protocol's range (never above MaxDoseRate).
	DoseConfirmed bool
	DoseReason    string
	// PEG is the patient's PEG asked before the start; nil when not asked
	// here (the patient may have answered on the desk's tablet).
	PEG *PEG
}

// DoseMgPerHour is the dose per hour for the rate and weight.
func DoseMgPerHour(rate, weightKg float64) float64 { return rate * weightKg }

// TotalMg is the whole dose over minutes.
func TotalMg(rate, weightKg float64, minutes int) float64 {
	return rate * weightKg * float64(minutes) / 60
}

// Validate checks the record against the protocol's dose range [lo, hi]
// and names every field that is wrong. A rate outside the range needs
// DoseConfirmed and a reason (field "dose_confirmed"); above MaxDoseRate
// it is refused outright.
func (r *InfusionRecord) Validate(lo, hi float64) error {
	p := Problems{}
	r.DoseReason = strings.TrimSpace(r.DoseReason)
	if r.PEG != nil {
		r.PEG.Validate(p, "peg_")
	}
	if r.Minutes < 1 || r.Minutes > 720 {
		p.Add("minutes", "Enter how many minutes the infusion ran, 1 to 720.")
	}
	if r.Route != "iv" && r.Route != "subcutaneous" {
		p.Add("route", "Choose IV or subcutaneous.")
	}
	if r.WeightKg < 2 || r.WeightKg > 350 {
		p.Add("weight_kg", "Enter the patient's weight in kilograms, 2 to 350.")
	}
	switch {
	case r.DoseRate <= 0:
		p.Add("dose_mg_per_kg_h", "Enter the dose rate in mg/kg/h.")
	case r.DoseRate > MaxDoseRate:
		p.Add("dose_mg_per_kg_h", fmt.Sprintf("%g mg/kg/h is above the %g mg/kg/h limit and cannot be recorded.", r.DoseRate, MaxDoseRate))
	case (r.DoseRate < lo || r.DoseRate > hi) && (!r.DoseConfirmed || r.DoseReason == ""):
		p.Add("dose_confirmed", fmt.Sprintf("%g mg/kg/h is outside the protocol's %g–%g mg/kg/h. Confirm it and give a reason.", r.DoseRate, lo, hi))
	}
	if utf8.RuneCountInString(r.DoseReason) > 500 {
		p.Add("dose_reason", "Use at most 500 characters.")
	}
	checkVitals := func(prefix string, v Vitals) {
		between := func(field string, x *int, lo, hi int, what string) {
			if x != nil && (*x < lo || *x > hi) {
				p.Add(prefix+field, fmt.Sprintf("Enter %s between %d and %d.", what, lo, hi))
			}
		}
		between("bp_systolic", v.Systolic, 50, 260, "a systolic pressure")
		between("bp_diastolic", v.Diastolic, 20, 160, "a diastolic pressure")
		between("heart_rate", v.HeartRate, 20, 250, "a heart rate")
		between("spo2", v.SpO2, 50, 100, "an SpO2 in %")
		if v.Systolic != nil && v.Diastolic != nil && *v.Diastolic >= *v.Systolic {
			p.Add(prefix+"bp_diastolic", "The diastolic pressure must be below the systolic.")
		}
	}
	checkVitals("before_", r.Before)
	checkVitals("after_", r.After)
	for _, x := range []struct {
		field string
		v     *int
	}{{"pain_before", r.PainBefore}, {"pain_after", r.PainAfter}} {
		if x.v != nil && (*x.v < 0 || *x.v > 10) {
			p.Add(x.field, "Enter a pain score from 0 to 10.")
		}
	}
	for _, se := range r.SideEffects {
		known := false
		for _, e := range SideEffects {
			known = known || e.Code == se.Effect
		}
		if !known || !slices.Contains(Severities, se.Severity) {
			p.Add("side_effects", "Choose each side effect from the list with a severity (mild, moderate, severe).")
		}
	}
	return p.Err()
}

// ReliefDate checks a relief report's date: not before the infusion, not
// after today.
func ReliefDate(on, givenOn, today Date, st i18n.Style) error {
	switch {
	case on.IsZero():
		return Invalid(map[string]string{"date": "Enter the date."})
	case on.Before(givenOn):
		return Invalid(map[string]string{"date": fmt.Sprintf("Relief cannot end before the infusion (%s).", DayText(st, givenOn, i18n.Plain))})
	case on.After(today):
		return Invalid(map[string]string{"date": "That date is in the future."})
	}
	return nil
}

// CheckImport checks an infusion imported from a paper chart: a date not
// after today, a phase, a dose rate above 0 and at most MaxDoseRate.
func CheckImport(on Date, phase Phase, rate float64, today Date) error {
	p := Problems{}
	switch {
	case on.IsZero():
		p.Add("date", "Give the date of the infusion (YYYY-MM-DD).")
	case on.After(today):
		p.Add("date", "An imported infusion cannot be in the future.")
	}
	if phase != PhaseLoading && phase != PhaseMaintenance {
		p.Add("phase", "Use loading or maintenance.")
	}
	if rate <= 0 || rate > MaxDoseRate {
		p.Add("dose_mg_per_kg_h", fmt.Sprintf("Give the dose rate in mg/kg/h, above 0 and at most %g.", MaxDoseRate))
	}
	return p.Err()
}
