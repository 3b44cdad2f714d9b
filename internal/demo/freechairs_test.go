package demo_test

import (
	"context"
	"testing"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/demo"
	"github.com/infusiondesk/infusiondesk/internal/postgres"
	"github.com/infusiondesk/infusiondesk/internal/postgres/pgtest"
	"github.com/jackc/pgx/v5"
)

// The freshly loaded demo has two chairs of the next clinic day freed by
// patients who called to cancel, each with a patient who could take it —
// and sent nobody a message.
func TestDemoFreedChairs(t *testing.T) {
	db, url := pgtest.Open(t)
	ctx := context.Background()
	now := time.Now()
	c, err := demo.Generate(now)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Freed) != 2 {
		t.Fatalf("%d freed visits generated", len(c.Freed))
	}
	if _, err := demo.Load(ctx, db, c, "not-a-hash"); err != nil {
		t.Fatal(err)
	}
	sched, _ := db.Schedule(ctx)
	slots, err := db.FreedSlots(ctx, clinic.DateOf(now, sched.Loc).AddDays(postgres.FreedDays).At(0, sched.Loc), now)
	if err != nil || len(slots) != 2 {
		t.Fatalf("freed slots %+v (%v)", slots, err)
	}
	for _, s := range slots {
		if s.Best == nil {
			t.Errorf("no candidate for the chair freed at %s", s.Start)
		}
	}
	var messages int
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM messages`).Scan(&messages); err != nil {
		t.Fatal(err)
	}
	if messages != 0 {
		t.Fatalf("loading the demo scheduled %d messages", messages)
	}
}
