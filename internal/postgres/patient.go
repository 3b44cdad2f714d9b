package postgres

import (
	"context"
	"strconv"
	"strings"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/i18n"
	"github.com/jackc/pgx/v5"
)

// insertPatient stores a patient (the medical record number comes from the
// database's sequence) and audits it.
func insertPatient(ctx context.Context, tx pgx.Tx, p clinic.Patient) (clinic.Patient, error) {
	err := tx.QueryRow(ctx, `
		INSERT INTO patients (first_name, last_name, date_of_birth, phone, email, weight_kg, condition,
			driver_name, driver_phone, notes, contact_by, language)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
		RETURNING id, mrn, version`,
		p.FirstName, p.LastName, p.DateOfBirth, p.Phone, p.Email, p.WeightKg, p.Condition,
		p.DriverName, p.DriverPhone, p.Notes, p.ContactBy, p.Language).Scan(&p.ID, &p.MRN, &p.Version)
	if err != nil {
		return p, err
	}
	return p, audit(ctx, tx, clinic.AuditEntry{Action: "patient.create", Entity: "patient", EntityID: &p.ID, PatientID: &p.ID, After: p})
}

// CreatePatient validates and stores a new patient.
func (db *DB) CreatePatient(ctx context.Context, p clinic.Patient, today clinic.Date) (clinic.Patient, error) {
	if err := p.Validate(today); err != nil {
		return p, err
	}
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		p, err = insertPatient(ctx, tx, p)
		return err
	})
	return p, err
}

// UpdatePatient validates and stores a patient's changed fields, if the
// record is still at p.Version.
func (db *DB) UpdatePatient(ctx context.Context, p clinic.Patient, today clinic.Date) (clinic.Patient, error) {
	if err := p.Validate(today); err != nil {
		return p, err
	}
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		before, err := scanPatient(tx.QueryRow(ctx, `SELECT `+patientColumns+` FROM patients WHERE id = $1 FOR UPDATE`, p.ID))
		if isNoRows(err) {
			return clinic.Errorf(clinic.ENOTFOUND, "There is no such patient.")
		}
		if err != nil {
			return err
		}
		if before.Version != p.Version {
			return clinic.Errorf(clinic.ECONFLICT, "This patient's record was changed by someone else meanwhile. Their changes are shown; yours were not saved.")
		}
		p.MRN, p.SMSOptedOut = before.MRN, before.SMSOptedOut
		p.Version = before.Version + 1
		_, err = tx.Exec(ctx, `
			UPDATE patients SET first_name = $2, last_name = $3, date_of_birth = $4, phone = $5, email = $6,
				weight_kg = $7, condition = $8, driver_name = $9, driver_phone = $10, notes = $11,
				contact_by = $12, language = $13, version = version + 1, updated_at = now()
			WHERE id = $1`,
			p.ID, p.FirstName, p.LastName, p.DateOfBirth, p.Phone, p.Email, p.WeightKg, p.Condition,
			p.DriverName, p.DriverPhone, p.Notes, p.ContactBy, p.Language)
		if err != nil {
			return err
		}
		return audit(ctx, tx, clinic.AuditEntry{Action: "patient.update", Entity: "patient", EntityID: &p.ID,
			PatientID: &p.ID, Before: before, After: p})
	})
	return p, err
}

const patientColumns = `id, mrn, first_name, last_name, date_of_birth, phone, email, weight_kg::float8, condition,
	driver_name, driver_phone, notes, contact_by, sms_opted_out_at, language, version`

func scanPatient(r pgx.Row) (clinic.Patient, error) {
	var p clinic.Patient
	err := r.Scan(&p.ID, &p.MRN, &p.FirstName, &p.LastName, &p.DateOfBirth, &p.Phone, &p.Email, &p.WeightKg,
		&p.Condition, &p.DriverName, &p.DriverPhone, &p.Notes, &p.ContactBy, &p.SMSOptedOut, &p.Language, &p.Version)
	return p, err
}

// Patient returns one patient. Audited as a read.
func (db *DB) Patient(ctx context.Context, id int64) (clinic.Patient, error) {
	var p clinic.Patient
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		p, err = readPatient(ctx, tx, id)
		return err
	})
	return p, err
}

