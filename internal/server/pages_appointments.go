package server

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/postgres"
	"github.com/infusiondesk/infusiondesk/web"
)

// bookingForm fills what the booking form shows besides the input: the
// chairs, the grid and the zone.
func (s *Server) bookingForm(r *http.Request, f web.BookingForm) (web.BookingForm, error) {
	sched, err := s.db.Schedule(r.Context())
	if err != nil {
		return f, err
	}
	if f.Chairs, err = s.db.Chairs(r.Context()); err != nil {
		return f, err
	}
	f.SlotMinutes, f.Loc = sched.Settings.SlotMinutes, sched.Loc
	if f.PatientID != "" && f.PatientName == "" {
		if id, err := strconv.ParseInt(f.PatientID, 10, 64); err == nil {
			if p, err := s.db.Patient(r.Context(), id); err == nil {
				f.PatientName = p.FullName() + " (" + p.MRN + ")"
			} else {
				f.PatientID = ""
			}
		}
	}
	if f.Key == "" {
		f.Key = newKey() // a fresh idempotency key for each form shown
	}
	return f, nil
}

func (s *Server) renderBooking(w http.ResponseWriter, r *http.Request, status int, f web.BookingForm) {
	err := s.read(r, func(r *http.Request) (err error) { f, err = s.bookingForm(r, f); return err })
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, status, web.BookPage(s.meta(r, "Book", "/desk/book"), f))
}

// deskBookForm opens the booking form, filled from a free cell of the day
// view (?chair=&date=&time=) or a patient's page (?patient=).
func (s *Server) deskBookForm(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.renderBooking(w, r, http.StatusOK, web.BookingForm{PatientID: q.Get("patient"), Kind: string(clinic.KindMaintenance),
		Date: q.Get("date"), Time: q.Get("time"), ChairID: q.Get("chair")})
}

func (s *Server) deskBook(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, clinic.Errorf(clinic.EMALFORMED, "The form could not be read."))
		return
	}
	f := web.BookingForm{PatientID: r.PostForm.Get("patient_id"), Kind: r.PostForm.Get("kind"),
		Date: r.PostForm.Get("date"), Time: r.PostForm.Get("time"), ChairID: r.PostForm.Get("chair_id"), Key: r.PostForm.Get("key")}
	_, loc := s.clinicInfo(r.Context())
	start, problems := startFromForm(f.Date, f.Time, loc)
	p := clinic.Problems(problems)
	if p == nil {
		p = clinic.Problems{}
	}
	patientID, ok := optionalID(f.PatientID)
	if !ok || patientID == 0 {
		p.Add("patient_id", "Find and choose the patient.")
	}
	kind, ok := clinic.ParseKind(f.Kind)
	if !ok {
		p.Add("kind", "Choose maintenance, consultation or loading.")
	}
	chairID, ok := optionalID(f.ChairID)
	if !ok {
		p.Add("chair_id", "Choose a chair.")
	}
	var err error = p.Err()
	var a clinic.Appointment
	if err == nil {
		a, _, err = s.db.Book(r.Context(), clinic.Booking{PatientID: patientID, Kind: kind, Start: start,
			ChairID: chairID, IdempotencyKey: f.Key}, s.now())
	}
	s.answerForm(w, r, err, bookedGoTo(r.PostForm.Get("back"), a.ID), func(p refusal) {
		f.Message, f.Fields, f.Alternatives, f.Existing = p.Message, p.Fields, p.Alternatives, p.Existing
		if f.Fields["protocol_id"] != "" {
			// The form has no protocol field: a loading session without an
			// open course is refused on the kind.
			f.Fields["kind"] = "The patient has no open treatment course, so a loading session has no length yet; book the loading series from the course."
		}
		s.renderBooking(w, r, p.Status, f)
	})
}

