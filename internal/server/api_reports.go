package server

import (
	"encoding/csv"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/postgres"
)

// The reports (issue 20): utilisation, the forecast, loading completion,
// outcomes; as JSON, or with ?format=csv as a CSV table (the pages offer
// the same CSV, from the same tables: reportCSV).

// ratio rounds a share to four places.
func ratio(x float64) float64 { return math.Round(x*10000) / 10000 }

// wantsCSV reports whether ?format=csv was asked for; another format is
// refused.
func wantsCSV(r *http.Request) (bool, error) {
	switch f := r.URL.Query().Get("format"); f {
	case "", "json", "html":
		return false, nil
	case "csv":
		return true, nil
	}
	return false, clinic.Invalid(map[string]string{"format": "Use format=csv, or leave it out."})
}

// writeCSV sends rows (the first is the header) as a UTF-8 CSV download.
// A cell that a spreadsheet would run as a formula is quoted with '.
func writeCSV(w http.ResponseWriter, name string, rows [][]string) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.csv"`)
	cw := csv.NewWriter(w)
	for _, row := range rows {
		for i, cell := range row {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				if _, err := strconv.ParseFloat(cell, 64); err != nil {
					row[i] = "'" + cell
				}
			}
		}
		cw.Write(row)
	}
	cw.Flush()
}

func num(x float64) string   { return strconv.FormatFloat(x, 'f', -1, 64) }
func hoursText(m int) string { return num(hours(m)) }

// period reads ?from=&to= (at most a year); without either, the period
// runs from since(today) to today: each report's default
// (utilisationSince, loadingSince, outcomesSince).
func (s *Server) period(r *http.Request, since func(today clinic.Date) clinic.Date) (from, to clinic.Date, err error) {
	q := r.URL.Query()
	if q.Get("from") == "" && q.Get("to") == "" {
		_, loc := s.clinicInfo(r.Context())
		today := clinic.DateOf(s.now(), loc)
		return since(today), today, nil
	}
	return dateRange(r, clinic.MaxReportDays)
}

// The reports' default periods: utilisation the 28 days to today; loading
// the 90 (a series takes two to three weeks); outcomes six months, from
// the first of the month.
func utilisationSince(today clinic.Date) clinic.Date { return today.AddDays(-27) }
func loadingSince(today clinic.Date) clinic.Date     { return today.AddDays(-89) }
func outcomesSince(today clinic.Date) clinic.Date    { return clinic.D(today.Year, today.Month-5, 1) }

type cellJSON struct {
	OpenChairHours   float64 `json:"open_chair_hours"`
	BookedChairHours float64 `json:"booked_chair_hours"`
	Utilisation      float64 `json:"utilisation"`
}

func toCellJSON(c clinic.Cell) cellJSON {
	return cellJSON{OpenChairHours: hours(c.Open), BookedChairHours: hours(c.Booked), Utilisation: ratio(c.Ratio())}
}

type weekdayCellJSON struct {
	Weekday string `json:"weekday"`
	cellJSON
}

type hourCellJSON struct {
	Hour int `json:"hour"`
	cellJSON
}

type heatCellJSON struct {
	Weekday string `json:"weekday"`
	Hour    int    `json:"hour"`
	cellJSON
}

type nurseUseJSON struct {
	RosteredDays         int     `json:"rostered_days"`
	ShiftHours           float64 `json:"shift_hours"`
	PatientsPerNurse     int     `json:"patients_per_nurse"`
	CapacityPatientHours float64 `json:"capacity_patient_hours"`
	WatchedPatientHours  float64 `json:"watched_patient_hours"`
	Utilisation          float64 `json:"utilisation"`
}

type utilisationJSON struct {
	From                 string            `json:"from"`
	To                   string            `json:"to"`
	OpenDays             int               `json:"open_days"`
	OpenChairHours       float64           `json:"open_chair_hours"`
	BookedChairHours     float64           `json:"booked_chair_hours"`
	Utilisation          float64           `json:"utilisation"`
	LostChairHours       float64           `json:"lost_chair_hours"`
	NoShowChairHours     float64           `json:"no_show_chair_hours"`
	LateCancelChairHours float64           `json:"late_cancel_chair_hours"`
	ByWeekday            []weekdayCellJSON `json:"by_weekday"`
	ByHour               []hourCellJSON    `json:"by_hour"`
	HeatMap              []heatCellJSON    `json:"heat_map"`
	Nurses               nurseUseJSON      `json:"nurses"`
}

