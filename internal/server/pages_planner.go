package server

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/infusiondesk/infusiondesk/internal/auth"
	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/postgres"
	"github.com/infusiondesk/infusiondesk/web"
)

func newKey() string {
	key, _ := auth.NewToken()
	return key[:32]
}

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
func reliefText(given clinic.Date, r *clinic.Relief) string {
	switch {
	case r == nil:
		return "no report yet"
	case r.Status == clinic.ReliefEnded:
		return fmt.Sprintf("ended %s (%d d)", r.On.Format("2 Jan"), r.On.DaysSince(given))
	default:
		return fmt.Sprintf("still relieved on %s (≥ %d d)", r.On.Format("2 Jan"), r.On.DaysSince(given))
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
			Dose: strconv.FormatFloat(x.DoseMgPerKgH, 'f', -1, 64) + " mg/kg/h", Relief: reliefText(x.GivenOn, x.Relief)})
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
	switch clinic.ErrorCode(err) {
	case "":
		http.Redirect(w, r, web.PatientURL(id)+"?done=relief", http.StatusSeeOther)
	case clinic.EINVALID:
		f.Fields = clinic.ErrorFields(err)
		s.renderPatientWith(w, r, id, http.StatusUnprocessableEntity, "The relief report was not saved: "+strings.Join(fieldMessages(f.Fields), " "), &f)
	default:
		s.fail(w, r, err)
	}
}

func fieldMessages(fields map[string]string) []string {
	var out []string
	for _, m := range fields {
		out = append(out, m)
	}
	return out
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
	ctx := r.Context()
	now := s.now()
	counts, err := s.db.Counts(ctx, now)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := web.WorkView{Sort: r.URL.Query().Get("sort"), Desk: desk, Notice: deskNotice(r)}
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
	}
	v.List = string(list)
	items, err := s.db.Work(ctx, list, v.Sort, now, 200)
	if err != nil {
		s.fail(w, r, err)
		return
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
			s.fail(w, r, err)
			return
		}
		for i := range v.Items {
			if i >= 50 {
				break // the first fifty; the patient page has it for the rest
			}
			plan, err := s.db.PatientPlan(ctx, v.Items[i].PatientID, now)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			v.Items[i].Box = planBox(plan, chairs)
		}
	}
	s.render(w, r, http.StatusOK, web.WorkListPage(s.meta(r, v.Title, v.Path), v))
}

