package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/postgres"
)

// staff are the roles that read the schedule and patients.
var staff = []clinic.Role{clinic.RoleFrontDesk, clinic.RoleNurse, clinic.RolePhysician}

func (s *Server) apiCalendarRoutes(r chi.Router) {
	r.Get("/clinic", s.apiClinic)
	r.With(s.requireRole(clinic.RoleAdmin)).Put("/clinic", s.apiPutClinic)
	r.With(s.requireRole(clinic.RoleAdmin)).Post("/closures", s.apiAddClosure)
	r.With(s.requireRole(clinic.RoleAdmin)).Delete("/closures/{date}", s.apiRemoveClosure)
	r.With(s.requireRole(append(staff, clinic.RoleAdmin)...)).Get("/chairs", s.apiChairs)
	r.With(s.requireRole(append(staff, clinic.RoleAdmin)...)).Get("/protocols", s.apiProtocols)
	r.Group(func(r chi.Router) {
		r.Use(s.requireRole(staff...))
		r.Get("/patients", s.apiSearchPatients)
		r.Get("/patients/{id}", s.apiPatient)
		r.Get("/availability", s.apiAvailability)
		r.Get("/appointments", s.apiAppointments)
		r.Get("/appointments/{id}", s.apiAppointment)
		r.Get("/appointments/{id}/messages", s.apiAppointmentMessages)
	})
	r.With(s.requireRole(clinic.RoleFrontDesk)).Post("/messages/{id}/retry", s.apiRetryMessage)
	r.With(s.requireRole(clinic.RoleFrontDesk, clinic.RolePhysician)).Post("/patients/{id}/courses", s.apiCreateCourse)
	r.With(s.requireRole(clinic.RoleFrontDesk)).Post("/patients/{id}/invite", s.apiInvite)
	r.Group(func(r chi.Router) {
		r.Use(s.requireRole(clinic.RolePatient))
		r.Get("/me/appointments", s.apiMyAppointments)
		r.Post("/me/relief", s.apiMyRelief)
		r.Post("/me/journal", s.apiMyJournal)
		r.Get("/me/calendar", s.apiMyCalendar)
		r.Post("/me/calendar", s.apiMyCalendarCreate)
		r.Delete("/me/calendar", s.apiMyCalendarDelete)
	})
	r.Group(func(r chi.Router) {
		r.Use(s.requireRole(clinic.RoleFrontDesk))
		r.Post("/patients/{id}/loading-series", s.apiLoadingSeries)
		r.Post("/patients", s.apiCreatePatient)
		r.Post("/appointments/{id}/reschedule", s.apiReschedule)
		r.Post("/appointments/{id}/cancel", s.apiCancel)
		r.Post("/appointments/{id}/check-in", s.apiStatus(nil))
		r.Post("/appointments/{id}/no-show", s.apiStatus(s.db.NoShow))
	})
	// A physician books too: an additional infusion, with its reason.
	r.With(s.requireRole(clinic.RoleFrontDesk, clinic.RolePhysician)).Post("/appointments", s.apiBook)
	r.With(s.requireRole(clinic.RoleFrontDesk, clinic.RoleNurse)).Post("/appointments/{id}/complete", s.apiComplete)
	r.With(s.requireRole(staff...)).Post("/patients/{id}/infusions", s.apiImportInfusion)
	r.With(s.requireRole(staff...)).Get("/patients/{id}/infusions", s.apiInfusions)
	r.With(s.requireRole(staff...)).Post("/infusions/{id}/relief", s.apiRelief)
	r.With(s.requireRole(append(staff, clinic.RoleAdmin)...)).Get("/patients/{id}/plan", s.apiPlan)
	r.With(s.requireRole(clinic.RolePhysician, clinic.RoleAdmin)).Put("/patients/{id}/plan", s.apiPutPlan)
}

// clinicJSON is the clinic's settings on the wire; hours per weekday as
// [["07:00","16:30"], …] in clinic-local time.
type clinicJSON struct {
	Name        string                `json:"name"`
	TimeZone    string                `json:"timezone"`
	SlotMinutes int                   `json:"slot_minutes"`
	Hours       map[string][][]string `json:"hours"`
	// BookingHorizonDays is how many days ahead appointments may be booked.
	BookingHorizonDays int              `json:"booking_horizon_days"`
	Phone              string           `json:"phone"`
	Address            string           `json:"address"`
	Reminders          clinic.Reminders `json:"reminders"`
	Version            int              `json:"version"`
}

