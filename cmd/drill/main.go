// Command drill runs the two disaster drills against real engines and the
// real server binary, and prints one line of figures for each:
//
//	drill failover [-dir .data/ha-test] [-bin .data/bin/infusiondesk] [-rounds 2]
//	    a pg_auto_failover formation, two servers, 8 desks booking single
//	    visits and loading series; SIGKILL the primary (keeper and
//	    postmaster) mid-load, the secondary is promoted, the load goes on.
//	    Round 2 brings the old primary back as the secondary and kills the
//	    new one. Checks: every booking answered 201 exists, no partial
//	    series, no overlaps, `infusiondesk audit verify` passes.
//
//	drill restore [-dir .data/backup-test] [-bin .data/bin/infusiondesk]
//	    a cluster archiving WAL to a pgBackRest repository: book, back up,
//	    book, save a signed audit checkpoint, note T, book; restore to T
//	    into a fresh cluster and check through a server pointed at it:
//	    exactly the appointments committed before T, the audit log
//	    verifies, and it only grew from the checkpoint.
//
// It exits non-zero on any lost booking or broken invariant.
package main

import (
	"errors"
	"fmt"
	"os"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "drill:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return errors.New("usage: drill failover|restore [flags]")
	}
	switch args[0] {
	case "failover":
		return failoverDrill(args[1:])
	case "restore":
		return restoreDrill(args[1:])
	}
	return fmt.Errorf("unknown drill %q (failover, restore)", args[0])
}
