package server

import (
	"net/http"
	"strings"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/postgres"
)

// shiftJSON is a nurse's shift on the wire: a clinic-local date and times.
type shiftJSON struct {
	ID      int64       `json:"id"`
	NurseID int64       `json:"nurse_id"`
	Nurse   string      `json:"nurse"`
	Date    clinic.Date `json:"date"`
	From    string      `json:"from"`
	To      string      `json:"to"`
}

func toShiftJSON(s clinic.Shift) shiftJSON {
	return shiftJSON{ID: s.ID, NurseID: s.NurseID, Nurse: s.NurseName, Date: s.Date, From: s.From.String(), To: s.To.String()}
}

// shiftChangeJSON is a shift added or removed and what it did to the
// date's infusions.
type shiftChangeJSON struct {
	shiftJSON
	Assigned []int64 `json:"assigned"`
	ToMove   []int64 `json:"to_move"`
}

func toShiftChangeJSON(c postgres.ShiftChange) shiftChangeJSON {
	return shiftChangeJSON{shiftJSON: toShiftJSON(c.Shift), Assigned: append([]int64{}, c.Assigned...), ToMove: append([]int64{}, c.ToMove...)}
}

type shiftRequest struct {
	NurseID int64       `json:"nurse_id"`
	Date    clinic.Date `json:"date"`
	From    string      `json:"from"`
	To      string      `json:"to"`
}

// apiAddShift puts a nurse on the roster for a date.
func (s *Server) apiAddShift(w http.ResponseWriter, r *http.Request) {
	shift, err := shiftRequestOf(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	change, err := s.db.AddShift(r.Context(), shift)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, toShiftChangeJSON(change))
}

func shiftRequestOf(r *http.Request) (clinic.Shift, error) {
	var body shiftRequest
	if err := decodeJSON(r, &body, "nurse_id", "date", "from", "to"); err != nil {
		return clinic.Shift{}, err
	}
	p := clinic.Problems{}
	from, err1 := clinic.ParseClock(strings.TrimSpace(body.From))
	if err1 != nil {
		p.Add("from", "Give the start as HH:MM, e.g. 07:00.")
	}
	to, err2 := clinic.ParseClock(strings.TrimSpace(body.To))
	if err2 != nil {
		p.Add("to", "Give the end as HH:MM, e.g. 16:30.")
	}
	return clinic.Shift{NurseID: body.NurseID, Date: body.Date, From: from, To: to}, p.Err()
}

// apiShifts lists the shifts of a range of dates (at most 62 days).
func (s *Server) apiShifts(w http.ResponseWriter, r *http.Request) {
	from, to, err := dateRange(r, maxAvailabilityDays)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	shifts, err := s.db.Shifts(r.Context(), from, to)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]shiftJSON, len(shifts))
	for i, sh := range shifts {
		out[i] = toShiftJSON(sh)
	}
	writeJSON(w, http.StatusOK, out)
}

// apiRemoveShift takes a shift off the roster: nothing is cancelled; its
// infusions get another nurse where there is room, the rest are listed.
func (s *Server) apiRemoveShift(w http.ResponseWriter, r *http.Request) {
	id, err := urlID(r)
	if err != nil {
		s.fail(w, r, clinic.Errorf(clinic.ENOTFOUND, "There is no such shift."))
		return
	}
	change, err := s.db.RemoveShift(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toShiftChangeJSON(change))
}
