package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/jackc/pgx/v5"
)

const historySQL = `
	SELECT i.id, i.given_on, i.phase, i.started_at, i.dose_mg_per_kg_h::float8, r.status, r.on_date
	FROM infusions i
	LEFT JOIN LATERAL (SELECT status, on_date FROM relief_reports WHERE infusion_id = i.id
	                   ORDER BY created_at DESC, id DESC LIMIT 1) r ON true
	WHERE i.course_id = $1 ORDER BY i.given_on, i.id`

func scanHistory(r pgx.CollectableRow) (clinic.InfusionHistory, error) {
	var h clinic.InfusionHistory
	var status *string
	var on *clinic.Date
	err := r.Scan(&h.ID, &h.GivenOn, &h.Phase, &h.StartedAt, &h.DoseRate, &status, &on)
	if status != nil && on != nil {
		h.Relief = &clinic.Relief{Status: clinic.ReliefStatus(*status), On: *on}
	}
	return h, err
}

// nextVisitOf finds, of patient $1's appointments, the next maintenance
// infusion, booked (an additional infusion is not the next one).
const nextVisitOf = `WHERE patient_id = $1 AND status = 'booked' AND kind = 'maintenance' AND additional_reason IS NULL
	ORDER BY starts_at LIMIT 1`

const nextVisitSQL = `SELECT id, starts_at FROM appointments ` + nextVisitOf

const changesSQL = `
	SELECT ic.changed_at, coalesce(u.name, 'system'), ic.note, ic.before, ic.after
	FROM interval_changes ic LEFT JOIN users u ON u.id = ic.changed_by
	WHERE ic.course_id = $1 ORDER BY ic.changed_at DESC, ic.id DESC`

// journalSQL reads a patient's journal from a day on, oldest first.
const journalSQL = `
	SELECT j.id, j.on_date, j.pain, j.sleep, j.mobility, j.mood, j.breakthrough, j.breakthrough_doses, j.note,
	       g.pain, g.enjoyment, g.activity
	FROM journal_entries j LEFT JOIN peg_scores g ON g.journal_id = j.id
	WHERE j.patient_id = $1 AND j.on_date >= $2 ORDER BY j.on_date, j.id`

func scanJournal(r pgx.CollectableRow) (clinic.JournalEntry, error) {
	var e clinic.JournalEntry
	var pain, enjoyment, activity *int
	err := r.Scan(&e.ID, &e.On, &e.Pain, &e.Sleep, &e.Mobility, &e.Mood, &e.Breakthrough, &e.BreakthroughDoses, &e.Note,
		&pain, &enjoyment, &activity)
	if pain != nil && enjoyment != nil && activity != nil {
		e.PEG = &clinic.PEG{Pain: *pain, Enjoyment: *enjoyment, Activity: *activity}
	}
	return e, err
}

// courseFacts are what a course's plan depends on.
type courseFacts struct {
	History []clinic.InfusionHistory
	Next    *clinic.NextVisit
	Changes []IntervalChange // only when asked for
	Journal []clinic.JournalEntry
}

// signalDays is how far back the signals between visits read the journal.
const signalDays = clinic.RecentDays + clinic.BeforeDays

// planFacts reads, in one round trip, what a course's plan depends on: its
// infusions with their latest relief, whether a maintenance visit is booked
// ahead, the patient's journal from journalSince on and (withChanges) the
// interval history.
func planFacts(ctx context.Context, tx pgx.Tx, c clinic.Course, loc *time.Location, withChanges bool, journalSince clinic.Date) (courseFacts, error) {
	var f courseFacts
	b := &pgx.Batch{}
	b.Queue(historySQL, c.ID)
	b.Queue(nextVisitSQL, c.PatientID)
	b.Queue(journalSQL, c.PatientID, journalSince)
	if withChanges {
		b.Queue(changesSQL, c.ID)
	}
	br := tx.SendBatch(ctx, b)
	defer br.Close()
	rows, err := br.Query()
	if err != nil {
		return f, err
	}
	if f.History, err = pgx.CollectRows(rows, scanHistory); err != nil {
		return f, err
	}
	next := &clinic.NextVisit{}
	switch err := br.QueryRow().Scan(&next.AppointmentID, &next.Start); {
	case isNoRows(err):
	case err != nil:
		return f, err
	default:
		next.On = clinic.DateOf(next.Start, loc)
		f.Next = next
	}
	if rows, err = br.Query(); err != nil {
		return f, err
	}
	if f.Journal, err = pgx.CollectRows(rows, scanJournal); err != nil {
		return f, err
	}
	if withChanges {
		if rows, err = br.Query(); err != nil {
			return f, err
		}
		if f.Changes, err = pgx.CollectRows(rows, scanChange); err != nil {
			return f, err
		}
	}
	return f, br.Close()
}