// physicianPlan is a patient's plan page: the plan, the chart of relief
// and intervals, the numbers, the interval form and its history.
func (s *Server) physicianPlan(w http.ResponseWriter, r *http.Request) {
	id, err := urlID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	notice := ""
	switch r.URL.Query().Get("done") {
	case "saved":
		notice = "The intervals are saved and the plan recomputed."
	case "additional":
		notice = "The additional infusion is booked."
	}
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
	sched, err := s.db.Schedule(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	start, problems := startFromForm(f.Date, f.Time, sched.Loc)
	switch {
	case problems != nil:
		err = clinic.Invalid(problems)
	case strings.TrimSpace(f.Reason) == "":
		err = clinic.Invalid(map[string]string{"additional_reason": "Say why the patient needs an additional infusion."})
	default:
		_, _, err = s.db.Book(r.Context(), clinic.Booking{PatientID: id, Kind: clinic.KindMaintenance, Start: start, AdditionalReason: f.Reason}, s.now())
	}
	switch code := clinic.ErrorCode(err); code {
	case "":
		http.Redirect(w, r, "/physician/patients/"+strconv.FormatInt(id, 10)+"?done=additional", http.StatusSeeOther)
	case clinic.EINVALID, clinic.ECONFLICT:
		f.Message, f.Fields = clinic.ErrorMessage(err), clinic.ErrorFields(err)
		status, _ := httpStatus(code)
		s.renderPhysicianPlanWith(w, r, id, status, nil, "", &f)
	default:
		s.fail(w, r, err)
	}
}

func (s *Server) renderPhysicianPlan(w http.ResponseWriter, r *http.Request, id int64, status int, form *web.IntervalForm, notice string) {
	s.renderPhysicianPlanWith(w, r, id, status, form, notice, nil)
}

func (s *Server) renderPhysicianPlanWith(w http.ResponseWriter, r *http.Request, id int64, status int, form *web.IntervalForm, notice string, extra *web.AdditionalForm) {
	ctx := r.Context()
	p, err := s.db.Patient(ctx, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	plan, err := s.db.PatientPlan(ctx, id, s.now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	chairs, err := s.db.Chairs(ctx)
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
		v.Chart = web.NewReliefChart(plan.History, clinic.DateOf(s.now(), plan.Loc))
		for i, h := range plan.History {
			row := web.HistoryRow{Date: h.GivenOn, Phase: h.Phase, Dose: h.DoseRate, Relief: reliefText(h.GivenOn, h.Relief)}
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
		Max: g("max_interval_days"), Lead: g("lead_days"), Step: g("step_days"), Note: r.PostForm.Get("note")}
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
	err = p.Err()
	if err == nil {
		err = s.db.UpdateIntervals(r.Context(), id, u, s.now())
	}
	switch clinic.ErrorCode(err) {
	case "":
		http.Redirect(w, r, fmt.Sprintf("/physician/patients/%d?done=saved", id), http.StatusSeeOther)
	case clinic.EINVALID, clinic.ECONFLICT:
		f.Message, f.Fields = clinic.ErrorMessage(err), clinic.ErrorFields(err)
		status, _ := httpStatus(clinic.ErrorCode(err))
		s.renderPhysicianPlan(w, r, id, status, &f, "")
	default:
		s.fail(w, r, err)
	}
}

// recordForm loads what the nurse's record form shows around the input.
func (s *Server) recordForm(r *http.Request, f web.RecordForm) (web.RecordForm, *clinic.Course, error) {
	ctx := r.Context()
	id, err := urlID(r)
	if err != nil {
		return f, nil, err
	}
	if f.Visit, err = s.db.Visit(ctx, id); err != nil {
		return f, nil, err
	}
	_, f.Loc = s.clinicInfo(ctx)
	plan, err := s.db.PatientPlan(ctx, f.Visit.PatientID, s.now())
	if err != nil {
		return f, nil, err
	}
	if f.Fields == nil {
		f.Fields = map[string]string{}
	}
	if f.Values == nil {
		f.Values = map[string]string{}
	}
	if plan.Course != nil {
		f.DoseMin, f.DoseMax = plan.Course.Numbers.DoseMinMgPerKgH, plan.Course.Numbers.DoseMaxMgPerKgH
		if n := len(plan.History); n > 0 {
			last := plan.History[n-1].GivenOn
			f.PrevInfusion = &last
		}
	}
	f.Calc = doseCalc(f.Values, f.DoseMin, f.DoseMax)
	return f, plan.Course, nil
}

// doseCalc works the dose out from the form's rate, weight and minutes.
func doseCalc(values map[string]string, lo, hi float64) web.DoseCalc {
	rate, err1 := strconv.ParseFloat(strings.ReplaceAll(values["dose_mg_per_kg_h"], ",", "."), 64)
	weight, err2 := strconv.ParseFloat(strings.ReplaceAll(values["weight_kg"], ",", "."), 64)
	minutes, err3 := strconv.Atoi(values["minutes"])
	if err1 != nil || err2 != nil || err3 != nil || rate <= 0 || weight <= 0 || minutes <= 0 {
		return web.DoseCalc{}
	}
	c := web.DoseCalc{OK: true, MgPerHour: strconv.FormatFloat(clinic.DoseMgPerHour(rate, weight), 'f', 1, 64),
		TotalMg: strconv.FormatFloat(clinic.TotalMg(rate, weight, minutes), 'f', 1, 64)}
	switch {
	case rate > clinic.MaxDoseRate:
		c.Refused = fmt.Sprintf("%g mg/kg/h is above the %g mg/kg/h limit and cannot be recorded.", rate, clinic.MaxDoseRate)
	case rate < lo || rate > hi:
		c.OutOfRange = fmt.Sprintf("%g mg/kg/h is outside the protocol's %g–%g mg/kg/h: tick the confirmation and give a reason.", rate, lo, hi)
	}
	return c
}

var recordFields = []string{"started", "minutes", "route", "weight_kg", "dose_mg_per_kg_h", "dose_reason",
	"before_bp_systolic", "before_bp_diastolic", "before_heart_rate", "before_spo2",
	"after_bp_systolic", "after_bp_diastolic", "after_heart_rate", "after_spo2", "pain_before", "pain_after",
	"relief_status", "relief_date"}

// nurseRecordForm opens the record for a checked-in visit, with the
// appointment's start and length and the patient's weight filled in.
func (s *Server) nurseRecordForm(w http.ResponseWriter, r *http.Request) {
	f, course, err := s.recordForm(r, web.RecordForm{})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f.Values["started"] = clinic.ClockOf(f.Visit.Start, f.Loc).String()
	f.Values["route"] = "iv"
	if course != nil {
		inf := course.Numbers.MaintenanceInfusionMinutes
		if f.Visit.Kind == clinic.KindLoading {
			inf = course.Numbers.InfusionMinutes
		}
		f.Values["minutes"] = strconv.Itoa(inf)
	}
	if p, err := s.db.Patient(r.Context(), f.Visit.PatientID); err == nil && p.WeightKg != nil {
		f.Values["weight_kg"] = strconv.FormatFloat(*p.WeightKg, 'f', -1, 64)
	}
	f.Values["relief_date"] = clinic.DateOf(s.now(), f.Loc).String()
	f.Calc = doseCalc(f.Values, f.DoseMin, f.DoseMax)
	s.render(w, r, http.StatusOK, web.InfusionRecordPage(s.meta(r, "Record infusion", "/nurse"), f))
}

// nurseDose answers the form's live dose calculation (htmx).
func (s *Server) nurseDose(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, clinic.Errorf(clinic.EMALFORMED, "The form could not be read."))
		return
	}
	values := map[string]string{}
	for _, k := range recordFields {
		values[k] = r.PostForm.Get(k)
	}
	f, _, err := s.recordForm(r, web.RecordForm{Values: values})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, web.DoseCalcView(f.Calc))
}

