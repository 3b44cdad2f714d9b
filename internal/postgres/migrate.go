package postgres

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strconv"
	"strings"

	"github.com/golang-migrate/migrate/v4"
	migratepgx "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	"github.com/golang-migrate/migrate/v4/source/iofs"
	"github.com/infusiondesk/infusiondesk/migrations"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// Migrator applies the embedded migrations. It connects as the user in the
// URL (the schema's owner), not as the application role.
type Migrator struct {
	m *migrate.Migrate
}

// NewMigrator connects to the database at url.
func NewMigrator(url string, log *slog.Logger) (*Migrator, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	sqlDB := stdlib.OpenDB(*cfg)
	driver, err := migratepgx.WithInstance(sqlDB, &migratepgx.Config{})
	if err != nil {
		sqlDB.Close()
		return nil, mapError(err)
	}
	src, err := iofs.New(migrations.FS, ".")
	if err != nil {
		return nil, err
	}
	m, err := migrate.NewWithInstance("iofs", src, "pgx5", driver)
	if err != nil {
		return nil, err
	}
	if log != nil {
		m.Log = migrateLog{log}
	}
	return &Migrator{m: m}, nil
}

// Up applies every migration not yet applied.
func (mg *Migrator) Up() error { return ignoreNoChange(mg.m.Up()) }

// Down reverses every applied migration.
func (mg *Migrator) Down() error { return ignoreNoChange(mg.m.Down()) }

// Version returns the applied version (0 when none) and whether the last
// migration failed halfway.
func (mg *Migrator) Version() (uint, bool, error) {
	v, dirty, err := mg.m.Version()
	if errors.Is(err, migrate.ErrNilVersion) {
		return 0, false, nil
	}
	return v, dirty, err
}

// Close releases the connection.
func (mg *Migrator) Close() error {
	srcErr, dbErr := mg.m.Close()
	return errors.Join(srcErr, dbErr)
}

func ignoreNoChange(err error) error {
	if errors.Is(err, migrate.ErrNoChange) {
		return nil
	}
	return err
}

// LatestVersion is the highest migration version embedded in the binary.
func LatestVersion() (uint, error) {
	names, err := fs.Glob(migrations.FS, "*.up.sql")
	if err != nil {
		return 0, err
	}
	var latest uint
	for _, n := range names {
		v, err := strconv.ParseUint(strings.SplitN(n, "_", 2)[0], 10, 32)
		if err != nil {
			return 0, fmt.Errorf("migration %s: name must start with its number", n)
		}
		latest = max(latest, uint(v))
	}
	return latest, nil
}

type migrateLog struct{ log *slog.Logger }

func (l migrateLog) Printf(format string, v ...any) {
	l.log.Info(strings.TrimSpace(fmt.Sprintf(format, v...)))
}
func (l migrateLog) Verbose() bool { return false }
