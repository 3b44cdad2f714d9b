package server

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/infusiondesk/infusiondesk/internal/auth"
	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/postgres"
	"github.com/infusiondesk/infusiondesk/web"
)

// seriesWizard loads what the wizard shows around the person's input.
func (s *Server) seriesWizard(r *http.Request, w web.SeriesWizard) (web.SeriesWizard, clinic.Schedule, error) {
	ctx := r.Context()
	id, err := urlID(r)
	if err != nil {
		return w, clinic.Schedule{}, err
	}
	if w.Patient, err = s.db.Patient(ctx, id); err != nil {
		return w, clinic.Schedule{}, err
	}
	if w.Protocols, err = s.db.Protocols(ctx); err != nil {
		return w, clinic.Schedule{}, err
	}
	if w.Chairs, err = s.db.Chairs(ctx); err != nil {
		return w, clinic.Schedule{}, err
	}
	sched, err := s.db.Schedule(ctx)
	if err != nil {
		return w, sched, err
	}
	w.SlotMinutes = sched.Settings.SlotMinutes
	if w.Key == "" {
		key, _ := auth.NewToken()
		w.Key = key[:32]
	}
	if w.Fields == nil {
		w.Fields = map[string]string{}
	}
	return w, sched, nil
}

func (s *Server) renderSeries(w http.ResponseWriter, r *http.Request, status int, wiz web.SeriesWizard) {
	wiz, _, err := s.seriesWizard(r, wiz)
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
// path; false when the form could not be read (the answer is sent).
func (s *Server) seriesForm(w http.ResponseWriter, r *http.Request) (web.SeriesWizard, postgres.SeriesRequest, clinic.Problems, bool) {
	var wiz web.SeriesWizard
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, clinic.Errorf(clinic.EMALFORMED, "The form could not be read."))
		return wiz, postgres.SeriesRequest{}, nil, false
	}
	req, problems := seriesInput(r, &wiz)
	req.PatientID, _ = urlID(r)
	return wiz, req, problems, true
}

