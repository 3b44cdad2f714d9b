package clinic

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Numbers are a treatment plan's numbers: the loading series (sessions,
// gaps, span, occupancy, dose range) and the maintenance defaults. A
// protocol has them; a course keeps its own copy, which a physician may
// adjust for the patient.
type Numbers struct {
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

// Protocol is a named treatment plan an admin keeps: its numbers, and
// whether new courses may follow it.
type Protocol struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	Numbers
	Active  bool `json:"active"`
	Version int  `json:"version"`
}

// Validate tidies the protocol's name and names every number that is wrong.
func (p *Protocol) Validate() error {
	pr := Problems{}
	p.Name = strings.TrimSpace(p.Name)
	switch n := utf8.RuneCountInString(p.Name); {
	case n == 0:
		pr.Add("name", "Enter the protocol's name.")
	case n > 100:
		pr.Add("name", "Use at most 100 characters.")
	}
	pr.checkText(map[string]string{"name": p.Name}, false)
	between := func(field string, v, lo, hi int, unit string) bool {
		if v < lo || v > hi {
			pr.Add(field, fmt.Sprintf("Enter %d to %d %s.", lo, hi, unit))
			return false
		}
		return true
	}
	sessionsOK := between("sessions", p.Sessions, 1, 20, "sessions")
	minGapOK := between("min_gap_days", p.MinGapDays, 1, 60, "days")
	if between("max_gap_days", p.MaxGapDays, 1, 60, "days") && minGapOK && p.MaxGapDays < p.MinGapDays {
		pr.Add("max_gap_days", "The longest gap cannot be shorter than the shortest.")
	}
	if between("max_span_days", p.MaxSpanDays, 0, 365, "days") && sessionsOK && minGapOK && p.MaxSpanDays < p.MinGapDays*(p.Sessions-1) {
		pr.Add("max_span_days", fmt.Sprintf("%d sessions at least %d days apart span at least %d days.",
			p.Sessions, p.MinGapDays, p.MinGapDays*(p.Sessions-1)))
	}
	between("infusion_minutes", p.InfusionMinutes, 15, 720, "minutes")
	between("recovery_minutes", p.RecoveryMinutes, 0, 240, "minutes")
	between("maintenance_infusion_minutes", p.MaintenanceInfusionMinutes, 15, 720, "minutes")
	between("maintenance_recovery_minutes", p.MaintenanceRecoveryMinutes, 0, 240, "minutes")
	doseOK := true
	for _, d := range []struct {
		field string
		v     float64
	}{{"dose_min_mg_per_kg_h", p.DoseMinMgPerKgH}, {"dose_max_mg_per_kg_h", p.DoseMaxMgPerKgH}} {
		if d.v <= 0 || d.v > 1 {
			pr.Add(d.field, "Enter a dose rate above 0 and at most 1 mg/kg/h.")
			doseOK = false
		}
	}
	if doseOK && p.DoseMaxMgPerKgH < p.DoseMinMgPerKgH {
		pr.Add("dose_max_mg_per_kg_h", "The highest dose rate cannot be below the lowest.")
	}
	minOK := between("min_interval_days", p.MinIntervalDays, 1, 365, "days")
	maxOK := between("max_interval_days", p.MaxIntervalDays, 1, 730, "days")
	if minOK && maxOK && p.MaxIntervalDays < p.MinIntervalDays {
		pr.Add("max_interval_days", "The longest interval cannot be shorter than the shortest.")
	}
	if between("first_interval_days", p.FirstIntervalDays, 1, 730, "days") && minOK && maxOK &&
		(p.FirstIntervalDays < p.MinIntervalDays || p.FirstIntervalDays > p.MaxIntervalDays) {
		pr.Add("first_interval_days", fmt.Sprintf("The first interval must lie between %d and %d days.", p.MinIntervalDays, p.MaxIntervalDays))
	}
	between("lead_days", p.LeadDays, 0, 60, "days")
	between("step_days", p.StepDays, 0, 60, "days")
	return pr.Err()
}
