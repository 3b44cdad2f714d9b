package postgres

import (
	"context"
	"slices"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/i18n"

	"github.com/infusiondesk/infusiondesk/internal/auth"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/jackc/pgx/v5"
)

// InvitationTTL is how long a portal invitation link stays valid.
const InvitationTTL = 72 * time.Hour

// CreateInvitation stores a one-time portal invitation for a patient (only
// a hash of its token) and schedules its email. Earlier open invitations of
// the patient stop working.
func (db *DB) CreateInvitation(ctx context.Context, patientID int64, tokenHash []byte, link string, now time.Time) (time.Time, error) {
	expires := now.Add(InvitationTTL)
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		to, err := recipient(ctx, tx, patientID)
		if isNoRows(err) {
			return clinic.Errorf(clinic.ENOTFOUND, "There is no such patient.")
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE invitations SET revoked_at = $2 WHERE patient_id = $1 AND used_at IS NULL AND revoked_at IS NULL`, patientID, now); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO invitations (patient_id, token_hash, expires_at, created_by) VALUES ($1, $2, $3, $4)`,
			patientID, tokenHash, expires, clinic.ActorFrom(ctx).UserID()); err != nil {
			return err
		}
		// Sent by email when the patient takes email; otherwise the desk
		// hands the link over.
		if slices.Contains(to.Channels(clinic.Reminders{Email: true}), clinic.ChannelEmail) {
			// Earlier invitations not yet sent would carry a dead link.
			if _, err := tx.Exec(ctx, `UPDATE messages SET status = 'dropped', error = 'A newer invitation replaced it.', link = NULL
				WHERE patient_id = $1 AND kind = 'invitation' AND status = 'scheduled'`, patientID); err != nil {
				return err
			}
			if err := db.enqueueMessages(ctx, tx, []newMessage{{PatientID: patientID, Kind: clinic.MessageInvitation,
				Channel: clinic.ChannelEmail, At: now, Link: link}}); err != nil {
				return err
			}
		}
		return audit(ctx, tx, clinic.AuditEntry{Action: "portal.invite", Entity: "patient", EntityID: &patientID, PatientID: &patientID,
			After: map[string]any{"expires_at": expires.UTC()}})
	})
	return expires, err
}

// Invitation is an open invitation as its link shows it.
type Invitation struct {
	PatientID  int64
	FirstName  string
	Email      string // the patient's email on file; "" when none
	HasAccount bool   // the patient already has a portal account
	Lang       i18n.Lang
}

// OpenInvitation finds the invitation behind a link: unused, unrevoked, not
// expired. Anything else is the same "not valid" answer.
func (db *DB) OpenInvitation(ctx context.Context, tokenHash []byte, now time.Time) (Invitation, error) {
	var inv Invitation
	err := db.q(ctx).QueryRow(ctx, `
		SELECT p.id, p.first_name, p.email, EXISTS (SELECT 1 FROM users u WHERE u.patient_id = p.id), p.language
		FROM invitations i JOIN patients p ON p.id = i.patient_id
		WHERE i.token_hash = $1 AND i.used_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > $2`, tokenHash, now).Scan(
		&inv.PatientID, &inv.FirstName, &inv.Email, &inv.HasAccount, &inv.Lang)
	if isNoRows(err) {
		return inv, clinic.Errorf(clinic.ENOTFOUND, "This invitation link is not valid: it was used already, replaced, or it expired. Ask the clinic for a new one.")
	}
	return inv, mapError(err)
}

