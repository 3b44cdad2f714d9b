package server

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/i18n"
	"github.com/infusiondesk/infusiondesk/web"
)

// seriesSetting puts around the person's input what the wizard shows of
// the patient and the clinic (one store call).
func (s *Server) seriesSetting(r *http.Request, wiz web.SeriesWizard) (web.SeriesWizard, error) {
	id, err := urlID(r)
	if err != nil {
		return wiz, err
	}
	set, err := s.db.SeriesSetting(r.Context(), id)
	if err != nil {
		return wiz, err
	}
	wiz.Patient, wiz.Protocols, wiz.Chairs, wiz.SlotMinutes = set.Patient, set.Protocols, set.Chairs, set.Schedule.Settings.SlotMinutes
	if wiz.Key == "" {
		wiz.Key = newKey()
	}
	if wiz.Fields == nil {
		wiz.Fields = map[string]string{}
	}
	return wiz, nil
}

// renderSeries renders the wizard page.
func (s *Server) renderSeries(w http.ResponseWriter, r *http.Request, status int, wiz web.SeriesWizard) {
	wiz, err := s.seriesSetting(r, wiz)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, status, web.SeriesPage(s.meta(r, "Loading series", "/desk/patients"), wiz))
}

// deskSeriesForm starts the wizard: tomorrow, 09:00, the open course's
// protocol when there is one.
func (s *Server) deskSeriesForm(w http.ResponseWriter, r *http.Request) {
	_, loc := s.clinicInfo(r.Context())
	s.renderSeries(w, r, http.StatusOK, web.SeriesWizard{StartDate: clinic.DateOf(s.now(), loc).AddDays(1).String(),
		Preferred: clinic.DefaultPreferredTime.String()})
}

// seriesForm reads the wizard's posted choices for the patient in the
// path, and (withRows) the sessions as the desk left them, as rows too:
// when a row cannot be read, the error says so and the rows are shown.
func (s *Server) seriesForm(r *http.Request, withRows bool) (web.SeriesWizard, clinic.SeriesRequest, error) {
	var wiz web.SeriesWizard
	if err := r.ParseForm(); err != nil {
		return wiz, clinic.SeriesRequest{}, clinic.Errorf(clinic.EMALFORMED, "The form could not be read.")
	}
	req, problems := seriesInput(r, &wiz)
	req.PatientID, _ = urlID(r)
	if err := problems.Err(); err != nil || !withRows {
		return wiz, req, err
	}
	_, loc := s.clinicInfo(r.Context())
	req.Sessions, wiz.Rows = sessionsInput(r, loc)
	if len(req.Sessions) != len(wiz.Rows) {
		return wiz, req, clinic.Errorf(clinic.EINVALID, "Every session needs a date, a time and a chair.")
	}
	return wiz, req, nil
}

// seriesInput reads the wizard's choices.
func seriesInput(r *http.Request, wiz *web.SeriesWizard) (clinic.SeriesRequest, clinic.Problems) {
	wiz.ProtocolID, wiz.StartDate, wiz.Preferred = r.PostForm.Get("protocol_id"), r.PostForm.Get("start_date"), r.PostForm.Get("preferred")
	wiz.Key = r.PostForm.Get("key")
	p := clinic.Problems{}
	req := clinic.SeriesRequest{IdempotencyKey: wiz.Key}
	var err error
	if req.ProtocolID, err = strconv.ParseInt(wiz.ProtocolID, 10, 64); err != nil {
		p.Add("protocol_id", "Choose a protocol.")
	}
	if req.StartDate, err = clinic.ParseDate(strings.TrimSpace(wiz.StartDate)); err != nil {
		p.Add("start_date", "Enter the earliest first date.")
	}
	req.Preferred = clinic.DefaultPreferredTime
	if t := strings.TrimSpace(wiz.Preferred); t != "" {
		if req.Preferred, err = clinic.ParseClock(t); err != nil {
			p.Add("preferred", "Enter a time like 09:00.")
		}
	}
	return req, p
}

