package postgres_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/postgres"
	"github.com/jackc/pgx/v5"
)

// reportClinic is the test clinic set up as a small clinic whose week of
// Monday 2 to Sunday 8 March 2026 is worked out by hand below:
//   - Monday to Thursday 07:30–12:00 and 13:00–16:30 (8 h), Friday
//     07:30–12:00 (4.5 h), Sunday 01:30–03:30 (a night range across the
//     clock change: on 8 March 02:00 becomes 03:00, so it lasts 1 h).
//   - Three chairs; Wednesday 4 March closed; chair 3 out of service on
//     Thursday and Friday.
//   - Nurses on shift on Monday only: 07:30–12:00 and 13:00–16:30, three
//     patients each.
func reportClinic(t *testing.T) *testClinic {
	t.Helper()
	c := newTestClinic(t, 6)
	sched, err := c.db.Schedule(c.ctx)
	if err != nil {
		t.Fatal(err)
	}
	s := sched.Settings
	s.Hours = clinic.WeeklyHours{}
	for wd := time.Monday; wd <= time.Thursday; wd++ {
		s.Hours[wd] = []clinic.Range{{Opens: 7*60 + 30, Closes: 12 * 60}, {Opens: 13 * 60, Closes: 16*60 + 30}}
	}
	s.Hours[time.Friday] = []clinic.Range{{Opens: 7*60 + 30, Closes: 12 * 60}}
	s.Hours[time.Sunday] = []clinic.Range{{Opens: 90, Closes: 210}}
	if _, err := c.db.UpdateSettings(c.ctx, s); err != nil {
		t.Fatal(err)
	}
	if err := c.db.AddClosure(c.ctx, clinic.D(2026, 3, 4), "Staff training", c.now); err != nil {
		t.Fatal(err)
	}
	for i, span := range [][2]clinic.Clock{{7*60 + 30, 12 * 60}, {13 * 60, 16*60 + 30}} {
		nurse := newUser(t, c.db, fmt.Sprintf("report-nurse%d@example.org", i), clinic.RoleNurse)
		if _, err := c.db.AddShift(c.ctx, clinic.Shift{NurseID: nurse.ID, Date: clinic.D(2026, 3, 2), From: span[0], To: span[1]}); err != nil {
			t.Fatal(err)
		}
	}
	exec(t, c, fmt.Sprintf(`INSERT INTO chair_outages (chair_id, from_on, until_on) VALUES (%d, '2026-03-05', '2026-03-07')`, c.chairs[2]))
	return c
}

