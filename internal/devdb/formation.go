package devdb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Formation is a local pg_auto_failover formation on loopback: a monitor
// and two PostgreSQL nodes, one primary and one synchronous secondary, each
// node watched by its pg_autoctl keeper. `make ha` runs one under .data/ha;
// the failover drill (cmd/drill) kills its primary.
//
// Everything pg_autoctl keeps — its configuration, state and pid files — is
// under Dir (XDG_CONFIG_HOME, XDG_DATA_HOME and XDG_RUNTIME_DIR point there),
// so two formations on one machine do not see each other.
type Formation struct {
	c     *Cluster // Dir, the binaries and the postgres user
	Ports formationPorts
}

type formationPorts struct {
	Monitor int    `json:"monitor"`
	Nodes   [2]int `json:"nodes"`
}

// Database is the name of the clinic's database on the formation's nodes.
const Database = "infusiondesk"

// OpenFormation describes the formation under dir without starting it.
func OpenFormation(dir string) (*Formation, error) {
	c, err := Open(dir)
	if err != nil {
		return nil, err
	}
	f := &Formation{c: c}
	if b, err := os.ReadFile(f.portsFile()); err == nil {
		if err := json.Unmarshal(b, &f.Ports); err != nil {
			return nil, fmt.Errorf("devdb: %s: %w", f.portsFile(), err)
		}
	}
	return f, nil
}

// Dir is where the formation lives.
func (f *Formation) Dir() string { return f.c.Dir }

func (f *Formation) portsFile() string      { return filepath.Join(f.c.Dir, "formation.json") }
func (f *Formation) createdFile() string    { return filepath.Join(f.c.Dir, "created") }
func (f *Formation) pgdata(m member) string { return filepath.Join(f.c.Dir, m.String()) }
func (f *Formation) logFile(m member) string {
	return filepath.Join(f.c.Dir, m.String()+".log")
}
func (f *Formation) pidFile(m member) string { return filepath.Join(f.c.Dir, m.String()+".pid") }

// member is the monitor (0) or node 1 or 2.
type member int

const monitor member = 0

func (m member) String() string {
	if m == monitor {
		return "monitor"
	}
	return fmt.Sprintf("node%d", int(m))
}

func (f *Formation) port(m member) int {
	if m == monitor {
		return f.Ports.Monitor
	}
	return f.Ports.Nodes[m-1]
}

// MonitorURL is the monitor's database, where the nodes' states are.
func (f *Formation) MonitorURL() string {
	return fmt.Sprintf("postgres://autoctl_node@127.0.0.1:%d/pg_auto_failover?sslmode=disable", f.Ports.Monitor)
}

// URL is the multi-host connection string the server uses: pgx tries each
// node and keeps the one that takes writes, so it follows the primary.
func (f *Formation) URL() string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d,127.0.0.1:%d/%s?sslmode=disable&target_session_attrs=read-write",
		Superuser, f.Ports.Nodes[0], f.Ports.Nodes[1], Database)
}

// NodeURL connects to node n (1 or 2) alone, whatever its role.
func (f *Formation) NodeURL(n int) string { return URL(f.Ports.Nodes[n-1], Database) }

// autoctl builds a pg_autoctl command with the formation's environment.
func (f *Formation) autoctl(ctx context.Context, args ...string) *exec.Cmd {
	path, err := exec.LookPath("pg_autoctl")
	if err != nil {
		path = "/usr/bin/pg_autoctl"
	}
	env := []string{
		// initdb takes the database encoding from the locale: UTF-8, sorted
		// by code point like the project's other clusters.
		"LC_ALL=C.UTF-8", "LANG=C.UTF-8",
		"PATH=" + f.c.BinDir + ":/usr/bin:/bin",
		"PG_CONFIG=" + filepath.Join(f.c.BinDir, "pg_config"),
		"XDG_CONFIG_HOME=" + filepath.Join(f.c.Dir, "config"),
		"XDG_DATA_HOME=" + filepath.Join(f.c.Dir, "share"),
		"XDG_RUNTIME_DIR=" + filepath.Join(f.c.Dir, "run"),
	}
	return f.c.commandAt(ctx, env, path, args...)
}

