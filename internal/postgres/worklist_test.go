package postgres_test

import (
	"testing"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/postgres"
)

// The work lists follow every change to a plan's inputs at once: imported
// history, a booking, a relief report, a physician's interval.
func TestWorkListsFollowChanges(t *testing.T) {
	c := newTestClinic(t, 2)
	standard := c.protocol(t, "Standard IV loading", 6, 2, 3, 14, 60)
	p := c.patients[0]
	if _, err := c.db.CreateCourse(c.ctx, p, standard, clinic.D(2026, 1, 5)); err != nil {
		t.Fatal(err)
	}
	for _, d := range []int{5, 7, 9, 12, 14, 16} {
		if _, err := c.db.ImportInfusion(c.ctx, p, clinic.D(2026, 1, d), nil, clinic.PhaseLoading, 0.3, c.now); err != nil {
			t.Fatal(err)
		}
	}
	// Last loading infusion 16 Jan, no report: due 13 Feb (28 d).
	on := func(list postgres.WorkList, now time.Time) bool {
		items, err := c.db.Work(c.ctx, list, "due", now, 50)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			if it.PatientID == p {
				return true
			}
		}
		return false
	}
	jan29 := time.Date(2026, 1, 29, 15, 0, 0, 0, time.UTC) // 13 days after, 15 before due
	jan30 := time.Date(2026, 1, 30, 15, 0, 0, 0, time.UTC) // 14 days after, 14 before due
	if on(postgres.ListReportMissing, jan29) || !on(postgres.ListReportMissing, jan30) {
		t.Fatal("report missing from day 14 only")
	}
	if on(postgres.ListDueSoon, jan29) || !on(postgres.ListDueSoon, jan30) {
		t.Fatal("due soon from 14 days before the due date only")
	}
	feb14 := time.Date(2026, 2, 14, 15, 0, 0, 0, time.UTC)
	if !on(postgres.ListOverdue, feb14) || !on(postgres.ListFlagged, feb14) {
		t.Fatal("overdue and flagged the day after the due date")
	}
	counts, err := c.db.Counts(c.ctx, feb14)
	if err != nil || counts.Overdue != 1 || counts.ReportMissing != 1 || counts.Flagged != 1 || counts.DueSoon != 0 {
		t.Fatalf("counts %+v %v", counts, err)
	}
	// Booked: off the due lists. Reported: off the report list.
	c.now = feb14
	if _, _, err := c.db.Book(c.ctx, clinic.Booking{PatientID: p, Kind: clinic.KindMaintenance, Start: at(16, 9, 0).AddDate(0, -1, 0)}, feb14); err != nil {
		t.Fatal(err)
	}
	if on(postgres.ListOverdue, feb14) {
		t.Fatal("booked, still overdue")
	}
	rows, err := c.db.PatientInfusions(c.ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.db.ReportRelief(c.ctx, rows[0].ID, clinic.ReliefEnded, clinic.D(2026, 2, 20), "desk", nil, feb14); clinic.ErrorFields(err)["date"] == "" {
		t.Fatalf("relief in the future: %v", err)
	}
	if _, err := c.db.ReportRelief(c.ctx, rows[0].ID, clinic.ReliefEnded, clinic.D(2026, 2, 10), "desk", nil, feb14); err != nil {
		t.Fatal(err)
	}
	if on(postgres.ListReportMissing, feb14) {
		t.Fatal("reported, still missing")
	}
	// 25 d of relief − 7 = 18 → raised to 28: INTERVAL_AT_MINIMUM, stored for the physician's list.
	items, err := c.db.Work(c.ctx, postgres.ListFlagged, "name", feb14, 50)
	if err != nil || len(items) != 1 || len(items[0].Flags) == 0 || items[0].Flags[0].Code != clinic.FlagIntervalAtMinimum {
		t.Fatalf("flagged %+v %v", items, err)
	}
	// The physician fixes 42 d: the stored plan follows.
	fixed := 42
	if err := c.db.UpdateIntervals(c.ctx, p, postgres.IntervalUpdate{SetFixed: true, Fixed: &fixed, Note: "trial"}, feb14); err != nil {
		t.Fatal(err)
	}
	items, _ = c.db.Work(c.ctx, postgres.ListFlagged, "name", feb14, 50)
	if len(items) != 0 {
		t.Fatalf("still flagged after a fixed interval inside the range: %+v", items)
	}
	v, err := c.db.PatientPlan(c.ctx, p, feb14)
	if err != nil || v.Plan.DueDate != clinic.D(2026, 2, 27) || len(v.Changes) != 1 || v.Changes[0].Note != "trial" {
		t.Fatalf("plan %+v changes %+v %v", v.Plan, v.Changes, err)
	}
}
