package web

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
)

// dayFixture is a clinic day of 12 chairs and 60 appointments (five a chair).
func dayFixture() (clinic.Schedule, []clinic.Chair, []clinic.Visit, clinic.Date) {
	loc, _ := time.LoadLocation("America/Chicago")
	s := clinic.Settings{Name: "Bench", TimeZone: "America/Chicago", SlotMinutes: 15}
	s.Hours[time.Monday] = []clinic.Range{{Opens: 7 * 60, Closes: 12 * 60}, {Opens: 13 * 60, Closes: 18 * 60}}
	sched := clinic.Schedule{Settings: s, Loc: loc, Closures: map[clinic.Date]string{}}
	d := clinic.D(2026, 3, 9)
	var chairs []clinic.Chair
	var visits []clinic.Visit
	starts := []clinic.Clock{7 * 60, 8*60 + 30, 10 * 60, 13 * 60, 15 * 60}
	for i := 1; i <= 12; i++ {
		chairs = append(chairs, clinic.Chair{ID: int64(i), Name: fmt.Sprintf("Chair %d", i), Position: i, Active: true})
		for j, st := range starts {
			start := d.At(st, loc)
			visits = append(visits, clinic.Visit{
				Appointment: clinic.Appointment{ID: int64(i*10 + j), PatientID: int64(i*10 + j), ChairID: int64(i),
					Kind: clinic.KindMaintenance, Status: clinic.StatusBooked, Start: start, End: start.Add(90 * time.Minute), Version: 1},
				PatientName: fmt.Sprintf("Patient %d-%d", i, j), ChairName: fmt.Sprintf("Chair %d", i), MRN: "MRN100001"})
		}
	}
	return sched, chairs, visits, d
}

func TestDayGridLaysOutEveryVisitOnce(t *testing.T) {
	sched, chairs, visits, d := dayFixture()
	g := NewDayGrid(sched, chairs, visits, d, d.At(0, sched.Loc))
	if g.ActiveCount() != 60 {
		t.Fatalf("%d blocks; want 60", g.ActiveCount())
	}
	// 07:00–18:00 at 15 minutes is 44 rows; each 90-minute visit spans 6.
	if len(g.Rows) != 44 || g.Rows[0].Cells[0].Span != 6 || !g.Rows[5].Cells[0].Covered || g.Rows[6].Cells[0].Covered {
		t.Fatalf("rows %d, first block %+v", len(g.Rows), g.Rows[0].Cells[0])
	}
	// 12:00–13:00 is the lunch break: not open, not bookable.
	lunch := g.Rows[20].Cells[0]
	if g.Rows[20].Time != 12*60 || lunch.Open || lunch.Bookable {
		t.Fatalf("12:00 row %v %+v", g.Rows[20].Time, lunch)
	}
	// 11:30–12:00 is free for 30 minutes before lunch.
	if c := g.Rows[18].Cells[0]; !c.Bookable || c.FreeMinutes != 30 {
		t.Fatalf("11:30 cell %+v", c)
	}
	// Later in the day, nothing before now is bookable.
	g = NewDayGrid(sched, chairs, visits, d, d.At(14*60, sched.Loc))
	if g.Rows[24].Cells[0].Bookable || !g.Rows[40].Cells[0].Bookable {
		t.Fatalf("13:00 bookable=%v, 17:00 bookable=%v at 14:00", g.Rows[24].Cells[0].Bookable, g.Rows[40].Cells[0].Bookable)
	}
}

// BenchmarkDayView lays out and renders the day view of 12 chairs and 60
// appointments. Target: under 2 ms per render.
func BenchmarkDayView(b *testing.B) {
	sched, chairs, visits, d := dayFixture()
	now := d.At(0, sched.Loc)
	m := Meta{Title: "Mon 9 Mar", Clinic: "Bench", Section: "/desk/calendar"}
	ctx := context.Background()
	for b.Loop() {
		g := NewDayGrid(sched, chairs, visits, d, now)
		if err := DayCalendar(m, g).Render(ctx, io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
