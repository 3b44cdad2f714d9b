package demo_test

import (
	"context"
	"testing"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/demo"
	"github.com/infusiondesk/infusiondesk/internal/postgres"
	"github.com/infusiondesk/infusiondesk/internal/postgres/pgtest"
)

// The freshly loaded demo has two chairs freed in the coming days, each
// with a patient who could take it.
func TestFreeChairs(t *testing.T) {
	db, _ := pgtest.Open(t)
	ctx := context.Background()
	now := time.Now()
	c, err := demo.Generate(now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Load(ctx, db, c, "not-a-hash"); err != nil {
		t.Fatal(err)
	}
	freed, err := demo.FreeChairs(ctx, db, c, now, 2)
	if err != nil || len(freed) != 2 {
		t.Fatalf("freed %d (%v)", len(freed), err)
	}
	sched, _ := db.Schedule(ctx)
	slots, err := db.FreedSlots(ctx, now.Add(postgres.FreedDays*24*time.Hour).In(sched.Loc), now)
	if err != nil || len(slots) != 2 {
		t.Fatalf("freed slots %+v (%v)", slots, err)
	}
	for _, s := range slots {
		if s.Best == nil {
			t.Errorf("no candidate for the chair freed at %s", s.Start)
		}
	}
}