func toClinicJSON(st clinic.Settings) clinicJSON {
	out := clinicJSON{Name: st.Name, TimeZone: st.TimeZone, SlotMinutes: st.SlotMinutes, BookingHorizonDays: st.BookingHorizonDays,
		Phone: st.Phone, Address: st.Address, Reminders: st.Reminders, Version: st.Version, Hours: map[string][][]string{}}
	for wd, key := range clinic.WeekdayKeys {
		out.Hours[key] = [][]string{}
		for _, r := range st.Hours[wd] {
			out.Hours[key] = append(out.Hours[key], []string{r.Opens.String(), r.Closes.String()})
		}
	}
	return out
}

func (s *Server) apiClinic(w http.ResponseWriter, r *http.Request) {
	sched, err := s.db.Schedule(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toClinicJSON(sched.Settings))
}

type putClinicRequest struct {
	Name        string                `json:"name"`
	TimeZone    string                `json:"timezone"`
	SlotMinutes int                   `json:"slot_minutes"`
	Hours       map[string][][]string `json:"hours"`
	// BookingHorizonDays defaults to 540 when left out.
	BookingHorizonDays int `json:"booking_horizon_days"`
	// Phone, Address and Reminders left out keep what is stored.
	Phone     *string           `json:"phone"`
	Address   *string           `json:"address"`
	Reminders *clinic.Reminders `json:"reminders"`
	Version   *int              `json:"version"`
}

// settings are the settings the request asks for: what it leaves out of
// the optional parts (version, phone, address, reminders) stays as cur.
func (req putClinicRequest) settings(cur clinic.Settings) (clinic.Settings, clinic.Problems) {
	st := clinic.Settings{Name: req.Name, TimeZone: req.TimeZone, SlotMinutes: req.SlotMinutes, BookingHorizonDays: req.BookingHorizonDays,
		Version: cur.Version, Phone: cur.Phone, Address: cur.Address, Reminders: cur.Reminders}
	p := clinic.Problems{}
	st.Hours = hoursFromJSON(req.Hours, p)
	if req.Version != nil {
		st.Version = *req.Version
	}
	if req.Phone != nil {
		st.Phone = *req.Phone
	}
	if req.Address != nil {
		st.Address = *req.Address
	}
	if req.Reminders != nil {
		st.Reminders = *req.Reminders
		st.Reminders.OffsetsHours = append([]int{}, st.Reminders.OffsetsHours...) // [] is "no reminders", not "the default"
	}
	return st, p
}

// hoursFromJSON reads {"mon": [["07:00","16:30"]], …}, a message per weekday.
func hoursFromJSON(hours map[string][][]string, p clinic.Problems) clinic.WeeklyHours {
	var h clinic.WeeklyHours
	for key, ranges := range hours {
		wd, ok := clinic.ParseWeekday(key)
		if !ok {
			p.Add("hours."+key, "Use the weekdays mon, tue, wed, thu, fri, sat, sun.")
			continue
		}
		for _, pair := range ranges {
			if len(pair) != 2 {
				p.Add("hours."+key, `Give each range as ["HH:MM","HH:MM"].`)
				continue
			}
			opens, err1 := clinic.ParseClock(pair[0])
			closes, err2 := clinic.ParseClock(pair[1])
			if err1 != nil || err2 != nil {
				p.Add("hours."+key, fmt.Sprintf("%q–%q: write times as HH:MM, e.g. 07:00.", pair[0], pair[1]))
				continue
			}
			h[wd] = append(h[wd], clinic.Range{Opens: opens, Closes: closes})
		}
	}
	return h
}

