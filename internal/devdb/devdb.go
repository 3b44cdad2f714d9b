// Package devdb runs a project-local PostgreSQL cluster from the machine's
// PostgreSQL binaries. `make run` uses one under .data/dev for the demo clinic
// and the tests use a throwaway one under .data/test.
//
// It works as root too: initdb refuses to run as root, so the cluster is
// created and started as the "postgres" system user (via runuser) in a
// directory that user owns.
package devdb

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Superuser is the cluster's superuser; local connections are trusted.
const Superuser = "postgres"

// Cluster is one PostgreSQL cluster kept under Dir.
type Cluster struct {
	Dir    string // holds pgdata/, postgres.log and the lock file
	BinDir string // where initdb, pg_ctl and postgres live
	// Fast turns off durability (fsync, synchronous_commit) for test clusters.
	Fast bool
	// PreferredPort, when set, is the port to start on (a restart keeps
	// its address); else a free one is chosen.
	PreferredPort int

	runAs *user.User // nil: run the binaries as the current user
}

// Open describes the cluster under dir without starting it. The directory is
// made absolute; when the process runs as root and the postgres user cannot
// reach dir (a checkout under /root, say), a directory under the system temp
// folder derived from dir is used instead.
func Open(dir string) (*Cluster, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	bin, err := findBinDir()
	if err != nil {
		return nil, err
	}
	c := &Cluster{Dir: abs, BinDir: bin}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, errors.New("devdb: running as root needs the \"postgres\" system user (installed with the postgresql package)")
		}
		c.runAs = u
		if err := c.prepareDirForPostgresUser(); err != nil {
			return nil, err
		}
	} else if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, err
	}
	return c, nil
}

// findBinDir returns PG_BIN, or the newest /usr/lib/postgresql/*/bin, or the
// directory of initdb on PATH.
func findBinDir() (string, error) {
	if d := os.Getenv("PG_BIN"); d != "" {
		return d, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return pgMajor(dirs[i]) > pgMajor(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errors.New("devdb: no PostgreSQL server binaries found (install the postgresql package or set PG_BIN)")
}

func pgMajor(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// prepareDirForPostgresUser makes Dir owned by the postgres user, falling back
// to a temp directory when that user cannot traverse the path to it.
func (c *Cluster) prepareDirForPostgresUser() error {
	try := func(dir string) bool {
		// Parents must stay traversable for the postgres user; only the
		// cluster directory itself is private to it.
		if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
			return false
		}
		if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return false
		}
		uid, _ := strconv.Atoi(c.runAs.Uid)
		gid, _ := strconv.Atoi(c.runAs.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			return false
		}
		return exec.Command("runuser", "-u", c.runAs.Username, "--", "test", "-w", dir, "-a", "-x", dir).Run() == nil
	}
	if try(c.Dir) {
		return nil
	}
	sum := sha256.Sum256([]byte(c.Dir))
	alt := filepath.Join(os.TempDir(), "infusiondesk-pg-"+hex.EncodeToString(sum[:4])+"-"+filepath.Base(c.Dir))
	if try(alt) {
		c.Dir = alt
		return nil
	}
	return fmt.Errorf("devdb: the postgres user cannot write to %s nor %s", c.Dir, alt)
}

// ownedDir makes dir, private to the user the cluster runs as (its parents
// stay traversable).
func (c *Cluster) ownedDir(dir string) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return c.chown(dir)
}

// chown gives path to the user the cluster runs as.
func (c *Cluster) chown(path string) error {
	if c.runAs == nil {
		return nil
	}
	uid, _ := strconv.Atoi(c.runAs.Uid)
	gid, _ := strconv.Atoi(c.runAs.Gid)
	return os.Chown(path, uid, gid)
}

func (c *Cluster) dataDir() string { return filepath.Join(c.Dir, "pgdata") }
func (c *Cluster) logFile() string { return filepath.Join(c.Dir, "postgres.log") }

// command builds a command for one of the PostgreSQL binaries, run as the
// postgres user when we are root.
func (c *Cluster) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return c.commandAt(ctx, nil, filepath.Join(c.BinDir, name), args...)
}