// planCourse computes a course's plan from its facts. A course still
// loading (or paused, or ended) has no due date.
func planCourse(c clinic.Course, f courseFacts, now time.Time, sched clinic.Schedule) clinic.Plan {
	p := clinic.PlanMaintenance(clinic.PlanInput{Intervals: c.Intervals(), Infusions: f.History, Today: clinic.DateOf(now, sched.Loc), Next: f.Next,
		Style: sched.Settings.Style, Journal: f.Journal})
	switch c.Phase {
	case clinic.PhaseLoading:
		p.HasDue, p.Flags = false, nil
		p.Rationale = "The loading series is under way; the maintenance plan starts from its last session."
	case clinic.PhasePaused, clinic.PhaseEnded:
		p.HasDue, p.Flags = false, nil
		p.Rationale = fmt.Sprintf("The course is %s: no maintenance infusion is planned.", c.Phase)
	}
	return p
}

// dayFlags are the flags that depend on the day or on bookings; the
// stored plan leaves them out and the lists work them out when read.
var dayFlags = map[string]bool{clinic.FlagReportMissing: true, clinic.FlagDueNotBooked: true}

// refreshPlan recomputes a course's plan and stores it for the work lists.
// Every change to the plan's inputs calls it in its own transaction.
func refreshPlan(ctx context.Context, tx pgx.Tx, courseID int64, now time.Time, sched clinic.Schedule) error {
	loc := sched.Loc
	c, err := courseByID(ctx, tx, courseID)
	if err != nil {
		return err
	}
	facts, err := planFacts(ctx, tx, c, loc, false, clinic.DateOf(now, loc).AddDays(-signalDays))
	if err != nil {
		return err
	}
	p := planCourse(c, facts, now, sched)
	var due *clinic.Date
	var interval *int
	var lastID *int64
	var lastOn *clinic.Date
	reported := false
	if p.Last != nil {
		lastID, lastOn, reported = &p.Last.ID, &p.Last.GivenOn, p.Last.Relief != nil
	}
	if p.HasDue {
		due, interval = &p.DueDate, &p.IntervalDays
	}
	flags := []clinic.Flag{}
	for _, f := range p.Flags {
		if !dayFlags[f.Code] {
			flags = append(flags, f)
		}
	}
	fj, err := json.Marshal(flags)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `
		INSERT INTO course_plans (course_id, patient_id, due_date, interval_days, last_infusion_id, last_infusion_on,
			last_reported, rationale, flags, computed_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now())
		ON CONFLICT (course_id) DO UPDATE SET due_date = $3, interval_days = $4, last_infusion_id = $5,
			last_infusion_on = $6, last_reported = $7, rationale = $8, flags = $9, computed_at = now()`,
		c.ID, c.PatientID, due, interval, lastID, lastOn, reported, p.Rationale, fj)
	return err
}

// RefreshPlans stores a plan for every open course that has none yet:
// courses from before plans were stored (an older schema). Every change to
// a plan's inputs keeps the others current, so start-up need not
// recompute them.
func (db *DB) RefreshPlans(ctx context.Context, now time.Time) (int, error) {
	n := 0
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		sched, err := db.schedule(ctx, tx)
		if err != nil {
			return err
		}
		n, err = refreshMissingPlans(ctx, tx, now, sched)
		return err
	})
	return n, err
}

