package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/devdb"
)

type restoreOptions struct {
	dir, bin string
	desks    int
	phase    time.Duration
	keep     bool
}

func restoreDrill(args []string) error {
	var o restoreOptions
	fs := flag.NewFlagSet("drill restore", flag.ContinueOnError)
	fs.StringVar(&o.dir, "dir", ".data/backup-test", "the drill's clusters and repository (made fresh)")
	fs.StringVar(&o.bin, "bin", ".data/bin/infusiondesk", "the infusiondesk binary")
	fs.IntVar(&o.desks, "desks", 4, "front-desk clients booking")
	fs.DurationVar(&o.phase, "phase", 3*time.Second, "how long the desks book in each of the three phases")
	fs.BoolVar(&o.keep, "keep", false, "leave the clusters, the repository and the logs (else deleted when the drill passes)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !devdb.HaveBackRest() {
		return errors.New("pgbackrest is not installed (Debian: pgbackrest)")
	}
	if err := useSigningKey(o.bin); err != nil {
		return err
	}
	ctx := context.Background()
	source, restored, err := freshClusters(ctx, o.dir)
	if err != nil {
		return err
	}
	passed := false
	defer func() {
		source.Stop(ctx)
		restored.Stop(ctx)
		if passed && !o.keep {
			os.RemoveAll(o.dir)
		}
	}()
	r, err := newRestoreRun(ctx, o, source)
	if err != nil {
		return err
	}
	defer r.server.stop()
	if err := r.run(ctx, restored); err != nil {
		return err
	}
	passed = true
	return nil
}