// sessionsInput reads the proposal's rows as the desk left them: each
// session's start and chair (its length is the plan's).
func sessionsInput(r *http.Request, loc *time.Location) ([]clinic.Slot, []web.SeriesRow) {
	n, _ := strconv.Atoi(r.PostForm.Get("sessions"))
	n = min(max(n, 0), 20)
	var slots []clinic.Slot
	var rows []web.SeriesRow
	for i := 1; i <= n; i++ {
		k := strconv.Itoa(i)
		row := web.SeriesRow{No: i, Date: r.PostForm.Get("date." + k), Time: r.PostForm.Get("time." + k), ChairID: r.PostForm.Get("chair." + k)}
		d, err1 := clinic.ParseDate(row.Date)
		c, err2 := clinic.ParseClock(row.Time)
		chair, err3 := strconv.ParseInt(row.ChairID, 10, 64)
		if err1 != nil || err2 != nil || err3 != nil {
			row.Problem = "Enter a date, a time like 09:00 and a chair."
			rows = append(rows, row)
			continue
		}
		start, err := clinic.LocalStart(d, c, loc)
		if err != nil {
			row.Problem = clinic.ErrorFields(err)["time"]
			rows = append(rows, row)
			continue
		}
		slots = append(slots, clinic.Slot{ChairID: chair, Interval: clinic.Interval{Start: start}})
		rows = append(rows, row)
	}
	return slots, rows
}

// rowsOf turns checked sessions into the wizard's rows; seen marks the
// rows that differ from what the desk had in front of them.
func rowsOf(checks []clinic.SessionCheck, loc *time.Location, seen []clinic.Slot) []web.SeriesRow {
	rows := make([]web.SeriesRow, len(checks))
	for i, c := range checks {
		d := clinic.DateOf(c.Start, loc)
		rows[i] = web.SeriesRow{No: i + 1, Date: d.String(), Weekday: d.Format("Mon"), Time: clinic.ClockOf(c.Start, loc).String(),
			ChairID: strconv.FormatInt(c.ChairID, 10), GapDays: c.GapDays, Problem: c.Problem}
		if seen != nil && (i >= len(seen) || !seen[i].Start.Equal(c.Start) || seen[i].ChairID != c.ChairID) {
			rows[i].Changed = true
		}
	}
	return rows
}

func proposalNote(p clinic.SeriesProposal) string {
	if p.Course != nil {
		return fmt.Sprintf("Planned with the numbers of the patient's open course: %d sessions, %d–%d days apart, within %d days, %d minutes each.",
			p.Plan.Sessions, p.Plan.MinGapDays, p.Plan.MaxGapDays, p.Plan.MaxSpanDays, p.Plan.Minutes)
	}
	return fmt.Sprintf("%s: %d sessions, %d–%d days apart, within %d days, %d minutes each. Booking opens a treatment course.",
		p.Protocol.Name, p.Plan.Sessions, p.Plan.MinGapDays, p.Plan.MaxGapDays, p.Plan.MaxSpanDays, p.Plan.Minutes)
}

// showProposal puts a proposal's rows and notes on the wizard; seen, when
// not nil, are the sessions the desk had, to mark what changed.
func showProposal(wiz *web.SeriesWizard, p clinic.SeriesProposal, loc *time.Location, seen []clinic.Slot) {
	wiz.Rows, wiz.Note, wiz.Moved = rowsOf(p.Checks, loc, seen), proposalNote(p), p.Note
}

// seriesRefused re-renders the wizard with the refusal's message and
// fields, or fails the request when the error is not the person's to mend.
func (s *Server) seriesRefused(w http.ResponseWriter, r *http.Request, wiz web.SeriesWizard, err error) {
	p, ok := refusalOf(err)
	if !ok {
		s.fail(w, r, err)
		return
	}
	wiz.Message, wiz.Fields = p.Message, p.Fields
	s.renderSeries(w, r, p.Status, wiz)
}

// deskSeriesPropose plans the series from the choices.
func (s *Server) deskSeriesPropose(w http.ResponseWriter, r *http.Request) {
	wiz, req, err := s.seriesForm(r, false)
	if err == nil {
		var p clinic.SeriesProposal
		if p, err = s.db.ProposeSeries(r.Context(), req, s.now()); err == nil {
			_, loc := s.clinicInfo(r.Context())
			showProposal(&wiz, p, loc, nil)
			s.renderSeries(w, r, http.StatusOK, wiz)
			return
		}
	}
	s.seriesRefused(w, r, wiz, err)
}