// refreshMissingPlans computes the plan of every open course without one,
// inside tx.
func refreshMissingPlans(ctx context.Context, tx pgx.Tx, now time.Time, sched clinic.Schedule) (int, error) {
	rows, err := tx.Query(ctx, `SELECT id FROM courses c WHERE phase <> 'ended'
		AND NOT EXISTS (SELECT 1 FROM course_plans p WHERE p.course_id = c.id)`)
	if err != nil {
		return 0, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return 0, err
	}
	for _, id := range ids {
		if err := refreshPlan(ctx, tx, id, now, sched); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}

// InfusionRow is an infusion with its latest relief report, as lists show it.
type InfusionRow struct {
	clinic.Infusion
	Relief      *clinic.Relief
	Source      string
	DoseMgPerH  *float64
	TotalMg     *float64
	ReportCount int
}

// PatientInfusions lists a patient's infusions, newest first; ENOTFOUND
// for a patient there is not. Audited.
func (db *DB) PatientInfusions(ctx context.Context, patientID int64) ([]InfusionRow, error) {
	var out []InfusionRow
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		if out, err = queryInfusions(ctx, tx, `WHERE i.patient_id = $1 ORDER BY i.given_on DESC, i.id DESC`, patientID); err != nil {
			return err
		}
		if len(out) == 0 {
			if err := patientExists(ctx, tx, patientID); err != nil {
				return err
			}
		}
		return audit(ctx, tx, clinic.AuditEntry{Action: "infusion.list", Entity: "infusion", PatientID: &patientID})
	})
	return out, err
}

// queryInfusions reads infusions with their latest relief report; where
// selects them.
func queryInfusions(ctx context.Context, tx pgx.Tx, where string, args ...any) ([]InfusionRow, error) {
	rows, err := tx.Query(ctx, `
		SELECT i.id, i.patient_id, i.course_id, i.appointment_id, i.given_on, i.started_at, i.phase, i.route,
		       i.dose_mg_per_kg_h::float8, i.weight_kg::float8, i.minutes, i.source, i.dose_mg_per_h::float8, i.total_mg::float8,
		       r.status, r.on_date, (SELECT count(*) FROM relief_reports rr WHERE rr.infusion_id = i.id)
		FROM infusions i
		LEFT JOIN LATERAL (SELECT status, on_date FROM relief_reports WHERE infusion_id = i.id
		                   ORDER BY created_at DESC, id DESC LIMIT 1) r ON true
		`+where, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (InfusionRow, error) {
		var x InfusionRow
		var status *string
		var on *clinic.Date
		err := r.Scan(&x.ID, &x.PatientID, &x.CourseID, &x.AppointmentID, &x.GivenOn, &x.StartedAt, &x.Phase, &x.Route,
			&x.DoseMgPerKgH, &x.WeightKg, &x.Minutes, &x.Source, &x.DoseMgPerH, &x.TotalMg, &status, &on, &x.ReportCount)
		if status != nil && on != nil {
			x.Relief = &clinic.Relief{Status: clinic.ReliefStatus(*status), On: *on}
		}
		return x, err
	})
}

// CompletedVisit is a visit completed: the appointment and, for an
// infusion visit, the infusion recorded.
type CompletedVisit struct {
	Appointment clinic.Appointment
	Infusion    *InfusionRow // nil for a consultation
}

// CompleteVisit completes a visit in one transaction: a consultation as it
// is, an infusion visit with the record (as RecordInfusion does). Without
// a weight (weightGiven false) the record takes the one on the patient's
// file.
func (db *DB) CompleteVisit(ctx context.Context, id int64, version int, rec clinic.InfusionRecord, weightGiven bool, now time.Time) (CompletedVisit, error) {
	var out CompletedVisit
	a, err := db.change(ctx, id, version, clinic.ActComplete, now, "appointment.complete",
		func(ctx context.Context, tx pgx.Tx, a *clinic.Appointment, sched clinic.Schedule) error {
			out.Infusion = nil // a retried transaction starts afresh
			if a.Kind == clinic.KindConsult {
				return applyStatus(ctx, tx, a, clinic.StatusCompleted, now, sched)
			}
			if !weightGiven {
				var onFile *float64
				if err := tx.QueryRow(ctx, `SELECT weight_kg::float8 FROM patients WHERE id = $1`, a.PatientID).Scan(&onFile); err != nil {
					return err
				}
				if onFile != nil {
					rec.WeightKg = *onFile
				}
			}
			infusionID, err := db.recordInfusion(ctx, tx, a, sched, rec, nil, now)
			if err != nil {
				return err
			}
			rows, err := queryInfusions(ctx, tx, `WHERE i.id = $1`, infusionID)
			if err == nil && len(rows) == 1 {
				out.Infusion = &rows[0]
			}
			return err
		})
	out.Appointment = a
	return out, err
}