func exec(t *testing.T, c *testClinic, sql string) {
	t.Helper()
	if err := postgres.ExecForTest(c.ctx, c.db, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// visit inserts a visit on chair (1–3) for patient (0–5), wall-clock times
// in Chicago on a day of March 2026.
func (c *testClinic) visit(t *testing.T, chair, patient int, kind clinic.AppointmentKind, status clinic.Status, day int, from, to string, cancelledAt string) {
	t.Helper()
	cancelled := "NULL"
	if cancelledAt != "" {
		cancelled = fmt.Sprintf("timestamptz '%s America/Chicago'", cancelledAt)
	}
	exec(t, c, fmt.Sprintf(`INSERT INTO appointments (patient_id, chair_id, kind, status, starts_at, ends_at, cancelled_at)
		VALUES (%d, %d, '%s', '%s', timestamptz '2026-03-%02d %s America/Chicago', timestamptz '2026-03-%02d %s America/Chicago', %s)`,
		c.patients[patient], c.chairs[chair-1], kind, status, day, from, day, to, cancelled))
}

func hours(minutes int) float64 { return float64(minutes) / 60 }

// Every figure of the utilisation report, computed by hand from the small
// clinic: closures, a chair out of service, the clock change and
// half-hour ranges and visits.
func TestUtilisationByHand(t *testing.T) {
	c := reportClinic(t)
	c.visit(t, 1, 0, clinic.KindMaintenance, clinic.StatusCompleted, 2, "07:30", "09:00", "")             // hours 7: 30, 8: 60
	c.visit(t, 2, 1, clinic.KindLoading, clinic.StatusBooked, 2, "09:30", "11:00", "")                    // 9: 30, 10: 60
	c.visit(t, 3, 2, clinic.KindLoading, clinic.StatusNoShow, 2, "13:00", "14:30", "")                    // lost 90
	c.visit(t, 1, 0, clinic.KindLoading, clinic.StatusCheckedIn, 3, "13:00", "16:30", "")                 // 13–15: 60 each, 16: 30
	c.visit(t, 2, 1, clinic.KindLoading, clinic.StatusCancelled, 3, "08:00", "09:30", "2026-03-03 07:00") // late: lost 90
	c.visit(t, 3, 2, clinic.KindLoading, clinic.StatusCancelled, 3, "08:00", "09:30", "2026-02-27 10:00") // in good time
	c.visit(t, 1, 3, clinic.KindConsult, clinic.StatusCompleted, 5, "11:00", "12:00", "")                 // 11: 60
	c.visit(t, 2, 4, clinic.KindLoading, clinic.StatusCompleted, 6, "07:30", "09:00", "")                 // 7: 30, 8: 60
	c.visit(t, 1, 5, clinic.KindLoading, clinic.StatusCompleted, 8, "01:30", "03:30", "")                 // 1: 30, 3: 30 (1 h real)
	c.visit(t, 1, 5, clinic.KindLoading, clinic.StatusCompleted, 9, "07:30", "09:00", "")                 // the next week: not counted

	u, err := c.db.Utilisation(c.ctx, clinic.D(2026, 3, 2), clinic.D(2026, 3, 8))
	if err != nil {
		t.Fatal(err)
	}
	// Open: Mon and Tue 8 h × 3 chairs, Wed closed, Thu 8 h × 2, Fri 4.5 h
	// × 2, Sun 1 h × 3 = 24 + 24 + 16 + 9 + 3 = 76 chair-hours.
	// Booked: 1.5 + 1.5 + 3.5 + 1 + 1.5 + 1 = 10 chair-hours.
	check := func(what string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-9 {
			t.Errorf("%s = %v; want %v", what, got, want)
		}
	}
	check("open chair-hours", hours(u.Total.Open), 76)
	check("booked chair-hours", hours(u.Total.Booked), 10)
	check("utilisation", u.Total.Ratio(), 10.0/76)
	check("no-show hours", hours(u.NoShowMinutes), 1.5)
	check("late-cancel hours", hours(u.LateCancelMinutes), 1.5)
	check("lost hours", hours(u.LostMinutes()), 3)
	if u.OpenDays != 5 {
		t.Errorf("%d open days; want 5", u.OpenDays)
	}
	byWeekday := map[time.Weekday][2]float64{
		time.Monday: {24, 3}, time.Tuesday: {24, 3.5}, time.Wednesday: {0, 0}, time.Thursday: {16, 1},
		time.Friday: {9, 1.5}, time.Saturday: {0, 0}, time.Sunday: {3, 1},
	}
	for wd, want := range byWeekday {
		check(wd.String()+" open", hours(u.ByWeekday[wd].Open), want[0])
		check(wd.String()+" booked", hours(u.ByWeekday[wd].Booked), want[1])
	}
	// Hour 7 is open 30 minutes on each chair on Mon, Tue (3 chairs), Thu
	// and Fri (2): 30 × (3 + 3 + 2 + 2) = 300 minutes; booked Mon and Fri
	// 30 each. Hour 2 does not exist on 8 March. Hour 16: 30 × (3+3+2).
	byHour := map[int][2]int{7: {300, 60}, 8: {600, 120}, 1: {90, 30}, 2: {0, 0}, 3: {90, 30}, 12: {0, 0}, 16: {240, 30}, 13: {480, 60}}
	for h, want := range byHour {
		if got := u.ByHour[h]; got.Open != want[0] || got.Booked != want[1] {
			t.Errorf("hour %d: %+v; want open %d, booked %d", h, got, want[0], want[1])
		}
	}
	if got := u.Heat[time.Sunday][3]; got.Open != 90 || got.Booked != 30 {
		t.Errorf("Sunday 03:00: %+v", got)
	}
	// Nurses, Monday only: 4.5 h + 3.5 h of shifts × 3 patients = 24
	// patient-hours; watched: the two Monday infusions that stood, 3 h.
	n := u.Nurses
	if n.Days != 1 || n.ShiftMinutes != 480 || n.CapacityMinutes != 1440 || n.WatchedMinutes != 180 {
		t.Errorf("nurses: %+v", n)
	}
	check("nurse utilisation", n.Ratio(), 0.125)
}

// Taking a chair out of service opens an outage from the clinic's today,
// whichever path does it; putting it back the same day leaves none.
func TestChairOutageKeptByTheDatabase(t *testing.T) {
	c := newTestClinic(t, 0)
	chairs, err := c.db.AllChairs(c.ctx)
	if err != nil {
		t.Fatal(err)
	}
	ch := chairs[1]
	ch.Active = false
	if ch, err = c.db.SaveChair(c.ctx, ch); err != nil {
		t.Fatal(err)
	}
	sched, _ := c.db.Schedule(c.ctx)
	today := clinic.DateOf(time.Now(), sched.Loc)
	u, err := c.db.Utilisation(c.ctx, today, today)
	if err != nil {
		t.Fatal(err)
	}
	if open := sched.OpenOn(today); len(open) > 0 {
		want := 0
		for _, r := range open {
			want += r.Minutes() * 2
		}
		if u.Total.Open != want {
			t.Errorf("open today with a chair out: %d minutes; want %d", u.Total.Open, want)
		}
	}
	var n int
	countOutages := func() int {
		t.Helper()
		if err := postgres.TxForTest(c.ctx, c.db, func(ctx context.Context, tx pgx.Tx) error {
			return tx.QueryRow(ctx, `SELECT count(*) FROM chair_outages WHERE chair_id = $1 AND from_on = $2 AND until_on IS NULL`, ch.ID, today).Scan(&n)
		}); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if countOutages() != 1 {
		t.Fatalf("%d open outages from today; want 1", n)
	}
	ch.Active = true
	if _, err := c.db.SaveChair(c.ctx, ch); err != nil {
		t.Fatal(err)
	}
	if countOutages() != 0 {
		t.Fatalf("an outage begun and ended today is still there")
	}
}

// The forecast from the plans: a patient due in three weeks with nothing
// booked adds their occupancy to that week's planned hours; booking them
// moves it to booked; a day made to overflow lists them, with the nearest
// day in their window that has room.
func TestForecastFromThePlans(t *testing.T) {
	c := newTestClinic(t, 1) // now: Monday 2 March 2026, 08:00
	protocol := c.protocol(t, "Standard", 6, 2, 3, 14, 60)
	patient := c.patients[0]
	if _, err := c.db.CreateCourse(c.ctx, patient, protocol, clinic.D(2026, 1, 5)); err != nil {
		t.Fatal(err)
	}
	// The last infusion a week ago; the first interval is 28 days: due
	// Monday 23 March, three weeks on.
	if _, err := c.db.ImportInfusion(c.ctx, patient, clinic.D(2026, 2, 23), nil, clinic.PhaseMaintenance, 0.3, c.now); err != nil {
		t.Fatal(err)
	}
	due := clinic.D(2026, 3, 23)
	forecast := func() (clinic.ForecastWeek, clinic.ForecastDay) {
		t.Helper()
		f, err := c.db.Forecast(c.ctx, 12, c.now)
		if err != nil {
			t.Fatal(err)
		}
		if len(f.Weeks) != 12 || f.Weeks[0].Start != clinic.D(2026, 3, 2) {
			t.Fatalf("%d weeks from %s", len(f.Weeks), f.Weeks[0].Start)
		}
		d, ok := f.Day(due)
		if !ok {
			t.Fatal("no 23 March in the forecast")
		}
		return f.Weeks[3], *d
	}
	// 9 open hours × 3 chairs = 1,620 chair-minutes a Monday to Thursday,
	// 6 × 3 = 1,080 a Friday: 4 × 1,620 + 1,080 = 7,560 a week.
	w, d := forecast()
	if w.Start != clinic.D(2026, 3, 23) || w.CapacityMinutes != 7560 || w.PlannedMinutes != 90 || w.BookedMinutes != 0 {
		t.Fatalf("week of 23 March: %+v", w)
	}
	if len(d.Planned) != 1 || d.Planned[0].PatientID != patient || d.Problem != nil {
		t.Fatalf("23 March: %+v", d)
	}

	a := mustBook(t, c, clinic.Booking{PatientID: patient, Kind: clinic.KindMaintenance, Start: due.At(9*60, chicago)})
	if w, _ = forecast(); w.PlannedMinutes != 0 || w.BookedMinutes != 90 {
		t.Fatalf("booked: week %+v", w)
	}

	// Cancelled again, and every chair of 23 March filled by others: the
	// day overflows by the patient's 90 minutes.
	if _, err := c.db.Cancel(c.ctx, a.ID, a.Version, "Patient asked", c.now); err != nil {
		t.Fatal(err)
	}
	others := newTestClinicPatients(t, c, 3)
	for i, ch := range c.chairs {
		for _, span := range [][2]string{{"07:00", "12:00"}, {"13:00", "17:00"}} {
			exec(t, c, fmt.Sprintf(`INSERT INTO appointments (patient_id, chair_id, kind, status, starts_at, ends_at) VALUES
				(%d, %d, 'consult', 'booked', timestamptz '2026-03-23 %s America/Chicago', timestamptz '2026-03-23 %s America/Chicago')`,
				others[i], ch, span[0], span[1]))
		}
	}
	w, d = forecast()
	if d.BookedMinutes != 1620 || d.PlannedMinutes != 90 || d.Problem == nil {
		t.Fatalf("23 March full: %+v", d)
	}
	if d.Problem.OverMinutes != 90 || len(d.Problem.Patients) != 1 || d.Problem.Patients[0].PatientID != patient {
		t.Fatalf("problem: %+v", d.Problem)
	}
	// Their window: 3 days either side of the due date, never sooner than
	// 28 days after the last infusion (23 March): 23–26 March. Tuesday the
	// 24th has room.
	if got := d.Problem.Patients[0].Suggest; got != clinic.D(2026, 3, 24) {
		t.Fatalf("suggested %s; want 2026-03-24 (%s)", got, d.Problem.Patients[0].Why)
	}
	if w.ProblemDays != 1 {
		t.Fatalf("week: %d problem days", w.ProblemDays)
	}
}

// newTestClinicPatients adds n patients to the clinic.
func newTestClinicPatients(t *testing.T, c *testClinic, n int) []int64 {
	t.Helper()
	var ids []int64
	for i := range n {
		p, err := c.db.CreatePatient(c.ctx, clinic.Patient{FirstName: "Other", LastName: fmt.Sprintf("Patient%02d", i),
			DateOfBirth: clinic.D(1980, 1, 1+i), Condition: clinic.ConditionCRPS}, clinic.D(2026, 3, 2))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, p.ID)
	}
	return ids
}

// A loading series whose later sessions were cancelled is at risk while
// the protocol's longest gap lasts, then stopped; the desk's call note
// goes with it, and the re-plan starts from the first session missing.
func TestLoadingCompletion(t *testing.T) {
	c, s := crpsSeries(t) // 5 sessions from Monday 2 March, 1–4 days apart
	exec(t, c, fmt.Sprintf(`UPDATE appointments SET status = 'completed', completed_at = starts_at WHERE series_id = %d AND session_no = 1`, s.ID))
	exec(t, c, fmt.Sprintf(`UPDATE appointments SET status = 'cancelled', cancelled_at = timestamptz '2026-03-02 12:00 America/Chicago'
		WHERE series_id = %d AND session_no > 1`, s.ID))
	report := func(now time.Time) clinic.Completion {
		t.Helper()
		r, err := c.db.Completion(c.ctx, clinic.D(2026, 3, 1), clinic.D(2026, 3, 31), now)
		if err != nil {
			t.Fatal(err)
		}
		if r.Total.Started != 1 || len(r.Work) != 1 {
			t.Fatalf("%+v", r)
		}
		return r
	}
	// Session 1 on 2 March, the longest gap 4 days: at risk to 6 March.
	r := report(at(6, 18, 0))
	w := r.Work[0]
	if w.State(clinic.D(2026, 3, 6)) != clinic.SeriesAtRisk || w.Completed != 1 || w.NextMissing != 2 || w.StoppedAfter() != clinic.D(2026, 3, 6) {
		t.Fatalf("on 6 March: %+v", w)
	}
	if r.Total.Active != 1 || r.Total.Stopped != 0 {
		t.Fatalf("total %+v", r.Total)
	}
	desk := c.as(t, clinic.RoleFrontDesk)
	if err := c.db.AddSeriesCall(desk, s.ID, "  ", c.now); clinic.ErrorFields(err)["note"] == "" {
		t.Fatalf("an empty note: %v", err)
	}
	if err := c.db.AddSeriesCall(desk, s.ID+1000, "Called", c.now); clinic.ErrorCode(err) != clinic.ENOTFOUND {
		t.Fatalf("no such series: %v", err)
	}
	if err := c.db.AddSeriesCall(desk, s.ID, "Left a message; will call back Monday.", at(7, 10, 0)); err != nil {
		t.Fatal(err)
	}
	r = report(at(9, 8, 0))
	w = r.Work[0]
	if w.State(clinic.D(2026, 3, 9)) != clinic.SeriesStopped || r.Total.Stopped != 1 || len(r.StoppedAfter) != 2 || r.StoppedAfter[1] != 1 {
		t.Fatalf("on 9 March: %+v %+v", w, r)
	}
	if w.Call == nil || w.Call.Note != "Left a message; will call back Monday." || w.Call.By == "" {
		t.Fatalf("call %+v", w.Call)
	}
	// While it was at risk, a re-plan from the first session missing
	// kept the gap; once stopped it cannot, and says why.
	if rf, err := c.db.PlanReflow(c.ctx, clinic.ReflowRequest{SeriesID: s.ID, From: w.NextMissing}, at(5, 6, 0)); err != nil || !rf.OK {
		t.Fatalf("re-plan at risk: %+v %v", rf, err)
	}
	_, err := c.db.PlanReflow(c.ctx, clinic.ReflowRequest{SeriesID: s.ID, From: w.NextMissing}, at(9, 8, 0))
	if !strings.Contains(clinic.ErrorFields(err)["start"], "session 2 would need a day from Tue, Mar 3 to Fri, Mar 6") {
		t.Fatalf("re-plan once stopped: %v %v", err, clinic.ErrorFields(err))
	}
}