// commandAt builds a command for the program at path with env added to the
// environment, run as the postgres user when we are root (runuser resets
// part of the environment, so env is passed through env(1)).
func (c *Cluster) commandAt(ctx context.Context, env []string, path string, args ...string) *exec.Cmd {
	env = append([]string{"LC_ALL=C", "LANG=C"}, env...)
	var cmd *exec.Cmd
	if c.runAs != nil {
		argv := append(append([]string{"-u", c.runAs.Username, "--", "env"}, env...), path)
		cmd = exec.CommandContext(ctx, "runuser", append(argv, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, path, args...)
	}
	cmd.Dir = c.Dir
	cmd.Env = append(os.Environ(), env...)
	return cmd
}

func run(cmd *exec.Cmd) error {
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w\n%s", strings.Join(cmd.Args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// lock takes an exclusive file lock on the cluster directory so that several
// processes (parallel test packages) do not init or start it twice.
func (c *Cluster) lock() (unlock func(), err error) {
	f, err := os.OpenFile(filepath.Join(c.Dir, "lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() { syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}

// Start initialises the cluster if needed and starts it if it is not running.
// It returns the port the server listens on (loopback only).
func (c *Cluster) Start(ctx context.Context) (int, error) {
	unlock, err := c.lock()
	if err != nil {
		return 0, err
	}
	defer unlock()

	if _, err := os.Stat(filepath.Join(c.dataDir(), "PG_VERSION")); err != nil {
		if err := c.initdb(ctx); err != nil {
			return 0, err
		}
	}
	if port, ok := c.runningPort(); ok {
		return port, nil
	}
	port := c.PreferredPort
	if port == 0 {
		if port, err = freePort(); err != nil {
			return 0, err
		}
	}
	opts := fmt.Sprintf("-p %d", port)
	if err := run(c.command(ctx, "pg_ctl", "-D", c.dataDir(), "-l", c.logFile(), "-w", "-t", "60", "-o", opts, "start")); err != nil {
		return 0, fmt.Errorf("devdb: starting postgres (log in %s): %w", c.logFile(), err)
	}
	if err := c.waitReady(ctx, port); err != nil {
		return 0, err
	}
	return port, nil
}

func (c *Cluster) initdb(ctx context.Context) error {
	os.RemoveAll(c.dataDir())
	if err := run(c.command(ctx, "initdb", "-D", c.dataDir(), "-U", Superuser, "--auth=trust", "--encoding=UTF8", "--locale=C")); err != nil {
		return fmt.Errorf("devdb: initdb: %w", err)
	}
	conf := []string{
		"# written by infusiondesk devdb",
		"listen_addresses = '127.0.0.1'",
		"unix_socket_directories = ''",
		"max_connections = 300",
		"timezone = 'UTC'",
		"log_timezone = 'UTC'",
	}
	if c.Fast {
		conf = append(conf, "fsync = off", "synchronous_commit = off", "full_page_writes = off")
	}
	f, err := os.OpenFile(filepath.Join(c.dataDir(), "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.WriteString("\n" + strings.Join(conf, "\n") + "\n")
	return err
}

// runningPort reads the port from postmaster.pid when the server is up.
func (c *Cluster) runningPort() (int, bool) {
	if err := c.command(context.Background(), "pg_ctl", "-D", c.dataDir(), "status").Run(); err != nil {
		return 0, false
	}
	f, err := os.Open(filepath.Join(c.dataDir(), "postmaster.pid"))
	if err != nil {
		return 0, false
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for i := 1; s.Scan(); i++ {
		if i == 4 { // line 4 of postmaster.pid is the port
			port, err := strconv.Atoi(strings.TrimSpace(s.Text()))
			return port, err == nil
		}
	}
	return 0, false
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (c *Cluster) waitReady(ctx context.Context, port int) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := pgx.Connect(ctx, URL(port, "postgres"))
		if err == nil {
			conn.Close(ctx)
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("devdb: postgres did not accept connections: %w", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Stop stops the cluster if it is running.
func (c *Cluster) Stop(ctx context.Context) error {
	unlock, err := c.lock()
	if err != nil {
		return err
	}
	defer unlock()
	if _, ok := c.runningPort(); !ok {
		return nil
	}
	return run(c.command(ctx, "pg_ctl", "-D", c.dataDir(), "-m", "fast", "-w", "stop"))
}

// Port returns the port of the running cluster.
func (c *Cluster) Port() (int, bool) { return c.runningPort() }

// URL is the connection string for database name on the local cluster.
func URL(port int, name string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", Superuser, port, name)
}

// EnsureDatabase creates database name on the cluster listening on port if it
// does not exist yet.
func EnsureDatabase(ctx context.Context, port int, name string) error {
	conn, err := pgx.Connect(ctx, URL(port, "postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	return err
}

// DropDatabase drops database name, ending its connections.
func DropDatabase(ctx context.Context, port int, name string) error {
	conn, err := pgx.Connect(ctx, URL(port, "postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	return err
}
