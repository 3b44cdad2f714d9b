package server

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/i18n"
	"github.com/infusiondesk/infusiondesk/internal/postgres"
	"github.com/infusiondesk/infusiondesk/web"
)

// planBox turns a plan view into what the pages show.
func planBox(v postgres.PlanView, chairs []clinic.Chair) web.PlanBox {
	b := web.PlanBox{PatientID: v.PatientID, Plan: v.Plan, Slot: v.Slot, Loc: v.Loc, Key: newKey()}
	if v.Course != nil {
		b.Phase = v.Course.Phase
	}
	if v.Slot != nil {
		b.ChairName = web.BookingForm{Chairs: chairs}.ChairName(v.Slot.ChairID)
	}
	return b
}

// reliefText says what the latest relief report says, in days.
func reliefText(st i18n.Style, given clinic.Date, r *clinic.Relief) string {
	day := func(d clinic.Date) string {
		return clinic.Schedule{Settings: clinic.Settings{Style: st}}.DayText(d, i18n.DayMonth)
	}
	switch {
	case r == nil:
		return "no report yet"
	case r.Status == clinic.ReliefEnded:
		return fmt.Sprintf("ended %s (%d d)", day(r.On), r.On.DaysSince(given))
	default:
		return fmt.Sprintf("still relieved on %s (≥ %d d)", day(r.On), r.On.DaysSince(given))
	}
}

// patientPlanParts loads the plan box, the infusion lines and the relief
// form of the patient page.
func (s *Server) patientPlanParts(r *http.Request, id int64, v *web.PatientView) error {
	ctx := r.Context()
	plan, err := s.db.PatientPlan(ctx, id, s.now())
	if err != nil {
		return err
	}
	chairs, err := s.db.Chairs(ctx)
	if err != nil {
		return err
	}
	if plan.Course != nil {
		box := planBox(plan, chairs)
		v.Plan = &box
	}
	rows, err := s.db.PatientInfusions(ctx, id)
	if err != nil {
		return err
	}
	for _, x := range rows {
		v.Infusions = append(v.Infusions, web.InfusionLine{Date: x.GivenOn, Phase: x.Phase, Source: x.Source,
			Dose: strconv.FormatFloat(x.DoseMgPerKgH, 'f', -1, 64) + " mg/kg/h", Relief: reliefText(s.locale(r).Style, x.GivenOn, x.Relief)})
		v.Relief.Infusions = append(v.Relief.Infusions, x.Infusion)
	}
	if v.Relief.Date == "" {
		v.Relief.Date = clinic.DateOf(s.now(), plan.Loc).String()
	}
	return nil
}

// deskRelief records a relief report taken on the phone.
func (s *Server) deskRelief(w http.ResponseWriter, r *http.Request) {
	id, ok := s.postedID(w, r)
	if !ok {
		return
	}
	var err error
	f := web.ReliefForm{InfusionID: r.PostForm.Get("infusion_id"), Status: r.PostForm.Get("status"), Date: r.PostForm.Get("relief_date")}
	infusion, _ := strconv.ParseInt(f.InfusionID, 10, 64)
	on, derr := clinic.ParseDate(strings.TrimSpace(f.Date))
	if derr != nil {
		err = clinic.Invalid(map[string]string{"date": "Enter the date."})
	} else {
		_, err = s.db.ReportRelief(r.Context(), infusion, clinic.ReliefStatus(f.Status), on, "desk", &id, s.now())
	}
	s.answerInvalid(w, r, err, web.PatientURL(id)+"?done=relief", func(p refusal) {
		f.Fields = p.Fields
		s.renderPatientWith(w, r, id, p.Status, "The relief report was not saved: "+strings.Join(fieldMessages(f.Fields), " "), &f)
	})
}

// deskWork is the desk's work lists: due soon, overdue, relief report missing.
func (s *Server) deskWork(w http.ResponseWriter, r *http.Request) {
	s.workList(w, r, true)
}

// physicianFlags lists every flagged patient with the flags' reasons.
func (s *Server) physicianFlags(w http.ResponseWriter, r *http.Request) {
	s.workList(w, r, false)
}