// RecordInfusion completes an appointment with the nurse's infusion record,
// in one transaction: the appointment completed, the infusion stored, the
// course moved to maintenance after its last loading session, the plan
// recomputed. It returns the infusion's id.
//
// previous, when not nil, is a relief report about the patient's infusion
// before this one, asked at this visit: stored in the same transaction, so
// the nurse's save keeps both or neither.
func (db *DB) RecordInfusion(ctx context.Context, appointmentID int64, version int, rec clinic.InfusionRecord, previous *clinic.ReliefReport, now time.Time) (int64, error) {
	var infusionID int64
	_, err := db.change(ctx, appointmentID, version, clinic.ActComplete, now, "appointment.complete",
		func(ctx context.Context, tx pgx.Tx, a *clinic.Appointment, sched clinic.Schedule) error {
			var err error
			infusionID, err = db.recordInfusion(ctx, tx, a, sched, rec, previous, now)
			return err
		})
	return infusionID, err
}

// recordInfusion stores an infusion visit's record inside tx and
// completes the visit (RecordInfusion).
func (db *DB) recordInfusion(ctx context.Context, tx pgx.Tx, a *clinic.Appointment, sched clinic.Schedule, rec clinic.InfusionRecord, previous *clinic.ReliefReport, now time.Time) (int64, error) {
	var infusionID int64
	if a.Kind == clinic.KindConsult {
		return 0, clinic.Errorf(clinic.EINVALID, "A consultation has no infusion to record; complete it without one.")
	}
	course, err := visitCourse(ctx, tx, *a)
	if err != nil {
		return 0, err
	}
	if course == nil {
		return 0, clinic.Errorf(clinic.ECONFLICT, "The patient has no treatment course; open one (with its protocol) before recording an infusion.")
	}
	if err := rec.Validate(course.Numbers.DoseMinMgPerKgH, course.Numbers.DoseMaxMgPerKgH); err != nil {
		return 0, err
	}
	if previous != nil {
		if _, err := db.reportRelief(ctx, tx, *previous, &a.PatientID, now); err != nil {
			return 0, err
		}
	}
	if rec.StartedAt.IsZero() {
		rec.StartedAt = a.Start
	}
	phase := clinic.PhaseMaintenance
	if a.Kind == clinic.KindLoading {
		phase = clinic.PhaseLoading
	}
	effects, err := json.Marshal(append([]clinic.SideEffect{}, rec.SideEffects...))
	if err != nil {
		return 0, err
	}
	err = tx.QueryRow(ctx, `
		INSERT INTO infusions (patient_id, course_id, appointment_id, given_on, started_at, phase, route,
			dose_mg_per_kg_h, weight_kg, minutes, source, recorded_by, dose_mg_per_h, total_mg, dose_reason,
			bp_systolic_before, bp_diastolic_before, heart_rate_before, spo2_before,
			bp_systolic_after, bp_diastolic_after, heart_rate_after, spo2_after,
			pain_before, pain_after, side_effects, driver_confirmed)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'recorded', $11, $12, $13, $14,
			$15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26)
		RETURNING id`,
		a.PatientID, course.ID, a.ID, clinic.DateOf(rec.StartedAt, sched.Loc), rec.StartedAt, phase, rec.Route,
		rec.DoseRate, rec.WeightKg, rec.Minutes, clinic.ActorFrom(ctx).UserID(),
		clinic.DoseMgPerHour(rec.DoseRate, rec.WeightKg), clinic.TotalMg(rec.DoseRate, rec.WeightKg, rec.Minutes), rec.DoseReason,
		rec.Before.Systolic, rec.Before.Diastolic, rec.Before.HeartRate, rec.Before.SpO2,
		rec.After.Systolic, rec.After.Diastolic, rec.After.HeartRate, rec.After.SpO2,
		rec.PainBefore, rec.PainAfter, effects, rec.DriverConfirmed).Scan(&infusionID)
	if err != nil {
		return 0, err
	}
	if err := completeRecorded(ctx, tx, a, course.ID, rec.PEG, now, sched); err != nil {
		return 0, err
	}
	return infusionID, audit(ctx, tx, clinic.AuditEntry{Action: "infusion.record", Entity: "infusion", EntityID: &infusionID,
		PatientID: &a.PatientID, After: rec})
}

