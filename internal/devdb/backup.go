package devdb

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Stanza is the pgBackRest stanza (its name for one cluster) of the clinic.
const Stanza = "infusiondesk"

// Backups is a pgBackRest repository on this machine holding the backups
// and the continuously archived WAL of one Cluster: `make backup` keeps one
// under .data/backups for the demo's cluster, the restore drill its own.
// pgBackRest does the work; this only writes its configuration, turns on
// the cluster's WAL archiving and runs its commands as the postgres user.
type Backups struct {
	Dir string // pgbackrest.conf, the repository (repo/), its log and lock files
	c   *Cluster
}

// OpenBackups describes the repository under dir for cluster c.
func OpenBackups(dir string, c *Cluster) (*Backups, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	b := &Backups{Dir: abs, c: c}
	for _, d := range []string{b.Dir, filepath.Join(b.Dir, "repo"), filepath.Join(b.Dir, "log"), filepath.Join(b.Dir, "lock")} {
		if err := c.ownedDir(d); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// HaveBackRest reports whether pgBackRest is installed.
func HaveBackRest() bool {
	_, err := exec.LookPath("pgbackrest")
	return err == nil
}

func (b *Backups) configFile() string { return filepath.Join(b.Dir, "pgbackrest.conf") }

// ArchiveTimeout is how long a quiet cluster keeps a WAL segment before it
// is archived anyway: the most a restore can lose when the disk dies.
const ArchiveTimeout = "60s"

// Configure writes pgbackrest.conf for the running cluster, makes the
// cluster archive every WAL segment into the repository (restarting it
// once, on its port, when archiving was off), creates the stanza and checks
// that a segment reaches the repository.
func (b *Backups) Configure(ctx context.Context) error {
	port, ok := b.c.Port()
	if !ok {
		return fmt.Errorf("devdb: the cluster in %s is not running", b.c.Dir)
	}
	if err := b.writeConfig(port); err != nil {
		return err
	}
	restart, err := b.enableArchiving(ctx, port)
	if err != nil {
		return err
	}
	if restart {
		if err := b.c.Stop(ctx); err != nil {
			return err
		}
		b.c.PreferredPort = port
		if _, err := b.c.Start(ctx); err != nil {
			return err
		}
	}
	if _, err := b.pgbackrest(ctx, "stanza-create"); err != nil {
		return err
	}
	_, err = b.pgbackrest(ctx, "check")
	return err
}

func (b *Backups) writeConfig(port int) error {
	conf := strings.Join([]string{
		"# written by infusiondesk devdb (make backup); pgbackrest.org/configuration.html",
		"[global]",
		"repo1-path=" + filepath.Join(b.Dir, "repo"),
		// Two full backups and the WAL since the older one are kept.
		"repo1-retention-full=2",
		"log-path=" + filepath.Join(b.Dir, "log"),
		"lock-path=" + filepath.Join(b.Dir, "lock"),
		"log-level-console=warn",
		"log-level-file=info",
		// A backup starts at once (an immediate checkpoint), not at the next
		// scheduled one.
		"start-fast=y",
		"",
		"[" + Stanza + "]",
		"pg1-path=" + b.c.dataDir(),
		"pg1-port=" + strconv.Itoa(port),
		"pg1-user=" + Superuser,
		"",
	}, "\n")
	if err := os.WriteFile(b.configFile(), []byte(conf), 0o644); err != nil {
		return err
	}
	return b.c.chown(b.configFile())
}

// enableArchiving sets archive_mode and archive_command; it reports whether
// the cluster must restart for them to take effect.
func (b *Backups) enableArchiving(ctx context.Context, port int) (restart bool, err error) {
	conn, err := pgx.Connect(ctx, URL(port, "postgres"))
	if err != nil {
		return false, err
	}
	defer conn.Close(ctx)
	command := fmt.Sprintf("pgbackrest --config=%s --stanza=%s archive-push %%p", b.configFile(), Stanza)
	var mode, current string
	if err := conn.QueryRow(ctx, "SELECT current_setting('archive_mode'), current_setting('archive_command')").Scan(&mode, &current); err != nil {
		return false, err
	}
	for name, value := range map[string]string{"archive_mode": "on", "archive_command": command, "archive_timeout": ArchiveTimeout} {
		if _, err := conn.Exec(ctx, fmt.Sprintf("ALTER SYSTEM SET %s = %s", name, quoteLiteral(value))); err != nil {
			return false, err
		}
	}
	if _, err := conn.Exec(ctx, "SELECT pg_reload_conf()"); err != nil {
		return false, err
	}
	return mode != "on", nil
}

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// Backup takes a backup: kind is "full", "diff" or "incr" (pgBackRest makes
// the first one full whatever is asked).
func (b *Backups) Backup(ctx context.Context, kind string) error {
	switch kind {
	case "full", "diff", "incr":
	default:
		return fmt.Errorf("devdb: a backup is full, diff or incr, not %q", kind)
	}
	_, err := b.pgbackrest(ctx, "backup", "--type="+kind)
	return err
}

// Check makes the cluster switch to a new WAL segment and waits until the
// finished one is in the repository: everything committed before it can be
// restored.
func (b *Backups) Check(ctx context.Context) error {
	_, err := b.pgbackrest(ctx, "check")
	return err
}

// Info is pgBackRest's account of the repository: the backups, their sizes
// and the WAL range each can be restored with.
func (b *Backups) Info(ctx context.Context) (string, error) { return b.pgbackrest(ctx, "info") }

// Restore restores the repository's newest backup before target into the
// fresh cluster into and replays the archived WAL up to target, then starts
// it (as a primary of its own that archives nothing). It returns its port.
func (b *Backups) Restore(ctx context.Context, target time.Time, into *Cluster) (int, error) {
	if _, err := os.Stat(filepath.Join(into.dataDir(), "PG_VERSION")); err == nil {
		return 0, fmt.Errorf("devdb: %s already holds a cluster; restore into a fresh directory", into.Dir)
	}
	if err := into.ownedDir(into.dataDir()); err != nil {
		return 0, err
	}
	if _, err := b.pgbackrest(ctx, "restore", "--pg1-path="+into.dataDir(),
		"--type=time", "--target="+target.UTC().Format("2006-01-02 15:04:05.999999-07"),
		"--target-action=promote", "--archive-mode=off"); err != nil {
		return 0, err
	}
	return into.Start(ctx)
}

// pgbackrest runs one pgBackRest command on the stanza as the postgres
// user. It reaches the cluster over loopback TCP (PGHOST), the clusters
// having no socket directory.
func (b *Backups) pgbackrest(ctx context.Context, command string, args ...string) (string, error) {
	path, err := exec.LookPath("pgbackrest")
	if err != nil {
		return "", errors.New("devdb: pgbackrest is not installed (Debian: pgbackrest; `make deps` installs it)")
	}
	argv := append([]string{"--config=" + b.configFile(), "--stanza=" + Stanza}, args...)
	cmd := b.c.commandAt(ctx, []string{"PGHOST=127.0.0.1"}, path, append(argv, command)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("pgbackrest %s: %w\n%s(its log: %s)", command, err, out, filepath.Join(b.Dir, "log"))
	}
	return string(out), nil
}
