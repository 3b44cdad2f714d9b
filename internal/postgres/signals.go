package postgres

import (
	"context"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/jackc/pgx/v5"
)

// PEG answers and the signals between visits: the journal and the PEG
// asked at a visit feed the plan's flags and the physician's charts.

// PEGScore is one PEG answer: from the journal or asked at a visit.
type PEGScore struct {
	On            clinic.Date
	PEG           clinic.PEG
	Source        string // "journal" or "visit"
	AppointmentID *int64
}

func pegScores(ctx context.Context, q querier, patientID int64, since clinic.Date) ([]PEGScore, error) {
	rows, err := q.Query(ctx, `SELECT on_date, pain, enjoyment, activity, source, appointment_id FROM peg_scores
		WHERE patient_id = $1 AND on_date >= $2 ORDER BY on_date, id`, patientID, since)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (PEGScore, error) {
		var g PEGScore
		err := r.Scan(&g.On, &g.PEG.Pain, &g.PEG.Enjoyment, &g.PEG.Activity, &g.Source, &g.AppointmentID)
		return g, err
	})
}

// setVisitPEG stores the PEG asked at an infusion visit before it starts
// (the nurse's form or the patient's tablet); asked again, the newer
// answer stands.
func setVisitPEG(ctx context.Context, tx pgx.Tx, a clinic.Appointment, g clinic.PEG, loc *time.Location) error {
	_, err := tx.Exec(ctx, `
		INSERT INTO peg_scores (patient_id, on_date, pain, enjoyment, activity, source, appointment_id)
		VALUES ($1, $2, $3, $4, $5, 'visit', $6)
		ON CONFLICT (appointment_id) DO UPDATE SET pain = $3, enjoyment = $4, activity = $5, created_at = now()`,
		a.PatientID, clinic.DateOf(a.Start, loc), g.Pain, g.Enjoyment, g.Activity, a.ID)
	return err
}

// VisitPEG is the PEG asked at a visit; nil when not yet asked.
func (db *DB) VisitPEG(ctx context.Context, appointmentID int64) (*clinic.PEG, error) {
	g, err := visitPEG(ctx, db.q(ctx), appointmentID)
	return g, mapError(err)
}

func visitPEG(ctx context.Context, q querier, appointmentID int64) (*clinic.PEG, error) {
	var g clinic.PEG
	err := q.QueryRow(ctx, `SELECT pain, enjoyment, activity FROM peg_scores WHERE appointment_id = $1`, appointmentID).Scan(
		&g.Pain, &g.Enjoyment, &g.Activity)
	if isNoRows(err) {
		return nil, nil
	}
	return &g, err
}

// SignalHistory is what the physician's chart beside relief shows: the
// patient's journal (an audited read, Journal) and PEG answers from since
// on, oldest first.
func (db *DB) SignalHistory(ctx context.Context, patientID int64, since clinic.Date) ([]clinic.JournalEntry, []PEGScore, error) {
	journal, err := db.Journal(ctx, patientID, since)
	if err != nil {
		return nil, nil, err
	}
	peg, err := pegScores(ctx, db.q(ctx), patientID, since)
	return journal, peg, mapError(err)
}

// refreshPatientPlan recomputes the plan of the patient's open course, if
// there is one.
func refreshPatientPlan(ctx context.Context, tx pgx.Tx, patientID int64, now time.Time, sched clinic.Schedule) error {
	c, err := courseOfPatient(ctx, tx, patientID)
	if err != nil || c == nil {
		return err
	}
	return refreshPlan(ctx, tx, c.ID, now, sched)
}

// RefreshSignals recomputes the stored plans whose signals between visits
// may have changed with the day: those of patients with journal entries in
// the signals' windows, or just out of them. It runs daily.
func (db *DB) RefreshSignals(ctx context.Context, now time.Time) (int, error) {
	n := 0
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		sched, err := db.schedule(ctx, tx)
		if err != nil {
			return err
		}
		today := clinic.DateOf(now, sched.Loc)
		rows, err := tx.Query(ctx, `SELECT c.id FROM courses c WHERE c.phase = 'maintenance' AND EXISTS (
			SELECT 1 FROM journal_entries j WHERE j.patient_id = c.patient_id AND j.on_date >= $1) ORDER BY c.id`,
			today.AddDays(-signalDays-1))
		if err != nil {
			return err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		for _, id := range ids {
			if err := refreshPlan(ctx, tx, id, now, sched); err != nil {
				return err
			}
		}
		n = len(ids)
		return nil
	})
	return n, err
}

// pegReminderHour is the clinic-local hour the weekly PEG reminders go
// out at, at the earliest.
const pegReminderHour = 10

// SchedulePEGReminders writes the weekly PEG reminder of every patient
// with a portal account and a course under way who is due one
// (clinic.PEGReminderDue), by the channels they accept; it returns how
// many messages it scheduled. Run again the same day, it schedules none.
func (db *DB) SchedulePEGReminders(ctx context.Context, now time.Time) (int, error) {
	n := 0
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		n = 0
		sched, err := db.schedule(ctx, tx)
		if err != nil {
			return err
		}
		today := clinic.DateOf(now, sched.Loc)
		var due []int64
		rows, err := tx.Query(ctx, `
			SELECT p.id, (SELECT max(on_date) FROM peg_scores g WHERE g.patient_id = p.id),
			       (SELECT max(scheduled_for) FROM messages m WHERE m.patient_id = p.id AND m.kind = 'peg')
			FROM patients p
			WHERE EXISTS (SELECT 1 FROM users u WHERE u.patient_id = p.id AND u.disabled_at IS NULL)
			  AND EXISTS (SELECT 1 FROM courses c WHERE c.patient_id = p.id AND c.phase IN ('loading', 'maintenance'))
			ORDER BY p.id`)
		if err != nil {
			return err
		}
		var id int64
		var answered *clinic.Date
		var reminded *time.Time
		_, err = pgx.ForEachRow(rows, []any{&id, &answered, &reminded}, func() error {
			var last *clinic.Date
			if reminded != nil {
				d := clinic.DateOf(*reminded, sched.Loc)
				last = &d
			}
			if clinic.PEGReminderDue(answered, last, today) {
				due = append(due, id)
			}
			return nil
		})
		if err != nil {
			return err
		}
		// Sent in the morning, not at the hour the job happens to run.
		at := now
		if morning := today.At(pegReminderHour*60, sched.Loc); at.Before(morning) {
			at = morning
		}
		var ms []newMessage
		for _, pid := range due {
			to, err := recipient(ctx, tx, pid)
			if err != nil {
				return err
			}
			for _, ch := range to.Channels(sched.Settings.Reminders) {
				ms = append(ms, newMessage{PatientID: pid, Kind: clinic.MessagePEG, Channel: ch, At: at})
			}
		}
		n = len(ms)
		return db.enqueueMessages(ctx, tx, ms)
	})
	return n, err
}