// completeRecorded completes a visit whose infusion was just recorded:
// its PEG kept, the appointment completed, the loading series finished
// after its last session, the plan recomputed.
func completeRecorded(ctx context.Context, tx pgx.Tx, a *clinic.Appointment, courseID int64, peg *clinic.PEG, now time.Time, sched clinic.Schedule) error {
	if peg != nil {
		if err := setVisitPEG(ctx, tx, *a, *peg, sched.Loc); err != nil {
			return err
		}
	}
	a.Status = clinic.StatusCompleted
	if _, err := tx.Exec(ctx, `UPDATE appointments SET status = 'completed', completed_at = $2,
		course_id = coalesce(course_id, $3), version = version + 1, updated_at = now() WHERE id = $1`, a.ID, now, courseID); err != nil {
		return err
	}
	if a.SeriesID != nil {
		if _, err := finishLoading(ctx, tx, courseID, *a.SessionNo); err != nil {
			return err
		}
	}
	return refreshPlan(ctx, tx, courseID, now, sched)
}

// ImportInfusion records a past infusion from a paper chart, attached to
// the patient's open course, and recomputes the plan. It returns the
// infusion as stored.
func (db *DB) ImportInfusion(ctx context.Context, patientID int64, on clinic.Date, at *clinic.Clock, phase clinic.Phase, rate float64, now time.Time) (InfusionRow, error) {
	var id int64
	var out InfusionRow
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		course, err := courseOfPatient(ctx, tx, patientID)
		if err != nil {
			return err
		}
		if course == nil {
			return clinic.Errorf(clinic.ECONFLICT, "The patient has no open treatment course; open one before importing their history.")
		}
		sched, err := db.schedule(ctx, tx)
		if err != nil {
			return err
		}
		if err := clinic.CheckImport(on, phase, rate, clinic.DateOf(now, sched.Loc)); err != nil {
			return err
		}
		var started *time.Time
		if at != nil {
			t := on.At(*at, sched.Loc)
			started = &t
		}
		if id, err = insertInfusion(ctx, tx, clinic.Infusion{PatientID: patientID, CourseID: course.ID, GivenOn: on, StartedAt: started,
			Phase: phase, DoseMgPerKgH: rate}, "imported"); err != nil {
			return err
		}
		// History that reaches maintenance (or completes the loading) puts the course there.
		if _, err := tx.Exec(ctx, `UPDATE courses SET phase = 'maintenance', version = version + 1, updated_at = now()
			WHERE id = $1 AND phase = 'loading' AND ($2 = 'maintenance' OR sessions <= (SELECT count(*) FROM infusions
			WHERE course_id = $1 AND phase = 'loading'))`, course.ID, string(phase)); err != nil {
			return err
		}
		if err := refreshPlan(ctx, tx, course.ID, now, sched); err != nil {
			return err
		}
		if err := audit(ctx, tx, clinic.AuditEntry{Action: "infusion.import", Entity: "infusion", EntityID: &id, PatientID: &patientID,
			After: map[string]any{"date": on.String(), "phase": phase, "dose_mg_per_kg_h": rate}}); err != nil {
			return err
		}
		rows, err := queryInfusions(ctx, tx, `WHERE i.id = $1`, id)
		if err == nil && len(rows) == 1 {
			out = rows[0]
		}
		return err
	})
	return out, err
}

// ReportRelief records that relief after an infusion ended, or was still
// holding, on a date; the latest report counts and the plan is recomputed.
// onlyPatient, when set, limits the report to that patient's infusions
// (the portal).
func (db *DB) ReportRelief(ctx context.Context, infusionID int64, status clinic.ReliefStatus, on clinic.Date, source string, onlyPatient *int64, now time.Time) (int64, error) {
	var id int64
	if err := status.Check(); err != nil {
		return 0, err
	}
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		id, err = db.reportRelief(ctx, tx, clinic.ReliefReport{InfusionID: infusionID, Status: status, OnDate: on, Source: source}, onlyPatient, now)
		return err
	})
	return id, err
}

