package server

import (
	"cmp"
	"context"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/i18n"
	"github.com/infusiondesk/infusiondesk/web"
)

// settingsPage fills the settings page's lists around a form.
func (s *Server) settingsPage(w http.ResponseWriter, r *http.Request, status int, f web.SettingsForm) {
	var sched clinic.Schedule
	var misfits []clinic.Misfit
	err := s.read(r, func(r *http.Request) (err error) {
		if sched, err = s.db.Schedule(r.Context()); err != nil {
			return err
		}
		misfits, err = s.db.Misfits(r.Context(), s.now())
		return err
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f.Today = clinic.DateOf(s.now(), sched.Loc)
	f.Closures = nil
	for d, reason := range sched.Closures {
		if !d.Before(f.Today) {
			f.Closures = append(f.Closures, web.Closure{Date: d, Reason: reason})
		}
	}
	sort.Slice(f.Closures, func(i, j int) bool { return f.Closures[i].Date.Before(f.Closures[j].Date) })
	f.Misfits = len(misfits)
	s.render(w, r, status, web.ClinicSettings(s.meta(r, "Clinic settings", "/admin/clinic"), f))
}

func (s *Server) adminClinic(w http.ResponseWriter, r *http.Request) {
	sched, err := s.db.Schedule(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f := web.SettingsFormOf(sched.Settings)
	f.Notice = notices{"saved": "The settings are saved.", "closed": "The closure is added.", "opened": "The closure is removed."}.of(r)
	s.settingsPage(w, r, http.StatusOK, f)
}

func (s *Server) adminSaveClinic(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, clinic.Errorf(clinic.EMALFORMED, "The form could not be read."))
		return
	}
	f, settings, err := settingsInput(r)
	if err == nil {
		_, err = s.db.UpdateSettings(r.Context(), settings)
	}
	s.answerForm(w, r, err, "/admin/clinic?done=saved", func(p refusal) {
		f.Message, f.Fields = p.Message, p.Fields
		if p.Code == clinic.ECONFLICT {
			// Keep the input, at the version now stored, so saving again
			// is a deliberate choice made after seeing the current values.
			if sched, serr := s.db.Schedule(r.Context()); serr == nil {
				cur := web.SettingsFormOf(sched.Settings)
				f.Version = cur.Version
				f.Message += " Now stored: " + cur.Name + ", " + cur.TimeZone + ", every " + cur.SlotMinutes + " minutes."
			}
		}
		s.settingsPage(w, r, p.Status, f)
	})
}

// settingsInput reads the clinic's settings from the form, each problem
// on its field.
func settingsInput(r *http.Request) (web.SettingsForm, clinic.Settings, error) {
	f := web.SettingsForm{Name: r.PostForm.Get("name"), TimeZone: r.PostForm.Get("timezone"), SlotMinutes: r.PostForm.Get("slot_minutes"),
		Horizon: strings.TrimSpace(r.PostForm.Get("booking_horizon_days")), Phone: r.PostForm.Get("phone"), Address: r.PostForm.Get("address"),
		Offsets: r.PostForm.Get("reminders.offsets_hours"), EmailOn: r.PostForm.Get("reminders.email") != "", SMSOn: r.PostForm.Get("reminders.sms") != "",
		Clock: r.PostForm.Get("clock"), DateOrder: r.PostForm.Get("date_order")}
	f.Version, _ = strconv.Atoi(r.PostForm.Get("version"))
	settings := clinic.Settings{Name: f.Name, TimeZone: f.TimeZone, Version: f.Version, Phone: f.Phone, Address: f.Address,
		Reminders: clinic.Reminders{OffsetsHours: []int{}, Email: f.EmailOn, SMS: f.SMSOn}}
	settings.SlotMinutes, _ = strconv.Atoi(f.SlotMinutes)
	p := clinic.Problems{}
	settings.Style = styleInput(cmp.Or(f.Clock, i18n.Clock12), cmp.Or(f.DateOrder, i18n.MDY), p)
	for _, part := range strings.FieldsFunc(f.Offsets, func(r rune) bool { return r == ',' || r == ' ' || r == ';' }) {
		h, err := strconv.Atoi(strings.TrimSuffix(strings.ToLower(part), "h"))
		if err != nil {
			p.Add("reminders.offsets_hours", "Write the hours as numbers separated by commas, e.g. 72, 24.")
			break
		}
		settings.Reminders.OffsetsHours = append(settings.Reminders.OffsetsHours, h)
	}
	f.PerNurse, f.Spacing = strings.TrimSpace(r.PostForm.Get("nursing.patients_per_nurse")), strings.TrimSpace(r.PostForm.Get("nursing.start_spacing_minutes"))
	if f.PerNurse != "" || f.Spacing != "" {
		var err1, err2 error
		settings.Nursing.PatientsPerNurse, err1 = strconv.Atoi(f.PerNurse)
		settings.Nursing.StartSpacingMinutes, err2 = strconv.Atoi(f.Spacing)
		if err1 != nil {
			p.Add("nursing.patients_per_nurse", "Enter a number, for example 3.")
		}
		if err2 != nil {
			p.Add("nursing.start_spacing_minutes", "Enter a number of minutes, for example 15.")
		}
	}
	if n, err := strconv.Atoi(f.Horizon); err == nil && n > 0 {
		settings.BookingHorizonDays = n
	} else if f.Horizon != "" {
		p.Add("booking_horizon_days", "Enter a number of days, for example 540.")
	}
	for wd, key := range clinic.WeekdayKeys {
		f.Hours[wd] = r.PostForm.Get("hours." + key)
		ranges, err := clinic.ParseRanges(f.Hours[wd])
		if err != nil {
			p.Add("hours."+key, "Write the hours like 07:00-12:00, 13:00-16:30 (or leave empty when closed).")
		}
		settings.Hours[wd] = ranges
	}
	for k, v := range clinic.ErrorFields(settings.Validate()) {
		p.Add(k, v)
	}
	return f, settings, p.Err()
}

func (s *Server) adminAddClosure(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, clinic.Errorf(clinic.EMALFORMED, "The form could not be read."))
		return
	}
	cf := web.ClosureForm{Date: r.PostForm.Get("date"), Reason: r.PostForm.Get("reason")}
	d, err := clinic.ParseDate(strings.TrimSpace(cf.Date))
	if err != nil {
		err = clinic.Invalid(map[string]string{"date": "Enter the date the clinic is closed."})
		if _, rerr := clinic.ClosureReason(cf.Reason); rerr != nil {
			err = clinic.Invalid(map[string]string{"date": "Enter the date the clinic is closed.", "reason": clinic.ErrorFields(rerr)["reason"]})
		}
	} else {
		err = s.db.AddClosure(r.Context(), d, cf.Reason, s.now())
	}
	s.answerInvalid(w, r, err, "/admin/clinic?done=closed", func(p refusal) {
		sched, err := s.db.Schedule(r.Context())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		f := web.SettingsFormOf(sched.Settings)
		cf.Fields = p.Fields
		f.ClosureForm = cf
		s.settingsPage(w, r, p.Status, f)
	})
}