// AcceptInvitation uses an invitation once: it creates the patient's
// portal account (or gives an existing one this password and enables it).
func (db *DB) AcceptInvitation(ctx context.Context, tokenHash []byte, email, passwordHash string, now time.Time) (*clinic.User, error) {
	var u *clinic.User
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var id, patientID int64
		var name string
		err := tx.QueryRow(ctx, `
			SELECT i.id, p.id, p.first_name || ' ' || p.last_name FROM invitations i JOIN patients p ON p.id = i.patient_id
			WHERE i.token_hash = $1 AND i.used_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > $2
			FOR UPDATE OF i`, tokenHash, now).Scan(&id, &patientID, &name)
		if isNoRows(err) {
			return clinic.Errorf(clinic.ENOTFOUND, "This invitation link is not valid: it was used already, replaced, or it expired. Ask the clinic for a new one.")
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE invitations SET used_at = $2 WHERE id = $1`, id, now); err != nil {
			return err
		}
		u, err = scanUser(tx.QueryRow(ctx, `
			UPDATE users SET password_hash = $2, disabled_at = NULL, version = version + 1 WHERE patient_id = $1
			RETURNING `+userColumns, patientID, passwordHash))
		if isNoRows(err) {
			n := clinic.NewUser{Email: email, Name: name, Role: string(clinic.RolePatient), Password: "placeholder-not-used", PatientID: &patientID}
			if err := n.Validate(); err != nil {
				return err
			}
			u, err = scanUser(tx.QueryRow(ctx, `INSERT INTO users (email, name, role, password_hash, patient_id)
				VALUES ($1, $2, 'patient', $3, $4) RETURNING `+userColumns, n.Email, name, passwordHash, patientID))
		}
		if err != nil {
			return err
		}
		return audit(ctx, tx, clinic.AuditEntry{Action: "portal.accept", Entity: "user", EntityID: &u.ID, PatientID: &patientID})
	})
	return u, err
}

// PortalAccess is a patient's portal account as the desk sees it.
type PortalAccess struct {
	Email         string
	Active        bool
	HasAccount    bool
	InviteExpires *time.Time // an open invitation's expiry
}

// Portal returns the state of a patient's portal access.
func (db *DB) Portal(ctx context.Context, patientID int64, now time.Time) (PortalAccess, error) {
	var a PortalAccess
	var email *string
	var disabled *time.Time
	err := db.q(ctx).QueryRow(ctx, `
		SELECT (SELECT email FROM users WHERE patient_id = $1), (SELECT disabled_at FROM users WHERE patient_id = $1),
		       (SELECT max(expires_at) FROM invitations WHERE patient_id = $1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $2)`,
		patientID, now).Scan(&email, &disabled, &a.InviteExpires)
	if email != nil {
		a.Email, a.HasAccount, a.Active = *email, true, disabled == nil
	}
	return a, mapError(err)
}

// RevokePortal ends a patient's portal access: the account disabled, its
// sessions ended, open invitations revoked, the calendar feed removed.
func (db *DB) RevokePortal(ctx context.Context, patientID int64, now time.Time) error {
	return db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE users SET disabled_at = $2, version = version + 1 WHERE patient_id = $1 AND disabled_at IS NULL`, patientID, now); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE patient_id = $1)`, patientID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE invitations SET revoked_at = $2 WHERE patient_id = $1 AND used_at IS NULL AND revoked_at IS NULL`, patientID, now); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM calendar_feeds WHERE patient_id = $1`, patientID); err != nil {
			return err
		}
		return audit(ctx, tx, clinic.AuditEntry{Action: "portal.revoke", Entity: "patient", EntityID: &patientID, PatientID: &patientID})
	})
}

// AddJournal stores a symptom journal entry of the patient, with its PEG
// when answered, and recomputes the plan of the patient's open course (the
// signals between visits read the journal).
func (db *DB) AddJournal(ctx context.Context, patientID int64, e clinic.JournalEntry, now time.Time) (clinic.JournalEntry, error) {
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		sched, err := db.schedule(ctx, tx)
		if err != nil {
			return err
		}
		if err := e.Validate(clinic.DateOf(now, sched.Loc)); err != nil {
			return err
		}
		if e.ID, err = insertJournal(ctx, tx, patientID, e); err != nil {
			return err
		}
		if err := refreshPatientPlan(ctx, tx, patientID, now, sched); err != nil {
			return err
		}
		return audit(ctx, tx, clinic.AuditEntry{Action: "journal.add", Entity: "journal", EntityID: &e.ID, PatientID: &patientID})
	})
	return e, err
}

// insertJournal stores a journal entry with its PEG, when answered.
func insertJournal(ctx context.Context, tx pgx.Tx, patientID int64, e clinic.JournalEntry) (int64, error) {
	err := tx.QueryRow(ctx, `INSERT INTO journal_entries (patient_id, on_date, pain, sleep, mobility, mood, breakthrough, breakthrough_doses, note)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		patientID, e.On, e.Pain, e.Sleep, e.Mobility, e.Mood, e.Breakthrough, e.BreakthroughDoses, e.Note).Scan(&e.ID)
	if err != nil || e.PEG == nil {
		return e.ID, err
	}
	_, err = tx.Exec(ctx, `INSERT INTO peg_scores (patient_id, on_date, pain, enjoyment, activity, source, journal_id)
		VALUES ($1, $2, $3, $4, $5, 'journal', $6)`, patientID, e.On, e.PEG.Pain, e.PEG.Enjoyment, e.PEG.Activity, e.ID)
	return e.ID, err
}

