package postgres

import (
	"context"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/i18n"
	"github.com/jackc/pgx/v5"
)

// Consent forms and signatures (clinic/consent.go): the admin writes a new
// version, the patient signs it in the portal or on the desk's tablet, and
// check-in of an infusion visit asks for the current version signed.

const consentFormColumns = `f.id, f.version, f.title, f.body, f.body_es, f.created_at, coalesce(u.name, '')`

const consentFormFrom = ` FROM consent_forms f LEFT JOIN users u ON u.id = f.created_by`

func scanConsentForm(r pgx.CollectableRow) (clinic.ConsentForm, error) {
	var f clinic.ConsentForm
	err := r.Scan(&f.ID, &f.Version, &f.Title, &f.Body, &f.BodyES, &f.CreatedAt, &f.CreatedBy)
	return f, err
}

// CreateConsentForm writes a new version of the consent form, superseding
// the current one; patients sign it before their next infusion.
func (db *DB) CreateConsentForm(ctx context.Context, f clinic.ConsentForm) (clinic.ConsentForm, error) {
	if err := clinic.CheckConsentForm(&f); err != nil {
		return f, err
	}
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		// One writer at a time numbers the versions (a unique version is
		// the schema's last word).
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(3, 0)`); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `
			INSERT INTO consent_forms (version, title, body, body_es, created_by)
			SELECT coalesce(max(version), 0) + 1, $1, $2, $3, $4 FROM consent_forms
			RETURNING id, version, created_at`, f.Title, f.Body, f.BodyES, clinic.ActorFrom(ctx).UserID()).Scan(&f.ID, &f.Version, &f.CreatedAt)
		if err != nil {
			return err
		}
		return audit(ctx, tx, clinic.AuditEntry{Action: "consent_form.create", Entity: "consent_form", EntityID: &f.ID,
			After: map[string]any{"version": f.Version, "title": f.Title}})
	})
	return f, err
}

// ConsentForms lists every version, the current (newest) first.
func (db *DB) ConsentForms(ctx context.Context) ([]clinic.ConsentForm, error) {
	rows, err := db.q(ctx).Query(ctx, `SELECT `+consentFormColumns+consentFormFrom+` ORDER BY f.version DESC`)
	if err != nil {
		return nil, mapError(err)
	}
	out, err := pgx.CollectRows(rows, scanConsentForm)
	return out, mapError(err)
}

// CurrentConsentForm is the current version; nil when the clinic has none.
func (db *DB) CurrentConsentForm(ctx context.Context) (*clinic.ConsentForm, error) {
	return currentConsentForm(ctx, db.q(ctx))
}

func currentConsentForm(ctx context.Context, q querier) (*clinic.ConsentForm, error) {
	rows, err := q.Query(ctx, `SELECT `+consentFormColumns+consentFormFrom+` ORDER BY f.version DESC LIMIT 1`)
	if err != nil {
		return nil, mapError(err)
	}
	f, err := pgx.CollectExactlyOneRow(rows, scanConsentForm)
	if isNoRows(err) {
		return nil, nil
	}
	return &f, mapError(err)
}

func signatures(ctx context.Context, q querier, patientID int64) ([]clinic.ConsentSignature, error) {
	rows, err := q.Query(ctx, `SELECT id, patient_id, form_id, version, lang, text_sha256, signed_name, signed_at, address, via
		FROM consent_signatures WHERE patient_id = $1 ORDER BY signed_at DESC, id DESC`, patientID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (clinic.ConsentSignature, error) {
		var s clinic.ConsentSignature
		err := r.Scan(&s.ID, &s.PatientID, &s.FormID, &s.Version, &s.Lang, &s.TextSHA256, &s.SignedName, &s.SignedAt, &s.Address, &s.Via)
		return s, err
	})
}

// ConsentState is a patient's consent as the pages show it: the current
// form (nil: the clinic has none), their signatures, newest first, and
// whether the current version is signed.
type ConsentState struct {
	Form       *clinic.ConsentForm
	Signatures []clinic.ConsentSignature
	Signed     bool
}

// Consent reads a patient's consent state.
func (db *DB) Consent(ctx context.Context, patientID int64) (ConsentState, error) {
	var st ConsentState
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		st, err = consentState(ctx, tx, patientID)
		return err
	})
	return st, err
}

func consentState(ctx context.Context, tx pgx.Tx, patientID int64) (ConsentState, error) {
	var st ConsentState
	var err error
	if st.Form, err = currentConsentForm(ctx, tx); err != nil {
		return st, err
	}
	if st.Signatures, err = signatures(ctx, tx, patientID); err != nil {
		return st, err
	}
	st.Signed = st.Form != nil && clinic.ConsentGate(clinic.KindMaintenance, st.Form, st.Signatures) == nil
	return st, nil
}

// consentGate refuses to check in an infusion visit of a patient who has
// not signed the current consent form (clinic.ConsentGate).
func consentGate(ctx context.Context, tx pgx.Tx, a clinic.Appointment) error {
	if !a.Kind.Infusion() {
		return nil
	}
	st, err := consentState(ctx, tx, a.PatientID)
	if err != nil {
		return err
	}
	return clinic.ConsentGate(a.Kind, st.Form, st.Signatures)
}

// Signing is how a signature was given: where, in which language, and
// (on the desk's tablet) who handed it over.
type Signing struct {
	Lang     i18n.Lang
	Via      string // "portal" or "kiosk"
	HandedBy *int64
}

// SignConsent stores the patient's signature of the current version, with
// the text's SHA-256, the time and the address. Signing a version already
// signed returns the signature given first.
func (db *DB) SignConsent(ctx context.Context, patientID int64, req clinic.SignatureRequest, how Signing, now time.Time) (clinic.ConsentSignature, error) {
	var sig clinic.ConsentSignature
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		sig, err = signConsent(ctx, tx, patientID, req, how, now)
		return err
	})
	return sig, err
}

func signConsent(ctx context.Context, tx pgx.Tx, patientID int64, req clinic.SignatureRequest, how Signing, now time.Time) (clinic.ConsentSignature, error) {
	var name string
	if err := tx.QueryRow(ctx, `SELECT first_name || ' ' || last_name FROM patients WHERE id = $1`, patientID).Scan(&name); isNoRows(err) {
		return clinic.ConsentSignature{}, clinic.Errorf(clinic.ENOTFOUND, "There is no such patient.")
	} else if err != nil {
		return clinic.ConsentSignature{}, err
	}
	form, err := currentConsentForm(ctx, tx)
	if err != nil {
		return clinic.ConsentSignature{}, err
	}
	if err := clinic.CheckSignature(form, &req, name); err != nil {
		return clinic.ConsentSignature{}, err
	}
	_, lang := form.Text(how.Lang)
	sig := clinic.ConsentSignature{PatientID: patientID, FormID: form.ID, Version: form.Version, Lang: lang,
		TextSHA256: form.TextHash(lang), SignedName: req.SignedName, SignedAt: now, Address: clinic.ActorFrom(ctx).Address, Via: how.Via}
	err = tx.QueryRow(ctx, `
		INSERT INTO consent_signatures (patient_id, form_id, version, lang, text_sha256, signed_name, signed_at, address, via, handed_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (patient_id, form_id) DO NOTHING RETURNING id`,
		patientID, sig.FormID, sig.Version, sig.Lang, sig.TextSHA256, sig.SignedName, now, sig.Address, sig.Via, how.HandedBy).Scan(&sig.ID)
	if isNoRows(err) { // signed before: the first signature stands
		all, err := signatures(ctx, tx, patientID)
		for _, s := range all {
			if s.FormID == form.ID {
				return s, err
			}
		}
		return sig, err
	}
	if err != nil {
		return sig, err
	}
	return sig, audit(ctx, tx, clinic.AuditEntry{Action: "consent.sign", Entity: "consent_signature", EntityID: &sig.ID, PatientID: &patientID,
		After: map[string]any{"form_id": sig.FormID, "version": sig.Version, "lang": sig.Lang, "via": sig.Via}})
}

// KioskMinutes is how long a tablet handed to a patient stays open.
const KioskMinutes = 30

// Kiosk is the desk's tablet handed to one patient: whose, for which
// visit (its PEG is asked too), in their language.
type Kiosk struct {
	PatientID     int64
	AppointmentID *int64
	Name          string
	Lang          i18n.Lang
	HandedBy      int64
	Consent       ConsentState
	PEG           *clinic.PEG // the visit's, when already answered
}

// OpenKiosk hands the tablet to a patient: a link, the key, for
// KioskMinutes. The appointment, when given, is the patient's own.
func (db *DB) OpenKiosk(ctx context.Context, patientID int64, appointmentID *int64, tokenHash []byte, now time.Time) error {
	return db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if appointmentID != nil {
			if owner, err := patientOfAppointment(ctx, tx, *appointmentID); err != nil || owner != patientID {
				return clinic.Errorf(clinic.ENOTFOUND, "There is no such appointment.")
			}
		}
		tag, err := tx.Exec(ctx, `INSERT INTO kiosk_links (token_hash, patient_id, appointment_id, handed_by, expires_at)
			SELECT $1, id, $3, $4, $5 FROM patients WHERE id = $2`,
			tokenHash, patientID, appointmentID, clinic.ActorFrom(ctx).UserID(), now.Add(KioskMinutes*time.Minute))
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return clinic.Errorf(clinic.ENOTFOUND, "There is no such patient.")
		}
		return audit(ctx, tx, clinic.AuditEntry{Action: "kiosk.open", Entity: "patient", EntityID: &patientID, PatientID: &patientID})
	})
}

// errKioskClosed is the answer to a tablet link used up or expired.
var errKioskClosed = clinic.Errorf(clinic.ENOTFOUND, "This page is closed. Please hand the tablet back to the front desk.")

// Kiosk reads an open tablet link; ENOTFOUND when used up or expired.
func (db *DB) Kiosk(ctx context.Context, tokenHash []byte, now time.Time) (Kiosk, error) {
	var k Kiosk
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		k, err = kiosk(ctx, tx, tokenHash, now, false)
		return err
	})
	return k, err
}

func kiosk(ctx context.Context, tx pgx.Tx, tokenHash []byte, now time.Time, lock bool) (Kiosk, error) {
	var k Kiosk
	q := `SELECT k.patient_id, k.appointment_id, p.first_name || ' ' || p.last_name, p.language, k.handed_by
		FROM kiosk_links k JOIN patients p ON p.id = k.patient_id
		WHERE k.token_hash = $1 AND k.done_at IS NULL AND k.expires_at > $2`
	if lock {
		q += ` FOR UPDATE OF k`
	}
	err := tx.QueryRow(ctx, q, tokenHash, now).Scan(&k.PatientID, &k.AppointmentID, &k.Name, &k.Lang, &k.HandedBy)
	if isNoRows(err) {
		return k, errKioskClosed
	}
	if err != nil {
		return k, err
	}
	if k.Consent, err = consentState(ctx, tx, k.PatientID); err != nil {
		return k, err
	}
	if k.AppointmentID != nil {
		k.PEG, err = visitPEG(ctx, tx, *k.AppointmentID)
	}
	return k, err
}

// FinishKiosk stores what the patient gave on the tablet — the signature
// (when sign is not nil) and the visit's PEG (when peg is not nil) — and
// closes the link, in one transaction.
func (db *DB) FinishKiosk(ctx context.Context, tokenHash []byte, sign *clinic.SignatureRequest, peg *clinic.PEG, now time.Time) (Kiosk, error) {
	var k Kiosk
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		if k, err = kiosk(ctx, tx, tokenHash, now, true); err != nil {
			return err
		}
		p := clinic.Problems{}
		if peg != nil {
			peg.Validate(p, "peg_")
		}
		if err := p.Err(); err != nil {
			return err
		}
		if sign != nil {
			if _, err := signConsent(ctx, tx, k.PatientID, *sign, Signing{Lang: k.Lang, Via: "kiosk", HandedBy: &k.HandedBy}, now); err != nil {
				return err
			}
		}
		if peg != nil && k.AppointmentID != nil {
			a, err := queryAppointments(ctx, tx, `WHERE id = $1`, *k.AppointmentID)
			if err != nil || len(a) != 1 {
				return err
			}
			sched, err := db.schedule(ctx, tx)
			if err != nil {
				return err
			}
			if err := setVisitPEG(ctx, tx, a[0], *peg, sched.Loc); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, `UPDATE kiosk_links SET done_at = $2 WHERE token_hash = $1`, tokenHash, now)
		if err != nil {
			return err
		}
		return audit(ctx, tx, clinic.AuditEntry{Action: "kiosk.done", Entity: "patient", EntityID: &k.PatientID, PatientID: &k.PatientID,
			After: map[string]any{"signed": sign != nil, "peg": peg != nil}})
	})
	return k, err
}
