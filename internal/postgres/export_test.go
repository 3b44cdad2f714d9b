package postgres

import "context"

// ExecForTest runs a statement as the application role.
func ExecForTest(ctx context.Context, db *DB, sql string) error {
	_, err := db.pool.Exec(ctx, sql)
	return err
}
