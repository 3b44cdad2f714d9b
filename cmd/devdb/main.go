// Command devdb starts and stops the project-local PostgreSQL cluster that
// `make run` and `make test` use when no DATABASE_URL is given.
//
//	devdb [-dir .data/dev] start [-db infusiondesk]   prints the database URL
//	devdb [-dir .data/dev] stop
//	devdb [-dir .data/dev] destroy                    stop and delete the cluster
//	devdb [-dir .data/dev] drop-db [-db infusiondesk]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

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
		return fmt.Errorf("usage: devdb [-dir DIR] start|stop|destroy|drop-db [-db NAME]")
	}
	cmd := global.Arg(0)
	sub := flag.NewFlagSet(cmd, flag.ContinueOnError)
	db := sub.String("db", "infusiondesk", "database name")
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
	default:
		return fmt.Errorf("unknown command %q (start, stop, destroy, drop-db)", cmd)
	}
}