// apiPutClinic replaces the clinic's settings. With "version" the change is
// refused when someone else saved meanwhile. The answer lists the booked
// appointments that no longer fit.
func (s *Server) apiPutClinic(w http.ResponseWriter, r *http.Request) {
	var req putClinicRequest
	if err := decodeJSON(r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	ctx := r.Context()
	cur, err := s.db.Schedule(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	st, p := req.settings(cur.Settings)
	for k, v := range clinic.ErrorFields(st.Validate()) {
		p.Add(k, v)
	}
	if err := p.Err(); err != nil {
		s.fail(w, r, err)
		return
	}

	saved, err := s.db.UpdateSettings(ctx, st)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	misfits, err := s.db.Misfits(ctx, s.now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	loc, _ := saved.Location()
	out := struct {
		clinicJSON
		Misfits []misfitJSON `json:"misfits"`
	}{toClinicJSON(saved), []misfitJSON{}}
	for _, m := range misfits {
		out.Misfits = append(out.Misfits, misfitJSON{toAppointmentJSON(m.Appointment, loc), m.Reason})
	}
	writeJSON(w, http.StatusOK, out)
}

type misfitJSON struct {
	appointmentJSON
	Reason string `json:"reason"`
}

type closureRequest struct {
	Date   clinic.Date `json:"date"`
	Reason string      `json:"reason"`
}

func (s *Server) apiAddClosure(w http.ResponseWriter, r *http.Request) {
	var req closureRequest
	if err := decodeJSON(r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.db.AddClosure(r.Context(), req.Date, req.Reason, s.now()); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"date": req.Date.String(), "reason": strings.TrimSpace(req.Reason)})
}

func (s *Server) apiRemoveClosure(w http.ResponseWriter, r *http.Request) {
	d, err := clinic.ParseDate(chi.URLParam(r, "date"))
	if err != nil {
		s.fail(w, r, clinic.Errorf(clinic.ENOTFOUND, "There is no closure on that date."))
		return
	}
	if err := s.db.RemoveClosure(r.Context(), d, s.now()); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) apiChairs(w http.ResponseWriter, r *http.Request) {
	chairs, err := s.db.Chairs(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if chairs == nil {
		chairs = []clinic.Chair{}
	}
	writeJSON(w, http.StatusOK, chairs)
}

func (s *Server) apiProtocols(w http.ResponseWriter, r *http.Request) {
	ps, err := s.db.Protocols(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if ps == nil {
		ps = []clinic.Protocol{}
	}
	writeJSON(w, http.StatusOK, ps)
}

// patientRequest is a new patient; weight may be omitted.
type patientRequest struct {
	FirstName   string      `json:"first_name"`
	LastName    string      `json:"last_name"`
	DateOfBirth clinic.Date `json:"date_of_birth"`
	Email       string      `json:"email"`
	Phone       string      `json:"phone"`
	WeightKg    *float64    `json:"weight_kg"`
	Condition   string      `json:"condition"`
	DriverName  string      `json:"driver_name"`
	DriverPhone string      `json:"driver_phone"`
	Notes       string      `json:"notes"`
	// ContactBy left out takes every channel the patient has details for.
	ContactBy []clinic.Channel `json:"contact_by"`
}

func (s *Server) today(r *http.Request) clinic.Date {
	_, loc := s.clinicInfo(r.Context())
	return clinic.DateOf(s.now(), loc)
}

func (s *Server) apiCreatePatient(w http.ResponseWriter, r *http.Request) {
	var req patientRequest
	if err := decodeJSON(r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	p, err := s.db.CreatePatient(r.Context(), clinic.Patient{FirstName: req.FirstName, LastName: req.LastName,
		DateOfBirth: req.DateOfBirth, Email: req.Email, Phone: req.Phone, WeightKg: req.WeightKg,
		Condition: clinic.Condition(req.Condition), DriverName: req.DriverName, DriverPhone: req.DriverPhone, Notes: req.Notes,
		ContactBy: req.ContactBy}, s.today(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, p)
}

func (s *Server) apiPatient(w http.ResponseWriter, r *http.Request) {
	id, err := urlID(r)
	if err != nil {
		s.fail(w, r, clinic.Errorf(clinic.ENOTFOUND, "There is no such patient."))
		return
	}
	p, err := s.db.Patient(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (s *Server) apiSearchPatients(w http.ResponseWriter, r *http.Request) {
	ps, err := s.db.SearchPatients(r.Context(), clinic.ParsePatientQuery(r.URL.Query().Get("q")))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if ps == nil {
		ps = []clinic.Patient{}
	}
	writeJSON(w, http.StatusOK, ps)
}

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
	cal, days, err := s.db.Availability(r.Context(), from, to, minutes, s.now())
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
}

func toAppointmentJSON(a clinic.Appointment, loc *time.Location) appointmentJSON {
	return appointmentJSON{ID: a.ID, PatientID: a.PatientID, ChairID: a.ChairID, Kind: string(a.Kind), Status: string(a.Status),
		Start: a.Start.In(loc).Format(time.RFC3339), End: a.End.In(loc).Format(time.RFC3339), Version: a.Version,
		SeriesID: a.SeriesID, SessionNo: a.SessionNo, AdditionalReason: a.AdditionalReason, ConfirmedAt: rfc3339(a.ConfirmedAt)}
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
	if err := p.Err(); err != nil {
		s.fail(w, r, err)
		return
	}
	a, replayed, err := s.db.Book(r.Context(), clinic.Booking{PatientID: req.PatientID, Kind: kind, Start: start,
		ChairID: chairID, AdditionalReason: req.AdditionalReason, IdempotencyKey: r.Header.Get("Idempotency-Key")}, s.now())
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
	visits, err := s.db.Visits(r.Context(), postgres.AppointmentFilter{From: from.At(0, loc), To: to.AddDays(1).At(0, loc), PatientID: patientID})
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
	// At check-in: who takes the patient home (when none is on file).
	DriverName  string `json:"driver_name"`
	DriverPhone string `json:"driver_phone"`
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
			a, err = s.db.CheckIn(r.Context(), id, req.Version, clinic.Driver{Name: req.DriverName, Phone: req.DriverPhone}, s.now())
		} else {
			a, err = change(r.Context(), id, req.Version, s.now())
		}
		s.appointmentResult(w, r, a, err)
	}
}