// nurseRecord saves the infusion record and completes the visit; with a
// relief report about the infusion before, that too.
func (s *Server) nurseRecord(w http.ResponseWriter, r *http.Request) {
	id, ok := s.postedID(w, r)
	if !ok {
		return
	}
	var err error
	f := web.RecordForm{Values: map[string]string{}, Effects: map[string]string{}, Fields: map[string]string{},
		DriverConfirmed: r.PostForm.Get("driver_confirmed") == "1", DoseConfirmed: r.PostForm.Get("dose_confirmed") == "1"}
	for _, k := range recordFields {
		f.Values[k] = strings.TrimSpace(r.PostForm.Get(k))
	}
	f, _, err = s.recordForm(r, f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := clinic.Problems{}
	rec := clinic.InfusionRecord{Route: f.Values["route"], DriverConfirmed: f.DriverConfirmed, DoseConfirmed: f.DoseConfirmed, DoseReason: f.Values["dose_reason"]}
	number := func(field string) float64 {
		x, err := strconv.ParseFloat(strings.ReplaceAll(f.Values[field], ",", "."), 64)
		if err != nil {
			p.Add(field, "Enter a number.")
		}
		return x
	}
	optional := func(field string) *int {
		if f.Values[field] == "" {
			return nil
		}
		n, err := strconv.Atoi(f.Values[field])
		if err != nil {
			p.Add(field, "Enter a whole number.")
			return nil
		}
		return &n
	}
	rec.DoseRate, rec.WeightKg = number("dose_mg_per_kg_h"), number("weight_kg")
	rec.Minutes = int(number("minutes"))
	if c, err := clinic.ParseClock(f.Values["started"]); err == nil {
		rec.StartedAt = clinic.DateOf(f.Visit.Start, f.Loc).At(c, f.Loc)
	} else {
		p.Add("started", "Enter the time the infusion started, like 09:05.")
	}
	rec.Before = clinic.Vitals{Systolic: optional("before_bp_systolic"), Diastolic: optional("before_bp_diastolic"), HeartRate: optional("before_heart_rate"), SpO2: optional("before_spo2")}
	rec.After = clinic.Vitals{Systolic: optional("after_bp_systolic"), Diastolic: optional("after_bp_diastolic"), HeartRate: optional("after_heart_rate"), SpO2: optional("after_spo2")}
	rec.PainBefore, rec.PainAfter = optional("pain_before"), optional("pain_after")
	for _, e := range clinic.SideEffects {
		if sev := r.PostForm.Get("effect." + e.Code); sev != "" {
			f.Effects[e.Code] = sev
			rec.SideEffects = append(rec.SideEffects, clinic.SideEffect{Effect: e.Code, Severity: sev})
		}
	}
	for k, v := range clinic.ErrorFields(rec.Validate(f.DoseMin, f.DoseMax)) {
		p.Add(k, v)
	}
	// A relief report about the infusion before, asked at this visit.
	var reliefOn clinic.Date
	if f.Values["relief_status"] != "" && f.PrevInfusion != nil {
		if reliefOn, err = clinic.ParseDate(f.Values["relief_date"]); err != nil {
			p.Add("relief_date", "Enter the date.")
		} else if rerr := clinic.ReliefDate(reliefOn, *f.PrevInfusion, clinic.DateOf(s.now(), f.Loc)); rerr != nil {
			p.Add("relief_date", clinic.ErrorFields(rerr)["date"])
		}
	}
	version, _ := strconv.Atoi(r.PostForm.Get("version"))
	err = p.Err()
	var previous *clinic.ReliefReport
	if err == nil && f.Values["relief_status"] != "" && f.PrevInfusion != nil {
		if prev, perr := s.previousInfusion(r, f.Visit.PatientID); perr == nil {
			previous = &clinic.ReliefReport{InfusionID: prev, Status: clinic.ReliefStatus(f.Values["relief_status"]), OnDate: reliefOn, Source: "nurse"}
		}
	}
	if err == nil {
		_, err = s.db.RecordInfusion(r.Context(), id, version, rec, previous, s.now())
	}
	switch clinic.ErrorCode(err) {
	case "":
		http.Redirect(w, r, "/nurse?done=recorded", http.StatusSeeOther)
	case clinic.EINVALID, clinic.ECONFLICT:
		f.Message, f.Fields = clinic.ErrorMessage(err), clinic.ErrorFields(err)
		if f.Fields == nil {
			f.Fields = map[string]string{}
		}
		status, _ := httpStatus(clinic.ErrorCode(err))
		s.render(w, r, status, web.InfusionRecordPage(s.meta(r, "Record infusion", "/nurse"), f))
	default:
		s.fail(w, r, err)
	}
}

// previousInfusion is the patient's latest infusion.
func (s *Server) previousInfusion(r *http.Request, patientID int64) (int64, error) {
	rows, err := s.db.PatientInfusions(r.Context(), patientID)
	if err != nil || len(rows) == 0 {
		return 0, clinic.Errorf(clinic.ENOTFOUND, "No infusion yet.")
	}
	return rows[0].ID, nil
}

// deskImport adds a past infusion from a paper chart to the open course.
func (s *Server) deskImport(w http.ResponseWriter, r *http.Request) {
	id, ok := s.postedID(w, r)
	if !ok {
		return
	}
	var err error
	f := web.ImportForm{Date: r.PostForm.Get("import_date"), Phase: r.PostForm.Get("phase"), Dose: strings.TrimSpace(r.PostForm.Get("import_dose"))}
	p := clinic.Problems{}
	on, derr := clinic.ParseDate(strings.TrimSpace(f.Date))
	if derr != nil {
		p.Add("date", "Enter the date the infusion was given.")
	}
	rate, rerr := strconv.ParseFloat(strings.ReplaceAll(f.Dose, ",", "."), 64)
	if rerr != nil {
		p.Add("dose_mg_per_kg_h", "Enter the dose rate in mg/kg/h, e.g. 0.3.")
	}
	err = p.Err()
	if err == nil {
		_, err = s.db.ImportInfusion(r.Context(), id, on, nil, clinic.Phase(f.Phase), rate, s.now())
	}
	switch clinic.ErrorCode(err) {
	case "":
		http.Redirect(w, r, web.PatientURL(id)+"?done=imported", http.StatusSeeOther)
	case clinic.EINVALID, clinic.ECONFLICT:
		f.Fields = clinic.ErrorFields(err)
		if f.Fields == nil {
			f.Fields = map[string]string{"date": clinic.ErrorMessage(err)}
		}
		status, _ := httpStatus(clinic.ErrorCode(err))
		s.renderPatientFull(w, r, id, status, "The infusion was not added: "+strings.Join(fieldMessages(f.Fields), " "), patientExtras{imp: &f})
	default:
		s.fail(w, r, err)
	}
}

// postedID reads the record id in the path and the posted form; false when
// either cannot be read (the answer is sent).
func (s *Server) postedID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := urlID(r)
	if err != nil {
		s.fail(w, r, err)
		return 0, false
	}
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, clinic.Errorf(clinic.EMALFORMED, "The form could not be read."))
		return 0, false
	}
	return id, true
}
