package postgres

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/jackc/pgx/v5"
)

// The reports (issue 20): each loads its facts in one snapshot
// (inSnapshot: every query sees the same commits, and it takes no lock a
// booking waits on) and lets the domain compute every figure
// (clinic/report.go, forecast.go, completion.go, outcomes.go).

// inSnapshot runs fn in a repeatable-read transaction, so that a report's
// queries see one state of the clinic: a visit booked while the forecast
// reads is either booked or planned, never both or neither. Inside a
// transaction already begun, fn joins it.
func (db *DB) inSnapshot(ctx context.Context, fn func(ctx context.Context, tx pgx.Tx) error) error {
	if tx, ok := txOf(ctx); ok {
		return fn(ctx, tx)
	}
	return db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET TRANSACTION ISOLATION LEVEL REPEATABLE READ`); err != nil {
			return err
		}
		return fn(ctx, tx)
	})
}

// Utilisation reports chair and nurse utilisation over the clinic days
// from..to.
func (db *DB) Utilisation(ctx context.Context, from, to clinic.Date) (clinic.Utilisation, error) {
	if err := clinic.CheckPeriod(from, to); err != nil {
		return clinic.Utilisation{}, err
	}
	var out clinic.Utilisation
	err := db.inSnapshot(ctx, func(ctx context.Context, tx pgx.Tx) error {
		f := clinic.UtilisationFacts{From: from, To: to}
		var err error
		if f.Schedule, err = db.schedule(ctx, tx); err != nil {
			return err
		}
		if f.Chairs, err = db.AllChairs(ctx); err != nil {
			return err
		}
		if f.Outages, err = chairOutages(ctx, tx, from, to); err != nil {
			return err
		}
		if f.Visits, err = reportVisits(ctx, tx, from, to); err != nil {
			return err
		}
		if f.Shifts, err = queryShifts(ctx, tx, from, to, f.Schedule.Loc); err != nil {
			return err
		}
		out = clinic.ComputeUtilisation(f)
		return nil
	})
	return out, err
}

func chairOutages(ctx context.Context, q querier, from, to clinic.Date) ([]clinic.ChairOutage, error) {
	rows, err := q.Query(ctx, `SELECT chair_id, from_on, until_on FROM chair_outages
		WHERE from_on <= $2 AND (until_on IS NULL OR until_on > $1)`, from, to)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (clinic.ChairOutage, error) {
		var o clinic.ChairOutage
		err := r.Scan(&o.ChairID, &o.From, &o.Until) // NULL: zero, still out
		return o, err
	})
}

// reportVisits reads every visit of the clinic days from..to (the
// active ones, no-shows and cancellations).
func reportVisits(ctx context.Context, q querier, from, to clinic.Date) ([]clinic.ReportVisit, error) {
	rows, err := q.Query(ctx, `SELECT id, patient_id, chair_id, kind, status, starts_at, ends_at, cancelled_at
		FROM appointments WHERE local_date BETWEEN $1 AND $2`, from, to)
	if err != nil {
		return nil, err
	}
	var out []clinic.ReportVisit
	var v clinic.ReportVisit
	var cancelled *time.Time
	_, err = pgx.ForEachRow(rows, []any{&v.ID, &v.PatientID, &v.ChairID, &v.Kind, &v.Status, &v.Start, &v.End, &cancelled}, func() error {
		v.CancelledAt = time.Time{}
		if cancelled != nil {
			v.CancelledAt = *cancelled
		}
		out = append(out, v)
		return nil
	})
	return out, err
}

// Forecast lays out the coming weeks from now: capacity, booked and
// planned chair time, and the problem days with their patients.
func (db *DB) Forecast(ctx context.Context, weeks int, now time.Time) (clinic.Forecast, error) {
	if weeks < 1 || weeks > clinic.MaxForecastWeeks {
		return clinic.Forecast{}, clinic.Invalid(map[string]string{"weeks": "Forecast 1 to 26 weeks."})
	}
	var out clinic.Forecast
	err := db.inSnapshot(ctx, func(ctx context.Context, tx pgx.Tx) error {
		f, err := db.forecastFacts(ctx, tx, weeks, now)
		if err != nil {
			return err
		}
		out = clinic.ComputeForecast(f)
		if err := nameProblemPatients(ctx, tx, &out); err != nil {
			return err
		}
		return audit(ctx, tx, clinic.AuditEntry{Action: "report.forecast", Entity: "course",
			After: map[string]any{"weeks": weeks, "planned": len(f.Due) + len(f.Loading)}})
	})
	return out, err
}

func (db *DB) forecastFacts(ctx context.Context, tx pgx.Tx, weeks int, now time.Time) (clinic.ForecastFacts, error) {
	f := clinic.ForecastFacts{Weeks: weeks}
	var err error
	if f.Schedule, err = db.schedule(ctx, tx); err != nil {
		return f, err
	}
	f.Today = clinic.DateOf(now, f.Schedule.Loc)
	end := clinic.Monday(f.Today).AddDays(7*weeks - 1)
	chairs, err := activeChairs(ctx, tx)
	if err != nil {
		return f, err
	}
	f.Chairs = len(chairs)
	if f.Shifts, err = queryShifts(ctx, tx, f.Today, end, f.Schedule.Loc); err != nil {
		return f, err
	}
	if f.Booked, err = reportVisits(ctx, tx, f.Today, end); err != nil {
		return f, err
	}
	if f.Due, err = duePlans(ctx, tx, end); err != nil {
		return f, err
	}
	f.Loading, err = loadingLeft(ctx, tx, f.Today)
	return f, err
}

// duePlans reads the maintenance plans due by end with no next
// maintenance visit booked (overdue ones too), without names: of tens of
// thousands, only the problem days' patients are named
// (nameProblemPatients).
func duePlans(ctx context.Context, tx pgx.Tx, end clinic.Date) ([]clinic.DuePlan, error) {
	rows, err := tx.Query(ctx, `
		SELECT cp.patient_id, cp.due_date, coalesce(cp.last_infusion_on, cp.due_date),
		       c.min_interval_days, c.self_booking_days_before, c.self_booking_days_after,
		       c.maintenance_infusion_minutes + c.maintenance_recovery_minutes
		FROM course_plans cp JOIN courses c ON c.id = cp.course_id
		WHERE c.phase = 'maintenance' AND cp.due_date <= $1
		  AND NOT EXISTS (SELECT 1 FROM appointments a WHERE a.patient_id = cp.patient_id AND a.kind = 'maintenance'
		                  AND a.status IN ('booked', 'checked_in') AND a.additional_reason IS NULL)`, end)
	if err != nil {
		return nil, err
	}
	var out []clinic.DuePlan
	var d clinic.DuePlan
	_, err = pgx.ForEachRow(rows, []any{&d.PatientID, &d.Due, &d.Last, &d.MinInterval,
		&d.SelfBooking.DaysBefore, &d.SelfBooking.DaysAfter, &d.Minutes}, func() error {
		out = append(out, d)
		return nil
	})
	return out, err
}

// nameProblemPatients names the patients the problem days list.
func nameProblemPatients(ctx context.Context, tx pgx.Tx, f *clinic.Forecast) error {
	var ids []int64
	var at []*clinic.ProblemPatient
	for w := range f.Weeks {
		for d := range f.Weeks[w].Days {
			if p := f.Weeks[w].Days[d].Problem; p != nil {
				for i := range p.Patients {
					ids, at = append(ids, p.Patients[i].PatientID), append(at, &p.Patients[i])
				}
			}
		}
	}
	if len(ids) == 0 {
		return nil
	}
	names, err := patientNames(ctx, tx, ids)
	for _, p := range at {
		p.Name = names[p.PatientID]
	}
	return err
}

// patientNames reads patients' names by id.
func patientNames(ctx context.Context, q querier, ids []int64) (map[int64]string, error) {
	rows, err := q.Query(ctx, `SELECT id, first_name || ' ' || last_name FROM patients WHERE id = ANY ($1)`, ids)
	if err != nil {
		return nil, err
	}
	out := map[int64]string{}
	var id int64
	var name string
	_, err = pgx.ForEachRow(rows, []any{&id, &name}, func() error {
		out[id] = name
		return nil
	})
	return out, err
}

// loadingLeft reads the loading courses with sessions still to come and
// not booked: a course just started with no series yet, or a series whose
// gap is not yet over (a stopped one is the desk's work list's, not the
// forecast's).
func loadingLeft(ctx context.Context, tx pgx.Tx, today clinic.Date) ([]clinic.LoadingLeft, error) {
	rows, err := tx.Query(ctx, `
		SELECT c.patient_id, p.first_name || ' ' || p.last_name, coalesce(ls.id, 0), c.sessions,
		       (SELECT count(*) FROM infusions i WHERE i.course_id = c.id AND i.phase = 'loading')
		       + (SELECT count(*) FROM appointments a WHERE a.course_id = c.id AND a.kind = 'loading' AND a.status IN ('booked', 'checked_in')),
		       greatest((SELECT max(i.given_on) FROM infusions i WHERE i.course_id = c.id AND i.phase = 'loading'),
		                (SELECT max(a.local_date) FROM appointments a WHERE a.course_id = c.id AND a.kind = 'loading' AND a.status IN ('booked', 'checked_in'))),
		       c.started_on, c.min_gap_days, c.max_gap_days, c.infusion_minutes + c.recovery_minutes
		FROM courses c JOIN patients p ON p.id = c.patient_id
		LEFT JOIN LATERAL (SELECT id FROM loading_series WHERE course_id = c.id AND cancelled_at IS NULL ORDER BY id DESC LIMIT 1) ls ON true
		WHERE c.phase = 'loading'`)
	if err != nil {
		return nil, err
	}
	var out []clinic.LoadingLeft
	var l clinic.LoadingLeft
	var sessions, held int
	var started clinic.Date
	_, err = pgx.ForEachRow(rows, []any{&l.PatientID, &l.Name, &l.SeriesID, &sessions, &held, &l.After, &started,
		&l.MinGap, &l.MaxGap, &l.Minutes}, func() error {
		l.Left, l.FirstNo = sessions-held, held+1
		switch {
		case l.Left <= 0:
		case l.After.IsZero() && today.DaysSince(started) > clinic.FirstDateWindow: // never begun: not expected
		case !l.After.IsZero() && today.After(l.After.AddDays(l.MaxGap)): // stopped
		default:
			out = append(out, l)
		}
		return nil
	})
	return out, err
}

// Completion reports the loading series begun on the clinic days from..to.
func (db *DB) Completion(ctx context.Context, from, to clinic.Date, now time.Time) (clinic.Completion, error) {
	if err := clinic.CheckPeriod(from, to); err != nil {
		return clinic.Completion{}, err
	}
	var out clinic.Completion
	err := db.inSnapshot(ctx, func(ctx context.Context, tx pgx.Tx) error {
		sched, err := db.schedule(ctx, tx)
		if err != nil {
			return err
		}
		series, err := seriesFacts(ctx, tx, from, to)
		if err != nil {
			return err
		}
		out = clinic.ComputeCompletion(from, to, clinic.DateOf(now, sched.Loc), series)
		return audit(ctx, tx, clinic.AuditEntry{Action: "report.loading", Entity: "loading_series",
			After: map[string]any{"from": from.String(), "to": to.String(), "series": len(series)}})
	})
	return out, err
}

func seriesFacts(ctx context.Context, tx pgx.Tx, from, to clinic.Date) ([]clinic.SeriesFacts, error) {
	// A series begun in the period has a session in it: those series,
	// then each one's sessions in one pass (by appointments_series).
	rows, err := tx.Query(ctx, `
		WITH candidates AS (
			SELECT DISTINCT series_id AS id FROM appointments WHERE local_date BETWEEN $1 AND $2 AND series_id IS NOT NULL),
		s AS (
			SELECT a.series_id AS id, min(a.local_date) AS started,
			       count(*) FILTER (WHERE a.status = 'completed') AS completed,
			       count(*) FILTER (WHERE a.status IN ('booked', 'checked_in')) AS booked,
			       max(a.local_date) FILTER (WHERE a.status = 'completed') AS last_given,
			       array_agg(DISTINCT a.session_no) FILTER (WHERE a.status IN ('booked', 'checked_in', 'completed')) AS held
			FROM appointments a JOIN candidates ON candidates.id = a.series_id
			GROUP BY a.series_id
			HAVING min(a.local_date) BETWEEN $1 AND $2)
		SELECT s.id, ls.patient_id, p.first_name || ' ' || p.last_name, p.condition, pr.name, c.sessions, s.started,
		       s.completed, s.booked, s.last_given, coalesce(s.held, '{}'),
		       ls.cancelled_at IS NOT NULL, c.max_gap_days,
		       coalesce(call.note, ''), coalesce(call.who, ''), call.called_at
		FROM s JOIN loading_series ls ON ls.id = s.id JOIN protocols pr ON pr.id = ls.protocol_id
		JOIN courses c ON c.id = ls.course_id JOIN patients p ON p.id = ls.patient_id
		LEFT JOIN LATERAL (SELECT sc.note, coalesce(u.name, '') AS who, sc.called_at FROM series_calls sc
		     LEFT JOIN users u ON u.id = sc.called_by WHERE sc.series_id = s.id ORDER BY sc.called_at DESC, sc.id DESC LIMIT 1) call ON true
		ORDER BY s.started, s.id`, from, to)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (clinic.SeriesFacts, error) {
		var s clinic.SeriesFacts
		var note, who string
		var at *time.Time
		var held []int32
		err := r.Scan(&s.SeriesID, &s.PatientID, &s.Name, &s.Condition, &s.Protocol, &s.Sessions, &s.Started,
			&s.Completed, &s.Booked, &s.LastGiven, &held, &s.Cancelled, &s.MaxGap, &note, &who, &at) // NULL last_given: zero
		s.NextMissing = firstMissing(held, s.Sessions)
		if at != nil {
			s.Call = &clinic.SeriesCall{Note: note, By: who, At: *at}
		}
		return s, err
	})
}

// firstMissing is the first of sessions 1..n not in held (0: none).
func firstMissing(held []int32, n int) int {
	for no := 1; no <= n; no++ {
		if !slices.Contains(held, int32(no)) {
			return no
		}
	}
	return 0
}

// AddSeriesCall keeps the desk's note on a call about a series.
func (db *DB) AddSeriesCall(ctx context.Context, seriesID int64, note string, now time.Time) error {
	note = strings.TrimSpace(note)
	switch {
	case note == "":
		return clinic.Invalid(map[string]string{"note": "Say what came of the call."})
	case len([]rune(note)) > 1000:
		return clinic.Invalid(map[string]string{"note": "Keep the note to 1,000 characters."})
	}
	return db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var patientID int64
		err := tx.QueryRow(ctx, `SELECT patient_id FROM loading_series WHERE id = $1`, seriesID).Scan(&patientID)
		if isNoRows(err) {
			return clinic.Errorf(clinic.ENOTFOUND, "There is no such series.")
		}
		if err != nil {
			return err
		}
		var id int64
		if err := tx.QueryRow(ctx, `INSERT INTO series_calls (series_id, note, called_by, called_at) VALUES ($1, $2, $3, $4) RETURNING id`,
			seriesID, note, clinic.ActorFrom(ctx).UserID(), now).Scan(&id); err != nil {
			return mapError(err)
		}
		return audit(ctx, tx, clinic.AuditEntry{Action: "series.call", Entity: "loading_series", EntityID: &seriesID,
			PatientID: &patientID, After: map[string]any{"call": id}})
	})
}

// OutcomeFilter narrows the outcomes to one condition or protocol ("" and
// 0: all).
type OutcomeFilter struct {
	Condition  clinic.Condition
	ProtocolID int64
}

// Outcomes reports relief, pain, PEG and flags by condition; the months
// from..to for the trends.
func (db *DB) Outcomes(ctx context.Context, from, to clinic.Date, filter OutcomeFilter) ([]clinic.ConditionOutcome, error) {
	if err := clinic.CheckPeriod(from, to); err != nil {
		return nil, err
	}
	var out []clinic.ConditionOutcome
	err := db.inSnapshot(ctx, func(ctx context.Context, tx pgx.Tx) error {
		f := clinic.OutcomeFacts{From: from, To: to}
		var err error
		if f.Infusions, err = outcomeInfusions(ctx, tx, filter); err != nil {
			return err
		}
		if f.PEG, err = outcomePEG(ctx, tx, from, to, filter); err != nil {
			return err
		}
		if f.Plans, err = outcomePlans(ctx, tx, filter); err != nil {
			return err
		}
		out = clinic.ComputeOutcomes(f)
		return audit(ctx, tx, clinic.AuditEntry{Action: "report.outcomes", Entity: "course",
			After: map[string]any{"condition": string(filter.Condition), "protocol": filter.ProtocolID}})
	})
	return out, err
}

// outcomeCourses narrows a query on courses c and patients p.
const outcomeCourses = ` ($1 = '' OR p.condition = $1) AND ($2 = 0 OR c.protocol_id = $2) `

func outcomeInfusions(ctx context.Context, tx pgx.Tx, f OutcomeFilter) ([]clinic.OutcomeInfusion, error) {
	rows, err := tx.Query(ctx, `
		SELECT p.condition, row_number() OVER (PARTITION BY i.course_id ORDER BY i.given_on, i.id), i.given_on,
		       coalesce((SELECT CASE WHEN r.status = 'ended' THEN r.on_date - i.given_on END FROM relief_reports r
		                 WHERE r.infusion_id = i.id ORDER BY r.created_at DESC, r.id DESC LIMIT 1), -1),
		       coalesce(i.pain_before, -1), coalesce(i.pain_after, -1)
		FROM infusions i JOIN courses c ON c.id = i.course_id JOIN patients p ON p.id = i.patient_id
		WHERE`+outcomeCourses, string(f.Condition), f.ProtocolID)
	if err != nil {
		return nil, err
	}
	var out []clinic.OutcomeInfusion
	var o clinic.OutcomeInfusion
	_, err = pgx.ForEachRow(rows, []any{&o.Condition, &o.Number, &o.Given, &o.ReliefDays, &o.PainBefore, &o.PainAfter}, func() error {
		out = append(out, o)
		return nil
	})
	return out, err
}

func outcomePEG(ctx context.Context, tx pgx.Tx, from, to clinic.Date, f OutcomeFilter) ([]clinic.OutcomePEG, error) {
	rows, err := tx.Query(ctx, `
		SELECT p.condition, g.on_date, g.pain, g.enjoyment, g.activity
		FROM peg_scores g JOIN patients p ON p.id = g.patient_id
		WHERE g.on_date BETWEEN $3 AND $4 AND ($1 = '' OR p.condition = $1)
		  AND ($2 = 0 OR EXISTS (SELECT 1 FROM courses c WHERE c.patient_id = p.id AND c.protocol_id = $2))`,
		string(f.Condition), f.ProtocolID, from, to)
	if err != nil {
		return nil, err
	}
	var out []clinic.OutcomePEG
	var o clinic.OutcomePEG
	var peg clinic.PEG
	_, err = pgx.ForEachRow(rows, []any{&o.Condition, &o.On, &peg.Pain, &peg.Enjoyment, &peg.Activity}, func() error {
		o.Tenths = peg.Score()
		out = append(out, o)
		return nil
	})
	return out, err
}

func outcomePlans(ctx context.Context, tx pgx.Tx, f OutcomeFilter) ([]clinic.OutcomePlan, error) {
	rows, err := tx.Query(ctx, `
		SELECT p.condition, jsonb_array_length(cp.flags) > 0
		FROM course_plans cp JOIN courses c ON c.id = cp.course_id JOIN patients p ON p.id = cp.patient_id
		WHERE c.phase = 'maintenance' AND`+outcomeCourses, string(f.Condition), f.ProtocolID)
	if err != nil {
		return nil, err
	}
	var out []clinic.OutcomePlan
	var o clinic.OutcomePlan
	_, err = pgx.ForEachRow(rows, []any{&o.Condition, &o.Flagged}, func() error {
		out = append(out, o)
		return nil
	})
	return out, err
}

// ForecastDay is one day of the forecast of weeks weeks, with the names of
// the patients planned on it; ok is false when the day lies outside it.
func (db *DB) ForecastDay(ctx context.Context, d clinic.Date, weeks int, now time.Time) (day clinic.ForecastDay, names map[int64]string, ok bool, err error) {
	var f clinic.Forecast
	err = db.inSnapshot(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if f, err = db.Forecast(ctx, weeks, now); err != nil {
			return err
		}
		p, found := f.Day(d)
		if !found {
			return nil
		}
		day, ok = *p, true
		ids := make([]int64, len(day.Planned))
		for i, v := range day.Planned {
			ids[i] = v.PatientID
		}
		names, err = patientNames(ctx, tx, ids)
		return err
	})
	return day, names, ok, err
}
