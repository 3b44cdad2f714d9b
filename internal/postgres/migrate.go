package postgres

import (
	"context"
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
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

// Migrator applies the embedded migrations. It connects as the user in the
// URL (the schema's owner), not as the application role.
type Migrator struct {
	m   *migrate.Migrate
	url string
	log *slog.Logger
}

// RiverSchema is the schema of River's job tables (created by River's own
// migrations, which Up runs after the clinic's).
const RiverSchema = "river"

// riverSince is the first clinic migration with the river schema.
const riverSince = 9

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
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Migrator{m: m, url: url, log: log}, nil
}

// Up applies every migration not yet applied: the clinic's, then River's.
func (mg *Migrator) Up() error {
	if err := ignoreNoChange(mg.m.Up()); err != nil {
		return err
	}
	return mg.river(rivermigrate.DirectionUp)
}

// Down reverses every applied migration: River's first, while its schema
// is there, then the clinic's.
func (mg *Migrator) Down() error {
	if v, _, err := mg.Version(); err != nil {
		return err
	} else if v >= riverSince {
		if err := mg.river(rivermigrate.DirectionDown); err != nil {
			return err
		}
	}
	return ignoreNoChange(mg.m.Down())
}

// river runs River's migrations in RiverSchema, all the way up or down.
func (mg *Migrator) river(dir rivermigrate.Direction) error {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, mg.url)
	if err != nil {
		return fmt.Errorf("DATABASE_URL: %w", err)
	}
	defer pool.Close()
	m, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Schema: RiverSchema, Logger: mg.log})
	if err != nil {
		return err
	}
	opts := &rivermigrate.MigrateOpts{}
	if dir == rivermigrate.DirectionDown {
		opts.TargetVersion = -1
	}
	if _, err := m.Migrate(ctx, dir, opts); err != nil { // River logs each migration it applies
		return fmt.Errorf("river's migrations: %w", err)
	}
	return nil
}

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
