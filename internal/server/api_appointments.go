package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/postgres"
)

// maxAvailabilityDays is the longest range one availability call covers.
const maxAvailabilityDays = 62

// dateRange reads ?from=&to= (clinic-local dates, inclusive).
func dateRange(r *http.Request, maxDays int) (from, to clinic.Date, err error) {
	p := clinic.Problems{}
	q := r.URL.Query()
	from, err1 := clinic.ParseDate(q.Get("from"))
	if err1 != nil {
		p.Add("from", "Give the first day as YYYY-MM-DD.")
	}
	to, err2 := clinic.ParseDate(q.Get("to"))
	if err2 != nil {
		p.Add("to", "Give the last day as YYYY-MM-DD.")
	}
	if err1 == nil && err2 == nil {
		switch {
		case to.Before(from):
			p.Add("to", "The last day is before the first.")
		case to.DaysSince(from) >= maxDays:
			p.Add("to", fmt.Sprintf("Ask for at most %d days at a time.", maxDays))
		}
	}
	return from, to, p.Err()
}

type availabilityJSON struct {
	TimeZone string            `json:"timezone"`
	Minutes  int               `json:"minutes"`
	Days     []availabilityDay `json:"days"`
}

type availabilityDay struct {
	Date   string              `json:"date"`
	Closed string              `json:"closed"`
	Chairs []availabilityChair `json:"chairs"`
}

type availabilityChair struct {
	ChairID int64    `json:"chair_id"`
	Name    string   `json:"name"`
	Starts  []string `json:"starts"`
}