// seriesInput reads the wizard's choices.
func seriesInput(r *http.Request, wiz *web.SeriesWizard) (postgres.SeriesRequest, clinic.Problems) {
	wiz.ProtocolID, wiz.StartDate, wiz.Preferred = r.PostForm.Get("protocol_id"), r.PostForm.Get("start_date"), r.PostForm.Get("preferred")
	wiz.Key = r.PostForm.Get("key")
	p := clinic.Problems{}
	req := postgres.SeriesRequest{IdempotencyKey: wiz.Key}
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

// sessionsInput reads the proposal's rows as the desk left them.
func sessionsInput(r *http.Request, sched clinic.Schedule, minutes int) ([]clinic.Slot, []web.SeriesRow) {
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
		start, err := clinic.LocalStart(d, c, sched.Loc)
		if err != nil {
			row.Problem = clinic.ErrorFields(err)["time"]
			rows = append(rows, row)
			continue
		}
		slots = append(slots, clinic.Slot{ChairID: chair, Interval: clinic.Interval{Start: start, End: start.Add(time.Duration(minutes) * time.Minute)}})
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

func (s *Server) proposalNote(p postgres.SeriesProposal) string {
	if p.Course != nil {
		return fmt.Sprintf("Planned with the numbers of the patient's open course: %d sessions, %d–%d days apart, within %d days, %d minutes each.",
			p.Plan.Sessions, p.Plan.MinGapDays, p.Plan.MaxGapDays, p.Plan.MaxSpanDays, p.Plan.Minutes)
	}
	return fmt.Sprintf("%s: %d sessions, %d–%d days apart, within %d days, %d minutes each. Booking opens a treatment course.",
		p.Protocol.Name, p.Plan.Sessions, p.Plan.MinGapDays, p.Plan.MaxGapDays, p.Plan.MaxSpanDays, p.Plan.Minutes)
}

// deskSeriesPropose plans the series from the choices.
func (s *Server) deskSeriesPropose(w http.ResponseWriter, r *http.Request) {
	wiz, req, problems, ok := s.seriesForm(w, r)
	if !ok {
		return
	}
	err := problems.Err()
	var p postgres.SeriesProposal
	if err == nil {
		p, err = s.db.ProposeSeries(r.Context(), req, s.now())
	}
	if err != nil {
		if !isFormError(err) {
			s.fail(w, r, err)
			return
		}
		wiz.Message, wiz.Fields = clinic.ErrorMessage(err), clinic.ErrorFields(err)
		status, _ := httpStatus(clinic.ErrorCode(err))
		s.renderSeries(w, r, status, wiz)
		return
	}
	_, loc := s.clinicInfo(r.Context())
	wiz.Rows, wiz.Note, wiz.Moved = rowsOf(p.Checks, loc, nil), s.proposalNote(p), p.Note
	s.renderSeries(w, r, http.StatusOK, wiz)
}

func isFormError(err error) bool {
	code := clinic.ErrorCode(err)
	return code == clinic.EINVALID || code == clinic.ECONFLICT
}

// deskSeriesCheck re-checks the rows as the desk changed them (htmx).
func (s *Server) deskSeriesCheck(w http.ResponseWriter, r *http.Request) {
	wiz, req, problems, ok := s.seriesForm(w, r)
	if !ok {
		return
	}
	wiz, sched, err := s.seriesWizard(r, wiz)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if len(problems) > 0 {
		s.fail(w, r, problems.Err())
		return
	}
	p, err := s.db.ProposeSeries(r.Context(), req, s.now()) // for the plan's numbers
	if err != nil && !isFormError(err) {
		s.fail(w, r, err)
		return
	}
	slots, rows := sessionsInput(r, sched, p.Plan.Minutes)
	if len(slots) == len(rows) && len(slots) > 0 {
		req.Sessions = slots
		checked, err := s.db.ProposeSeries(r.Context(), req, s.now())
		if err != nil && !isFormError(err) {
			s.fail(w, r, err)
			return
		}
		if err == nil {
			rows = rowsOf(checked.Checks, sched.Loc, nil)
		}
	}
	wiz.Rows = rows
	s.render(w, r, http.StatusOK, web.SeriesRows(wiz))
}

// deskSeriesBook books the series as the desk confirmed it: all or nothing.
func (s *Server) deskSeriesBook(w http.ResponseWriter, r *http.Request) {
	wiz, req, problems, ok := s.seriesForm(w, r)
	if !ok {
		return
	}
	sched, err := s.db.Schedule(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	err = problems.Err()
	var plan postgres.SeriesProposal
	if err == nil {
		plan, err = s.db.ProposeSeries(r.Context(), req, s.now())
	}
	var slots []clinic.Slot
	if err == nil {
		var rows []web.SeriesRow
		slots, rows = sessionsInput(r, sched, plan.Plan.Minutes)
		if len(slots) != len(rows) {
			wiz.Rows = rows
			err = clinic.Errorf(clinic.EINVALID, "Every session needs a date, a time and a chair.")
		} else {
			req.Sessions = slots
			_, _, err = s.db.BookSeries(r.Context(), req, s.now())
		}
	}
	switch {
	case err == nil:
		http.Redirect(w, r, web.PatientURL(req.PatientID)+"?done=series", http.StatusSeeOther)
	case isFormError(err):
		wiz.Message, wiz.Fields = clinic.ErrorMessage(err), clinic.ErrorFields(err)
		if fresh := clinic.ErrorAlternatives(err); len(fresh) > 0 {
			// Taken meanwhile: the fresh proposal, its differences marked.
			freshReq := req
			freshReq.Sessions = fresh
			if p, perr := s.db.ProposeSeries(r.Context(), freshReq, s.now()); perr == nil {
				wiz.Rows, wiz.Note, wiz.Moved = rowsOf(p.Checks, sched.Loc, slots), s.proposalNote(p), p.Note
			}
		} else if wiz.Rows == nil && slots != nil {
			req.Sessions = slots
			if p, perr := s.db.ProposeSeries(r.Context(), req, s.now()); perr == nil {
				wiz.Rows, wiz.Note, wiz.Moved = rowsOf(p.Checks, sched.Loc, nil), s.proposalNote(p), p.Note
			}
		}
		status, _ := httpStatus(clinic.ErrorCode(err))
		s.renderSeries(w, r, status, wiz)
	default:
		s.fail(w, r, err)
	}
}

// reflowInput reads a re-flow request from a form.
func reflowInput(r *http.Request, loc *time.Location) (postgres.ReflowRequest, web.ReflowView, error) {
	v := web.ReflowView{Date: r.PostForm.Get("date"), Time: r.PostForm.Get("time"), ChairID: r.PostForm.Get("chair_id")}
	req := postgres.ReflowRequest{}
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

func (s *Server) reflowView(v web.ReflowView, rf postgres.Reflow, loc *time.Location, chairs []clinic.Chair) web.ReflowView {
	name := func(id int64) string { return web.BookingForm{Chairs: chairs}.ChairName(id) }
	v.OK, v.Moved = rf.OK, rf.Note
	for _, rs := range rf.Sessions {
		row := web.ReflowRow{No: rs.No, Kept: rs.Kept, Moved: rs.Moved(), Problem: rs.New.Problem,
			New:      fmt.Sprintf("%s %s · %s", clinic.DateOf(rs.New.Start, loc).Format("Mon 2 Jan"), clinic.ClockOf(rs.New.Start, loc), name(rs.New.ChairID)),
			WantDate: clinic.DateOf(rs.New.Start, loc).String(), WantTime: clinic.ClockOf(rs.New.Start, loc).String(),
			WantChair: strconv.FormatInt(rs.New.ChairID, 10)}
		if rs.Kept {
			row.Problem = ""
		}
		if rs.Old != nil {
			row.Old = fmt.Sprintf("%s %s · %s", clinic.DateOf(rs.Old.Start, loc).Format("Mon 2 Jan"), clinic.ClockOf(rs.Old.Start, loc), name(rs.Old.ChairID))
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

func (s *Server) reflow(w http.ResponseWriter, r *http.Request, apply bool) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, clinic.Errorf(clinic.EMALFORMED, "The form could not be read."))
		return
	}
	ctx := r.Context()
	sched, err := s.db.Schedule(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	chairs, err := s.db.Chairs(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	req, v, err := reflowInput(r, sched.Loc)
	var rf postgres.Reflow
	if err == nil && apply {
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
				s.fail(w, r, clinic.Errorf(clinic.EMALFORMED, "The preview could not be read."))
				return
			}
			want = append(want, clinic.Slot{ChairID: chair, Interval: clinic.Interval{Start: d.At(c, sched.Loc)}})
		}
		rf, err = s.db.ApplyReflow(ctx, req, want, s.now())
		if err == nil {
			http.Redirect(w, r, web.PatientURL(rf.PatientID)+"?done=reflowed", http.StatusSeeOther)
			return
		}
	}
	if err == nil || clinic.ErrorCode(err) == clinic.ECONFLICT && apply {
		// A preview; or, the calendar having changed, a new one.
		msg := clinic.ErrorMessage(err)
		rf, err = s.db.PlanReflow(ctx, req, s.now())
		if err == nil && msg != "" && apply {
			v.Message = msg
		}
	}
	if err != nil {
		if !isFormError(err) {
			s.fail(w, r, err)
			return
		}
		v.Message, v.OK = clinic.ErrorMessage(err), false
		if f := clinic.ErrorFields(err); f["start"] != "" {
			v.Message = f["start"]
		}
		status, _ := httpStatus(clinic.ErrorCode(err))
		s.render(w, r, status, web.ReflowPage(s.meta(r, "Re-flow", "/desk/patients"), v))
		return
	}
	if p, perr := s.db.Patient(ctx, rf.PatientID); perr == nil {
		v.Patient = p.FullName()
	}
	v = s.reflowView(v, rf, sched.Loc, chairs)
	s.render(w, r, http.StatusOK, web.ReflowPage(s.meta(r, "Re-flow", "/desk/patients"), v))
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
	switch clinic.ErrorCode(err) {
	case "":
		http.Redirect(w, r, web.PatientURL(patient)+"?done=series-cancelled", http.StatusSeeOther)
	case clinic.EINVALID:
		s.renderPatient(w, r, patient, http.StatusUnprocessableEntity, "The series was not cancelled: "+clinic.ErrorFields(err)["reason"])
	default:
		s.fail(w, r, err)
	}
}