func (s *Server) adminRemoveClosure(w http.ResponseWriter, r *http.Request) {
	d, err := clinic.ParseDate(chi.URLParam(r, "date"))
	if err != nil {
		s.fail(w, r, clinic.Errorf(clinic.ENOTFOUND, "There is no such closure."))
		return
	}
	if err := s.db.RemoveClosure(r.Context(), d, s.now()); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/clinic?done=opened", http.StatusSeeOther)
}

func (s *Server) renderChairs(w http.ResponseWriter, r *http.Request, status int, v web.ChairsView) {
	var err error
	if v.Chairs, err = s.db.AllChairs(r.Context()); err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, status, web.ChairsPage(s.meta(r, "Chairs", "/admin/chairs"), v))
}

func (s *Server) adminChairs(w http.ResponseWriter, r *http.Request) {
	v := web.ChairsView{}
	v.Notice = notices{"saved": "The chair is saved."}.of(r)
	s.renderChairs(w, r, http.StatusOK, v)
}

// adminSaveChair adds a chair (POST /admin/chairs) or changes one.
func (s *Server) adminSaveChair(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, clinic.Errorf(clinic.EMALFORMED, "The form could not be read."))
		return
	}
	c := clinic.Chair{Name: r.PostForm.Get("name"), Active: true}
	v := web.ChairsView{NewName: c.Name, NewPosition: r.PostForm.Get("position")}
	c.Position, _ = strconv.Atoi(strings.TrimSpace(v.NewPosition))
	if chi.URLParam(r, "id") != "" {
		id, err := urlID(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		c.ID, c.Active = id, r.PostForm.Get("active") == "1"
		c.Version, _ = strconv.Atoi(r.PostForm.Get("version"))
		v.NewName, v.NewPosition = "", ""
	}
	_, err := s.db.SaveChair(r.Context(), c)
	s.answerForm(w, r, err, "/admin/chairs?done=saved", func(p refusal) {
		if c.ID == 0 {
			v.Message, v.Fields = p.Message, p.Fields
		} else {
			// A row's own form: say which field, for which chair.
			v.Message = strings.Join(append([]string{"Chair not saved: " + p.Message}, fieldMessages(p.Fields)...), " ")
		}
		s.renderChairs(w, r, p.Status, v)
	})
}

