package web

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
)

// Counts agree with their nouns: never "1 appointments".
func TestCount(t *testing.T) {
	for _, tt := range []struct {
		n         int
		one, many string
		want      string
	}{
		{0, "appointment", "", "no appointments"},
		{1, "appointment", "", "1 appointment"},
		{2, "appointment", "", "2 appointments"},
		{1, "entry", "entries", "1 entry"},
		{12, "entry", "entries", "12 entries"},
	} {
		if got := count(tt.n, tt.one, tt.many); got != tt.want {
			t.Errorf("count(%d, %q) = %q, want %q", tt.n, tt.one, got, tt.want)
		}
	}
	loc := time.UTC
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, loc)
	d := DayView{Heading: "Today", Date: clinic.D(2026, 3, 2), Loc: loc,
		Visits: []clinic.Visit{{Appointment: clinic.Appointment{ID: 1, Status: clinic.StatusBooked, Kind: clinic.KindMaintenance, Start: start, End: start.Add(90 * time.Minute)}}}}
	var b strings.Builder
	if err := dayTable(d).Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "1 appointment.") || strings.Contains(b.String(), "1 appointments") {
		t.Fatalf("the day table says:\n%s", b.String())
	}
}

// The audit log's "older entries" link keeps the filter.
func TestAuditFilterQuery(t *testing.T) {
	if got := (AuditFilterForm{}).query(); got != "" {
		t.Fatalf("no filter: %q", got)
	}
	if got := (AuditFilterForm{Patient: "7", Action: "appointment.", From: "2026-12-01"}).query(); got != "&action=appointment.&from=2026-12-01&patient=7" {
		t.Fatalf("filter: %q", got)
	}
}
