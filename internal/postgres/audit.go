package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/jackc/pgx/v5"
)

// audit appends a row to the audit log inside tx, with who, from which
// request and address taken from the context's Actor. It is the one code
// path for audit rows. Call it last in a transaction: the chain's lock is
// held from here until commit, and taking it last keeps that short and
// keeps lock order the same everywhere.
//
// Inside a View the rows wait until the view's reads are done, and are
// written together at its end.
func audit(ctx context.Context, tx pgx.Tx, e clinic.AuditEntry) error {
	if buf, ok := ctx.Value(auditLaterKey{}).(*auditLater); ok {
		buf.entries = append(buf.entries, pendingAudit{ctx, e})
		return nil
	}
	a := clinic.ActorFrom(ctx)
	before, err := auditJSON(e.Before)
	if err != nil {
		return err
	}
	after, err := auditJSON(e.After)
	if err != nil {
		return err
	}
	var role *string
	if r := a.Role(); r != "" {
		s := string(r)
		role = &s
	}
	_, err = tx.Exec(ctx, `
		INSERT INTO audit_log (actor_id, actor_role, action, entity, entity_id, patient_id, request_id, address, before, after)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		a.UserID(), role, e.Action, e.Entity, e.EntityID, e.PatientID, a.RequestID, a.Address, before, after)
	if err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	return nil
}

// auditLater holds a View's audit rows until its reads are done, so that
// the chain's lock is taken at the end of the view's transaction, as in
// every other (see audit).
type auditLater struct{ entries []pendingAudit }

type pendingAudit struct {
	ctx context.Context
	e   clinic.AuditEntry
}

type auditLaterKey struct{}

// write writes the rows held, in the order they were asked for.
func (l *auditLater) write(tx pgx.Tx) error {
	for _, p := range l.entries {
		if err := audit(context.WithValue(p.ctx, auditLaterKey{}, nil), tx, p.e); err != nil {
			return err
		}
	}
	return nil
}

func auditJSON(v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	return b, nil
}

// Audit records an event that changes nothing else (a refused sign-in, a
// read), in a transaction of its own.
func (db *DB) Audit(ctx context.Context, e clinic.AuditEntry) error {
	return db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error { return audit(ctx, tx, e) })
}

// AuditFilter selects audit rows, newest first.
type AuditFilter struct {
	BeforeSeq int64 // only rows with seq below this; 0 for the newest
	Limit     int
	PatientID *int64
}

// ListAudit returns audit rows, newest first. Reading the log is itself
// audited: it names patients.
func (db *DB) ListAudit(ctx context.Context, f AuditFilter) ([]clinic.AuditRecord, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	var out []clinic.AuditRecord
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			SELECT a.seq, a.at, a.actor_id, coalesce(u.name, ''), coalesce(a.actor_role, ''), a.action, a.entity,
			       a.entity_id, a.patient_id, a.request_id, a.address, a.before, a.after
			FROM audit_log a LEFT JOIN users u ON u.id = a.actor_id
			WHERE ($1 = 0 OR a.seq < $1) AND ($2::bigint IS NULL OR a.patient_id = $2)
			ORDER BY a.seq DESC
			LIMIT $3`, f.BeforeSeq, f.PatientID, f.Limit)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (clinic.AuditRecord, error) {
			var a clinic.AuditRecord
			err := r.Scan(&a.Seq, &a.At, &a.ActorID, &a.ActorName, &a.ActorRole, &a.Action, &a.Entity,
				&a.EntityID, &a.PatientID, &a.RequestID, &a.Address, &a.Before, &a.After)
			return a, err
		})
		if err != nil {
			return err
		}
		return audit(ctx, tx, clinic.AuditEntry{Action: "audit.read", Entity: "audit_log", PatientID: f.PatientID})
	})
	return out, err
}

// VerifyAudit recomputes the hash chain and reports the first row where it
// breaks: a row altered (its hash no longer matches its content), removed
// (a gap in the sequence or a link to the wrong predecessor) or cut from the
// end (the chain's head names a later row).
func (db *DB) VerifyAudit(ctx context.Context) (clinic.AuditCheck, error) {
	var c clinic.AuditCheck
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var headSeq, lastSeq int64
		var headHash, lastHash []byte
		err := tx.QueryRow(ctx, `
			SELECT h.seq, h.hash, count(a.seq), coalesce(max(a.seq), 0),
			       coalesce((SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1), decode(repeat('00', 32), 'hex'))
			FROM audit_head h LEFT JOIN audit_log a ON true
			GROUP BY h.seq, h.hash`).Scan(&headSeq, &headHash, &c.Rows, &lastSeq, &lastHash)
		if err != nil {
			return err
		}
		err = tx.QueryRow(ctx, `
			WITH chain AS (
				SELECT a.seq, a.hash, a.prev_hash,
				       lag(a.seq, 1, 0::bigint) OVER w AS prev_seq,
				       lag(a.hash, 1, decode(repeat('00', 32), 'hex')) OVER w AS prev_hash_expected,
				       audit_row_hash(a.prev_hash, a) AS recomputed
				FROM audit_log a
				WINDOW w AS (ORDER BY a.seq))
			SELECT seq,
			       CASE WHEN seq <> prev_seq + 1 THEN 'rows are missing before this one'
			            WHEN prev_hash <> prev_hash_expected THEN 'the link to the previous row is broken'
			            ELSE 'the row was altered after it was written' END
			FROM chain
			WHERE seq <> prev_seq + 1 OR prev_hash <> prev_hash_expected OR hash <> recomputed
			ORDER BY seq
			LIMIT 1`).Scan(&c.BrokenAt, &c.Problem)
		switch {
		case err == nil:
			return nil
		case !isNoRows(err):
			return err
		}
		if headSeq != lastSeq || string(headHash) != string(lastHash) {
			c.BrokenAt = lastSeq + 1
			c.Problem = "rows are missing from the end of the log"
			return nil
		}
		c.OK = true
		return nil
	})
	return c, err
}