// reportRelief stores a relief report inside tx, recomputes the plan and
// audits the report.
func (db *DB) reportRelief(ctx context.Context, tx pgx.Tx, rep clinic.ReliefReport, onlyPatient *int64, now time.Time) (int64, error) {
	var patientID, courseID int64
	var given clinic.Date
	err := tx.QueryRow(ctx, `SELECT patient_id, course_id, given_on FROM infusions WHERE id = $1 AND ($2::bigint IS NULL OR patient_id = $2)`,
		rep.InfusionID, onlyPatient).Scan(&patientID, &courseID, &given)
	if isNoRows(err) {
		return 0, clinic.Errorf(clinic.ENOTFOUND, "There is no such infusion.")
	}
	if err != nil {
		return 0, err
	}
	sched, err := db.schedule(ctx, tx)
	if err != nil {
		return 0, err
	}
	if err := clinic.ReliefDate(rep.OnDate, given, clinic.DateOf(now, sched.Loc), sched.Settings.Style); err != nil {
		return 0, err
	}
	id, err := insertRelief(ctx, tx, rep)
	if err != nil {
		return 0, err
	}
	if err := refreshPlan(ctx, tx, courseID, now, sched); err != nil {
		return 0, err
	}
	return id, audit(ctx, tx, clinic.AuditEntry{Action: "relief.report", Entity: "infusion", EntityID: &rep.InfusionID, PatientID: &patientID,
		After: map[string]string{"status": string(rep.Status), "date": rep.OnDate.String(), "source": rep.Source}})
}

// IntervalChange is one change of a course's maintenance numbers.
type IntervalChange struct {
	At     time.Time
	By     string
	Note   string
	Before clinic.Intervals
	After  clinic.Intervals
}

// PlanView is a patient's maintenance plan with everything behind it.
type PlanView struct {
	Course    *clinic.Course // nil: no open course
	Plan      clinic.Plan
	Slot      *clinic.Slot // the suggested maintenance slot; nil when none
	History   []clinic.InfusionHistory
	Changes   []IntervalChange // newest first
	Loc       *time.Location
	PatientID int64
}

// PatientPlan computes a patient's plan from the database (always fresh)
// with the suggested slot. Audited as a read of the patient.
func (db *DB) PatientPlan(ctx context.Context, patientID int64, now time.Time) (PlanView, error) {
	v := PlanView{PatientID: patientID}
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		course, err := courseOfPatient(ctx, tx, patientID)
		if err != nil {
			return err
		}
		sched, err := db.schedule(ctx, tx)
		if err != nil {
			return err
		}
		v.Loc, v.Course = sched.Loc, course
		if course == nil {
			v.Plan.Rationale = "No open treatment course."
			return audit(ctx, tx, clinic.AuditEntry{Action: "plan.read", Entity: "course", PatientID: &patientID})
		}
		facts, err := planFacts(ctx, tx, *course, sched.Loc, true, clinic.DateOf(now, sched.Loc).AddDays(-signalDays))
		if err != nil {
			return err
		}
		v.History, v.Changes = facts.History, facts.Changes
		v.Plan = planCourse(*course, facts, now, sched)
		if v.Plan.HasDue && v.Plan.Next == nil { // a booked next infusion needs no suggestion
			if v.Slot, err = suggestSlot(ctx, tx, sched, v.Plan, *course, now); err != nil {
				return err
			}
		}
		return audit(ctx, tx, clinic.AuditEntry{Action: "plan.read", Entity: "course", EntityID: &course.ID, PatientID: &patientID})
	})
	return v, err
}