// Journal returns a patient's entries from since on, oldest first.
func (db *DB) Journal(ctx context.Context, patientID int64, since clinic.Date) ([]clinic.JournalEntry, error) {
	var out []clinic.JournalEntry
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		rows, err := tx.Query(ctx, journalSQL, patientID, since)
		if err != nil {
			return err
		}
		if out, err = pgx.CollectRows(rows, scanJournal); err != nil {
			return err
		}
		return audit(ctx, tx, clinic.AuditEntry{Action: "journal.read", Entity: "journal", PatientID: &patientID})
	})
	return out, err
}

// CreateRequest stores a patient's request about one of their own booked,
// future appointments; another's appointment is "not found".
func (db *DB) CreateRequest(ctx context.Context, patientID, appointmentID int64, kind clinic.RequestKind, message string, now time.Time) (int64, error) {
	message, err := clinic.CheckRequest(kind, message)
	if err != nil {
		return 0, err
	}
	var id int64
	err = db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var status string
		var start time.Time
		err := tx.QueryRow(ctx, `SELECT status, starts_at FROM appointments WHERE id = $1 AND patient_id = $2`, appointmentID, patientID).Scan(&status, &start)
		if isNoRows(err) {
			return clinic.Errorf(clinic.ENOTFOUND, "There is no such appointment.")
		}
		if err != nil {
			return err
		}
		if status != string(clinic.StatusBooked) || start.Before(now) {
			return clinic.Errorf(clinic.ECONFLICT, "This appointment can no longer be changed from the portal; please call the clinic.")
		}
		if err := tx.QueryRow(ctx, `INSERT INTO requests (patient_id, appointment_id, kind, message) VALUES ($1, $2, $3, $4) RETURNING id`,
			patientID, appointmentID, kind, message).Scan(&id); err != nil {
			return err
		}
		return audit(ctx, tx, clinic.AuditEntry{Action: "request.create", Entity: "request", EntityID: &id, PatientID: &patientID})
	})
	return id, err
}

