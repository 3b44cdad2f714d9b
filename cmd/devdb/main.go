// Command devdb starts and stops the project-local PostgreSQL cluster that
// `make run` and `make test` use when no DATABASE_URL is given.
//
//	devdb [-dir .data/dev] start [-db infusiondesk]   prints the database URL
//	devdb [-dir .data/dev] stop
//	devdb [-dir .data/dev] destroy                    stop and delete the cluster
//	devdb [-dir .data/dev] drop-db [-db infusiondesk]
//	devdb [-dir .data/ha] formation start|stop|destroy|status
//	                                                  a pg_auto_failover formation (start prints its URL)
//	devdb [-dir .data/dev] backup [-repo .data/backups] [-type incr|diff|full]
//	                                                  archive WAL into a pgBackRest repository and take a backup
//	devdb -dir NEW restore [-repo .data/backups] -to TIME [-db infusiondesk]
//	                                                  a fresh cluster in NEW as it was at TIME (prints its URL)
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/devdb"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "devdb:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	global := flag.NewFlagSet("devdb", flag.ContinueOnError)
	dir := global.String("dir", ".data/dev", "cluster directory")
	fast := global.Bool("fast", false, "turn off durability (for throwaway test clusters)")
	if err := global.Parse(args); err != nil {
		return err
	}
	if global.NArg() == 0 {
		return fmt.Errorf("usage: devdb [-dir DIR] start|stop|destroy|drop-db|formation|backup|restore [flags]")
	}
	cmd := global.Arg(0)
	if cmd == "formation" {
		return formation(*dir, global.Args()[1:])
	}
	sub := flag.NewFlagSet(cmd, flag.ContinueOnError)
	db := sub.String("db", "infusiondesk", "database name")
	repo := sub.String("repo", ".data/backups", "the pgBackRest repository (backup, restore)")
	kind := sub.String("type", "incr", "backup: incr, diff or full (the first is full whatever is asked)")
	to := sub.String("to", "", "restore: the instant to restore to (RFC 3339, or YYYY-MM-DD HH:MM:SS in the machine's zone)")
	if err := sub.Parse(global.Args()[1:]); err != nil {
		return err
	}

	ctx := context.Background()
	c, err := devdb.Open(*dir)
	if err != nil {
		return err
	}
	c.Fast = *fast
	switch cmd {
	case "start":
		port, err := c.Start(ctx)
		if err != nil {
			return err
		}
		if err := devdb.EnsureDatabase(ctx, port, *db); err != nil {
			return err
		}
		fmt.Println(devdb.URL(port, *db))
		return nil
	case "stop":
		return c.Stop(ctx)
	case "destroy":
		if err := c.Stop(ctx); err != nil {
			return err
		}
		return os.RemoveAll(c.Dir)
	case "drop-db":
		port, ok := c.Port()
		if !ok {
			return fmt.Errorf("the cluster in %s is not running", c.Dir)
		}
		return devdb.DropDatabase(ctx, port, *db)
	case "backup":
		return backup(ctx, c, *repo, *kind)
	case "restore":
		return restore(ctx, c, *repo, *to, *db)
	default:
		return fmt.Errorf("unknown command %q (start, stop, destroy, drop-db, formation, backup, restore)", cmd)
	}
}

// formation runs the pg_auto_failover formation of `make ha`.
func formation(dir string, args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("usage: devdb [-dir DIR] formation start|stop|destroy|status")
	}
	if !devdb.HaveAutoctl() {
		return fmt.Errorf("pg_autoctl is not installed (Debian: postgresql-15-auto-failover; `make deps` installs it)")
	}
	ctx := context.Background()
	f, err := devdb.OpenFormation(dir)
	if err != nil {
		return err
	}
	switch args[0] {
	case "start":
		url, err := f.Start(ctx)
		if err != nil {
			return err
		}
		fmt.Println(url)
		return nil
	case "stop":
		return f.Stop(ctx)
	case "destroy":
		return f.Destroy(ctx)
	case "status":
		nodes, err := f.Nodes(ctx)
		if err != nil {
			return fmt.Errorf("the monitor of %s does not answer: %w", f.Dir(), err)
		}
		for _, n := range nodes {
			fmt.Printf("node%d  127.0.0.1:%d  %s (assigned %s)\n", n.ID, n.Port, n.Reported, n.Goal)
		}
		fmt.Println(f.URL())
		return nil
	}
	return fmt.Errorf("unknown formation command %q (start, stop, destroy, status)", args[0])
}

// backup starts the cluster if it is down, makes it archive its WAL into
// the repository and takes a backup, then prints the repository's account.
func backup(ctx context.Context, c *devdb.Cluster, repo, kind string) error {
	if !devdb.HaveBackRest() {
		return fmt.Errorf("pgbackrest is not installed (Debian: pgbackrest; `make deps` installs it)")
	}
	if _, err := c.Start(ctx); err != nil {
		return err
	}
	b, err := devdb.OpenBackups(repo, c)
	if err != nil {
		return err
	}
	if err := b.Configure(ctx); err != nil {
		return err
	}
	if err := b.Backup(ctx, kind); err != nil {
		return err
	}
	info, err := b.Info(ctx)
	fmt.Print(info)
	return err
}

// restore makes a fresh cluster in c's directory from the repository, as it
// was at the instant to, starts it and prints the database's URL.
func restore(ctx context.Context, c *devdb.Cluster, repo, to, db string) error {
	target, err := parseInstant(to)
	if err != nil {
		return err
	}
	b, err := devdb.OpenBackups(repo, c)
	if err != nil {
		return err
	}
	port, err := b.Restore(ctx, target, c)
	if err != nil {
		return err
	}
	fmt.Println(devdb.URL(port, db))
	return nil
}

func parseInstant(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02 15:04:05", "2006-01-02 15:04"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("-to %q: give an instant like 2026-12-03T14:30:00-07:00 or \"2026-12-03 14:30:00\"", s)
}