func toUtilisationJSON(u clinic.Utilisation) utilisationJSON {
	out := utilisationJSON{From: u.From.String(), To: u.To.String(), OpenDays: u.OpenDays,
		OpenChairHours: hours(u.Total.Open), BookedChairHours: hours(u.Total.Booked), Utilisation: ratio(u.Total.Ratio()),
		LostChairHours: hours(u.LostMinutes()), NoShowChairHours: hours(u.NoShowMinutes), LateCancelChairHours: hours(u.LateCancelMinutes),
		ByWeekday: []weekdayCellJSON{}, ByHour: []hourCellJSON{}, HeatMap: []heatCellJSON{},
		Nurses: nurseUseJSON{RosteredDays: u.Nurses.Days, ShiftHours: hours(u.Nurses.ShiftMinutes), PatientsPerNurse: u.Nurses.PatientsPerNurse,
			CapacityPatientHours: hours(u.Nurses.CapacityMinutes), WatchedPatientHours: hours(u.Nurses.WatchedMinutes), Utilisation: ratio(u.Nurses.Ratio())}}
	for _, wd := range clinic.MondayFirst {
		out.ByWeekday = append(out.ByWeekday, weekdayCellJSON{strings.ToLower(wd.String()), toCellJSON(u.ByWeekday[wd])})
		for h, c := range u.Heat[wd] {
			if c.Open > 0 || c.Booked > 0 {
				out.HeatMap = append(out.HeatMap, heatCellJSON{strings.ToLower(wd.String()), h, toCellJSON(c)})
			}
		}
	}
	for h, c := range u.ByHour {
		if c.Open > 0 || c.Booked > 0 {
			out.ByHour = append(out.ByHour, hourCellJSON{h, toCellJSON(c)})
		}
	}
	return out
}

// utilisationCSV is the heat map, then each weekday's and the period's
// totals ("all" in the hour column).
func utilisationCSV(u clinic.Utilisation) [][]string {
	rows := [][]string{{"weekday", "hour", "open_chair_hours", "booked_chair_hours", "utilisation"}}
	row := func(wd, h string, c clinic.Cell) []string {
		return []string{wd, h, hoursText(c.Open), hoursText(c.Booked), num(ratio(c.Ratio()))}
	}
	for _, wd := range clinic.MondayFirst {
		for h, c := range u.Heat[wd] {
			if c.Open > 0 || c.Booked > 0 {
				rows = append(rows, row(strings.ToLower(wd.String()), strconv.Itoa(h), c))
			}
		}
	}
	for _, wd := range clinic.MondayFirst {
		rows = append(rows, row(strings.ToLower(wd.String()), "all", u.ByWeekday[wd]))
	}
	return append(rows, row("all", "all", u.Total))
}

// apiUtilisation reports chair and nurse utilisation: ?from=&to=.
func (s *Server) apiUtilisation(w http.ResponseWriter, r *http.Request) {
	csvOut, err := wantsCSV(r)
	var from, to clinic.Date
	if err == nil {
		from, to, err = s.period(r, utilisationSince)
	}
	var u clinic.Utilisation
	if err == nil {
		u, err = s.db.Utilisation(r.Context(), from, to)
	}
	switch {
	case err != nil:
		s.fail(w, r, err)
	case csvOut:
		writeCSV(w, "utilisation-"+from.String()+"-"+to.String(), utilisationCSV(u))
	default:
		writeJSON(w, http.StatusOK, toUtilisationJSON(u))
	}
}

type plannedJSON struct {
	PatientID  int64      `json:"patient_id"`
	Name       string     `json:"name"`
	Kind       string     `json:"kind"`
	Session    *int       `json:"session"`
	Day        string     `json:"day"`
	Minutes    int        `json:"minutes"`
	Window     windowJSON `json:"window"`
	Suggestion *string    `json:"suggestion"`
	Why        string     `json:"why"`
}

