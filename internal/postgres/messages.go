package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
)

// Messages to patients are rows in messages, each sent by a River job
// (deliver.go). Both are written in the transaction of the change that
// causes them: a booking rolled back sends nothing, a committed one always
// has its messages, whatever happens to the process afterwards.

// deliverArgs is the job that sends one message.
type deliverArgs struct {
	Message int64 `json:"message"`
}

func (deliverArgs) Kind() string { return "message" }

// messageAttempts is how often a message is tried before it is failed and
// listed for the desk.
const messageAttempts = 10

// visitRef is a visit as a message was written for it: a message whose
// visits no longer start then is not sent.
type visitRef struct {
	ID    int64     `json:"id"`
	Start time.Time `json:"start"`
}

func refs(as []clinic.Appointment) []visitRef {
	out := make([]visitRef, len(as))
	for i, a := range as {
		out[i] = visitRef{a.ID, a.Start}
	}
	return out
}

// newMessage is a message to store and schedule.
type newMessage struct {
	PatientID     int64
	AppointmentID *int64
	SeriesID      *int64
	Kind          clinic.MessageKind
	Channel       clinic.Channel
	At            time.Time
	Visits, Was   []visitRef
	Link          string // an invitation's link
	OfferID       *int64 // an offer's
}

// recipient loads how a patient is reached.
func recipient(ctx context.Context, tx pgx.Tx, patientID int64) (clinic.Recipient, error) {
	var to clinic.Recipient
	err := tx.QueryRow(ctx, `SELECT email, phone, contact_by, sms_opted_out_at IS NOT NULL FROM patients WHERE id = $1`, patientID).Scan(
		&to.Email, &to.Phone, &to.ContactBy, &to.SMSOptedOut)
	return to, err
}

// notifyVisits schedules what a change to one patient's visits sends
// (clinic.PlanVisitMessages): the message of kind about all of them, and
// for a booking or a move each visit's reminders. was are the visits' times
// before a move.
func (db *DB) notifyVisits(ctx context.Context, tx pgx.Tx, kind clinic.MessageKind, visits, was []clinic.Appointment, sched clinic.Schedule, now time.Time) error {
	if len(visits) == 0 {
		return nil
	}
	to, err := recipient(ctx, tx, visits[0].PatientID)
	if err != nil {
		return err
	}
	nv := make([]clinic.NoticeVisit, len(visits))
	for i, v := range visits {
		nv[i] = clinic.NoticeVisit{Kind: v.Kind, Start: v.Start, End: v.End}
	}
	var ms []newMessage
	for _, p := range clinic.PlanVisitMessages(kind, nv, to, sched.Settings.Reminders, now, sched.Loc) {
		m := newMessage{PatientID: visits[0].PatientID, Kind: p.Kind, Channel: p.Channel, At: p.At}
		if p.Visit < 0 {
			m.AppointmentID, m.SeriesID, m.Visits, m.Was = &visits[0].ID, visits[0].SeriesID, refs(visits), refs(was)
		} else {
			v := visits[p.Visit]
			m.AppointmentID, m.SeriesID, m.Visits = &v.ID, v.SeriesID, refs([]clinic.Appointment{v})
		}
		ms = append(ms, m)
	}
	return db.enqueueMessages(ctx, tx, ms)
}

// enqueueMessages stores messages and their jobs, in three round trips
// whatever their number.
func (db *DB) enqueueMessages(ctx context.Context, tx pgx.Tx, ms []newMessage) error {
	if len(ms) == 0 {
		return nil
	}
	batch := &pgx.Batch{}
	for _, m := range ms {
		batch.Queue(`
			INSERT INTO messages (patient_id, appointment_id, series_id, kind, channel, scheduled_for, visits, was, message_key, link, offer_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, nullif($10, ''), $11) RETURNING id`,
			m.PatientID, m.AppointmentID, m.SeriesID, m.Kind, m.Channel, m.At, orEmpty(m.Visits), orEmpty(m.Was), messageKey(), m.Link, m.OfferID)
	}
	ids := make([]int64, len(ms))
	br := tx.SendBatch(ctx, batch)
	for i := range ms {
		if err := br.QueryRow().Scan(&ids[i]); err != nil {
			br.Close()
			return err
		}
	}
	if err := br.Close(); err != nil {
		return err
	}
	params := make([]river.InsertManyParams, len(ms))
	for i, m := range ms {
		opts := &river.InsertOpts{MaxAttempts: messageAttempts}
		if m.At.After(time.Now()) { // River keeps real time; a message due now is worked at once
			opts.ScheduledAt = m.At
		}
		params[i] = river.InsertManyParams{Args: deliverArgs{Message: ids[i]}, InsertOpts: opts}
	}
	res, err := db.jobs.InsertManyTx(ctx, tx, params)
	if err != nil {
		return err
	}
	jobs := make([]int64, len(res))
	for i, r := range res {
		jobs[i] = r.Job.ID
	}
	_, err = tx.Exec(ctx, `UPDATE messages m SET job_id = j.job FROM unnest($1::bigint[], $2::bigint[]) AS j(id, job) WHERE m.id = j.id`, ids, jobs)
	return err
}

func orEmpty(v []visitRef) []visitRef {
	if v == nil {
		return []visitRef{}
	}
	return v
}

// messageKey is a message's lasting name: its Message-ID before the "@".
func messageKey() string {
	b := make([]byte, 12)
	rand.Read(b)
	return "m" + hex.EncodeToString(b)
}