func (s *Server) adminProtocols(w http.ResponseWriter, r *http.Request) {
	ps, err := s.db.AllProtocols(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	notice := notices{"saved": "The protocol is saved."}.of(r)
	s.render(w, r, http.StatusOK, web.ProtocolsPage(s.meta(r, "Protocols", "/admin/protocols"), ps, notice))
}

// protocolForm shows a stored protocol's numbers as form values.
func protocolForm(p clinic.Protocol) web.ProtocolForm {
	f := web.ProtocolForm{ID: p.ID, Version: p.Version, Active: p.Active, Values: map[string]string{"name": p.Name}}
	ints := map[string]int{"sessions": p.Sessions, "min_gap_days": p.MinGapDays, "max_gap_days": p.MaxGapDays,
		"max_span_days": p.MaxSpanDays, "infusion_minutes": p.InfusionMinutes, "recovery_minutes": p.RecoveryMinutes,
		"first_interval_days": p.FirstIntervalDays, "min_interval_days": p.MinIntervalDays, "max_interval_days": p.MaxIntervalDays,
		"lead_days": p.LeadDays, "step_days": p.StepDays, "maintenance_infusion_minutes": p.MaintenanceInfusionMinutes,
		"maintenance_recovery_minutes": p.MaintenanceRecoveryMinutes}
	for k, n := range ints {
		f.Values[k] = strconv.Itoa(n)
	}
	f.Values["dose_min_mg_per_kg_h"] = strconv.FormatFloat(p.DoseMinMgPerKgH, 'f', -1, 64)
	f.Values["dose_max_mg_per_kg_h"] = strconv.FormatFloat(p.DoseMaxMgPerKgH, 'f', -1, 64)
	return f
}

func (s *Server) adminProtocol(w http.ResponseWriter, r *http.Request) {
	f := protocolForm(clinic.Protocol{Active: true, Numbers: clinic.Numbers{Sessions: 6, MinGapDays: 2, MaxGapDays: 3, MaxSpanDays: 14,
		InfusionMinutes: 240, RecoveryMinutes: 30, DoseMinMgPerKgH: 0.1, DoseMaxMgPerKgH: 0.5, FirstIntervalDays: 35,
		MinIntervalDays: 21, MaxIntervalDays: 84, LeadDays: 7, StepDays: 7, MaintenanceInfusionMinutes: 60, MaintenanceRecoveryMinutes: 30}})
	f.Values["name"] = ""
	if chi.URLParam(r, "id") != "" {
		id, err := urlID(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		p, err := s.db.Protocol(r.Context(), id)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		f = protocolForm(p)
	}
	s.render(w, r, http.StatusOK, web.ProtocolEdit(s.meta(r, "Protocol", "/admin/protocols"), f))
}

func (s *Server) adminSaveProtocol(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, clinic.Errorf(clinic.EMALFORMED, "The form could not be read."))
		return
	}
	f := web.ProtocolForm{Values: map[string]string{"name": r.PostForm.Get("name")}, Active: r.PostForm.Get("active") == "1"}
	f.Version, _ = strconv.Atoi(r.PostForm.Get("version"))
	if chi.URLParam(r, "id") != "" {
		id, err := urlID(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		f.ID = id
	}
	p := clinic.Protocol{ID: f.ID, Version: f.Version, Name: f.Values["name"], Active: f.Active}
	problems := clinic.Problems{}
	ints := map[string]*int{"sessions": &p.Sessions, "min_gap_days": &p.MinGapDays, "max_gap_days": &p.MaxGapDays,
		"max_span_days": &p.MaxSpanDays, "infusion_minutes": &p.InfusionMinutes, "recovery_minutes": &p.RecoveryMinutes,
		"first_interval_days": &p.FirstIntervalDays, "min_interval_days": &p.MinIntervalDays, "max_interval_days": &p.MaxIntervalDays,
		"lead_days": &p.LeadDays, "step_days": &p.StepDays, "maintenance_infusion_minutes": &p.MaintenanceInfusionMinutes,
		"maintenance_recovery_minutes": &p.MaintenanceRecoveryMinutes}
	floats := map[string]*float64{"dose_min_mg_per_kg_h": &p.DoseMinMgPerKgH, "dose_max_mg_per_kg_h": &p.DoseMaxMgPerKgH}
	for _, pf := range web.ProtocolFields {
		raw := strings.TrimSpace(r.PostForm.Get(pf.Name))
		f.Values[pf.Name] = raw
		if dst, ok := ints[pf.Name]; ok {
			n, err := strconv.Atoi(raw)
			if err != nil {
				problems.Add(pf.Name, "Enter a whole number.")
			}
			*dst = n
		} else if dst, ok := floats[pf.Name]; ok {
			x, err := strconv.ParseFloat(strings.ReplaceAll(raw, ",", "."), 64)
			if err != nil {
				problems.Add(pf.Name, "Enter a number, e.g. 0.5.")
			}
			*dst = x
		}
	}
	verr := p.Validate()
	for k, v := range clinic.ErrorFields(verr) {
		problems.Add(k, v)
	}
	err := problems.Err()
	if err == nil {
		_, err = s.db.SaveProtocol(r.Context(), p)
	}
	s.answerForm(w, r, err, "/admin/protocols?done=saved", func(rf refusal) {
		f.Message, f.Fields = rf.Message, rf.Fields
		if rf.Code == clinic.ECONFLICT {
			if cur, cerr := s.db.Protocol(r.Context(), f.ID); cerr == nil {
				f.Version = cur.Version
			}
		}
		s.render(w, r, rf.Status, web.ProtocolEdit(s.meta(r, "Protocol", "/admin/protocols"), f))
	})
}

func (s *Server) adminHome(w http.ResponseWriter, r *http.Request) {
	var o web.AdminOverview
	if err := s.read(r, func(r *http.Request) (err error) { o, err = s.adminOverview(r.Context()); return err }); err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, web.AdminHome(s.meta(r, "Overview", "/admin"), o))
}

// adminOverview reads the admin's overview: settings, closures ahead,
// chairs, protocols, accounts by role and the audit log's sealing.
func (s *Server) adminOverview(ctx context.Context) (web.AdminOverview, error) {
	c, err := s.clinicDays(ctx)
	if err != nil {
		return web.AdminOverview{}, err
	}
	o := web.AdminOverview{Settings: c.Settings, Users: map[clinic.Role]int{}}
	for d, reason := range c.Closures {
		if !d.Before(c.today) && d.Before(c.today.AddDays(120)) {
			o.Closures = append(o.Closures, web.Closure{Date: d, Reason: reason})
		}
	}
	sort.Slice(o.Closures, func(i, j int) bool { return o.Closures[i].Date.Before(o.Closures[j].Date) })
	if o.Chairs, err = s.db.Chairs(ctx); err != nil {
		return o, err
	}
	if o.Protocols, err = s.db.Protocols(ctx); err != nil {
		return o, err
	}
	users, err := s.db.Users(ctx)
	if err != nil {
		return o, err
	}
	for _, u := range users {
		if !u.Disabled() {
			o.Users[u.Role]++
		}
	}
	o.Audit, err = s.db.AuditStatus(ctx)
	return o, err
}