// HaveAutoctl reports whether pg_auto_failover's pg_autoctl is installed.
func HaveAutoctl() bool {
	_, err := exec.LookPath("pg_autoctl")
	return err == nil
}

// Monitor GUCs that make a lost primary noticed in seconds rather than the
// defaults' half a minute (a loopback formation has no network to wait for).
var fastFailover = map[string]string{
	"pgautofailover.health_check_period":               "1000",
	"pgautofailover.health_check_timeout":              "1000",
	"pgautofailover.health_check_max_retries":          "1",
	"pgautofailover.health_check_retry_delay":          "500",
	"pgautofailover.node_considered_unhealthy_timeout": "3000",
	"pgautofailover.primary_demote_timeout":            "5000",
}

// Start creates the formation on first use and starts every member that is
// not running, then waits until it has a primary and a synchronous
// secondary. It returns the formation's URL.
func (f *Formation) Start(ctx context.Context) (string, error) {
	unlock, err := f.c.lock()
	if err != nil {
		return "", err
	}
	defer unlock()
	if _, err := os.Stat(f.createdFile()); err != nil {
		if err := f.create(ctx); err != nil {
			f.Stop(ctx)
			return "", fmt.Errorf("%w\n(the formation in %s is half made: `devdb -dir %[2]s formation destroy` removes it)", err, f.c.Dir)
		}
	} else {
		for _, m := range []member{monitor, 1, 2} {
			if err := f.run(m); err != nil {
				return "", err
			}
		}
	}
	if _, err := f.WaitHealthy(ctx, 2*time.Minute); err != nil {
		return "", err
	}
	return f.URL(), nil
}

func (f *Formation) create(ctx context.Context) error {
	for _, d := range []string{"config", "share", "run"} {
		if err := f.c.ownedDir(filepath.Join(f.c.Dir, d)); err != nil {
			return err
		}
	}
	ports, err := freePorts(3)
	if err != nil {
		return err
	}
	f.Ports = formationPorts{Monitor: ports[0], Nodes: [2]int{ports[1], ports[2]}}
	b, _ := json.Marshal(f.Ports)
	if err := os.WriteFile(f.portsFile(), b, 0o644); err != nil {
		return err
	}
	common := []string{"--listen", "127.0.0.1", "--hostname", "127.0.0.1", "--auth", "trust", "--no-ssl"}
	args := append([]string{"create", "monitor", "--pgdata", f.pgdata(monitor), "--pgport", strconv.Itoa(f.Ports.Monitor)}, common...)
	if err := run(f.autoctl(ctx, args...)); err != nil {
		return fmt.Errorf("devdb: creating the monitor: %w", err)
	}
	if err := f.run(monitor); err != nil {
		return err
	}
	if err := f.tuneMonitor(ctx); err != nil {
		return err
	}
	for _, n := range []member{1, 2} {
		args := append([]string{"create", "postgres", "--pgdata", f.pgdata(n), "--pgport", strconv.Itoa(f.port(n)),
			"--monitor", f.MonitorURL(), "--dbname", Database, "--name", n.String()}, common...)
		if err := run(f.autoctl(ctx, args...)); err != nil {
			return fmt.Errorf("devdb: creating %s: %w", n, err)
		}
		if err := f.run(n); err != nil {
			return err
		}
		// The secondary is copied from the first node once that runs alone.
		if err := f.waitState(ctx, n, map[member]string{1: "single", 2: "secondary"}[n], time.Minute); err != nil {
			return err
		}
	}
	return os.WriteFile(f.createdFile(), nil, 0o644)
}

