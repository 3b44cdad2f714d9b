package server

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/postgres"
)

// planJSON is a patient's maintenance plan on the wire.
type planJSON struct {
	Phase         string        `json:"phase"`
	DueDate       *string       `json:"due_date"`
	IntervalDays  *int          `json:"interval_days"`
	Rationale     string        `json:"rationale"`
	Flags         []clinic.Flag `json:"flags"`
	SuggestedSlot *struct {
		Start   string `json:"start"`
		ChairID int64  `json:"chair_id"`
	} `json:"suggested_slot"`
	// NextVisit is the booked next maintenance infusion (null when none);
	// NextNote how it sits against the due date, in words.
	NextVisit *struct {
		AppointmentID int64  `json:"appointment_id"`
		Start         string `json:"start"`
	} `json:"next_visit"`
	NextNote  string            `json:"next_note,omitempty"`
	Intervals *clinic.Intervals `json:"intervals,omitempty"`
}

func toPlanJSON(v postgres.PlanView) planJSON {
	out := planJSON{Rationale: v.Plan.Rationale, Flags: append([]clinic.Flag{}, v.Plan.Flags...)}
	if v.Course != nil {
		out.Phase = string(v.Course.Phase)
		iv := v.Course.Intervals()
		out.Intervals = &iv
	}
	if v.Plan.HasDue {
		d := v.Plan.DueDate.String()
		out.DueDate, out.IntervalDays = &d, &v.Plan.IntervalDays
	}
	if n := v.Plan.Next; n != nil {
		out.NextVisit = &struct {
			AppointmentID int64  `json:"appointment_id"`
			Start         string `json:"start"`
		}{n.AppointmentID, n.Start.In(v.Loc).Format(time.RFC3339)}
		out.NextNote = v.Plan.NextNote
	}
	if v.Slot != nil {
		out.SuggestedSlot = &struct {
			Start   string `json:"start"`
			ChairID int64  `json:"chair_id"`
		}{v.Slot.Start.In(v.Loc).Format(time.RFC3339), v.Slot.ChairID}
	}
	return out
}

func (s *Server) apiPlan(w http.ResponseWriter, r *http.Request) {
	id, err := urlID(r)
	if err != nil {
		s.fail(w, r, clinic.Errorf(clinic.ENOTFOUND, "There is no such patient."))
		return
	}
	v, err := s.db.PatientPlan(r.Context(), id, s.now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toPlanJSON(v))
}

// apiPutPlan changes the course's maintenance numbers; fields left out keep
// their values, "fixed_interval_days": null clears a fixed interval.
func (s *Server) apiPutPlan(w http.ResponseWriter, r *http.Request) {
	id, err := urlID(r)
	if err != nil {
		s.fail(w, r, clinic.Errorf(clinic.ENOTFOUND, "There is no such patient."))
		return
	}
	var raw map[string]json.RawMessage
	if err := decodeJSON(r, &raw); err != nil {
		s.fail(w, r, err)
		return
	}
	u := postgres.IntervalUpdate{}
	p := clinic.Problems{}
	num := func(key string) *int {
		v, ok := raw[key]
		if !ok || string(v) == "null" {
			return nil
		}
		var n int
		if err := json.Unmarshal(v, &n); err != nil {
			p.Add(key, "Give a whole number of days.")
			return nil
		}
		return &n
	}
	if v, ok := raw["fixed_interval_days"]; ok {
		u.SetFixed = true
		if string(v) != "null" {
			u.Fixed = num("fixed_interval_days")
		}
	}
	u.First, u.Min, u.Max, u.Lead, u.Step = num("first_interval_days"), num("min_interval_days"), num("max_interval_days"), num("lead_days"), num("step_days")
	u.BookBefore, u.BookAfter = num("self_booking_days_before"), num("self_booking_days_after")
	if v, ok := raw["note"]; ok {
		if err := json.Unmarshal(v, &u.Note); err != nil {
			p.Add("note", "Give the note as text.")
		}
	}
	if err := p.Err(); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.db.UpdateIntervals(r.Context(), id, u, s.now()); err != nil {
		s.fail(w, r, err)
		return
	}
	s.apiPlan(w, r)
}
