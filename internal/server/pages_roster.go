package server

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/postgres"
	"github.com/infusiondesk/infusiondesk/web"
)

// adminRoster is the nursing roster of one week (?week=, any date of it;
// this week without).
func (s *Server) adminRoster(w http.ResponseWriter, r *http.Request) {
	v := web.RosterView{Notice: notices{"added": "The shift is added.", "pattern": "The pattern is applied.",
		"removed": "The shift is removed; nothing was cancelled."}.of(r)}
	// A count, never text from the URL.
	if n, err := strconv.Atoi(r.URL.Query().Get("to_move")); err == nil && n > 0 {
		v.Notice += " " + strconv.Itoa(n) + " infusions now have no nurse on shift: see Appointments to move."
	}
	s.renderRoster(w, r, http.StatusOK, v)
}

// renderRoster shows the roster week around the forms as the admin left them.
func (s *Server) renderRoster(w http.ResponseWriter, r *http.Request, status int, v web.RosterView) {
	err := s.read(r, func(r *http.Request) error {
		ctx := r.Context()
		c, err := s.clinicDays(ctx)
		if err != nil {
			return err
		}
		v.Nursing = c.Settings.Nursing
		week := c.today
		if d, err := clinic.ParseDate(r.FormValue("week")); err == nil { // posted, else in the query
			week = d
		}
		v.Monday = web.MondayOf(week)
		shifts, err := s.db.Shifts(ctx, v.Monday, v.Monday.AddDays(6))
		if err != nil {
			return err
		}
		for i := range 7 {
			d := v.Monday.AddDays(i)
			day := web.RosterDay{Date: d, Closed: c.ClosedReason(d)}
			for _, sh := range shifts {
				if sh.Date == d {
					day.Shifts = append(day.Shifts, sh)
				}
			}
			v.Days = append(v.Days, day)
		}
		users, err := s.db.Users(ctx)
		for _, u := range users {
			if u.Role == clinic.RoleNurse && !u.Disabled() {
				v.Nurses = append(v.Nurses, u)
			}
		}
		return err
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if v.Shift.Fields == nil {
		v.Shift.Fields = map[string]string{}
	}
	if v.Pattern.Fields == nil {
		v.Pattern.Fields = map[string]string{}
	}
	s.render(w, r, status, web.RosterPage(s.meta(r, "Nursing roster", "/admin/roster"), v))
}

// adminAddShift adds one shift.
func (s *Server) adminAddShift(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, clinic.Errorf(clinic.EMALFORMED, "The form could not be read."))
		return
	}
	f := web.ShiftForm{NurseID: r.PostForm.Get("nurse_id"), Date: r.PostForm.Get("date"), From: r.PostForm.Get("from"), To: r.PostForm.Get("to")}
	shift, err := shiftInput(f)
	var change postgres.ShiftChange
	if err == nil {
		change, err = s.db.AddShift(r.Context(), shift)
	}
	done := fmt.Sprintf("%s&done=added&to_move=%d", web.RosterURL(web.MondayOf(shift.Date)), len(change.ToMove))
	s.answerForm(w, r, err, done, func(p refusal) {
		f.Message, f.Fields = p.Message, p.Fields
		s.renderRoster(w, r, p.Status, web.RosterView{Shift: f})
	})
}

// shiftInput reads the "add a shift" form.
func shiftInput(f web.ShiftForm) (clinic.Shift, error) {
	p := clinic.Problems{}
	var s clinic.Shift
	var err error
	if s.NurseID, err = strconv.ParseInt(f.NurseID, 10, 64); err != nil {
		p.Add("nurse_id", "Choose the nurse.")
	}
	if s.Date, err = clinic.ParseDate(strings.TrimSpace(f.Date)); err != nil {
		p.Add("date", "Enter the date.")
	}
	if s.From, err = clinic.ParseClock(strings.TrimSpace(f.From)); err != nil {
		p.Add("from", "Enter a time like 07:00.")
	}
	if s.To, err = clinic.ParseClock(strings.TrimSpace(f.To)); err != nil {
		p.Add("to", "Enter a time like 16:30.")
	}
	if err := p.Err(); err != nil {
		return s, err
	}
	return s, s.Validate()
}

// adminApplyPattern applies a weekly pattern to a range of dates.
func (s *Server) adminApplyPattern(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, clinic.Errorf(clinic.EMALFORMED, "The form could not be read."))
		return
	}
	f := web.PatternForm{NurseID: r.PostForm.Get("nurse_id"), From: r.PostForm.Get("pattern-from"), To: r.PostForm.Get("pattern-to"),
		FirstDay: r.PostForm.Get("first_day"), LastDay: r.PostForm.Get("last_day"), Weekdays: map[time.Weekday]bool{}}
	p, err := patternInput(r, &f)
	var change postgres.ShiftChange
	if err == nil {
		change, err = s.db.ApplyPattern(r.Context(), p)
	}
	done := fmt.Sprintf("%s&done=pattern&to_move=%d", web.RosterURL(web.MondayOf(p.FirstDay)), len(change.ToMove))
	s.answerForm(w, r, err, done, func(rf refusal) {
		f.Message, f.Fields = rf.Message, map[string]string{}
		for k, m := range rf.Fields { // the pattern's own times have their own fields
			if k == "from" || k == "to" {
				k = "pattern-" + k
			}
			f.Fields[k] = m
		}
		s.renderRoster(w, r, rf.Status, web.RosterView{Pattern: f})
	})
}

// patternInput reads the "apply a weekly pattern" form.
func patternInput(r *http.Request, f *web.PatternForm) (clinic.ShiftPattern, error) {
	pr := clinic.Problems{}
	var p clinic.ShiftPattern
	var err error
	if p.NurseID, err = strconv.ParseInt(f.NurseID, 10, 64); err != nil {
		pr.Add("nurse_id", "Choose the nurse.")
	}
	for _, key := range r.PostForm["weekday"] {
		if wd, ok := clinic.ParseWeekday(key); ok {
			p.Weekdays = append(p.Weekdays, wd)
			f.Weekdays[wd] = true
		}
	}
	if p.From, err = clinic.ParseClock(strings.TrimSpace(f.From)); err != nil {
		pr.Add("pattern-from", "Enter a time like 07:00.")
	}
	if p.To, err = clinic.ParseClock(strings.TrimSpace(f.To)); err != nil {
		pr.Add("pattern-to", "Enter a time like 16:30.")
	}
	if p.FirstDay, err = clinic.ParseDate(strings.TrimSpace(f.FirstDay)); err != nil {
		pr.Add("first_day", "Enter the first date.")
	}
	if p.LastDay, err = clinic.ParseDate(strings.TrimSpace(f.LastDay)); err != nil {
		pr.Add("last_day", "Enter the last date.")
	}
	return p, pr.Err()
}

// adminRemoveShift takes a shift off the roster.
func (s *Server) adminRemoveShift(w http.ResponseWriter, r *http.Request) {
	id, err := urlID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	week, _ := clinic.ParseDate(r.PostFormValue("week"))
	change, err := s.db.RemoveShift(r.Context(), id)
	done := fmt.Sprintf("%s&done=removed&to_move=%d", web.RosterURL(week), len(change.ToMove))
	s.answerForm(w, r, err, done, func(p refusal) {
		s.renderRoster(w, r, p.Status, web.RosterView{Message: p.Message})
	})
}