func (f *Formation) tuneMonitor(ctx context.Context) error {
	conn, err := connectRetrying(ctx, URL(f.Ports.Monitor, "pg_auto_failover"), 30*time.Second)
	if err != nil {
		return fmt.Errorf("devdb: the monitor did not start (log in %s): %w", f.logFile(monitor), err)
	}
	defer conn.Close(ctx)
	for name, value := range fastFailover {
		if _, err := conn.Exec(ctx, fmt.Sprintf("ALTER SYSTEM SET %s = '%s'", name, value)); err != nil {
			return fmt.Errorf("devdb: monitor setting %s: %w", name, err)
		}
	}
	_, err = conn.Exec(ctx, "SELECT pg_reload_conf()")
	return err
}

// freePorts returns n distinct free loopback ports.
func freePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close() // held until all are chosen, so none comes back twice
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func connectRetrying(ctx context.Context, url string, wait time.Duration) (*pgx.Conn, error) {
	deadline := time.Now().Add(wait)
	for {
		conn, err := pgx.Connect(ctx, url)
		if err == nil {
			return conn, nil
		}
		if time.Now().After(deadline) {
			return nil, err
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// running reports whether member m's pg_autoctl is up (its process group
// from the pid file still exists).
func (f *Formation) running(m member) (pgid int, ok bool) {
	b, err := os.ReadFile(f.pidFile(m))
	if err != nil {
		return 0, false
	}
	pgid, err = strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pgid <= 0 {
		return 0, false
	}
	return pgid, syscall.Kill(-pgid, 0) == nil
}

// run starts `pg_autoctl run` for member m in the background, in a session
// of its own (so that Kill can take the whole node down at once), unless it
// is running.
func (f *Formation) run(m member) error {
	if _, ok := f.running(m); ok {
		return nil
	}
	log, err := os.OpenFile(f.logFile(m), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer log.Close()
	cmd := f.autoctl(context.Background(), "run", "--pgdata", f.pgdata(m))
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("devdb: starting %s: %w", m, err)
	}
	pid := cmd.Process.Pid
	// Reap it when it ends, so that a long-lived caller (the drill) does
	// not keep a zombie in its process group, which running would take for
	// a live keeper.
	go cmd.Wait() //nolint:errcheck // its end is seen through running
	return os.WriteFile(f.pidFile(m), []byte(strconv.Itoa(pid)+"\n"), 0o644)
}

// Node is one node as the monitor sees it.
type Node struct {
	ID       int    // 1 or 2
	Port     int    // on 127.0.0.1
	Reported string // the state the node's keeper last reported
	Goal     string // the state the monitor assigned
}

// Nodes asks the monitor for the nodes' states.
func (f *Formation) Nodes(ctx context.Context) ([]Node, error) {
	conn, err := pgx.Connect(ctx, f.MonitorURL())
	if err != nil {
		return nil, err
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT nodename, nodeport, reportedstate::text, goalstate::text FROM pgautofailover.node ORDER BY nodename`)
	if err != nil {
		return nil, err
	}
	var out []Node
	for rows.Next() {
		var n Node
		var name string
		if err := rows.Scan(&name, &n.Port, &n.Reported, &n.Goal); err != nil {
			return nil, err
		}
		n.ID, _ = strconv.Atoi(strings.TrimPrefix(name, "node"))
		out = append(out, n)
	}
	return out, rows.Err()
}

func (f *Formation) waitState(ctx context.Context, m member, state string, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for {
		nodes, err := f.Nodes(ctx)
		for _, n := range nodes {
			if n.ID == int(m) && n.Reported == state && n.Goal == state {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("devdb: %s did not reach %q in %s (monitor: %v %v; log in %s)", m, state, wait, nodes, err, f.logFile(m))
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// WaitHealthy waits until one node is primary and the other its secondary,
// and the primary commits synchronously to it. It returns the primary.
func (f *Formation) WaitHealthy(ctx context.Context, wait time.Duration) (primary int, err error) {
	deadline := time.Now().Add(wait)
	for {
		nodes, err := f.Nodes(ctx)
		primary = 0
		secondaries := 0
		for _, n := range nodes {
			switch {
			case n.Reported == "primary" && n.Goal == "primary":
				primary = n.ID
			case n.Reported == "secondary" && n.Goal == "secondary":
				secondaries++
			}
		}
		if primary != 0 && secondaries == 1 {
			if sync, serr := f.synchronous(ctx, primary); serr == nil && sync != "" {
				return primary, nil
			}
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("devdb: the formation in %s is not healthy after %s (monitor: %v %v)", f.c.Dir, wait, nodes, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// synchronous returns the primary's synchronous_standby_names: pg_auto_failover
// sets 'ANY 1 (…)' while its secondary is streaming, so a commit returns only
// once the secondary has it.
func (f *Formation) synchronous(ctx context.Context, node int) (string, error) {
	conn, err := pgx.Connect(ctx, f.NodeURL(node))
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	var names string
	err = conn.QueryRow(ctx, "SHOW synchronous_standby_names").Scan(&names)
	return names, err
}

// Kill takes node n down the way a lost machine goes: SIGKILL to its
// pg_autoctl keeper, its postmaster and every backend at once, so that nothing restarts
// it and the monitor must fail over. Rejoin brings it back.
func (f *Formation) Kill(n int) error {
	m := member(n)
	postmaster := 0
	if b, err := os.ReadFile(filepath.Join(f.pgdata(m), "postmaster.pid")); err == nil {
		postmaster, _ = strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0])
	}
	if pgid, ok := f.running(m); ok {
		syscall.Kill(-pgid, syscall.SIGKILL)
	}
	if postmaster > 0 {
		// Each backend is a session of its own and lives on until it
		// notices its postmaster gone, committing meanwhile; a lost
		// machine takes them at the same instant. Stopped first, the
		// postmaster forks no new one while they are listed.
		syscall.Kill(postmaster, syscall.SIGSTOP)
		for _, pid := range children(postmaster) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		syscall.Kill(postmaster, syscall.SIGKILL)
	}
	// Wait until the port is closed: the backends leave when they see their
	// postmaster gone.
	for i := 0; i < 100; i++ {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", f.port(m)), 100*time.Millisecond)
		if err != nil {
			return nil
		}
		c.Close()
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("devdb: %s still answers after SIGKILL", m)
}

// children lists the processes whose parent is pid (from /proc).
func children(pid int) []int {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var out []int
	for _, path := range stats {
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		// pid (comm) state ppid …; comm may hold spaces, not ')'.
		fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		if len(fields) > 1 && fields[1] == strconv.Itoa(pid) {
			child, _ := strconv.Atoi(filepath.Base(filepath.Dir(path)))
			out = append(out, child)
		}
	}
	return out
}

// Rejoin starts node n's keeper again: pg_auto_failover makes a former
// primary the new secondary (rewinding it if it must).
func (f *Formation) Rejoin(n int) error { return f.run(member(n)) }

// Stop stops the nodes, then the monitor.
func (f *Formation) Stop(ctx context.Context) error {
	var errs []error
	for _, m := range []member{2, 1, monitor} {
		pgid, ok := f.running(m)
		if !ok {
			continue
		}
		if err := run(f.autoctl(ctx, "stop", "--pgdata", f.pgdata(m))); err != nil {
			syscall.Kill(-pgid, syscall.SIGTERM)
		}
		for i := 0; i < 300; i++ {
			if _, ok := f.running(m); !ok {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if _, ok := f.running(m); ok {
			syscall.Kill(-pgid, syscall.SIGKILL)
			errs = append(errs, fmt.Errorf("devdb: %s did not stop in 30 s; killed", m))
		}
	}
	return errors.Join(errs...)
}

// Destroy stops the formation and deletes it.
func (f *Formation) Destroy(ctx context.Context) error {
	err := f.Stop(ctx)
	return errors.Join(err, os.RemoveAll(f.c.Dir))
}
