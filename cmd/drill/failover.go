package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/devdb"
	"github.com/jackc/pgx/v5"
)

type failoverOptions struct {
	dir, bin      string
	rounds, desks int
	before, after time.Duration
	keep          bool
}

func failoverDrill(args []string) error {
	var o failoverOptions
	fs := flag.NewFlagSet("drill failover", flag.ContinueOnError)
	fs.StringVar(&o.dir, "dir", ".data/ha-test", "the formation's directory (made fresh)")
	fs.StringVar(&o.bin, "bin", ".data/bin/infusiondesk", "the infusiondesk binary")
	fs.IntVar(&o.rounds, "rounds", 2, "failovers: the second kills the new primary once the old one is back as its secondary")
	fs.IntVar(&o.desks, "desks", 8, "front-desk clients booking")
	fs.DurationVar(&o.before, "before", 5*time.Second, "load before the kill")
	fs.DurationVar(&o.after, "after", 5*time.Second, "load after the first booking that succeeds past the kill")
	fs.BoolVar(&o.keep, "keep", false, "leave the formation and its logs (else deleted when the drill passes)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !devdb.HaveAutoctl() {
		return errors.New("pg_autoctl is not installed (Debian: postgresql-15-auto-failover)")
	}
	if err := useSigningKey(o.bin); err != nil {
		return err
	}
	ctx := context.Background()
	f, err := devdb.OpenFormation(o.dir)
	if err != nil {
		return err
	}
	if err := f.Destroy(ctx); err != nil {
		return err
	}
	if f, err = devdb.OpenFormation(o.dir); err != nil {
		return err
	}
	passed := false
	defer func() {
		if f.Stop(ctx) == nil && passed && !o.keep {
			os.RemoveAll(f.Dir())
		}
	}()
	began := time.Now()
	url, err := f.Start(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("formation: a monitor and two nodes (synchronous) up in %.1f s\n", time.Since(began).Seconds())
	for _, step := range [][]string{{"migrate", "up"}, {"demo"}} {
		if out, err := infusiondesk(o.bin, url, step...); err != nil {
			return fmt.Errorf("%s: %w\n%s", strings.Join(step, " "), err, out)
		}
	}
	var servers []*server
	for i := range 2 {
		s, err := startServer(o.bin, url, filepath.Join(f.Dir(), fmt.Sprintf("server%d.log", i+1)))
		if err != nil {
			return err
		}
		defer s.stop()
		servers = append(servers, s)
	}
	setup, err := signInDesk(servers, 0, newTally())
	if err != nil {
		return err
	}
	protocolID, zone, err := clinicSetup(setup)
	if err != nil {
		return err
	}
	var failures []error
	killed := 0
	for round := 1; round <= o.rounds; round++ {
		if killed != 0 {
			back := time.Now()
			if err := f.Rejoin(killed); err != nil {
				return err
			}
			if _, err := f.WaitHealthy(ctx, 3*time.Minute); err != nil {
				return err
			}
			fmt.Printf("node%d came back as the secondary (synchronous again) in %.1f s\n", killed, time.Since(back).Seconds())
		}
		primary, err := f.WaitHealthy(ctx, time.Minute)
		if err != nil {
			return err
		}
		if err := failoverRound(ctx, f, o, round, primary, servers, url, protocolID, zone); err != nil {
			failures = append(failures, err)
		}
		killed = primary
	}
	if len(failures) > 0 {
		return errors.Join(failures...)
	}
	passed = true
	return nil
}

// failoverRound books from o.desks desks, kills the primary, and checks.
func failoverRound(ctx context.Context, f *devdb.Formation, o failoverOptions, round, primary int, servers []*server,
	url string, protocolID int64, zone *time.Location) error {
	t := newTally()
	since := time.Now() // the series of this round's load (the demo's are partly history)
	var desks []*desk
	for i := range o.desks {
		d, err := signInDesk(servers, uint64(round*100+i), t)
		if err != nil {
			return err
		}
		desks = append(desks, d)
	}
	load, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, d := range desks {
		wg.Go(func() { d.work(load, protocolID, zone) })
	}
	time.Sleep(o.before)
	// The signed head before the kill: the log after the failover must only
	// have grown from it.
	head := filepath.Join(f.Dir(), fmt.Sprintf("head-round%d.txt", round))
	if err := saveCheckpoint(o.bin, url, head); err != nil {
		stop()
		return err
	}
	t.mu.Lock()
	kill := time.Now()
	t.firstOKFrom = kill
	t.mu.Unlock()
	if err := f.Kill(primary); err != nil {
		stop()
		return err
	}
	for i := 0; i < 1200 && t.recovered().IsZero(); i++ {
		time.Sleep(100 * time.Millisecond)
	}
	recovered := t.recovered()
	if !recovered.IsZero() {
		time.Sleep(o.after)
	}
	stop()
	wg.Wait()
	if recovered.IsZero() {
		return fmt.Errorf("round %d: no booking succeeded within 2 minutes of killing node%d", round, primary)
	}
	failover := recovered.Sub(kill).Seconds()

	c, err := checkFormation(ctx, url, t, since)
	if err != nil {
		return err
	}
	time.Sleep(2 * time.Second) // the sealers seal within a second
	out, auditErr := infusiondesk(o.bin, url, "audit", "verify", "--head", head)
	var nodes []string
	for _, s := range servers {
		n, err := s.ready()
		if err != nil {
			n = err.Error()
		}
		nodes = append(nodes, n)
	}
	fmt.Printf("round %d (SIGKILL node%d: keeper, postmaster, backends): acknowledged %d, lost %d, partial series %d, overlaps %d, failover %.1f s\n",
		round, primary, len(t.appointments), c.lost, c.partial, c.overlaps, failover)
	fmt.Printf("  answers: 201 %d, 503 %d (each with a request id), refused %d; servers now on %s; %s",
		t.statuses[201], t.unavailable, t.statuses[409]+t.statuses[422], strings.Join(nodes, " and "), out)
	var problems []string
	if c.lost > 0 || c.partial > 0 || c.overlaps > 0 {
		problems = append(problems, fmt.Sprintf("lost %d, partial series %d, overlaps %d", c.lost, c.partial, c.overlaps))
	}
	if auditErr != nil {
		problems = append(problems, "the audit log does not verify")
	}
	if len(t.broken) > 0 {
		problems = append(problems, fmt.Sprintf("%d answers broke the promise (first: %s)", len(t.broken), t.broken[0]))
	}
	if len(problems) > 0 {
		return fmt.Errorf("round %d: %s", round, strings.Join(problems, "; "))
	}
	return nil
}

func (t *tally) recovered() time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.firstOK
}