type problemDayJSON struct {
	Date              string        `json:"date"`
	Reason            string        `json:"reason"`
	OverChairHours    float64       `json:"over_chair_hours"`
	CapacityHours     float64       `json:"capacity_chair_hours"`
	BookedChairHours  float64       `json:"booked_chair_hours"`
	PlannedChairHours float64       `json:"planned_chair_hours"`
	Patients          []plannedJSON `json:"patients"`
	MorePatients      int           `json:"more_patients"`
}

type forecastDayJSON struct {
	Date               string   `json:"date"`
	Open               bool     `json:"open"`
	CapacityChairHours float64  `json:"capacity_chair_hours"`
	NurseCapacity      *float64 `json:"nurse_capacity_patient_hours"`
	BookedChairHours   float64  `json:"booked_chair_hours"`
	PlannedChairHours  float64  `json:"planned_chair_hours"`
	Planned            int      `json:"planned_patients"`
	Problem            bool     `json:"problem"`
}

type forecastWeekJSON struct {
	WeekStart          string            `json:"week_start"`
	CapacityChairHours float64           `json:"capacity_chair_hours"`
	NurseCapacity      float64           `json:"nurse_capacity_patient_hours"`
	BookedChairHours   float64           `json:"booked_chair_hours"`
	PlannedChairHours  float64           `json:"planned_chair_hours"`
	ProblemDays        []problemDayJSON  `json:"problem_days"`
	Days               []forecastDayJSON `json:"days"`
}

type forecastJSON struct {
	Today             string             `json:"today"`
	Weeks             []forecastWeekJSON `json:"weeks"`
	OverduePatients   int                `json:"overdue_patients"`
	OverdueChairHours float64            `json:"overdue_chair_hours"`
}

func toPlannedJSON(p clinic.ProblemPatient) plannedJSON {
	out := plannedJSON{PatientID: p.PatientID, Name: p.Name, Kind: string(p.Kind), Day: p.Due.String(), Minutes: p.Minutes,
		Window: windowJSON{From: p.Window.From.String(), To: p.Window.To.String()}, Why: p.Why}
	if p.Session > 0 {
		out.Session = &p.Session
	}
	if !p.Suggest.IsZero() {
		d := p.Suggest.String()
		out.Suggestion = &d
	}
	return out
}

func toForecastJSON(f clinic.Forecast) forecastJSON {
	out := forecastJSON{Today: f.Today.String(), Weeks: []forecastWeekJSON{}, OverduePatients: len(f.Overdue), OverdueChairHours: hours(f.OverdueMinutes)}
	for _, w := range f.Weeks {
		wj := forecastWeekJSON{WeekStart: w.Start.String(), CapacityChairHours: hours(w.CapacityMinutes), NurseCapacity: hours(w.NurseMinutes),
			BookedChairHours: hours(w.BookedMinutes), PlannedChairHours: hours(w.PlannedMinutes),
			ProblemDays: []problemDayJSON{}, Days: []forecastDayJSON{}}
		for _, d := range w.Days {
			dj := forecastDayJSON{Date: d.Date.String(), Open: d.Open, CapacityChairHours: hours(d.CapacityMinutes),
				BookedChairHours: hours(d.BookedMinutes), PlannedChairHours: hours(d.PlannedMinutes), Planned: len(d.Planned), Problem: d.Problem != nil}
			if d.Rostered {
				n := hours(d.NurseMinutes)
				dj.NurseCapacity = &n
			}
			wj.Days = append(wj.Days, dj)
			if p := d.Problem; p != nil {
				pj := problemDayJSON{Date: d.Date.String(), Reason: p.Reason, OverChairHours: hours(p.OverMinutes),
					CapacityHours: hours(d.CapacityMinutes), BookedChairHours: hours(d.BookedMinutes), PlannedChairHours: hours(d.PlannedMinutes),
					Patients: []plannedJSON{}, MorePatients: p.More}
				for _, pp := range p.Patients {
					pj.Patients = append(pj.Patients, toPlannedJSON(pp))
				}
				wj.ProblemDays = append(wj.ProblemDays, pj)
			}
		}
		out.Weeks = append(out.Weeks, wj)
	}
	return out
}