// suggestSlot finds the plan's suggested slot, reading the calendar around
// the due date first (3 days before, two weeks after) and only further
// when that has no room.
func suggestSlot(ctx context.Context, q querier, sched clinic.Schedule, p clinic.Plan, course clinic.Course, now time.Time) (*clinic.Slot, error) {
	pref := clinic.DefaultPreferredTime
	if p.Last.StartedAt != nil {
		pref = clinic.ClockOf(*p.Last.StartedAt, sched.Loc)
	}
	minutes := course.Numbers.MaintenanceInfusionMinutes + course.Numbers.MaintenanceRecoveryMinutes
	today := clinic.DateOf(now, sched.Loc)
	due := p.DueDate
	if !due.After(today) {
		due = today.AddDays(1) // past due: from tomorrow
	}
	from := due.AddDays(-3)
	if !from.After(today) {
		from = today
	}
	// The due date and the three days before first; later days only when
	// those have no room.
	for _, after := range []int{0, 7, 30, 120} {
		to := due.AddDays(after)
		cal, err := nursedCalendar(ctx, q, sched, from, to)
		if err != nil {
			return nil, err
		}
		if s, ok := cal.SuggestSlot(p.DueDate, pref, minutes, course.PatientID, now); ok && !clinic.DateOf(s.Start, sched.Loc).After(to) {
			return &s, nil
		}
	}
	return nil, nil
}

func scanChange(r pgx.CollectableRow) (IntervalChange, error) {
	var c IntervalChange
	var before, after []byte
	if err := r.Scan(&c.At, &c.By, &c.Note, &before, &after); err != nil {
		return c, err
	}
	if err := json.Unmarshal(before, &c.Before); err != nil {
		return c, err
	}
	return c, json.Unmarshal(after, &c.After)
}

// IntervalUpdate changes some of a course's maintenance numbers; nil keeps
// a number. SetFixed with Fixed nil clears a fixed interval.
type IntervalUpdate struct {
	SetFixed                    bool
	Fixed                       *int
	First, Min, Max, Lead, Step *int
	BookBefore, BookAfter       *int // the self-booking window's days
	Note                        string
}

// UpdateIntervals applies a physician's change to the patient's open
// course, keeps it in the interval history (who, when, why, old → new) and
// recomputes the plan.
func (db *DB) UpdateIntervals(ctx context.Context, patientID int64, u IntervalUpdate, now time.Time) error {
	return db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		course, err := courseOfPatient(ctx, tx, patientID)
		if err != nil {
			return err
		}
		if course == nil {
			return clinic.Errorf(clinic.ECONFLICT, "The patient has no open treatment course.")
		}
		before := course.Intervals()
		after := before
		if u.SetFixed {
			after.Fixed = u.Fixed
		}
		for _, x := range []struct {
			dst *int
			v   *int
		}{{&after.First, u.First}, {&after.Min, u.Min}, {&after.Max, u.Max}, {&after.Lead, u.Lead}, {&after.Step, u.Step},
			{&after.DaysBefore, u.BookBefore}, {&after.DaysAfter, u.BookAfter}} {
			if x.v != nil {
				*x.dst = *x.v
			}
		}
		if err := clinic.ValidateIntervals(after, u.Note); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE courses SET fixed_interval_days = $2, first_interval_days = $3, min_interval_days = $4,
			max_interval_days = $5, lead_days = $6, step_days = $7, self_booking_days_before = $8, self_booking_days_after = $9,
			version = version + 1, updated_at = now() WHERE id = $1`,
			course.ID, after.Fixed, after.First, after.Min, after.Max, after.Lead, after.Step, after.DaysBefore, after.DaysAfter); err != nil {
			return err
		}
		bj, _ := json.Marshal(before)
		aj, _ := json.Marshal(after)
		if _, err := tx.Exec(ctx, `INSERT INTO interval_changes (course_id, changed_by, note, before, after) VALUES ($1, $2, $3, $4, $5)`,
			course.ID, clinic.ActorFrom(ctx).UserID(), strings.TrimSpace(u.Note), bj, aj); err != nil {
			return err
		}
		sched, err := db.schedule(ctx, tx)
		if err != nil {
			return err
		}
		if err := refreshPlan(ctx, tx, course.ID, now, sched); err != nil {
			return err
		}
		return audit(ctx, tx, clinic.AuditEntry{Action: "course.intervals", Entity: "course", EntityID: &course.ID, PatientID: &patientID,
			Before: before, After: map[string]any{"intervals": after, "note": u.Note}})
	})
}