type formationCheck struct{ lost, partial, overlaps int64 }

// checkFormation looks in the database (on its primary now) for every
// acknowledged booking and for broken invariants.
func checkFormation(ctx context.Context, url string, t *tally, since time.Time) (formationCheck, error) {
	var c formationCheck
	db, err := pgx.Connect(ctx, url)
	if err != nil {
		return c, err
	}
	defer db.Close(ctx)
	err = db.QueryRow(ctx, `
		SELECT (SELECT count(*) FROM unnest($1::bigint[]) id WHERE NOT EXISTS (SELECT 1 FROM appointments a WHERE a.id = id))
		     + (SELECT count(*) FROM unnest($2::bigint[]) id WHERE NOT EXISTS (SELECT 1 FROM loading_series s WHERE s.id = id)),
		       (SELECT count(*) FROM loading_series ls JOIN courses c ON c.id = ls.course_id
		        WHERE ls.created_at >= $3 AND ls.cancelled_at IS NULL
		          AND (SELECT count(*) FROM appointments a WHERE a.series_id = ls.id AND a.status IN ('booked', 'checked_in', 'completed')) <> c.sessions),
		       (SELECT count(*) FROM appointments a JOIN appointments b ON a.id < b.id AND (a.chair_id = b.chair_id OR a.patient_id = b.patient_id)
		        WHERE a.status IN ('booked', 'checked_in', 'completed') AND b.status IN ('booked', 'checked_in', 'completed')
		          AND tstzrange(a.starts_at, a.ends_at, '[)') && tstzrange(b.starts_at, b.ends_at, '[)'))`,
		t.appointments, t.series, since).Scan(&c.lost, &c.partial, &c.overlaps)
	return c, err
}
