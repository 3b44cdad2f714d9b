package postgres

import (
	"context"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/jackc/pgx/v5"
)

const userColumns = `id, email, name, role, patient_id, disabled_at, created_at, version`

// scanUser scans a user's columns, then any more the query selects into
// more.
func scanUser(row pgx.Row, more ...any) (*clinic.User, error) {
	var u clinic.User
	err := row.Scan(append([]any{&u.ID, &u.Email, &u.Name, &u.Role, &u.PatientID, &u.DisabledAt, &u.CreatedAt, &u.Version}, more...)...)
	if err != nil {
		return nil, err
	}
	return &u, nil
}

// CreateUser validates n and stores a user with the given password hash.
func (db *DB) CreateUser(ctx context.Context, n clinic.NewUser, passwordHash string) (*clinic.User, error) {
	if err := n.Validate(); err != nil {
		return nil, err
	}
	var u *clinic.User
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if n.PatientID != nil {
			var exists bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM patients WHERE id = $1)`, *n.PatientID).Scan(&exists); err != nil {
				return err
			}
			if !exists {
				return clinic.Invalid(map[string]string{"patient_id": "There is no patient with this id."})
			}
		}
		var err error
		u, err = scanUser(tx.QueryRow(ctx, `
			INSERT INTO users (email, name, role, password_hash, patient_id)
			VALUES ($1, $2, $3, $4, $5)
			RETURNING `+userColumns, n.Email, n.Name, n.Role, passwordHash, n.PatientID))
		if err != nil {
			return err
		}
		return audit(ctx, tx, clinic.AuditEntry{Action: "user.create", Entity: "user", EntityID: &u.ID, PatientID: u.PatientID, After: u})
	})
	return u, err
}

// UserCredentials returns the user with this email and their password hash;
// ENOTFOUND when there is none.
func (db *DB) UserCredentials(ctx context.Context, email string) (*clinic.User, string, error) {
	var hash string
	var u clinic.User
	err := db.q(ctx).QueryRow(ctx, `SELECT `+userColumns+`, password_hash FROM users WHERE email = $1`,
		clinic.NormalizeEmail(email)).Scan(&u.ID, &u.Email, &u.Name, &u.Role, &u.PatientID, &u.DisabledAt, &u.CreatedAt, &u.Version, &hash)
	if isNoRows(err) {
		return nil, "", clinic.Errorf(clinic.ENOTFOUND, "No such user.")
	}
	if err != nil {
		return nil, "", mapError(err)
	}
	return &u, hash, nil
}

// User returns the user with this id.
func (db *DB) User(ctx context.Context, id int64) (*clinic.User, error) {
	u, err := scanUser(db.q(ctx).QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
	if isNoRows(err) {
		return nil, clinic.Errorf(clinic.ENOTFOUND, "No such user.")
	}
	return u, mapError(err)
}

// Users lists every account, staff first, by name.
func (db *DB) Users(ctx context.Context) ([]*clinic.User, error) {
	rows, err := db.q(ctx).Query(ctx, `SELECT `+userColumns+` FROM users ORDER BY role = 'patient', lower(name), id`)
	if err != nil {
		return nil, mapError(err)
	}
	users, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*clinic.User, error) { return scanUser(r) })
	return users, mapError(err)
}

// SetUserDisabled disables or re-enables an account. Disabling ends every
// session the user has. version must be the version the admin saw;
// otherwise ECONFLICT.
func (db *DB) SetUserDisabled(ctx context.Context, id int64, version int, disabled bool) (*clinic.User, error) {
	var after *clinic.User
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		before, err := scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1 FOR UPDATE`, id))
		if isNoRows(err) {
			return clinic.Errorf(clinic.ENOTFOUND, "No such user.")
		}
		if err != nil {
			return err
		}
		if before.Version != version {
			return clinic.Errorf(clinic.ECONFLICT, "This account was changed by someone else; here is how it stands now.")
		}
		if self := clinic.ActorFrom(ctx).UserID(); disabled && self != nil && *self == id {
			return clinic.Errorf(clinic.EINVALID, "You cannot disable your own account.")
		}
		after, err = scanUser(tx.QueryRow(ctx, `
			UPDATE users SET disabled_at = CASE WHEN $2 THEN now() END, updated_at = now(), version = version + 1
			WHERE id = $1
			RETURNING `+userColumns, id, disabled))
		if err != nil {
			return err
		}
		if disabled {
			if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, id); err != nil {
				return err
			}
		}
		action := "user.enable"
		if disabled {
			action = "user.disable"
		}
		return audit(ctx, tx, clinic.AuditEntry{Action: action, Entity: "user", EntityID: &id, Before: before, After: after})
	})
	return after, err
}