// deskSeriesCheck re-checks the rows as the desk changed them (htmx): the
// rows as sent when one cannot be read, else each with its problem.
func (s *Server) deskSeriesCheck(w http.ResponseWriter, r *http.Request) {
	wiz, req, err := s.seriesForm(r, true)
	if clinic.ErrorCode(err) == clinic.EMALFORMED || len(clinic.ErrorFields(err)) > 0 {
		s.fail(w, r, err)
		return
	}
	if err == nil {
		p, err := s.db.ProposeSeries(r.Context(), req, s.now())
		if err != nil && !isFormError(err) {
			s.fail(w, r, err)
			return
		}
		if err == nil {
			_, loc := s.clinicInfo(r.Context())
			wiz.Rows = rowsOf(p.Checks, loc, nil)
		}
	}
	if wiz, err = s.seriesSetting(r, wiz); err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, web.SeriesRows(wiz))
}

// deskSeriesBook books the series as the desk confirmed it: all or
// nothing. Refused, it shows the sessions with their problems, or the
// fresh proposal after a slot was taken meanwhile, its differences marked.
func (s *Server) deskSeriesBook(w http.ResponseWriter, r *http.Request) {
	wiz, req, err := s.seriesForm(r, true)
	if err == nil {
		wiz.Rows = nil // the rows shown are the checked ones
		var booked clinic.BookedSeries
		if booked, _, err = s.db.BookSeries(r.Context(), req, s.now()); err == nil {
			http.Redirect(w, r, web.PatientURL(req.PatientID)+"?done=series", http.StatusSeeOther)
			return
		}
		if booked.Refused != nil {
			_, loc := s.clinicInfo(r.Context())
			var seen []clinic.Slot
			if booked.Fresh {
				seen = req.Sessions
			}
			showProposal(&wiz, *booked.Refused, loc, seen)
		}
	}
	s.seriesRefused(w, r, wiz, err)
}

// reflowInput reads a re-flow request from a form.
func reflowInput(r *http.Request, loc *time.Location) (clinic.ReflowRequest, web.ReflowView, error) {
	v := web.ReflowView{Date: r.PostForm.Get("date"), Time: r.PostForm.Get("time"), ChairID: r.PostForm.Get("chair_id")}
	req := clinic.ReflowRequest{}
	var err error
	if req.SeriesID, err = strconv.ParseInt(chi.URLParam(r, "id"), 10, 64); err != nil {
		return req, v, clinic.Errorf(clinic.ENOTFOUND, "There is no such series.")
	}
	v.SeriesID = req.SeriesID
	req.From, _ = strconv.Atoi(r.PostForm.Get("from"))
	v.From = req.From
	req.Version, _ = strconv.Atoi(r.PostForm.Get("version"))
	v.Version = req.Version
	if v.Date != "" || v.Time != "" {
		start, problems := startFromForm(v.Date, v.Time, loc)
		if problems != nil {
			return req, v, clinic.Invalid(problems)
		}
		req.Start = &start
	}
	chair, ok := optionalID(v.ChairID)
	if !ok {
		return req, v, clinic.Invalid(map[string]string{"chair_id": "Choose a chair."})
	}
	req.ChairID = chair
	return req, v, nil
}

func reflowView(v web.ReflowView, rf clinic.Reflow, sched clinic.Schedule, chairs []clinic.Chair) web.ReflowView {
	loc := sched.Loc
	at := func(t time.Time) string {
		return sched.DayText(clinic.DateOf(t, loc), i18n.Short) + " " + sched.TimeText(t)
	}
	name := func(id int64) string { return web.BookingForm{Chairs: chairs}.ChairName(id) }
	v.OK, v.Moved = rf.OK, rf.Note
	for _, rs := range rf.Sessions {
		row := web.ReflowRow{No: rs.No, Kept: rs.Kept, Moved: rs.Moved(), Problem: rs.New.Problem,
			New:      at(rs.New.Start) + " · " + name(rs.New.ChairID),
			WantDate: clinic.DateOf(rs.New.Start, loc).String(), WantTime: clinic.ClockOf(rs.New.Start, loc).String(),
			WantChair: strconv.FormatInt(rs.New.ChairID, 10)}
		if rs.Kept {
			row.Problem = ""
		}
		if rs.Old != nil {
			row.Old = at(rs.Old.Start) + " · " + name(rs.Old.ChairID)
		}
		v.Rows = append(v.Rows, row)
	}
	return v
}