func (s *Server) workList(w http.ResponseWriter, r *http.Request, desk bool) {
	var v web.WorkView
	err := s.read(r, func(r *http.Request) (err error) { v, err = s.workView(r, desk); return err })
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, web.WorkListPage(s.meta(r, v.Title, v.Path), v))
}

// workView reads a work list: its counts, its patients and, on the desk's
// lists, each patient's suggested slot.
func (s *Server) workView(r *http.Request, desk bool) (v web.WorkView, err error) {
	ctx := r.Context()
	now := s.now()
	counts, err := s.db.Counts(ctx, now)
	if err != nil {
		return v, err
	}
	v = web.WorkView{Sort: r.URL.Query().Get("sort"), Desk: desk, Notice: deskNotice(r)}
	if v.Sort == "" {
		v.Sort = "due"
	}
	list := postgres.ListFlagged
	if desk {
		v.Title, v.Path = "Who is due", "/desk/work"
		v.Lists = []web.WorkTab{{Key: "due", Label: "Due within 14 days, not booked", Count: counts.DueSoon},
			{Key: "overdue", Label: "Overdue", Count: counts.Overdue}, {Key: "report", Label: "Relief report missing", Count: counts.ReportMissing}}
		list = postgres.WorkList(r.URL.Query().Get("list"))
		if list != postgres.ListOverdue && list != postgres.ListReportMissing {
			list = postgres.ListDueSoon
		}
	} else {
		v.Title, v.Path = "Flagged patients", "/physician/flags"
		v.Lists = []web.WorkTab{{Key: "flagged", Label: "Flagged", Count: counts.Flagged}}
		if v.Held, err = s.db.HeldVisits(ctx); err != nil {
			return v, err
		}
	}
	v.List = string(list)
	items, err := s.db.Work(ctx, list, v.Sort, now, 200)
	if err != nil {
		return v, err
	}
	_, v.Loc = s.clinicInfo(ctx)
	for _, it := range items {
		row := web.WorkRow{PatientID: it.PatientID, Name: it.Name, MRN: it.MRN, Phone: it.Phone, DueDate: it.DueDate,
			LastInfusion: it.LastInfusion, Flags: it.Flags}
		v.Items = append(v.Items, row)
	}
	if desk && list != postgres.ListReportMissing {
		// One click books each patient's suggested slot.
		chairs, err := s.db.Chairs(ctx)
		if err != nil {
			return v, err
		}
		for i := range v.Items {
			if i >= 50 {
				break // the first fifty; the patient page has it for the rest
			}
			plan, err := s.db.PatientPlan(ctx, v.Items[i].PatientID, now)
			if err != nil {
				return v, err
			}
			v.Items[i].Box = planBox(plan, chairs)
		}
	}
	return v, nil
}

// physicianPlan is a patient's plan page: the plan, the chart of relief
// and intervals, the numbers, the interval form and its history.
func (s *Server) physicianPlan(w http.ResponseWriter, r *http.Request) {
	id, err := urlID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	notice := notices{"saved": "The intervals are saved and the plan recomputed.",
		"additional": "The additional infusion is booked."}.of(r)
	s.renderPhysicianPlan(w, r, id, http.StatusOK, nil, notice)
}

// physicianAdditional books an additional maintenance infusion, with the
// physician's reason.
func (s *Server) physicianAdditional(w http.ResponseWriter, r *http.Request) {
	id, ok := s.postedID(w, r)
	if !ok {
		return
	}
	f := web.AdditionalForm{Date: r.PostForm.Get("date"), Time: r.PostForm.Get("time"), Reason: r.PostForm.Get("additional_reason")}
	_, loc := s.clinicInfo(r.Context())
	start, problems := startFromForm(f.Date, f.Time, loc)
	var err error
	switch {
	case problems != nil:
		err = clinic.Invalid(problems)
	case strings.TrimSpace(f.Reason) == "":
		err = clinic.Invalid(map[string]string{"additional_reason": "Say why the patient needs an additional infusion."})
	default:
		_, _, err = s.db.Book(r.Context(), clinic.Booking{PatientID: id, Kind: clinic.KindMaintenance, Start: start, AdditionalReason: f.Reason}, s.now())
	}
	s.answerForm(w, r, err, "/physician/patients/"+strconv.FormatInt(id, 10)+"?done=additional", func(p refusal) {
		f.Message, f.Fields = p.Message, p.Fields
		s.renderPhysicianPlanWith(w, r, id, p.Status, nil, "", &f)
	})
}