// forecastCSV is one row a day.
func forecastCSV(f clinic.Forecast) [][]string {
	rows := [][]string{{"date", "week_start", "open", "capacity_chair_hours", "nurse_capacity_patient_hours", "booked_chair_hours",
		"planned_chair_hours", "planned_patients", "problem", "over_chair_hours"}}
	for _, w := range f.Weeks {
		for _, d := range w.Days {
			nurse, over := "", "0"
			if d.Rostered {
				nurse = hoursText(d.NurseMinutes)
			}
			if d.Problem != nil {
				over = hoursText(d.Problem.OverMinutes)
			}
			rows = append(rows, []string{d.Date.String(), w.Start.String(), strconv.FormatBool(d.Open), hoursText(d.CapacityMinutes), nurse,
				hoursText(d.BookedMinutes), hoursText(d.PlannedMinutes), strconv.Itoa(len(d.Planned)), strconv.FormatBool(d.Problem != nil), over})
		}
	}
	return rows
}

// forecastWeeks reads ?weeks= (12 when absent).
func forecastWeeks(r *http.Request) (int, error) {
	q := r.URL.Query().Get("weeks")
	if q == "" {
		return clinic.DefaultForecastWeeks, nil
	}
	n, err := strconv.Atoi(q)
	if err != nil || n < 1 || n > clinic.MaxForecastWeeks {
		return 0, clinic.Invalid(map[string]string{"weeks": fmt.Sprintf("Forecast 1 to %d weeks.", clinic.MaxForecastWeeks)})
	}
	return n, nil
}

// apiForecast lays out the coming weeks: ?weeks=12.
func (s *Server) apiForecast(w http.ResponseWriter, r *http.Request) {
	csvOut, err := wantsCSV(r)
	weeks := 0
	if err == nil {
		weeks, err = forecastWeeks(r)
	}
	var f clinic.Forecast
	if err == nil {
		f, err = s.db.Forecast(r.Context(), weeks, s.now())
	}
	switch {
	case err != nil:
		s.fail(w, r, err)
	case csvOut:
		writeCSV(w, "forecast-"+f.Today.String(), forecastCSV(f))
	default:
		writeJSON(w, http.StatusOK, toForecastJSON(f))
	}
}

type completionRowJSON struct {
	Key            string  `json:"key"`
	Started        int     `json:"started"`
	Complete       int     `json:"complete"`
	Stopped        int     `json:"stopped"`
	Active         int     `json:"active"`
	CompletionRate float64 `json:"completion_rate"`
}

type seriesCallJSON struct {
	Note string `json:"note"`
	By   string `json:"by"`
	At   string `json:"at"`
}

type seriesWorkJSON struct {
	SeriesID    int64           `json:"series_id"`
	PatientID   int64           `json:"patient_id"`
	Name        string          `json:"name"`
	Protocol    string          `json:"protocol"`
	Condition   string          `json:"condition"`
	State       string          `json:"state"`
	Sessions    int             `json:"sessions"`
	Completed   int             `json:"completed"`
	Started     string          `json:"started"`
	LastGiven   *string         `json:"last_given"`
	RebookBy    string          `json:"rebook_by"`
	NextSession *int            `json:"next_session"`
	Call        *seriesCallJSON `json:"call"`
}

type completionJSON struct {
	From         string              `json:"from"`
	To           string              `json:"to"`
	Total        completionRowJSON   `json:"total"`
	ByProtocol   []completionRowJSON `json:"by_protocol"`
	ByCondition  []completionRowJSON `json:"by_condition"`
	StoppedAfter []int               `json:"stopped_after_sessions"`
	Work         []seriesWorkJSON    `json:"work"`
}

func toCompletionRowJSON(r clinic.CompletionRow) completionRowJSON {
	return completionRowJSON{Key: r.Key, Started: r.Started, Complete: r.Complete, Stopped: r.Stopped, Active: r.Active, CompletionRate: ratio(r.Rate())}
}