func (s *Server) apiAvailability(w http.ResponseWriter, r *http.Request) {
	from, to, err := dateRange(r, maxAvailabilityDays)
	minutes, merr := strconv.Atoi(r.URL.Query().Get("minutes"))
	if merr != nil || minutes < 5 || minutes > 720 {
		fields := clinic.ErrorFields(err)
		if fields == nil {
			fields = map[string]string{}
		}
		fields["minutes"] = "Give the length of the visit in minutes, 5 to 720."
		err = clinic.Invalid(fields)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	kind := clinic.KindMaintenance // an infusion: it needs a nurse where nurses are rostered
	if r.URL.Query().Get("kind") == string(clinic.KindConsult) {
		kind = clinic.KindConsult
	}
	cal, days, err := s.db.AvailabilityOf(r.Context(), kind, from, to, minutes, s.now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	names := map[int64]string{}
	for _, c := range cal.Chairs {
		names[c.ID] = c.Name
	}
	out := availabilityJSON{TimeZone: cal.Loc.String(), Minutes: minutes, Days: make([]availabilityDay, len(days))}
	for i, d := range days {
		day := availabilityDay{Date: d.Date.String(), Closed: d.Closed, Chairs: make([]availabilityChair, len(d.Chairs))}
		for j, c := range d.Chairs {
			starts := make([]string, len(c.Starts))
			for k, t := range c.Starts {
				starts[k] = t.String()
			}
			day.Chairs[j] = availabilityChair{ChairID: c.ChairID, Name: names[c.ChairID], Starts: starts}
		}
		out.Days[i] = day
	}
	writeJSON(w, http.StatusOK, out)
}

// appointmentJSON is an appointment on the wire: times in RFC 3339 with
// the clinic's offset on that day.
type appointmentJSON struct {
	ID        int64  `json:"id"`
	PatientID int64  `json:"patient_id"`
	ChairID   int64  `json:"chair_id"`
	Kind      string `json:"kind"`
	Status    string `json:"status"`
	Start     string `json:"start"`
	End       string `json:"end"`
	Version   int    `json:"version"`
	SeriesID  *int64 `json:"series_id,omitempty"`
	SessionNo *int   `json:"session_no,omitempty"`
	// AdditionalReason is set on an additional infusion a physician booked.
	AdditionalReason string `json:"additional_reason,omitempty"`
	// ConfirmedAt is when the patient confirmed the visit; null until then.
	ConfirmedAt *string `json:"confirmed_at"`
	// NurseID is the nurse who watches the infusion; null on a date
	// without nurses on shift and for consultations.
	NurseID *int64 `json:"nurse_id"`
	// PlacedBy is who put the visit at its time: desk, offer (a patient
	// claimed an offer) or self (the patient, in the portal).
	PlacedBy string `json:"placed_by"`
	// Screen is the screen at check-in of an infusion visit: the
	// pressure, the answers, what holds it and a physician's clearance;
	// null before check-in.
	Screen *screenJSON `json:"screen"`
	// OnHold is true while the screen holds the infusion.
	OnHold bool `json:"on_hold"`
}

type screenJSON struct {
	Systolic  int            `json:"bp_systolic"`
	Diastolic int            `json:"bp_diastolic"`
	Answers   clinic.Answers `json:"screening"`
	Holds     []string       `json:"holds"`
	Clearance *struct {
		At     string `json:"cleared_at"`
		By     int64  `json:"cleared_by"`
		Reason string `json:"reason"`
	} `json:"clearance"`
}

func toScreenJSON(s *clinic.Screening) *screenJSON {
	if s == nil {
		return nil
	}
	out := &screenJSON{Systolic: s.Systolic, Diastolic: s.Diastolic, Answers: s.Answers, Holds: append([]string{}, s.Holds...)}
	if c := s.Cleared; c != nil {
		out.Clearance = &struct {
			At     string `json:"cleared_at"`
			By     int64  `json:"cleared_by"`
			Reason string `json:"reason"`
		}{c.At.UTC().Format(time.RFC3339), c.ByID, c.Reason}
	}
	return out
}

func toAppointmentJSON(a clinic.Appointment, loc *time.Location) appointmentJSON {
	return appointmentJSON{ID: a.ID, PatientID: a.PatientID, ChairID: a.ChairID, Kind: string(a.Kind), Status: string(a.Status),
		Start: a.Start.In(loc).Format(time.RFC3339), End: a.End.In(loc).Format(time.RFC3339), Version: a.Version,
		SeriesID: a.SeriesID, SessionNo: a.SessionNo, AdditionalReason: a.AdditionalReason, ConfirmedAt: rfc3339(a.ConfirmedAt),
		NurseID: optionalNurse(a.Nurse), PlacedBy: string(cmp.Or(a.PlacedBy, clinic.PlacedByDesk)),
		Screen: toScreenJSON(a.Screen), OnHold: a.Screen.OnHold()}
}

func optionalNurse(n clinic.Assignment) *int64 {
	if n.NurseID == 0 {
		return nil
	}
	return &n.NurseID
}

// rfc3339 writes an optional instant in UTC; nil stays null.
func rfc3339(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := t.UTC().Format(time.RFC3339)
	return &s
}

type bookRequest struct {
	PatientID int64  `json:"patient_id"`
	Kind      string `json:"kind"`
	Start     string `json:"start"`
	ChairID   *int64 `json:"chair_id"`
	// NurseID asks for this nurse (on a date with nurses on shift).
	NurseID *int64 `json:"nurse_id"`
	// AdditionalReason books a maintenance infusion besides the next one
	// (physicians only).
	AdditionalReason string `json:"additional_reason"`
}

// parseStart reads an RFC 3339 instant.
func parseStart(s string, p clinic.Problems) time.Time {
	t, err := time.Parse(time.RFC3339, strings.TrimSpace(s))
	if err != nil {
		p.Add("start", "Give the start as an RFC 3339 time, e.g. 2026-03-09T09:00:00-05:00.")
	}
	return t
}

func (s *Server) apiBook(w http.ResponseWriter, r *http.Request) {
	var req bookRequest
	if err := decodeJSON(r, &req, "patient_id", "kind", "start"); err != nil {
		s.fail(w, r, err)
		return
	}
	p := clinic.Problems{}
	if req.PatientID <= 0 {
		p.Add("patient_id", "Give the patient's id.")
	}
	kind, ok := clinic.ParseKind(req.Kind)
	if !ok {
		p.Add("kind", "Use maintenance, loading or consult.")
	}
	start := parseStart(req.Start, p)
	var chairID int64
	if req.ChairID != nil {
		if chairID = *req.ChairID; chairID <= 0 {
			p.Add("chair_id", "Give a chair's id, or leave chair_id out for the first free chair.")
		}
	}
	var nurseID int64
	if req.NurseID != nil {
		if nurseID = *req.NurseID; nurseID <= 0 {
			p.Add("nurse_id", "Give a nurse's user id, or leave nurse_id out for any nurse on shift.")
		}
	}
	if err := p.Err(); err != nil {
		s.fail(w, r, err)
		return
	}
	a, replayed, err := s.db.Book(r.Context(), clinic.Booking{PatientID: req.PatientID, Kind: kind, Start: start,
		ChairID: chairID, NurseID: nurseID, AdditionalReason: req.AdditionalReason, IdempotencyKey: r.Header.Get("Idempotency-Key")}, s.now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	_, loc := s.clinicInfo(r.Context())
	writeJSON(w, http.StatusCreated, toAppointmentJSON(a, loc))
}

func (s *Server) apiAppointments(w http.ResponseWriter, r *http.Request) {
	from, to, err := dateRange(r, 366)
	var patientID *int64
	if raw := r.URL.Query().Get("patient_id"); raw != "" {
		id, perr := strconv.ParseInt(raw, 10, 64)
		if perr != nil || id <= 0 {
			fields := clinic.ErrorFields(err)
			if fields == nil {
				fields = map[string]string{}
			}
			fields["patient_id"] = "Give a patient's id."
			err = clinic.Invalid(fields)
		}
		patientID = &id
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	_, loc := s.clinicInfo(r.Context())
	var visits []clinic.Visit
	err = s.read(r, func(r *http.Request) (err error) {
		visits, err = s.db.Visits(r.Context(), postgres.AppointmentFilter{From: from.At(0, loc), To: to.AddDays(1).At(0, loc), PatientID: patientID})
		return err
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]appointmentJSON, len(visits))
	for i, v := range visits {
		out[i] = toAppointmentJSON(v.Appointment, loc)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiAppointment(w http.ResponseWriter, r *http.Request) {
	id, err := urlID(r)
	if err != nil {
		s.fail(w, r, clinic.Errorf(clinic.ENOTFOUND, "There is no such appointment."))
		return
	}
	v, err := s.db.Visit(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	_, loc := s.clinicInfo(r.Context())
	writeJSON(w, http.StatusOK, toAppointmentJSON(v.Appointment, loc))
}

type rescheduleRequest struct {
	Start   string `json:"start"`
	ChairID *int64 `json:"chair_id"`
	Version int    `json:"version"`
}

func (s *Server) apiReschedule(w http.ResponseWriter, r *http.Request) {
	id, err := urlID(r)
	if err != nil {
		s.fail(w, r, clinic.Errorf(clinic.ENOTFOUND, "There is no such appointment."))
		return
	}
	var req rescheduleRequest
	if err := decodeJSON(r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	p := clinic.Problems{}
	start := parseStart(req.Start, p)
	if req.Version < 1 {
		p.Add("version", "Give the appointment's version as you last read it.")
	}
	var chairID int64
	if req.ChairID != nil {
		if chairID = *req.ChairID; chairID <= 0 {
			p.Add("chair_id", "Give a chair's id, or leave chair_id out.")
		}
	}
	if err := p.Err(); err != nil {
		s.fail(w, r, err)
		return
	}
	a, err := s.db.Reschedule(r.Context(), id, req.Version, start, chairID, s.now())
	s.appointmentResult(w, r, a, err)
}

func (s *Server) appointmentResult(w http.ResponseWriter, r *http.Request, a clinic.Appointment, err error) {
	if err != nil {
		s.fail(w, r, err)
		return
	}
	_, loc := s.clinicInfo(r.Context())
	writeJSON(w, http.StatusOK, toAppointmentJSON(a, loc))
}

type cancelRequest struct {
	Reason  string `json:"reason"`
	Version int    `json:"version"`
}

func (s *Server) apiCancel(w http.ResponseWriter, r *http.Request) {
	id, err := urlID(r)
	if err != nil {
		s.fail(w, r, clinic.Errorf(clinic.ENOTFOUND, "There is no such appointment."))
		return
	}
	var req cancelRequest
	if err := decodeJSON(r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	a, err := s.db.Cancel(r.Context(), id, req.Version, req.Reason, s.now())
	s.appointmentResult(w, r, a, err)
}

type statusRequest struct {
	Version int `json:"version"`
	// At check-in: who takes the patient home (when none is on file),
	// and the screen of an infusion visit.
	DriverName  string         `json:"driver_name"`
	DriverPhone string         `json:"driver_phone"`
	Systolic    *int           `json:"bp_systolic"`
	Diastolic   *int           `json:"bp_diastolic"`
	Screening   clinic.Answers `json:"screening"`
}

// arrival is the check-in's driver and screen.
func (req statusRequest) arrival() clinic.Arrival {
	return clinic.Arrival{Driver: clinic.Driver{Name: req.DriverName, Phone: req.DriverPhone},
		Screen: clinic.ScreenInput{Systolic: req.Systolic, Diastolic: req.Diastolic, Answers: req.Screening}}
}

// apiStatus checks in, marks a no-show or completes. The body is optional;
// with {"version": n} the change is refused if the appointment moved on.
func (s *Server) apiStatus(change func(ctx context.Context, id int64, version int, now time.Time) (clinic.Appointment, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := urlID(r)
		if err != nil {
			s.fail(w, r, clinic.Errorf(clinic.ENOTFOUND, "There is no such appointment."))
			return
		}
		var req statusRequest
		if err := decodeJSON(r, &req); err != nil && !errors.Is(err, errEmptyBody) {
			s.fail(w, r, err)
			return
		}
		var a clinic.Appointment
		if change == nil { // check-in
			a, err = s.db.CheckIn(r.Context(), id, req.Version, req.arrival(), s.now())
		} else {
			a, err = change(r.Context(), id, req.Version, s.now())
		}
		s.appointmentResult(w, r, a, err)
	}
}

type clearRequest struct {
	Reason  string `json:"reason"`
	Version int    `json:"version"`
}

// apiClear clears a visit held by its screen (physicians only).
func (s *Server) apiClear(w http.ResponseWriter, r *http.Request) {
	id, err := urlID(r)
	if err != nil {
		s.fail(w, r, clinic.Errorf(clinic.ENOTFOUND, "There is no such appointment."))
		return
	}
	var req clearRequest
	if err := decodeJSON(r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	a, err := s.db.ClearHold(r.Context(), id, req.Version, req.Reason, s.now())
	s.appointmentResult(w, r, a, err)
}