// deskPatientPick answers the booking form's patient search (htmx) with
// the matching patients as choices. POST, so that no name is in a URL.
func (s *Server) deskPatientPick(w http.ResponseWriter, r *http.Request) {
	q := clinic.ParsePatientQuery(r.PostFormValue("q"))
	current, name := r.PostFormValue("current"), ""
	id, ok := optionalID(current)
	if !ok || id == 0 {
		current = ""
	}
	var found []clinic.Patient
	err := s.read(r, func(r *http.Request) (err error) {
		if !q.Empty() {
			if found, err = s.db.SearchPatients(r.Context(), q); err != nil {
				return err
			}
		}
		if current != "" {
			if p, err := s.db.Patient(r.Context(), id); err == nil {
				name = p.FullName() + " (" + p.MRN + ")"
			} else {
				current = ""
			}
		}
		return nil
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, web.PatientChoices(found, current, name))
}

// appointmentView loads an appointment and what may be done to it now.
func (s *Server) appointmentView(r *http.Request, id int64) (web.AppointmentView, error) {
	ctx := r.Context()
	v, err := s.db.Visit(ctx, id)
	if err != nil {
		return web.AppointmentView{}, err
	}
	sched, err := s.db.Schedule(ctx)
	if err != nil {
		return web.AppointmentView{}, err
	}
	chairs, err := s.db.Chairs(ctx)
	if err != nil {
		return web.AppointmentView{}, err
	}
	view := web.AppointmentView{Visit: v, Loc: sched.Loc, Chairs: chairs, SlotMinutes: sched.Settings.SlotMinutes,
		Allowed: map[clinic.Action]bool{}, Date: clinic.DateOf(v.Start, sched.Loc).String(), Time: clinic.ClockOf(v.Start, sched.Loc).String()}
	for _, act := range []clinic.Action{clinic.ActReschedule, clinic.ActCancel, clinic.ActCheckIn, clinic.ActNoShow, clinic.ActComplete} {
		view.Allowed[act] = v.Allow(act, s.now(), sched) == nil
	}
	// An infusion is completed by the nurse's record, not from the desk.
	view.Allowed[clinic.ActComplete] = view.Allowed[clinic.ActComplete] && v.Kind == clinic.KindConsult
	msgs, err := s.db.AppointmentMessages(ctx, id)
	if err != nil {
		return web.AppointmentView{}, err
	}
	view.Messages = msgs
	if v.Kind.Infusion() && v.Status == clinic.StatusBooked {
		st, err := s.db.Consent(ctx, v.PatientID)
		if err != nil {
			return web.AppointmentView{}, err
		}
		view.Consent = web.ConsentView{Form: st.Form, Signed: st.Signed}
	}
	if (v.Status == clinic.StatusCancelled || v.Status == clinic.StatusNoShow) && v.Start.After(s.now()) {
		view.Refill = web.FillURL(v.ChairID, v.Start, minutesOf(v.Appointment))
	}
	return view, nil
}

func (s *Server) deskAppointment(w http.ResponseWriter, r *http.Request) {
	id, err := urlID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var v web.AppointmentView
	if err := s.read(r, func(r *http.Request) (err error) { v, err = s.appointmentView(r, id); return err }); err != nil {
		s.fail(w, r, err)
		return
	}
	v.Notice = appointmentNotices.of(r)
	s.render(w, r, http.StatusOK, web.AppointmentPage(s.meta(r, "Appointment", "/desk/calendar"), v))
}

var appointmentNotices = notices{"booked": "Booked.", "moved": "Moved.", "cancelled": "Cancelled.",
	"checked-in": "Checked in.", "no-show": "Marked as a no-show.", "completed": "Completed."}

// deskAppointmentAction moves, cancels, checks in, marks a no-show or
// completes an appointment. A refusal shows the appointment as it stands
// now, with the person's input kept and the reason.
func (s *Server) deskAppointmentAction(w http.ResponseWriter, r *http.Request) {
	id, version, input, err := appointmentActionForm(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	done, err := s.appointmentAction(r, chi.URLParam(r, "action"), id, version, input)
	if clinic.ErrorCode(err) == clinic.ENOTFOUND && done == "" {
		s.fail(w, r, err)
		return
	}
	to := web.AppointmentURL(id) + "?done=" + done
	if r.PostForm.Get("back") == "desk" {
		to = "/desk?done=" + done
	}
	s.answerForm(w, r, err, to, func(p refusal) {
		var v web.AppointmentView
		if err := s.read(r, func(r *http.Request) (err error) { v, err = s.appointmentView(r, id); return err }); err != nil {
			s.fail(w, r, err)
			return
		}
		v.Message, v.Fields, v.Alternatives = p.Message, p.Fields, p.Alternatives
		// Keep what the person typed.
		if input.Date != "" {
			v.Date, v.Time, v.ChairID = input.Date, input.Time, input.ChairID
		}
		v.Reason, v.DriverName, v.DriverPhone, v.Screen = input.Reason, input.DriverName, input.DriverPhone, input.Screen
		s.render(w, r, p.Status, web.AppointmentPage(s.meta(r, "Appointment", "/desk/calendar"), v))
	})
}

// appointmentActionForm reads an action's form: the appointment, the
// version the person saw and what they typed.
func appointmentActionForm(r *http.Request) (int64, int, web.AppointmentView, error) {
	var input web.AppointmentView
	id, err := urlID(r)
	if err != nil {
		return 0, 0, input, err
	}
	if err := r.ParseForm(); err != nil {
		return 0, 0, input, clinic.Errorf(clinic.EMALFORMED, "The form could not be read.")
	}
	version, err := strconv.Atoi(r.PostForm.Get("version"))
	if err != nil || version < 1 {
		return 0, 0, input, clinic.Errorf(clinic.EMALFORMED, "The form is missing the appointment's version.")
	}
	input = web.AppointmentView{Date: r.PostForm.Get("date"), Time: r.PostForm.Get("time"),
		ChairID: r.PostForm.Get("chair_id"), Reason: r.PostForm.Get("reason"),
		DriverName: r.PostForm.Get("driver_name"), DriverPhone: r.PostForm.Get("driver_phone"),
		Screen: web.ScreenForm{Systolic: r.PostForm.Get("bp_systolic"), Diastolic: r.PostForm.Get("bp_diastolic"), Answers: map[string]string{}}}
	for _, q := range clinic.Questions {
		input.Screen.Answers[q.Field] = r.PostForm.Get(q.Field)
	}
	return id, version, input, nil
}

// appointmentAction does one action to an appointment and names it for
// the notice shown after ("" for an action there is not).
func (s *Server) appointmentAction(r *http.Request, action string, id int64, version int, input web.AppointmentView) (string, error) {
	ctx, now := r.Context(), s.now()
	var err error
	switch action {
	case "reschedule":
		_, loc := s.clinicInfo(ctx)
		start, problems := startFromForm(input.Date, input.Time, loc)
		chairID, ok := optionalID(input.ChairID)
		switch {
		case problems != nil:
			err = clinic.Invalid(problems)
		case !ok:
			err = clinic.Invalid(map[string]string{"chair_id": "Choose a chair."})
		default:
			_, err = s.db.Reschedule(ctx, id, version, start, chairID, now)
		}
		return "moved", err
	case "cancel":
		_, err = s.db.Cancel(ctx, id, version, input.Reason, now)
		return "cancelled", err
	case "check-in":
		screen, problems := screenFromForm(input.Screen)
		if err = problems.Err(); err == nil {
			_, err = s.db.CheckIn(ctx, id, version, clinic.Arrival{Driver: clinic.Driver{Name: input.DriverName, Phone: input.DriverPhone}, Screen: screen}, now)
		}
		return "checked-in", err
	case "no-show":
		_, err = s.db.NoShow(ctx, id, version, now)
		return "no-show", err
	case "complete":
		_, err = s.db.Complete(ctx, id, version, now)
		return "completed", err
	}
	return "", clinic.Errorf(clinic.ENOTFOUND, "There is no such page.")
}

// screenFromForm reads the check-in screen as typed; what is not a number
// or a yes/no is left out (the store asks for it again) and named in
// problems.
func screenFromForm(f web.ScreenForm) (clinic.ScreenInput, clinic.Problems) {
	p := clinic.Problems{}
	var in clinic.ScreenInput
	number := func(field, v string) *int {
		if strings.TrimSpace(v) == "" {
			return nil
		}
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			p.Add(field, "Enter a whole number of mmHg.")
			return nil
		}
		return &n
	}
	in.Systolic, in.Diastolic = number("bp_systolic", f.Systolic), number("bp_diastolic", f.Diastolic)
	for _, q := range clinic.Questions {
		switch f.Answers[q.Field] {
		case "yes", "no":
			yes := f.Answers[q.Field] == "yes"
			q.SetAnswer(&in.Answers, &yes)
		}
	}
	return in, p
}

func minutesOf(a clinic.Appointment) int { return int(a.End.Sub(a.Start) / time.Minute) }

// bookedGoTo is where a booking leads: back to the work list it was made
// from (with a notice), else to the appointment booked. Only the desk's own
// lists are taken from the form: never a redirect elsewhere.
func bookedGoTo(back string, id int64) string {
	if u, err := url.Parse(back); err == nil && u.Path == "/desk/work" && u.Host == "" && u.Scheme == "" {
		q := u.Query()
		if list := postgres.WorkList(q.Get("list")); list == postgres.ListDueSoon || list == postgres.ListOverdue || list == postgres.ListReportMissing {
			return "/desk/work?" + url.Values{"list": {string(list)}, "sort": {q.Get("sort")}, "done": {"booked"}}.Encode()
		}
	}
	return web.AppointmentURL(id) + "?done=booked"
}
