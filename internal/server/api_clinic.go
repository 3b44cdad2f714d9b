package server

import (
	"cmp"
	"fmt"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/i18n"
)

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
	Nursing            clinic.Nursing   `json:"nursing"`
	// Clock ("12h" or "24h") and DateOrder ("mdy" or "dmy") are how pages,
	// messages and calendar entries write times and dates.
	Clock     string `json:"clock"`
	DateOrder string `json:"date_order"`
	Version   int    `json:"version"`
}

func toClinicJSON(st clinic.Settings) clinicJSON {
	out := clinicJSON{Name: st.Name, TimeZone: st.TimeZone, SlotMinutes: st.SlotMinutes, BookingHorizonDays: st.BookingHorizonDays,
		Phone: st.Phone, Address: st.Address, Reminders: st.Reminders, Nursing: st.Nursing, Version: st.Version, Hours: map[string][][]string{},
		Clock: st.Style.Clock(), DateOrder: st.Style.Order()}
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
	// Nursing left out keeps what is stored.
	Nursing *clinic.Nursing `json:"nursing"`
	// Clock and DateOrder left out keep what is stored.
	Clock     *string `json:"clock"`
	DateOrder *string `json:"date_order"`
	Version   *int    `json:"version"`
}

// settings are the settings the request asks for: what it leaves out of
// the optional parts (version, phone, address, reminders) stays as cur.
func (req putClinicRequest) settings(cur clinic.Settings) (clinic.Settings, clinic.Problems) {
	st := clinic.Settings{Name: req.Name, TimeZone: req.TimeZone, SlotMinutes: req.SlotMinutes, BookingHorizonDays: req.BookingHorizonDays,
		Version: cur.Version, Phone: cur.Phone, Address: cur.Address, Reminders: cur.Reminders, Nursing: cur.Nursing, Style: cur.Style}
	p := clinic.Problems{}
	if req.Clock != nil || req.DateOrder != nil {
		clock, order := cmp.Or(deref(req.Clock), cur.Style.Clock()), cmp.Or(deref(req.DateOrder), cur.Style.Order())
		st.Style = styleInput(clock, order, p)
	}
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
	if req.Nursing != nil {
		st.Nursing = *req.Nursing
		if st.Nursing == (clinic.Nursing{}) {
			st.Nursing.PatientsPerNurse = -1 // "none" is not "keep": refused
		}
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
	saved, misfits, err := s.db.PutSettings(r.Context(), func(cur clinic.Settings) (clinic.Settings, error) {
		st, p := req.settings(cur)
		for k, v := range clinic.ErrorFields(st.Validate()) {
			p.Add(k, v)
		}
		return st, p.Err()
	}, s.now())
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

// styleInput reads the clinic's clock and date order, a message per field.
func styleInput(clock, order string, p clinic.Problems) i18n.Style {
	if _, err := i18n.ParseStyle(clock, i18n.MDY); err != nil {
		p.Add("clock", "Choose the 12-hour (12h) or 24-hour (24h) clock.")
	}
	if _, err := i18n.ParseStyle(i18n.Clock12, order); err != nil {
		p.Add("date_order", "Choose month first (mdy) or day first (dmy).")
	}
	st, _ := i18n.ParseStyle(clock, order)
	return st
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
