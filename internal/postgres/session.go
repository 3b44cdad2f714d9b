package postgres

import (
	"context"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/i18n"

	"github.com/infusiondesk/infusiondesk/internal/auth"
	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/jackc/pgx/v5"
)

// SessionKind says where a session's token travels.
type SessionKind string

const (
	SessionWeb SessionKind = "web" // in a cookie
	SessionAPI SessionKind = "api" // in an Authorization: Bearer header
)

// SessionTimes are a session's idle timeout and absolute lifetime.
type SessionTimes struct {
	Idle     time.Duration
	Lifetime time.Duration
}

// SignIn starts a session for u (stored under tokenHash), forgets the
// account's failed sign-ins and audits the sign-in, in one transaction. It
// returns when the session expires at the latest.
func (db *DB) SignIn(ctx context.Context, u *clinic.User, kind SessionKind, tokenHash []byte, t SessionTimes) (time.Time, error) {
	var expires time.Time
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `
			INSERT INTO sessions (token_hash, user_id, kind, idle_seconds, expires_at)
			VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))
			RETURNING expires_at`,
			tokenHash, u.ID, kind, int(t.Idle.Seconds()), t.Lifetime.Seconds()).Scan(&expires)
		if err != nil {
			return err
		}
		// A success clears this account's failures from this address only:
		// an attacker's guesses from elsewhere still count.
		if _, err := tx.Exec(ctx, `DELETE FROM login_failures WHERE email = $1 AND address = $2`,
			u.Email, clinic.ActorFrom(ctx).Address); err != nil {
			return err
		}
		return audit(ctx, tx, clinic.AuditEntry{Action: "auth.sign_in", Entity: "user", EntityID: &u.ID,
			PatientID: u.PatientID, After: map[string]string{"kind": string(kind)}})
	})
	return expires, err
}

// Session is a live session's user, and what the request learned with it.
type Session struct {
	User *clinic.User
	// Lang is the language of the patient the user is ("en" for staff).
	Lang i18n.Lang
	// DeskRequests and DeskFailed are, for the front desk, the open
	// patient requests and the failed messages (its navigation's counts),
	// read with the session at no extra round trip; 0 for other roles.
	DeskRequests, DeskFailed int
	settingsVersion          int64
}

// Context returns ctx carrying what the session check learned — the
// clinic's settings version when the request began — so that the store
// answers from its settings cache while that version is current instead of
// reading the settings again (DB.schedule).
func (s Session) Context(ctx context.Context) context.Context {
	return context.WithValue(ctx, settingsVersionKey{}, s.settingsVersion)
}

// SessionUser returns the user whose live session has this token hash and
// marks the session as used. A session is live until it has been idle for
// its idle timeout or reaches its absolute expiry, and only while its user
// is enabled. EUNAUTHORIZED otherwise. It is one round trip, which also
// reads the clinic's settings version (see Session.Context).
func (db *DB) SessionUser(ctx context.Context, tokenHash []byte, kind SessionKind) (Session, error) {
	// Touching at most every 30 seconds spares a write on most requests;
	// the idle timeout is minutes, so the slack does not matter.
	var sess Session
	u, err := scanUser(db.q(ctx).QueryRow(ctx, `
		WITH s AS (
			SELECT token_hash, user_id FROM sessions
			WHERE token_hash = $1 AND kind = $2 AND expires_at > now()
			  AND last_seen_at + make_interval(secs => idle_seconds) > now()),
		touch AS (
			UPDATE sessions SET last_seen_at = now()
			WHERE token_hash = (SELECT token_hash FROM s) AND last_seen_at < now() - interval '30 seconds')
		SELECT u.id, u.email, u.name, u.role, u.patient_id, u.disabled_at, u.created_at, u.version,
		       (SELECT settings_version FROM clinic),
		       coalesce((SELECT language FROM patients p WHERE p.id = u.patient_id), 'en'),
		       CASE WHEN u.role = 'front_desk' THEN (SELECT count(*) FROM requests WHERE answered_at IS NULL) ELSE 0 END,
		       CASE WHEN u.role = 'front_desk' THEN (SELECT count(*) FROM messages WHERE status = 'failed') ELSE 0 END
		FROM s JOIN users u ON u.id = s.user_id
		WHERE u.disabled_at IS NULL`, tokenHash, kind), &sess.settingsVersion, &sess.Lang, &sess.DeskRequests, &sess.DeskFailed)
	if isNoRows(err) {
		return sess, clinic.Errorf(clinic.EUNAUTHORIZED, "Your session has ended. Please sign in again.")
	}
	sess.User = u
	return sess, mapError(err)
}

// SignOut ends the session with this token hash and audits it.
func (db *DB) SignOut(ctx context.Context, tokenHash []byte) error {
	return db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var userID int64
		err := tx.QueryRow(ctx, `DELETE FROM sessions WHERE token_hash = $1 RETURNING user_id`, tokenHash).Scan(&userID)
		if isNoRows(err) {
			return nil
		}
		if err != nil {
			return err
		}
		return audit(ctx, tx, clinic.AuditEntry{Action: "auth.sign_out", Entity: "user", EntityID: &userID})
	})
}

// SignOutEverywhere ends every session of the user.
func (db *DB) SignOutEverywhere(ctx context.Context, userID int64) error {
	return db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, userID); err != nil {
			return err
		}
		return audit(ctx, tx, clinic.AuditEntry{Action: "auth.sign_out_everywhere", Entity: "user", EntityID: &userID})
	})
}

// RecentFailures returns the failed sign-ins within window that involve the
// email or the address, for the throttle to weigh.
func (db *DB) RecentFailures(ctx context.Context, email, address string, window time.Duration) ([]auth.Failure, time.Time, error) {
	var now time.Time
	var out []auth.Failure
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT now()`).Scan(&now); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `
			SELECT email, address, at FROM login_failures
			WHERE (email = $1 OR address = $2) AND at > now() - make_interval(secs => $3)
			ORDER BY at DESC
			LIMIT 500`, clinic.NormalizeEmail(email), address, window.Seconds())
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (auth.Failure, error) {
			var f auth.Failure
			err := r.Scan(&f.Email, &f.Address, &f.At)
			return f, err
		})
		return err
	})
	return out, now, err
}

// RecordFailure remembers a failed sign-in and audits it. userID is the
// account the email belongs to, when there is one (it is only recorded).
func (db *DB) RecordFailure(ctx context.Context, email, address string, userID *int64) error {
	return db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO login_failures (email, address) VALUES ($1, $2)`,
			clinic.NormalizeEmail(email), address); err != nil {
			return err
		}
		return audit(ctx, tx, clinic.AuditEntry{Action: "auth.sign_in_failed", Entity: "user", EntityID: userID})
	})
}

// PurgeExpired deletes sessions past their expiry or idle timeout and failed
// sign-ins older than a day. Neither is clinical data.
func (db *DB) PurgeExpired(ctx context.Context) error {
	_, err := db.pool.Exec(ctx, `
		DELETE FROM sessions WHERE expires_at <= now() OR last_seen_at + make_interval(secs => idle_seconds) <= now()`)
	if err != nil {
		return mapError(err)
	}
	_, err = db.pool.Exec(ctx, `DELETE FROM login_failures WHERE at < now() - interval '1 day'`)
	return mapError(err)
}
