// Package pgtest gives each test a real PostgreSQL database of its own,
// cloned from a template database migrated once per migration set.
//
// The server is TEST_DATABASE_URL (a superuser connection to any database of
// it) when set; otherwise a throwaway project-local cluster under
// .data/test, started on first use and shared by parallel test packages.
package pgtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"

	"github.com/infusiondesk/infusiondesk/internal/devdb"
	"github.com/infusiondesk/infusiondesk/internal/postgres"
	"github.com/infusiondesk/infusiondesk/migrations"
	"github.com/jackc/pgx/v5"
)

var (
	setupOnce sync.Once
	adminURL  string
	template  string
	setupErr  error
)

// NewDatabase creates a fresh, migrated database for the test, dropped when
// the test ends, and returns its URL (a superuser connection).
func NewDatabase(t testing.TB) string {
	t.Helper()
	return createDatabase(t, templateDB(t))
}

// NewEmptyDatabase creates a database without any migration applied.
func NewEmptyDatabase(t testing.TB) string {
	t.Helper()
	return createDatabase(t, "template0")
}

func templateDB(t testing.TB) string {
	t.Helper()
	setupOnce.Do(func() { adminURL, template, setupErr = setup(context.Background()) })
	if setupErr != nil {
		t.Fatalf("pgtest: %v", setupErr)
	}
	return template
}

func createDatabase(t testing.TB, from string) string {
	t.Helper()
	ctx := context.Background()
	admin := AdminURL(t)
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	defer conn.Close(ctx)
	b := make([]byte, 6)
	rand.Read(b)
	name := "t_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", name, from)); err != nil {
		t.Fatalf("pgtest: creating a database from %s: %v", from, err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), admin)
		if err != nil {
			t.Errorf("pgtest: dropping %s: %v", name, err)
			return
		}
		defer c.Close(context.Background())
		if _, err := c.Exec(context.Background(), "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: dropping %s: %v", name, err)
		}
	})
	return withDatabase(admin, name)
}

// Open returns the application's store on a fresh database, closed when the
// test ends, and the database's URL.
func Open(t testing.TB) (*postgres.DB, string) {
	t.Helper()
	u := NewDatabase(t)
	db, err := postgres.Open(context.Background(), u, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db, u
}

// AdminURL returns a superuser URL for the test server's "postgres" database.
func AdminURL(t testing.TB) string {
	t.Helper()
	templateDB(t)
	return adminURL
}

func withDatabase(rawURL, name string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		panic(err)
	}
	u.Path = "/" + name
	return u.String()
}

func setup(ctx context.Context) (string, string, error) {
	admin := os.Getenv("TEST_DATABASE_URL")
	if admin == "" {
		root, err := repoRoot()
		if err != nil {
			return "", "", err
		}
		c, err := devdb.Open(filepath.Join(root, ".data", "test"))
		if err != nil {
			return "", "", err
		}
		c.Fast = true
		port, err := c.Start(ctx)
		if err != nil {
			return "", "", err
		}
		admin = devdb.URL(port, "postgres")
	}
	name, err := templateName()
	if err != nil {
		return "", "", err
	}
	return admin, name, ensureTemplate(ctx, admin, name)
}

// templateName depends on the migrations' content, so a changed migration
// gets a new template.
func templateName() (string, error) {
	names, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil {
		return "", err
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		b, err := fs.ReadFile(migrations.FS, n)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s\x00%s\x00", n, b)
	}
	return "infusiondesk_tmpl_" + hex.EncodeToString(h.Sum(nil))[:12], nil
}

// ensureTemplate builds the template once; parallel test processes wait on
// an advisory lock while one of them builds it.
func ensureTemplate(ctx context.Context, admin, name string) error {
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(hashtext('infusiondesk-pgtest-template'))`); err != nil {
		return err
	}
	defer conn.Exec(ctx, `SELECT pg_advisory_unlock(hashtext('infusiondesk-pgtest-template'))`)

	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	// Templates of older migration sets are of no further use.
	rows, err := conn.Query(ctx, `SELECT datname FROM pg_database WHERE datname LIKE 'infusiondesk\_tmpl\_%'`)
	if err != nil {
		return err
	}
	stale, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for _, s := range stale {
		if _, err := conn.Exec(ctx, "DROP DATABASE "+pgx.Identifier{s}.Sanitize()+" WITH (FORCE)"); err != nil {
			return err
		}
	}
	building := name + "_building"
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+building); err != nil {
		return err
	}
	mg, err := postgres.NewMigrator(withDatabase(admin, building), nil)
	if err != nil {
		return err
	}
	upErr := mg.Up()
	if err := mg.Close(); err != nil && upErr == nil {
		upErr = err
	}
	if upErr != nil {
		return fmt.Errorf("migrating the template: %w", upErr)
	}
	if _, err := conn.Exec(ctx, "ALTER DATABASE "+building+" RENAME TO "+name); err != nil {
		return err
	}
	_, err = conn.Exec(ctx, "ALTER DATABASE "+name+" ALLOW_CONNECTIONS false")
	return err
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}