func (s *Server) renderPhysicianPlan(w http.ResponseWriter, r *http.Request, id int64, status int, form *web.IntervalForm, notice string) {
	s.renderPhysicianPlanWith(w, r, id, status, form, notice, nil)
}

func (s *Server) renderPhysicianPlanWith(w http.ResponseWriter, r *http.Request, id int64, status int, form *web.IntervalForm, notice string, extra *web.AdditionalForm) {
	var p clinic.Patient
	var plan postgres.PlanView
	var chairs []clinic.Chair
	var journal []clinic.JournalEntry
	var peg []postgres.PEGScore
	err := s.read(r, func(r *http.Request) (err error) {
		ctx := r.Context()
		if p, err = s.db.Patient(ctx, id); err != nil {
			return err
		}
		if plan, err = s.db.PatientPlan(ctx, id, s.now()); err != nil {
			return err
		}
		if plan.Course != nil {
			since := clinic.DateOf(s.now(), plan.Loc).AddDays(-7 * web.SignalWeeks)
			if journal, peg, err = s.db.SignalHistory(ctx, id, since); err != nil {
				return err
			}
		}
		chairs, err = s.db.Chairs(ctx)
		return err
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := web.PhysicianPlanView{Patient: p, Box: planBox(plan, chairs), Notice: notice, Loc: plan.Loc, HasCourse: plan.Course != nil}
	if extra != nil {
		v.Extra = *extra
	}
	if plan.Course != nil {
		iv := plan.Course.Intervals()
		v.Intervals = web.IntervalsText(iv)
		v.Form = web.IntervalFormOf(iv)
		if form != nil {
			v.Form = *form
		}
		v.Chart = web.NewReliefChart(s.pageContext(r), plan.History, clinic.DateOf(s.now(), plan.Loc))
		v.Signals = signalChart(r, s, plan, journal, peg)
		for i, h := range plan.History {
			row := web.HistoryRow{Date: h.GivenOn, Phase: h.Phase, Dose: h.DoseRate, Relief: reliefText(s.locale(r).Style, h.GivenOn, h.Relief)}
			if i+1 < len(plan.History) {
				row.Interval = fmt.Sprintf("%d d", plan.History[i+1].GivenOn.DaysSince(h.GivenOn))
			}
			v.Rows = append([]web.HistoryRow{row}, v.Rows...) // newest first
		}
		for _, c := range plan.Changes {
			v.Changes = append(v.Changes, web.IntervalChangeView{At: c.At, By: c.By, Note: c.Note,
				Before: web.IntervalsText(c.Before), After: web.IntervalsText(c.After)})
		}
	}
	s.render(w, r, status, web.PhysicianPlanPage(s.meta(r, p.FullName(), "/physician"), v))
}

// physicianSavePlan changes the patient's intervals, with the note.
func (s *Server) physicianSavePlan(w http.ResponseWriter, r *http.Request) {
	id, ok := s.postedID(w, r)
	if !ok {
		return
	}
	var err error
	g := func(k string) string { return strings.TrimSpace(r.PostForm.Get(k)) }
	f := web.IntervalForm{Fixed: g("fixed_interval_days"), First: g("first_interval_days"), Min: g("min_interval_days"),
		Max: g("max_interval_days"), Lead: g("lead_days"), Step: g("step_days"), Note: r.PostForm.Get("note"),
		BookBefore: g("self_booking_days_before"), BookAfter: g("self_booking_days_after")}
	p := clinic.Problems{}
	num := func(field, raw string) *int {
		n, err := strconv.Atoi(raw)
		if err != nil {
			p.Add(field, "Enter a whole number of days.")
			return nil
		}
		return &n
	}
	u := postgres.IntervalUpdate{SetFixed: true, Note: f.Note}
	if f.Fixed != "" {
		u.Fixed = num("fixed_interval_days", f.Fixed)
	}
	u.First, u.Min, u.Max = num("first_interval_days", f.First), num("min_interval_days", f.Min), num("max_interval_days", f.Max)
	u.Lead, u.Step = num("lead_days", f.Lead), num("step_days", f.Step)
	if f.BookBefore != "" || f.BookAfter != "" { // a form from before the window was shown keeps it
		u.BookBefore, u.BookAfter = num("self_booking_days_before", f.BookBefore), num("self_booking_days_after", f.BookAfter)
	}
	err = p.Err()
	if err == nil {
		err = s.db.UpdateIntervals(r.Context(), id, u, s.now())
	}
	s.answerForm(w, r, err, fmt.Sprintf("/physician/patients/%d?done=saved", id), func(p refusal) {
		f.Message, f.Fields = p.Message, p.Fields
		s.renderPhysicianPlan(w, r, id, p.Status, &f, "")
	})
}

var recordFields = []string{"started", "minutes", "route", "weight_kg", "dose_mg_per_kg_h", "dose_reason", "peg_pain", "peg_enjoyment", "peg_activity",
	"before_bp_systolic", "before_bp_diastolic", "before_heart_rate", "before_spo2",
	"after_bp_systolic", "after_bp_diastolic", "after_heart_rate", "after_spo2", "pain_before", "pain_after",
	"relief_status", "relief_date"}

func (s *Server) physicianHome(w http.ResponseWriter, r *http.Request) {
	var courses []clinic.CourseSummary
	var counts postgres.WorkCounts
	err := s.read(r, func(r *http.Request) (err error) {
		if courses, err = s.db.OpenCourses(r.Context()); err != nil {
			return err
		}
		counts, err = s.db.Counts(r.Context(), s.now())
		return err
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	_, loc := s.clinicInfo(r.Context())
	work := []web.WorkTab{{Key: "flagged", Label: "flagged patients", Count: counts.Flagged}, {Key: "held", Label: "visits on hold", Count: counts.Held}}
	s.render(w, r, http.StatusOK, web.PhysicianHome(s.meta(r, "Patients", "/physician"), courses, loc, work))
}

// physicianClear clears a visit held by its screen, with the reason; a
// refusal shows the list again with the reason kept.
func (s *Server) physicianClear(w http.ResponseWriter, r *http.Request) {
	id, err := urlID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, clinic.Errorf(clinic.EMALFORMED, "The form could not be read."))
		return
	}
	version, _ := strconv.Atoi(r.PostForm.Get("version"))
	reason := r.PostForm.Get("reason")
	_, err = s.db.ClearHold(r.Context(), id, version, reason, s.now())
	s.answerForm(w, r, err, "/physician/flags?done=cleared", func(p refusal) {
		var v web.WorkView
		if err := s.read(r, func(r *http.Request) (err error) { v, err = s.workView(r, false); return err }); err != nil {
			s.fail(w, r, err)
			return
		}
		v.Clear = web.ClearForm{ID: id, Reason: reason, Message: p.Message, Fields: p.Fields}
		s.render(w, r, p.Status, web.WorkListPage(s.meta(r, v.Title, v.Path), v))
	})
}

// signalChart is the plan page's chart of PEG and function, with the
// infusions marked.
func signalChart(r *http.Request, s *Server, plan postgres.PlanView, journal []clinic.JournalEntry, peg []postgres.PEGScore) web.SignalChart {
	points := make([]web.PEGPoint, len(peg))
	for i, g := range peg {
		points[i] = web.PEGPoint{On: g.On, PEG: g.PEG}
	}
	var given []clinic.Date
	for _, h := range plan.History {
		given = append(given, h.GivenOn)
	}
	return web.NewSignalChart(s.pageContext(r), journal, points, given, clinic.DateOf(s.now(), plan.Loc))
}