func toCompletionJSON(c clinic.Completion, today clinic.Date) completionJSON {
	out := completionJSON{From: c.From.String(), To: c.To.String(), Total: toCompletionRowJSON(c.Total),
		ByProtocol: []completionRowJSON{}, ByCondition: []completionRowJSON{}, StoppedAfter: append([]int{}, c.StoppedAfter...), Work: []seriesWorkJSON{}}
	for _, r := range c.ByProtocol {
		out.ByProtocol = append(out.ByProtocol, toCompletionRowJSON(r))
	}
	for _, r := range c.ByCondition {
		out.ByCondition = append(out.ByCondition, toCompletionRowJSON(r))
	}
	for _, s := range c.Work {
		sj := seriesWorkJSON{SeriesID: s.SeriesID, PatientID: s.PatientID, Name: s.Name, Protocol: s.Protocol, Condition: string(s.Condition),
			State: string(s.State(today)), Sessions: s.Sessions, Completed: s.Completed, Started: s.Started.String(), RebookBy: s.StoppedAfter().String()}
		if !s.LastGiven.IsZero() {
			d := s.LastGiven.String()
			sj.LastGiven = &d
		}
		if s.NextMissing > 0 {
			n := s.NextMissing
			sj.NextSession = &n
		}
		if s.Call != nil {
			sj.Call = &seriesCallJSON{Note: s.Call.Note, By: s.Call.By, At: s.Call.At.UTC().Format(time.RFC3339)}
		}
		out.Work = append(out.Work, sj)
	}
	return out
}

// completionCSV is the completion by protocol and by condition, and the
// total.
func completionCSV(c clinic.Completion) [][]string {
	rows := [][]string{{"group", "key", "started", "complete", "stopped", "active", "completion_rate"}}
	row := func(group string, r clinic.CompletionRow) []string {
		return []string{group, r.Key, strconv.Itoa(r.Started), strconv.Itoa(r.Complete), strconv.Itoa(r.Stopped), strconv.Itoa(r.Active), num(ratio(r.Rate()))}
	}
	for _, r := range c.ByProtocol {
		rows = append(rows, row("protocol", r))
	}
	for _, r := range c.ByCondition {
		rows = append(rows, row("condition", r))
	}
	return append(rows, row("all", c.Total))
}

// apiLoadingCompletion reports the loading series begun in ?from=&to=.
func (s *Server) apiLoadingCompletion(w http.ResponseWriter, r *http.Request) {
	csvOut, err := wantsCSV(r)
	var from, to clinic.Date
	if err == nil {
		from, to, err = s.period(r, loadingSince)
	}
	var c clinic.Completion
	if err == nil {
		c, err = s.db.Completion(r.Context(), from, to, s.now())
	}
	switch {
	case err != nil:
		s.fail(w, r, err)
	case csvOut:
		writeCSV(w, "loading-"+from.String()+"-"+to.String(), completionCSV(c))
	default:
		_, loc := s.clinicInfo(r.Context())
		writeJSON(w, http.StatusOK, toCompletionJSON(c, clinic.DateOf(s.now(), loc)))
	}
}

type seriesCallRequest struct {
	Note string `json:"note"`
}