// freshClusters deletes what an earlier drill left and opens the source
// cluster and the one the backup is restored into.
func freshClusters(ctx context.Context, dir string) (source, restored *devdb.Cluster, err error) {
	for _, name := range []string{"source", "restored"} {
		if c, err := devdb.Open(filepath.Join(dir, name)); err == nil {
			c.Stop(ctx)
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, nil, err
	}
	if source, err = devdb.Open(filepath.Join(dir, "source")); err != nil {
		return nil, nil, err
	}
	restored, err = devdb.Open(filepath.Join(dir, "restored"))
	return source, restored, err
}

// restoreRun is the source side of the drill: its cluster archiving into
// the repository, a server on it and the desks booking through it.
type restoreRun struct {
	o          restoreOptions
	backups    *devdb.Backups
	url        string
	server     *server
	desk       *desk // reads the appointments
	protocolID int64
	zone       *time.Location
}

func newRestoreRun(ctx context.Context, o restoreOptions, source *devdb.Cluster) (*restoreRun, error) {
	port, err := source.Start(ctx)
	if err != nil {
		return nil, err
	}
	if err := devdb.EnsureDatabase(ctx, port, devdb.Database); err != nil {
		return nil, err
	}
	r := &restoreRun{o: o, url: devdb.URL(port, devdb.Database)}
	for _, step := range [][]string{{"migrate", "up"}, {"demo"}} {
		if out, err := infusiondesk(o.bin, r.url, step...); err != nil {
			return nil, fmt.Errorf("%s: %w\n%s", strings.Join(step, " "), err, out)
		}
	}
	if r.backups, err = devdb.OpenBackups(filepath.Join(o.dir, "backups"), source); err != nil {
		return nil, err
	}
	if err := r.backups.Configure(ctx); err != nil {
		return nil, err
	}
	if r.server, err = startServer(o.bin, r.url, filepath.Join(o.dir, "server-source.log")); err != nil {
		return nil, err
	}
	if r.desk, err = signInDesk([]*server{r.server}, 1, newTally()); err != nil {
		return nil, err
	}
	r.protocolID, r.zone, err = clinicSetup(r.desk)
	return r, err
}

// book lets the desks book for one phase and returns what was acknowledged.
func (r *restoreRun) book(ctx context.Context, phase int) (*tally, error) {
	t := newTally()
	load, stop := context.WithTimeout(ctx, r.o.phase)
	defer stop()
	var wg sync.WaitGroup
	for i := range r.o.desks {
		d, err := signInDesk([]*server{r.server}, uint64(1000*phase+i), t)
		if err != nil {
			return nil, err
		}
		wg.Go(func() { d.work(load, r.protocolID, r.zone) })
	}
	wg.Wait()
	if len(t.broken) > 0 {
		return nil, fmt.Errorf("phase %d: %d answers broke the promise (first: %s)", phase, len(t.broken), t.broken[0])
	}
	if len(t.appointments) == 0 {
		return nil, fmt.Errorf("phase %d booked nothing", phase)
	}
	return t, nil
}

func (r *restoreRun) run(ctx context.Context, restored *devdb.Cluster) error {
	beforeBackup, err := r.book(ctx, 1)
	if err != nil {
		return err
	}
	began := time.Now()
	if err := r.backups.Backup(ctx, "full"); err != nil {
		return err
	}
	backupTook := time.Since(began)
	afterBackup, err := r.book(ctx, 2)
	if err != nil {
		return err
	}
	// The head an operator's cron job keeps outside the database.
	head := filepath.Join(r.o.dir, "head-before-T.txt")
	if err := saveCheckpoint(r.o.bin, r.url, head); err != nil {
		return err
	}
	// Nothing books for a second either side of T, so "before T" is sharp.
	time.Sleep(time.Second)
	atT, err := allAppointments(r.desk)
	if err != nil {
		return err
	}
	target := time.Now()
	time.Sleep(time.Second)
	afterT, err := r.book(ctx, 3)
	if err != nil {
		return err
	}
	// The segment holding the last bookings goes to the repository now
	// rather than at archive_timeout: the restore must find WAL past T.
	if err := r.backups.Check(ctx); err != nil {
		return err
	}

	began = time.Now()
	port, err := r.backups.Restore(ctx, target, restored)
	if err != nil {
		return err
	}
	restoreTook := time.Since(began)
	restoredURL := devdb.URL(port, devdb.Database)
	s, err := startServer(r.o.bin, restoredURL, filepath.Join(r.o.dir, "server-restored.log"))
	if err != nil {
		return err
	}
	defer s.stop()
	reader, err := signInDesk([]*server{s}, 2, newTally())
	if err != nil {
		return err
	}
	got, err := allAppointments(reader)
	if err != nil {
		return err
	}
	time.Sleep(2 * time.Second) // the restored server's sealer seals what T left pending
	audit, auditErr := infusiondesk(r.o.bin, restoredURL, "audit", "verify", "--head", head)

	c := compareRestored(atT, got, [][]int64{beforeBackup.appointments, afterBackup.appointments}, afterT.appointments)
	fmt.Printf("restore drill: full backup %.1f s; restored to T in %.1f s (WAL replayed from the backup): "+
		"appointments at T %d (booked through the API: %d before the backup, %d after), restored %d: missing %d, changed %d, from after T %d (of %d booked after T)\n",
		backupTook.Seconds(), restoreTook.Seconds(), len(atT), len(beforeBackup.appointments), len(afterBackup.appointments),
		len(got), c.missing, c.changed, c.fromAfterT, len(afterT.appointments))
	fmt.Printf("  restored server's audit verify --head (the checkpoint saved before T): %s", audit)
	var problems []string
	if c.missing+c.changed+c.fromAfterT+c.extra > 0 {
		problems = append(problems, fmt.Sprintf("the restore is not the clinic at T: missing %d, changed %d, extra %d, from after T %d",
			c.missing, c.changed, c.extra, c.fromAfterT))
	}
	if auditErr != nil {
		problems = append(problems, "the restored audit log does not verify against the head saved before T")
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

type restoreCheck struct{ missing, changed, extra, fromAfterT int }

// compareRestored compares the appointments the API listed at T with those
// the restored server lists: each the same, none more; every booking
// acknowledged before T among them, none booked after.
func compareRestored(atT, got map[int64]json.RawMessage, before [][]int64, after []int64) restoreCheck {
	var c restoreCheck
	for id, want := range atT {
		have, ok := got[id]
		switch {
		case !ok:
			c.missing++
		case !bytes.Equal(want, have):
			c.changed++
		}
	}
	for id := range got {
		if _, ok := atT[id]; !ok {
			c.extra++
		}
	}
	for _, ids := range before {
		for _, id := range ids {
			if _, ok := atT[id]; !ok {
				c.missing++ // acknowledged, yet not listed at T
			}
		}
	}
	for _, id := range after {
		if _, ok := got[id]; ok {
			c.fromAfterT++
		}
	}
	return c
}

// allAppointments lists, through the API, every appointment from a year ago
// to a year ahead (two calls: the API takes at most 366 days at once), each
// as the API answered it.
func allAppointments(d *desk) (map[int64]json.RawMessage, error) {
	today := time.Now()
	out := map[int64]json.RawMessage{}
	for _, span := range [][2]time.Time{{today.AddDate(-1, 0, 0), today.AddDate(0, 0, -1)}, {today, today.AddDate(1, 0, -1)}} {
		var list []json.RawMessage
		path := "/api/v1/appointments?from=" + span[0].Format("2006-01-02") + "&to=" + span[1].Format("2006-01-02")
		if status, _, err := d.call(context.Background(), "GET", path, "", nil, &list); err != nil || status != 200 {
			return nil, fmt.Errorf("GET %s: %d %v", path, status, err)
		}
		for _, raw := range list {
			var a struct{ ID int64 }
			if err := json.Unmarshal(raw, &a); err != nil {
				return nil, err
			}
			out[a.ID] = raw
		}
	}
	return out, nil
}