// dropPending drops the messages still to go out about the appointments,
// of the given kinds, saying why; their jobs are cancelled.
func (db *DB) dropPending(ctx context.Context, tx pgx.Tx, appointments []clinic.Appointment, kinds []clinic.MessageKind, why string) error {
	if len(appointments) == 0 {
		return nil
	}
	ids := make([]int64, len(appointments))
	for i, a := range appointments {
		ids[i] = a.ID
	}
	rows, err := tx.Query(ctx, `
		UPDATE messages SET status = 'dropped', error = $3, link = NULL
		WHERE appointment_id = ANY($1) AND kind = ANY($2) AND status = 'scheduled'
		RETURNING job_id`, ids, kinds, why)
	if err != nil {
		return err
	}
	jobs, err := pgx.CollectRows(rows, pgx.RowTo[*int64])
	if err != nil {
		return err
	}
	for _, j := range jobs {
		if j == nil {
			continue
		}
		if _, err := db.jobs.JobCancelTx(ctx, tx, *j); err != nil && !isJobNotFound(err) {
			return err
		}
	}
	return nil
}

func isJobNotFound(err error) bool { return errors.Is(err, river.ErrNotFound) }

// afterMove is what moving visits sends: their old reminders go, a
// "moved" message and new reminders come.
func (db *DB) afterMove(ctx context.Context, tx pgx.Tx, moved, was []clinic.Appointment, sched clinic.Schedule, now time.Time) error {
	if err := db.dropPending(ctx, tx, moved, []clinic.MessageKind{clinic.MessageReminder}, "The visit moved; reminders for the new time replace it."); err != nil {
		return err
	}
	return db.notifyVisits(ctx, tx, clinic.MessageMoved, moved, was, sched, now)
}

// afterCancel is what cancelling visits sends: nothing more about them,
// and one "cancelled" message.
func (db *DB) afterCancel(ctx context.Context, tx pgx.Tx, cancelled []clinic.Appointment, sched clinic.Schedule, now time.Time) error {
	if err := db.dropPending(ctx, tx, cancelled, []clinic.MessageKind{clinic.MessageConfirmation, clinic.MessageReminder, clinic.MessageMoved},
		"The visit was cancelled."); err != nil {
		return err
	}
	return db.notifyVisits(ctx, tx, clinic.MessageCancelled, cancelled, nil, sched, now)
}

const messageSelect = `
	SELECT m.id, m.appointment_id, m.patient_id, p.first_name || ' ' || p.last_name, m.kind, m.channel, m.status,
	       m.scheduled_for, m.sent_at, coalesce(m.error, ''), m.attempts, a.starts_at
	FROM messages m JOIN patients p ON p.id = m.patient_id LEFT JOIN appointments a ON a.id = m.appointment_id`

func scanMessage(r pgx.CollectableRow) (clinic.MessageEntry, error) {
	var m clinic.MessageEntry
	err := r.Scan(&m.ID, &m.AppointmentID, &m.PatientID, &m.PatientName, &m.Kind, &m.Channel, &m.Status,
		&m.ScheduledFor, &m.SentAt, &m.Error, &m.Attempts, &m.VisitStart)
	return m, err
}

// AppointmentMessages is the message log of one appointment, oldest
// first: every message that names it. Audited as a read.
func (db *DB) AppointmentMessages(ctx context.Context, appointmentID int64) ([]clinic.MessageEntry, error) {
	var out []clinic.MessageEntry
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		patientID, err := patientOfAppointment(ctx, tx, appointmentID)
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, messageSelect+`
			WHERE m.visits @> jsonb_build_array(jsonb_build_object('id', $1::bigint)) -- every message lists the visits it is about
			ORDER BY m.scheduled_for, m.id`, appointmentID)
		if err != nil {
			return err
		}
		if out, err = pgx.CollectRows(rows, scanMessage); err != nil {
			return err
		}
		return audit(ctx, tx, clinic.AuditEntry{Action: "messages.read", Entity: "appointment", EntityID: &appointmentID, PatientID: &patientID})
	})
	return out, err
}

// FailedMessages lists the messages that could not be sent, newest first.
func (db *DB) FailedMessages(ctx context.Context) ([]clinic.MessageEntry, error) {
	rows, err := db.q(ctx).Query(ctx, messageSelect+` WHERE m.status = 'failed' ORDER BY m.scheduled_for DESC, m.id DESC LIMIT 200`)
	if err != nil {
		return nil, mapError(err)
	}
	out, err := pgx.CollectRows(rows, scanMessage)
	return out, mapError(err)
}

// RetryMessage sends a failed message again, now.
func (db *DB) RetryMessage(ctx context.Context, id int64) error {
	return db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var job *int64
		var patientID int64
		err := tx.QueryRow(ctx, `
			UPDATE messages SET status = 'scheduled' WHERE id = $1 AND status = 'failed'
			RETURNING job_id, patient_id`, id).Scan(&job, &patientID)
		if isNoRows(err) {
			return clinic.Errorf(clinic.ECONFLICT, "This message is not failed (it was sent, dropped or is being tried again already).")
		}
		if err != nil {
			return err
		}
		retried := false
		if job != nil {
			if _, err := db.jobs.JobRetryTx(ctx, tx, *job); err == nil {
				retried = true
			} else if !isJobNotFound(err) {
				return err
			}
		}
		if !retried { // its job was cleaned away: a new one
			res, err := db.jobs.InsertTx(ctx, tx, deliverArgs{Message: id}, &river.InsertOpts{MaxAttempts: messageAttempts})
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE messages SET job_id = $2 WHERE id = $1`, id, res.Job.ID); err != nil {
				return err
			}
		}
		return audit(ctx, tx, clinic.AuditEntry{Action: "message.retry", Entity: "message", EntityID: &id, PatientID: &patientID})
	})
}
