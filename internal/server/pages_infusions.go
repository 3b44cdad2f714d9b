package server

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/i18n"
	"github.com/infusiondesk/infusiondesk/web"
)

// recordForm loads what the nurse's record form shows around the input.
func (s *Server) recordForm(r *http.Request, f web.RecordForm) (web.RecordForm, *clinic.Course, error) {
	var course *clinic.Course
	err := s.read(r, func(r *http.Request) (err error) {
		f, course, err = s.loadRecordForm(r, f)
		return err
	})
	return f, course, err
}

// loadRecordForm reads the visit and the patient's plan for the form.
func (s *Server) loadRecordForm(r *http.Request, f web.RecordForm) (web.RecordForm, *clinic.Course, error) {
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
			last := plan.History[n-1]
			f.PrevInfusion, f.PrevInfusionID = &last.GivenOn, last.ID
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
	if g, err := s.db.VisitPEG(r.Context(), f.Visit.ID); err == nil && g != nil { // answered on the desk's tablet
		f.Values["peg_pain"], f.Values["peg_enjoyment"], f.Values["peg_activity"] = strconv.Itoa(g.Pain), strconv.Itoa(g.Enjoyment), strconv.Itoa(g.Activity)
	}
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
	rec, reliefOn, p := recordInput(r, &f, s.now(), s.locale(r).Style)
	version, _ := strconv.Atoi(r.PostForm.Get("version"))
	err = p.Err()
	var previous *clinic.ReliefReport
	if err == nil && f.Values["relief_status"] != "" && f.PrevInfusion != nil {
		previous = &clinic.ReliefReport{InfusionID: f.PrevInfusionID, Status: clinic.ReliefStatus(f.Values["relief_status"]), OnDate: reliefOn, Source: "nurse"}
	}
	if err == nil {
		_, err = s.db.RecordInfusion(r.Context(), id, version, rec, previous, s.now())
	}
	s.answerForm(w, r, err, "/nurse?done=recorded", func(p refusal) {
		f.Message, f.Fields = p.Message, p.Fields
		s.render(w, r, p.Status, web.InfusionRecordPage(s.meta(r, "Record infusion", "/nurse"), f))
	})
}

// recordInput reads the nurse's record from the form (its values already
// in f) and, when asked at this visit, the date of the relief report
// about the infusion before; each problem on its field.
func recordInput(r *http.Request, f *web.RecordForm, now time.Time, st i18n.Style) (clinic.InfusionRecord, clinic.Date, clinic.Problems) {
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
	rec.PEG = pegOf(optional("peg_pain"), optional("peg_enjoyment"), optional("peg_activity"), p, "Answer all three PEG questions, or none.")
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
		var err error
		if reliefOn, err = clinic.ParseDate(f.Values["relief_date"]); err != nil {
			p.Add("relief_date", "Enter the date.")
		} else if rerr := clinic.ReliefDate(reliefOn, *f.PrevInfusion, clinic.DateOf(now, f.Loc), st); rerr != nil {
			p.Add("relief_date", clinic.ErrorFields(rerr)["date"])
		}
	}
	return rec, reliefOn, p
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
	s.answerForm(w, r, err, web.PatientURL(id)+"?done=imported", func(p refusal) {
		f.Fields = p.Fields
		if len(f.Fields) == 0 {
			f.Fields = map[string]string{"date": p.Message}
		}
		s.renderPatientFull(w, r, id, p.Status, "The infusion was not added: "+strings.Join(fieldMessages(f.Fields), " "), patientExtras{imp: &f})
	})
}

// pegOf is the PEG of the three answers given (the nurse's form, the
// journal); nil with none, and incomplete as the problem on peg_pain with
// some but not all.
func pegOf(pain, enjoyment, activity *int, p clinic.Problems, incomplete string) *clinic.PEG {
	switch {
	case pain != nil && enjoyment != nil && activity != nil:
		return &clinic.PEG{Pain: *pain, Enjoyment: *enjoyment, Activity: *activity}
	case pain != nil || enjoyment != nil || activity != nil:
		p.Add("peg_pain", incomplete)
	}
	return nil
}
