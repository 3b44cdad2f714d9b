package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/jackc/pgx/v5"
)

// audit appends a row to the audit log inside tx, with who, from which
// request and address taken from the context's Actor. It is the one code
// path for audit rows. The row commits or rolls back with what it
// records; it takes no lock (the database gives it its seq and time, and
// the sealer seals it into the tree once it is committed: auditlog.go).
//
// Inside inTx (and so a View) the rows wait until the transaction's work
// is done and go, in one statement, with its COMMIT (DB.pipelined).
func audit(ctx context.Context, tx pgx.Tx, e clinic.AuditEntry) error {
	if buf, ok := ctx.Value(auditLaterKey{}).(*auditLater); ok {
		buf.entries = append(buf.entries, pendingAudit{ctx, e})
		return nil
	}
	return writeAudit(ctx, tx, []pendingAudit{{ctx, e}})
}

// writeAudit inserts the rows, in order, in one statement.
func writeAudit(ctx context.Context, tx pgx.Tx, entries []pendingAudit) error {
	sql, args, err := auditInsert(entries)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, sql, args...); err != nil {
		return fmt.Errorf("audit %s: %w", entries[0].e.Action, err)
	}
	return nil
}

// auditInsert is the statement that inserts the rows, in order.
func auditInsert(entries []pendingAudit) (string, []any, error) {
	n := len(entries)
	actors, roles, actions, entities := make([]*int64, n), make([]*string, n), make([]string, n), make([]string, n)
	entityIDs, patientIDs, requests, addresses := make([]*int64, n), make([]*int64, n), make([]string, n), make([]string, n)
	befores, afters := make([]*string, n), make([]*string, n)
	for i, p := range entries {
		a := clinic.ActorFrom(p.ctx)
		before, err := auditJSON(p.e.Before)
		if err != nil {
			return "", nil, err
		}
		after, err := auditJSON(p.e.After)
		if err != nil {
			return "", nil, err
		}
		if r := a.Role(); r != "" {
			s := string(r)
			roles[i] = &s
		}
		actors[i], actions[i], entities[i] = a.UserID(), p.e.Action, p.e.Entity
		entityIDs[i], patientIDs[i], requests[i], addresses[i] = p.e.EntityID, p.e.PatientID, a.RequestID, a.Address
		befores[i], afters[i] = before, after
	}
	// WITH ORDINALITY keeps the rows' seq in the order they were asked for.
	return `
		INSERT INTO audit_log (actor_id, actor_role, action, entity, entity_id, patient_id, request_id, address, before, after)
		SELECT actor, role, action, entity, entity_id, patient_id, request, address, before::jsonb, after::jsonb
		FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::text[], $8::text[], $9::text[], $10::text[])
		     WITH ORDINALITY AS e (actor, role, action, entity, entity_id, patient_id, request, address, before, after, i)
		ORDER BY i`,
		[]any{actors, roles, actions, entities, entityIDs, patientIDs, requests, addresses, befores, afters}, nil
}

// auditLater holds a transaction's audit rows until its work is done, to
// be written in one statement with its COMMIT (see audit).
type auditLater struct{ entries []pendingAudit }

type pendingAudit struct {
	ctx context.Context
	e   clinic.AuditEntry
}

type auditLaterKey struct{}

func auditJSON(v any) (*string, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	s := string(b)
	return &s, nil
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
	ActorID   *int64    // who did it
	Action    string    // actions beginning with this ("appointment." for all of them); "" for any
	From, To  time.Time // at in [From, To); zero for no bound
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
			  AND ($4::bigint IS NULL OR a.actor_id = $4) AND a.action LIKE $5
			  AND ($6::timestamptz IS NULL OR a.at >= $6) AND ($7::timestamptz IS NULL OR a.at < $7)
			ORDER BY a.seq DESC
			LIMIT $3`, f.BeforeSeq, f.PatientID, f.Limit, f.ActorID, likePrefix(f.Action), optTime(f.From), optTime(f.To))
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
		return audit(ctx, tx, clinic.AuditEntry{Action: "audit.read", Entity: "audit_log", PatientID: f.PatientID,
			After: map[string]any{"actor_id": f.ActorID, "action": f.Action, "from": optTime(f.From), "to": optTime(f.To)}})
	})
	return out, err
}

// optTime is t, or nil (SQL NULL) for the zero time.
func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
