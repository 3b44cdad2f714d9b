package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// pipelinedTx is a transaction whose BEGIN travels in one round trip with
// its first statement, and whose COMMIT can travel with its last one
// (finish): BEGIN and COMMIT then cost no round trip of their own (inTx
// sends the audit rows with the COMMIT). It is a pgx.Tx, so store code
// uses it like any other, savepoints (Begin) included.
type pipelinedTx struct {
	conn       *pgxpool.Conn
	begun      bool // BEGIN has been sent
	closed     bool // committed or rolled back
	savepoints int
}

// first sends BEGIN with b's statements in one batch and returns results
// positioned after BEGIN's.
func (t *pipelinedTx) first(ctx context.Context, b *pgx.Batch) (pgx.BatchResults, error) {
	withBegin := &pgx.Batch{}
	withBegin.Queue("begin")
	for _, q := range b.QueuedQueries {
		withBegin.Queue(q.SQL, q.Arguments...).Fn = q.Fn
	}
	br := t.conn.SendBatch(ctx, withBegin)
	if _, err := br.Exec(); err != nil {
		br.Close()
		return nil, err
	}
	t.begun = true
	return br, nil
}

func (t *pipelinedTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if t.begun {
		return t.conn.Exec(ctx, sql, args...)
	}
	b := &pgx.Batch{}
	b.Queue(sql, args...)
	br, err := t.first(ctx, b)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	tag, err := br.Exec()
	return tag, errors.Join(err, br.Close())
}

func (t *pipelinedTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if t.begun {
		return t.conn.Query(ctx, sql, args...)
	}
	b := &pgx.Batch{}
	b.Queue(sql, args...)
	br, err := t.first(ctx, b)
	if err != nil {
		return nil, err
	}
	rows, err := br.Query()
	if err != nil {
		br.Close()
		return nil, err
	}
	return &batchRows{Rows: rows, br: br}, nil
}

func (t *pipelinedTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if t.begun {
		return t.conn.QueryRow(ctx, sql, args...)
	}
	rows, err := t.Query(ctx, sql, args...)
	if err != nil {
		return errRow{err}
	}
	return rowOf{rows}
}

func (t *pipelinedTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	if t.begun {
		return t.conn.SendBatch(ctx, b)
	}
	br, err := t.first(ctx, b)
	if err != nil {
		return errBatch{err}
	}
	return br
}

func (t *pipelinedTx) CopyFrom(ctx context.Context, table pgx.Identifier, cols []string, src pgx.CopyFromSource) (int64, error) {
	if err := t.begin(ctx); err != nil {
		return 0, err
	}
	return t.conn.CopyFrom(ctx, table, cols, src)
}

func (t *pipelinedTx) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	return t.conn.Conn().Prepare(ctx, name, sql)
}

func (t *pipelinedTx) LargeObjects() pgx.LargeObjects { return pgx.LargeObjects{} }

// Begin starts a savepoint.
func (t *pipelinedTx) Begin(ctx context.Context) (pgx.Tx, error) {
	t.savepoints++
	sp := &savepointTx{pipelinedTx: t, name: fmt.Sprintf("sp_%d", t.savepoints)}
	if _, err := t.Exec(ctx, "savepoint "+sp.name); err != nil {
		return nil, err
	}
	return sp, nil
}

// savepointTx is a savepoint in a pipelinedTx.
type savepointTx struct {
	*pipelinedTx
	name   string
	closed bool
}

func (s *savepointTx) Commit(ctx context.Context) error {
	if s.closed {
		return pgx.ErrTxClosed
	}
	s.closed = true
	_, err := s.pipelinedTx.Exec(ctx, "release savepoint "+s.name)
	return err
}

func (s *savepointTx) Rollback(ctx context.Context) error {
	if s.closed {
		return pgx.ErrTxClosed
	}
	s.closed = true
	_, err := s.pipelinedTx.Exec(ctx, "rollback to savepoint "+s.name)
	return err
}

func (t *pipelinedTx) Conn() *pgx.Conn { return t.conn.Conn() }

func (t *pipelinedTx) begin(ctx context.Context) error {
	if t.begun {
		return nil
	}
	_, err := t.Exec(ctx, "select")
	return err
}

// Commit commits what was begun (a transaction that sent nothing has
// nothing to commit).
func (t *pipelinedTx) Commit(ctx context.Context) error {
	if t.closed {
		return pgx.ErrTxClosed
	}
	t.closed = true
	if !t.begun {
		return nil
	}
	tag, err := t.conn.Exec(ctx, "commit")
	return commitTag(tag, err)
}

// finish runs sql, then COMMIT, in one round trip (with BEGIN too when
// nothing was sent yet).
func (t *pipelinedTx) finish(ctx context.Context, sql string, args ...any) error {
	if t.closed {
		return pgx.ErrTxClosed
	}
	t.closed = true
	b := &pgx.Batch{}
	if !t.begun {
		b.Queue("begin")
	}
	b.Queue(sql, args...)
	b.Queue("commit")
	begun := t.begun
	t.begun = true
	br := t.conn.SendBatch(ctx, b)
	defer br.Close()
	if !begun {
		if _, err := br.Exec(); err != nil {
			return err
		}
	}
	if _, err := br.Exec(); err != nil {
		return err
	}
	tag, err := br.Exec()
	if err := commitTag(tag, err); err != nil {
		return err
	}
	return br.Close()
}

// commitTag is a COMMIT's outcome: an aborted transaction answers it with
// ROLLBACK, and no error.
func commitTag(tag pgconn.CommandTag, err error) error {
	if err == nil && tag.String() == "ROLLBACK" {
		return pgx.ErrTxCommitRollback
	}
	return err
}

func (t *pipelinedTx) Rollback(ctx context.Context) error {
	if t.closed {
		return pgx.ErrTxClosed
	}
	t.closed = true
	if !t.begun {
		return nil
	}
	_, err := t.conn.Exec(ctx, "rollback")
	return err
}

// batchRows are the rows of a batch's last statement: closing them reads
// the batch to its end.
type batchRows struct {
	pgx.Rows
	br     pgx.BatchResults
	closed bool
	err    error
}

func (r *batchRows) Close() {
	if r.closed {
		return
	}
	r.closed = true
	r.Rows.Close()
	r.err = r.br.Close()
}

func (r *batchRows) Err() error {
	if err := r.Rows.Err(); err != nil {
		return err
	}
	return r.err
}

// rowOf is the first row of rows, as QueryRow answers it.
type rowOf struct{ rows pgx.Rows }

func (r rowOf) Scan(dest ...any) error {
	defer r.rows.Close()
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return pgx.ErrNoRows
	}
	if err := r.rows.Scan(dest...); err != nil {
		return err
	}
	r.rows.Close()
	return r.rows.Err()
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

type errBatch struct{ err error }

func (b errBatch) Exec() (pgconn.CommandTag, error) { return pgconn.CommandTag{}, b.err }
func (b errBatch) Query() (pgx.Rows, error)         { return nil, b.err }
func (b errBatch) QueryRow() pgx.Row                { return errRow(b) }
func (b errBatch) Close() error                     { return b.err }
func (b errBatch) Tx() pgx.Tx                       { return nil }