// deskReflowPreview shows a series after moving session From (or after
// re-planning it, once cancelled), before anything changes.
func (s *Server) deskReflowPreview(w http.ResponseWriter, r *http.Request) {
	s.reflow(w, r, false)
}

// deskReflowConfirm applies exactly the previewed re-flow, or nothing.
func (s *Server) deskReflowConfirm(w http.ResponseWriter, r *http.Request) {
	s.reflow(w, r, true)
}

// reflow previews a re-flow or (apply) applies exactly the preview the
// person confirmed; when the calendar changed meanwhile, the new preview
// is shown with the reason.
func (s *Server) reflow(w http.ResponseWriter, r *http.Request, apply bool) {
	req, v, want, err := s.reflowForm(r, apply)
	var rf clinic.Reflow
	switch {
	case err != nil:
	case apply:
		if rf, err = s.db.ApplyReflow(r.Context(), req, want, s.now()); err == nil {
			http.Redirect(w, r, web.PatientURL(rf.PatientID)+"?done=reflowed", http.StatusSeeOther)
			return
		}
		if clinic.ErrorCode(err) == clinic.ECONFLICT && len(rf.Sessions) > 0 {
			v.Message, err = clinic.ErrorMessage(err), nil // the new preview
		}
	default:
		rf, err = s.db.PlanReflow(r.Context(), req, s.now())
	}
	if err != nil {
		s.reflowRefused(w, r, v, err)
		return
	}
	set, err := s.db.SeriesSetting(r.Context(), rf.PatientID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v.Patient = set.Patient.FullName()
	v = reflowView(v, rf, set.Schedule, set.Chairs)
	s.render(w, r, http.StatusOK, web.ReflowPage(s.meta(r, "Re-flow", "/desk/patients"), v))
}

// reflowForm reads a re-flow request and, to apply, the preview confirmed.
func (s *Server) reflowForm(r *http.Request, apply bool) (clinic.ReflowRequest, web.ReflowView, []clinic.Slot, error) {
	if err := r.ParseForm(); err != nil {
		return clinic.ReflowRequest{}, web.ReflowView{}, nil, clinic.Errorf(clinic.EMALFORMED, "The form could not be read.")
	}
	_, loc := s.clinicInfo(r.Context())
	req, v, err := reflowInput(r, loc)
	if err != nil || !apply {
		return req, v, nil, err
	}
	want, err := previewInput(r, loc)
	return req, v, want, err
}

// previewInput reads the sessions of the preview the person confirmed.
func previewInput(r *http.Request, loc *time.Location) ([]clinic.Slot, error) {
	var want []clinic.Slot
	for i := 1; i <= 20; i++ {
		parts := strings.Fields(r.PostForm.Get("want." + strconv.Itoa(i)))
		if len(parts) != 3 {
			break
		}
		d, err1 := clinic.ParseDate(parts[0])
		c, err2 := clinic.ParseClock(parts[1])
		chair, err3 := strconv.ParseInt(parts[2], 10, 64)
		if err1 != nil || err2 != nil || err3 != nil {
			return nil, clinic.Errorf(clinic.EMALFORMED, "The preview could not be read.")
		}
		want = append(want, clinic.Slot{ChairID: chair, Interval: clinic.Interval{Start: d.At(c, loc)}})
	}
	return want, nil
}

// reflowRefused shows why a re-flow cannot be previewed or applied.
func (s *Server) reflowRefused(w http.ResponseWriter, r *http.Request, v web.ReflowView, err error) {
	p, ok := refusalOf(err)
	if !ok {
		s.fail(w, r, err)
		return
	}
	v.Message, v.OK = p.about("start"), false
	s.render(w, r, p.Status, web.ReflowPage(s.meta(r, "Re-flow", "/desk/patients"), v))
}

// deskCancelSeries cancels every session of a series still to come.
func (s *Server) deskCancelSeries(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		s.fail(w, r, clinic.Errorf(clinic.ENOTFOUND, "There is no such series."))
		return
	}
	patient, _ := strconv.ParseInt(r.PostFormValue("patient_id"), 10, 64)
	_, err = s.db.CancelSeries(r.Context(), id, r.PostFormValue("reason"), s.now())
	s.answerInvalid(w, r, err, web.PatientURL(patient)+"?done=series-cancelled", func(p refusal) {
		s.renderPatient(w, r, patient, p.Status, "The series was not cancelled: "+p.Fields["reason"])
	})
}