// apiSeriesCall keeps the desk's note on a call about a series.
func (s *Server) apiSeriesCall(w http.ResponseWriter, r *http.Request) {
	id, err := urlID(r)
	var req seriesCallRequest
	if err == nil {
		err = decodeJSON(r, &req, "note")
	}
	if err == nil {
		err = s.db.AddSeriesCall(r.Context(), id, req.Note, s.now())
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type reliefCellJSON struct {
	Infusion   int      `json:"infusion"`
	N          int      `json:"n"`
	MedianDays *float64 `json:"median_days"`
}

type monthJSON struct {
	Month      string   `json:"month"`
	PainBefore *float64 `json:"pain_before"`
	PainAfter  *float64 `json:"pain_after"`
	PEG        *float64 `json:"peg"`
	Infusions  int      `json:"infusions"`
	PEGAnswers int      `json:"peg_answers"`
}

type conditionOutcomeJSON struct {
	Condition    string           `json:"condition"`
	Plans        int              `json:"plans"`
	Flagged      int              `json:"flagged"`
	FlaggedShare float64          `json:"flagged_share"`
	Relief       []reliefCellJSON `json:"relief_by_infusion"`
	Months       []monthJSON      `json:"months"`
}

type outcomesJSON struct {
	From       string                 `json:"from"`
	To         string                 `json:"to"`
	Conditions []conditionOutcomeJSON `json:"conditions"`
}

func tenths(t int) *float64 {
	if t < 0 {
		return nil
	}
	x := float64(t) / 10
	return &x
}

func toOutcomesJSON(from, to clinic.Date, os []clinic.ConditionOutcome) outcomesJSON {
	out := outcomesJSON{From: from.String(), To: to.String(), Conditions: []conditionOutcomeJSON{}}
	for _, o := range os {
		cj := conditionOutcomeJSON{Condition: string(o.Condition), Plans: o.Plans, Flagged: o.Flagged, FlaggedShare: ratio(o.FlaggedShare()),
			Relief: []reliefCellJSON{}, Months: []monthJSON{}}
		for _, c := range o.Relief {
			rc := reliefCellJSON{Infusion: c.Number, N: c.N}
			if c.N > 0 {
				m := c.Median
				rc.MedianDays = &m
			}
			cj.Relief = append(cj.Relief, rc)
		}
		for _, m := range o.Months {
			cj.Months = append(cj.Months, monthJSON{Month: m.Month.Format("2006-01"), PainBefore: tenths(m.PainBefore), PainAfter: tenths(m.PainAfter),
				PEG: tenths(m.PEG), Infusions: m.Infusions, PEGAnswers: m.PEGAnswers})
		}
		out.Conditions = append(out.Conditions, cj)
	}
	return out
}

// outcomesCSV is the median relief by condition and infusion number.
func outcomesCSV(os []clinic.ConditionOutcome) [][]string {
	rows := [][]string{{"condition", "infusion", "reports", "median_relief_days"}}
	for _, o := range os {
		for _, c := range o.Relief {
			median := ""
			if c.N > 0 {
				median = num(c.Median)
			}
			rows = append(rows, []string{string(o.Condition), strconv.Itoa(c.Number), strconv.Itoa(c.N), median})
		}
	}
	return rows
}

// outcomeFilter reads ?condition=&protocol_id=.
func outcomeFilter(r *http.Request) (postgres.OutcomeFilter, error) {
	q := r.URL.Query()
	f := postgres.OutcomeFilter{}
	if c := q.Get("condition"); c != "" {
		var ok bool
		if f.Condition, ok = clinic.ParseCondition(c); !ok {
			return f, clinic.Invalid(map[string]string{"condition": "Use crps, neuropathic, fibromyalgia or other."})
		}
	}
	if p := q.Get("protocol_id"); p != "" {
		id, err := strconv.ParseInt(p, 10, 64)
		if err != nil || id <= 0 {
			return f, clinic.Invalid(map[string]string{"protocol_id": "Give a protocol's number."})
		}
		f.ProtocolID = id
	}
	return f, nil
}

// apiOutcomes reports outcomes by condition: ?from=&to=&condition=&protocol_id=.
func (s *Server) apiOutcomes(w http.ResponseWriter, r *http.Request) {
	csvOut, err := wantsCSV(r)
	var from, to clinic.Date
	var filter postgres.OutcomeFilter
	if err == nil {
		from, to, err = s.period(r, outcomesSince)
	}
	if err == nil {
		filter, err = outcomeFilter(r)
	}
	var os []clinic.ConditionOutcome
	if err == nil {
		os, err = s.db.Outcomes(r.Context(), from, to, filter)
	}
	switch {
	case err != nil:
		s.fail(w, r, err)
	case csvOut:
		writeCSV(w, "outcomes-"+from.String()+"-"+to.String(), outcomesCSV(os))
	default:
		writeJSON(w, http.StatusOK, toOutcomesJSON(from, to, os))
	}
}