// Requests lists requests: one patient's (patientID set) or every open one.
func (db *DB) Requests(ctx context.Context, patientID *int64) ([]clinic.Request, error) {
	var out []clinic.Request
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			SELECT r.id, r.patient_id, p.first_name || ' ' || p.last_name, r.appointment_id, a.starts_at, r.kind, r.message,
			       coalesce(r.answer, ''), r.answered_at, r.created_at
			FROM requests r JOIN patients p ON p.id = r.patient_id JOIN appointments a ON a.id = r.appointment_id
			WHERE ($1::bigint IS NULL AND r.answered_at IS NULL) OR r.patient_id = $1
			ORDER BY r.created_at DESC, r.id DESC LIMIT 200`, patientID)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (clinic.Request, error) {
			var q clinic.Request
			err := r.Scan(&q.ID, &q.PatientID, &q.PatientName, &q.AppointmentID, &q.Start, &q.Kind, &q.Message, &q.Answer, &q.AnsweredAt, &q.CreatedAt)
			return q, err
		})
		if err != nil {
			return err
		}
		return audit(ctx, tx, clinic.AuditEntry{Action: "request.list", Entity: "request", PatientID: patientID})
	})
	return out, err
}

// AnswerRequest stores the desk's answer to an open request.
func (db *DB) AnswerRequest(ctx context.Context, id int64, answer string, now time.Time) error {
	answer, err := clinic.CancelReason(answer) // the same rules: required, at most 500 characters
	if err != nil {
		return clinic.Invalid(map[string]string{"answer": "Write the answer the patient will see."})
	}
	return db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var patientID int64
		err := tx.QueryRow(ctx, `UPDATE requests SET answer = $2, answered_by = $3, answered_at = $4
			WHERE id = $1 AND answered_at IS NULL RETURNING patient_id`, id, answer, clinic.ActorFrom(ctx).UserID(), now).Scan(&patientID)
		if isNoRows(err) {
			return clinic.Errorf(clinic.ECONFLICT, "This request was answered already.")
		}
		if err != nil {
			return err
		}
		return audit(ctx, tx, clinic.AuditEntry{Action: "request.answer", Entity: "request", EntityID: &id, PatientID: &patientID})
	})
}

// RenewCalendar gives the patient a new private calendar address,
// replacing any they had (the old one stops working), and returns its
// token. Only RenewCalendar creates one: reading never does.
func (db *DB) RenewCalendar(ctx context.Context, patientID int64) (string, error) {
	token, _ := auth.NewToken()
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM calendar_feeds WHERE patient_id = $1`, patientID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO calendar_feeds (patient_id, token) VALUES ($1, $2)`, patientID, token)
		return err
	})
	return token, err
}

// RevokeCalendar removes the patient's calendar feed.
func (db *DB) RevokeCalendar(ctx context.Context, patientID int64) error {
	_, err := db.pool.Exec(ctx, `DELETE FROM calendar_feeds WHERE patient_id = $1`, patientID)
	return mapError(err)
}

// CalendarFeed returns the patient behind a feed token and their
// appointments from 30 days back on (cancelled ones too, to be marked).
func (db *DB) CalendarFeed(ctx context.Context, token string, now time.Time) (i18n.Lang, []clinic.Visit, error) {
	var patientID int64
	var lang i18n.Lang
	var out []clinic.Visit
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT f.patient_id, p.language FROM calendar_feeds f
			JOIN users u ON u.patient_id = f.patient_id AND u.disabled_at IS NULL JOIN patients p ON p.id = f.patient_id
			WHERE f.token = $1`, token).Scan(&patientID, &lang)
		if isNoRows(err) {
			return clinic.Errorf(clinic.ENOTFOUND, "There is no such calendar.")
		}
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, visitSelect+` WHERE a.patient_id = $1 AND a.starts_at >= $2 AND a.status IN ('booked', 'checked_in', 'completed', 'cancelled')
			ORDER BY a.starts_at, a.id`, patientID, now.Add(-30*24*time.Hour))
		if err != nil {
			return err
		}
		if out, err = pgx.CollectRows(rows, scanVisit); err != nil {
			return err
		}
		return audit(ctx, tx, clinic.AuditEntry{Action: "calendar.feed", Entity: "appointment", PatientID: &patientID})
	})
	return lang, out, err
}

// LatestInfusion is the patient's latest infusion's id and date.
func (db *DB) LatestInfusion(ctx context.Context, patientID int64) (int64, clinic.Date, error) {
	id, on, err := latestInfusion(ctx, db.q(ctx), patientID)
	return id, on, mapError(err)
}

// latestInfusion is the patient's latest infusion; ECONFLICT when there
// is none yet.
func latestInfusion(ctx context.Context, q querier, patientID int64) (int64, clinic.Date, error) {
	var id int64
	var on clinic.Date
	err := q.QueryRow(ctx, `SELECT id, given_on FROM infusions WHERE patient_id = $1 ORDER BY given_on DESC, id DESC LIMIT 1`, patientID).Scan(&id, &on)
	if isNoRows(err) {
		return 0, on, clinic.Errorf(clinic.ECONFLICT, "There is no infusion yet to report relief for.")
	}
	return id, on, err
}

// ReportOwnRelief stores a patient's own relief report about their latest
// infusion, in one transaction (the latest cannot change between finding
// it and reporting on it). It returns the report's and the infusion's ids;
// ECONFLICT when the patient has had no infusion yet.
func (db *DB) ReportOwnRelief(ctx context.Context, patientID int64, status clinic.ReliefStatus, on clinic.Date, now time.Time) (reportID, infusionID int64, err error) {
	err = db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		if infusionID, _, err = latestInfusion(ctx, tx, patientID); err != nil {
			return err
		}
		if err := status.Check(); err != nil {
			return err
		}
		reportID, err = db.reportRelief(ctx, tx, clinic.ReliefReport{InfusionID: infusionID, Status: status, OnDate: on, Source: "patient"}, &patientID, now)
		return err
	})
	return reportID, infusionID, err
}

// ExistingCalendarToken returns the patient's feed token, "" when none.
func (db *DB) ExistingCalendarToken(ctx context.Context, patientID int64) (string, error) {
	var token string
	err := db.q(ctx).QueryRow(ctx, `SELECT token FROM calendar_feeds WHERE patient_id = $1`, patientID).Scan(&token)
	if isNoRows(err) {
		return "", nil
	}
	return token, mapError(err)
}