// patientExists refuses a patient id there is not (ENOTFOUND).
func patientExists(ctx context.Context, q querier, id int64) error {
	var exists bool
	if err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM patients WHERE id = $1)`, id).Scan(&exists); err != nil {
		return err
	}
	if !exists {
		return clinic.Errorf(clinic.ENOTFOUND, "There is no such patient.")
	}
	return nil
}

// readPatient reads one patient's record, audited; ENOTFOUND for none.
func readPatient(ctx context.Context, tx pgx.Tx, id int64) (clinic.Patient, error) {
	p, err := scanPatient(tx.QueryRow(ctx, `SELECT `+patientColumns+` FROM patients WHERE id = $1`, id))
	if isNoRows(err) {
		return p, clinic.Errorf(clinic.ENOTFOUND, "There is no such patient.")
	}
	if err != nil {
		return p, err
	}
	return p, audit(ctx, tx, clinic.AuditEntry{Action: "patient.read", Entity: "patient", EntityID: &id, PatientID: &id})
}

// SearchLimit is the most patients one search returns.
const SearchLimit = 50

// Names are lower-cased and sorted by the ICU root collation, so that
// "álv" finds Álvarez and Álvarez sorts before O'Neil whatever the
// database's own locale is.

// SearchPatients finds patients by date of birth, record number, phone or the
// beginnings of their names, by last then first name. An empty query lists
// the first patients by name. The search is audited without its words.
func (db *DB) SearchPatients(ctx context.Context, q clinic.PatientQuery) ([]clinic.Patient, error) {
	where, args := []string{"true"}, []any{}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + itoa(len(args))
	}
	var either []string // record number or phone
	if q.MRN != "" {
		mrn := strings.TrimPrefix(strings.TrimPrefix(q.MRN, "MRN"), "-")
		either = append(either, "upper(mrn) = "+arg(q.MRN)+" OR mrn = "+arg("MRN"+mrn))
	}
	if q.Phone != "" {
		// Stored numbers are as typed: compare their digits' ends.
		either = append(either, "right(regexp_replace(phone, '[^0-9]', '', 'g'), "+itoa(len(q.Phone))+") = "+arg(q.Phone))
	}
	switch {
	case q.DateOfBirth != nil:
		where = append(where, "date_of_birth = "+arg(*q.DateOfBirth))
	case len(either) > 0:
		where = append(where, "("+strings.Join(either, " OR ")+")")
	default:
		for _, w := range q.Words {
			p := arg(likePrefix(w))
			where = append(where, "(lower(last_name COLLATE \"und-x-icu\") LIKE "+p+" OR lower(first_name COLLATE \"und-x-icu\") LIKE "+p+")")
		}
	}
	var out []clinic.Patient
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+patientColumns+` FROM patients WHERE `+strings.Join(where, " AND ")+`
			ORDER BY last_name COLLATE "und-x-icu", first_name COLLATE "und-x-icu", id LIMIT `+itoa(SearchLimit), args...)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (clinic.Patient, error) { return scanPatient(r) })
		if err != nil {
			return err
		}
		return audit(ctx, tx, clinic.AuditEntry{Action: "patient.search", Entity: "patient",
			After: map[string]int{"count": len(out)}})
	})
	return out, err
}

// likePrefix is a LIKE pattern matching what begins with w, its own % and
// _ taken literally.
func likePrefix(w string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(w) + "%"
}

func itoa(n int) string { return strconv.Itoa(n) }

// SetLanguage stores the language a patient reads the portal and their
// messages in (the patient's own choice, or the desk's), audited.
func (db *DB) SetLanguage(ctx context.Context, patientID int64, lang string) error {
	l, ok := i18n.ParseLang(lang)
	if !ok {
		return clinic.Invalid(map[string]string{"language": "Choose English (en) or Spanish (es)."})
	}
	return db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var before i18n.Lang
		err := tx.QueryRow(ctx, `SELECT language FROM patients WHERE id = $1 FOR UPDATE`, patientID).Scan(&before)
		if isNoRows(err) {
			return clinic.Errorf(clinic.ENOTFOUND, "There is no such patient.")
		}
		if err != nil || before == l {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE patients SET language = $2, version = version + 1, updated_at = now() WHERE id = $1`, patientID, l); err != nil {
			return err
		}
		return audit(ctx, tx, clinic.AuditEntry{Action: "patient.language", Entity: "patient", EntityID: &patientID, PatientID: &patientID,
			Before: map[string]any{"language": before}, After: map[string]any{"language": l}})
	})
}
