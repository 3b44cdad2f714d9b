package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/postgres"
)

// as runs ctx as a signed-in user of role, for the gates that ask who books.
func (c *testClinic) as(t *testing.T, role clinic.Role) context.Context {
	u := newUser(t, c.db, string(role)+"@lakeside.example", role)
	return clinic.WithActor(c.ctx, clinic.Actor{User: u, RequestID: "test"})
}

// A patient has one next maintenance infusion booked at a time: another is
// refused with the one booked named (to move instead), unless a physician
// books it as an additional infusion with a reason.
func TestOneNextInfusion(t *testing.T) {
	c := newTestClinic(t, 2)
	p := c.patients[0]
	first := mustBook(t, c, clinic.Booking{PatientID: p, Start: at(9, 9, 0)})
	_, err := c.book(clinic.Booking{PatientID: p, Start: at(11, 9, 30)})
	if clinic.ErrorCode(err) != clinic.ECONFLICT || clinic.ErrorReason(err) != clinic.ReasonNextInfusionBooked {
		t.Fatalf("a second next infusion: %v; want a conflict", err)
	}
	if msg := clinic.ErrorMessage(err); !strings.Contains(msg, "Mon, Mar 9, 2026 at 9:00 AM") || !strings.Contains(msg, "Move that visit") {
		t.Fatalf("the refusal does not name the booked visit: %q", msg)
	}
	var e *clinic.Error
	if !asError(err, &e) || e.Existing == nil || e.Existing.ID != first.ID {
		t.Fatalf("the refusal does not offer the booked visit to move: %+v", e)
	}
	// A consultation is not an infusion.
	mustBook(t, c, clinic.Booking{PatientID: p, Kind: clinic.KindConsult, Start: at(11, 9, 0)})

	// The desk cannot book an additional infusion; a physician can, with a reason.
	desk, physician := c.as(t, clinic.RoleFrontDesk), c.as(t, clinic.RolePhysician)
	extra := clinic.Booking{PatientID: p, Kind: clinic.KindMaintenance, Start: at(12, 9, 0), AdditionalReason: "Flare after surgery"}
	if _, _, err := c.db.Book(desk, extra, c.now); clinic.ErrorCode(err) != clinic.EFORBIDDEN {
		t.Fatalf("the desk books an additional infusion: %v; want forbidden", err)
	}
	a, _, err := c.db.Book(physician, extra, c.now)
	if err != nil || a.AdditionalReason != "Flare after surgery" {
		t.Fatalf("a physician's additional infusion: %+v %v", a, err)
	}
	// Still one infusion a day, even an additional one.
	extra.Start = at(9, 13, 0)
	if _, _, err := c.db.Book(physician, extra, c.now); clinic.ErrorReason(err) != clinic.ReasonInfusionThatDay {
		t.Fatalf("an additional infusion on the day of another: %v", err)
	}
	// Once the next one is cancelled, the desk books the next again.
	if _, err := c.db.Cancel(c.ctx, first.ID, first.Version, "Moved by phone", c.now); err != nil {
		t.Fatal(err)
	}
	mustBook(t, c, clinic.Booking{PatientID: p, Start: at(16, 9, 0)})

	// Racing desks booking the other patient's next infusion on different
	// days: exactly one stands, the others are told which.
	q := c.patients[1]
	results := race(10, func(i int) error {
		_, err := c.book(clinic.Booking{PatientID: q, Start: at(9+i%4, []int{7, 9, 13}[i/4], 0)})
		return err
	})
	won := 0
	for _, err := range results {
		switch {
		case err == nil:
			won++
		case clinic.ErrorReason(err) != clinic.ReasonNextInfusionBooked && clinic.ErrorReason(err) != clinic.ReasonInfusionThatDay:
			t.Fatalf("a racing booking: %v", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d next infusions booked at once; want 1", won)
	}
}

func asError(err error, target **clinic.Error) bool {
	e, ok := err.(*clinic.Error)
	if ok {
		*target = e
	}
	return ok
}

// Never two infusions of one patient on one clinic-local day, whatever
// their times: not by a booking, a move or a series.
func TestOneInfusionADay(t *testing.T) {
	c := newTestClinic(t, 3)
	p := c.patients[0]
	mustBook(t, c, clinic.Booking{PatientID: p, Start: at(4, 9, 0)})
	_, err := c.book(clinic.Booking{PatientID: p, Kind: clinic.KindLoading, Start: at(4, 15, 0)})
	if clinic.ErrorCode(err) == "" {
		t.Fatal("a second infusion the same day was booked")
	}
	// A consultation the same day is fine.
	consult := mustBook(t, c, clinic.Booking{PatientID: p, Kind: clinic.KindConsult, Start: at(4, 14, 0)})
	_ = consult
	// A loading series planned for that patient leaves that day out. (The
	// consultation on the 4th also moves the series after it.)
	short := c.protocol(t, "Short loading", 3, 1, 3, 7, 45)
	q := c.patients[1]
	mustBook(t, c, clinic.Booking{PatientID: q, Start: at(3, 9, 0)})
	prop, err := c.db.ProposeSeries(c.ctx, clinic.SeriesRequest{PatientID: q, ProtocolID: short, StartDate: clinic.D(2026, 3, 2), Preferred: 13 * 60}, c.now)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range prop.Sessions() {
		if clinic.DateOf(s.Start, chicago) == clinic.D(2026, 3, 3) {
			t.Fatalf("the series puts a session on the day of the patient's maintenance infusion: %v", prop.Sessions())
		}
	}
	// A move onto the day of another infusion is refused, naming it.
	r := c.patients[2]
	a := mustBook(t, c, clinic.Booking{PatientID: r, Kind: clinic.KindConsult, Start: at(5, 9, 0)})
	b := mustBook(t, c, clinic.Booking{PatientID: r, Start: at(6, 9, 0)})
	_ = a
	physician := c.as(t, clinic.RolePhysician)
	extra, _, err := c.db.Book(physician, clinic.Booking{PatientID: r, Kind: clinic.KindMaintenance, Start: at(10, 9, 0), AdditionalReason: "Second dose this week"}, c.now)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.db.Reschedule(c.ctx, extra.ID, extra.Version, at(6, 11, 0), 0, c.now)
	if clinic.ErrorReason(err) != clinic.ReasonInfusionThatDay || !strings.Contains(clinic.ErrorFields(err)["start"], "Fri, Mar 6, 2026 at 9:00 AM") {
		t.Fatalf("a move onto the day of another infusion: %v", err)
	}
	// The database holds the rule too, whatever the code does.
	su := superuser(t, c.url)
	_, err = su.Exec(c.ctx, `INSERT INTO appointments (patient_id, chair_id, kind, starts_at, ends_at)
		VALUES ($1, $2, 'loading', $3, $4)`, r, c.chairs[2], at(6, 15, 0), at(6, 16, 30))
	if err == nil || !strings.Contains(err.Error(), "appointments_one_infusion_a_day") {
		t.Fatalf("a second infusion written straight to the table: %v", err)
	}
	_ = b
}

// A loading series starts after the patient's booked consultation, and
// says so; a re-flow from the first session keeps to that too.
func TestSeriesStartsAfterConsultation(t *testing.T) {
	c := newTestClinic(t, 1)
	p := c.patients[0]
	short := c.protocol(t, "Short loading", 3, 1, 3, 7, 45)
	mustBook(t, c, clinic.Booking{PatientID: p, Kind: clinic.KindConsult, Start: at(5, 10, 0)})
	req := clinic.SeriesRequest{PatientID: p, ProtocolID: short, StartDate: clinic.D(2026, 3, 2), Preferred: 9 * 60}
	prop, err := c.db.ProposeSeries(c.ctx, req, c.now)
	if err != nil {
		t.Fatal(err)
	}
	if first := clinic.DateOf(prop.Sessions()[0].Start, chicago); first.Before(clinic.D(2026, 3, 6)) {
		t.Fatalf("the series starts %s, before the day after the consultation", first)
	}
	if !strings.Contains(prop.Note, "after the patient's consultation") || !strings.Contains(prop.Note, "Fri, Mar 6") {
		t.Fatalf("the proposal does not say why its dates moved: %q", prop.Note)
	}
	// Sessions arranged by hand before the consultation are refused.
	req.Sessions = []clinic.Slot{}
	for i, d := range []int{3, 4, 5} {
		start := at(d, 13, 0)
		req.Sessions = append(req.Sessions, clinic.Slot{ChairID: c.chairs[i%2], Interval: clinic.Interval{Start: start, End: start.Add(75 * time.Minute)}})
	}
	if _, _, err := c.db.BookSeries(c.ctx, req, c.now); clinic.ErrorCode(err) != clinic.EINVALID || !strings.Contains(clinic.ErrorFields(err)["session.1"], "after the patient's consultation") {
		t.Fatalf("a series before the consultation: %v", err)
	}
	req.Sessions = nil
	booked, _, err := c.db.BookSeries(c.ctx, req, c.now)
	if err != nil {
		t.Fatal(err)
	}
	// A re-flow from session 1, planned afresh, also starts after it.
	if _, err := c.db.CancelSeries(c.ctx, booked.ID, "patient asked to start again", c.now); err != nil {
		t.Fatal(err)
	}
	mustBook(t, c, clinic.Booking{PatientID: p, Kind: clinic.KindConsult, Start: at(12, 10, 0)})
	series2, _, err := c.db.BookSeries(c.ctx, clinic.SeriesRequest{PatientID: p, ProtocolID: short, StartDate: clinic.D(2026, 3, 2), Preferred: 9 * 60}, c.now)
	if err != nil {
		t.Fatal(err)
	}
	if first := clinic.DateOf(series2.Sessions[0].Start, chicago); first.Before(clinic.D(2026, 3, 13)) {
		t.Fatalf("series starts %s, before the day after the second consultation", first)
	}
	start := at(10, 9, 0)
	_, err = c.db.PlanReflow(c.ctx, clinic.ReflowRequest{SeriesID: series2.ID, From: 1, Start: &start, Version: series2.Sessions[0].Version}, c.now)
	if clinic.ErrorCode(err) != clinic.EINVALID || !strings.Contains(clinic.ErrorFields(err)["start"], "consultation") {
		t.Fatalf("a re-flow moving session 1 before the consultation: %v", err)
	}
}

// An infusion visit is checked in only with a driver or escort: the one on
// file, or one entered at check-in (kept on the visit).
func TestCheckInNeedsADriver(t *testing.T) {
	c := newTestClinic(t, 2)
	c.now = at(2, 8, 55)
	noDriver := c.patients[0]
	a := mustBook(t, c, clinic.Booking{PatientID: noDriver, Start: at(2, 9, 0)})
	_, err := c.db.CheckIn(c.ctx, a.ID, a.Version, arrive(clinic.Driver{}), c.now)
	if clinic.ErrorReason(err) != clinic.ReasonDriverMissing || clinic.ErrorFields(err)["driver_name"] == "" || clinic.ErrorFields(err)["driver_phone"] == "" {
		t.Fatalf("check-in without a driver: %v", err)
	}
	if _, err := c.db.CheckIn(c.ctx, a.ID, a.Version, arrive(clinic.Driver{Name: "Lee"}), c.now); clinic.ErrorFields(err)["driver_phone"] == "" {
		t.Fatalf("a driver without a phone: %v", err)
	}
	if v, _ := c.db.Visit(c.ctx, a.ID); v.Status != clinic.StatusBooked {
		t.Fatalf("a refused check-in changed the visit: %s", v.Status)
	}
	in, err := c.db.CheckIn(c.ctx, a.ID, a.Version, testArrival, c.now)
	if err != nil || in.Status != clinic.StatusCheckedIn {
		t.Fatal(err)
	}
	if v, _ := c.db.Visit(c.ctx, a.ID); v.Driver != testDriver {
		t.Fatalf("driver kept on the visit: %+v", v.Driver)
	}
	// With a driver on file nothing needs entering; a consultation needs none.
	pat, err := c.db.Patient(c.ctx, c.patients[1])
	if err != nil {
		t.Fatal(err)
	}
	pat.DriverName, pat.DriverPhone = "Jo Park (spouse)", "(312) 555-0101"
	if _, err := c.db.UpdatePatient(c.ctx, pat, clinic.D(2026, 3, 2)); err != nil {
		t.Fatal(err)
	}
	b := mustBook(t, c, clinic.Booking{PatientID: pat.ID, Start: at(2, 10, 0)})
	if _, err := c.db.CheckIn(c.ctx, b.ID, b.Version, arrive(clinic.Driver{}), c.now); err != nil {
		t.Fatalf("check-in with the driver on file: %v", err)
	}
	consult := mustBook(t, c, clinic.Booking{PatientID: noDriver, Kind: clinic.KindConsult, Start: at(2, 13, 0)})
	if _, err := c.db.CheckIn(c.ctx, consult.ID, consult.Version, arrive(clinic.Driver{}), c.now); err != nil {
		t.Fatalf("a consultation checked in without a driver: %v", err)
	}
}

// Nothing is booked, offered or closed outside [today, today + horizon].
func TestBookingHorizon(t *testing.T) {
	c := newTestClinic(t, 1)
	p := c.patients[0]
	for _, start := range []time.Time{time.Date(3001, 3, 9, 9, 0, 0, 0, chicago), time.Date(2027, 9, 6, 9, 0, 0, 0, chicago)} {
		if _, err := c.book(clinic.Booking{PatientID: p, Start: start}); clinic.ErrorFields(err)["start"] == "" {
			t.Fatalf("a visit on %s: %v; want refused on start", start.Format("2006-01-02"), err)
		}
	}
	if _, _, err := c.db.Availability(c.ctx, clinic.D(1900, 1, 1), clinic.D(1900, 1, 2), 90, c.now); clinic.ErrorFields(err)["from"] == "" {
		t.Fatalf("availability in 1900: %v", err)
	}
	if _, _, err := c.db.Availability(c.ctx, clinic.D(3001, 1, 1), clinic.D(3001, 1, 2), 90, c.now); clinic.ErrorFields(err)["to"] == "" {
		t.Fatalf("availability in 3001: %v", err)
	}
	if err := c.db.AddClosure(c.ctx, clinic.D(2026, 2, 16), "Presidents' Day", c.now); clinic.ErrorFields(err)["date"] == "" {
		t.Fatalf("a closure last month: %v", err)
	}
	if _, err := c.db.ProposeSeries(c.ctx, clinic.SeriesRequest{PatientID: p, ProtocolID: c.protocol(t, "Short loading", 3, 1, 3, 7, 45),
		StartDate: clinic.D(2030, 1, 7), Preferred: 9 * 60}, c.now); clinic.ErrorFields(err)["start_date"] == "" {
		t.Fatalf("a series in 2030: %v", err)
	}
	// The clinic sets its own horizon.
	sched, _ := c.db.Schedule(c.ctx)
	s := sched.Settings
	s.BookingHorizonDays = 30
	if _, err := c.db.UpdateSettings(c.ctx, s); err != nil {
		t.Fatal(err)
	}
	if _, err := c.book(clinic.Booking{PatientID: p, Start: time.Date(2026, 4, 2, 9, 0, 0, 0, chicago)}); clinic.ErrorFields(err)["start"] == "" {
		t.Fatalf("31 days ahead with a 30-day horizon: %v", err)
	}
	mustBook(t, c, clinic.Booking{PatientID: p, Start: time.Date(2026, 4, 1, 9, 0, 0, 0, chicago)})
}

// On the night the clocks go forward, times that do not exist are never
// offered: 02:00–02:59 on Sunday 14 March 2027 in Chicago.
func TestNoTimesThatDoNotExist(t *testing.T) {
	c := newTestClinic(t, 1)
	sched, _ := c.db.Schedule(c.ctx)
	s := sched.Settings
	s.Hours[time.Sunday] = []clinic.Range{{Opens: 0, Closes: 6 * 60}}
	if _, err := c.db.UpdateSettings(c.ctx, s); err != nil {
		t.Fatal(err)
	}
	_, days, err := c.db.Availability(c.ctx, clinic.D(2027, 3, 14), clinic.D(2027, 3, 14), 30, c.now)
	if err != nil {
		t.Fatal(err)
	}
	var starts []string
	for _, s := range days[0].Chairs[0].Starts {
		starts = append(starts, s.String())
	}
	got := strings.Join(starts, " ")
	if strings.Contains(got, "02:") || !strings.Contains(got, "01:45 03:00") {
		t.Fatalf("starts on the night the clocks go forward: %s", got)
	}
}

// The nurse's save is one transaction: the infusion record and the relief
// report about the infusion before are kept both or neither.
func TestNurseSaveIsAtomic(t *testing.T) {
	c := newTestClinic(t, 1)
	p := c.patients[0]
	standard := c.protocol(t, "Standard IV loading", 6, 2, 3, 14, 60)
	if _, err := c.db.CreateCourse(c.ctx, p, standard, clinic.D(2026, 1, 5)); err != nil {
		t.Fatal(err)
	}
	prev, err := c.db.ImportInfusion(c.ctx, p, clinic.D(2026, 2, 2), nil, clinic.PhaseMaintenance, 0.3, c.now)
	if err != nil {
		t.Fatal(err)
	}
	c.now = at(2, 8, 55)
	a := mustBook(t, c, clinic.Booking{PatientID: p, Start: at(2, 9, 0)})
	in, err := c.db.CheckIn(c.ctx, a.ID, a.Version, testArrival, c.now)
	if err != nil {
		t.Fatal(err)
	}
	good := clinic.InfusionRecord{StartedAt: at(2, 9, 5), Minutes: 60, Route: "iv", DoseRate: 0.3, WeightKg: 70, DriverConfirmed: true}
	badRelief := &clinic.ReliefReport{InfusionID: prev.ID, Status: clinic.ReliefEnded, OnDate: clinic.D(2026, 1, 20), Source: "nurse"}
	if _, err := c.db.RecordInfusion(c.ctx, a.ID, in.Version, good, badRelief, c.now); err == nil {
		t.Fatal("a relief dated before its infusion was saved")
	}
	bad := good
	bad.DoseRate = 2
	goodRelief := &clinic.ReliefReport{InfusionID: prev.ID, Status: clinic.ReliefEnded, OnDate: clinic.D(2026, 2, 27), Source: "nurse"}
	if _, err := c.db.RecordInfusion(c.ctx, a.ID, in.Version, bad, goodRelief, c.now); err == nil {
		t.Fatal("a dose above 1 mg/kg/h was saved")
	}
	su := superuser(t, c.url)
	saved := func() (infusions, reliefs int) {
		su.QueryRow(c.ctx, `SELECT (SELECT count(*) FROM infusions WHERE appointment_id = $1), (SELECT count(*) FROM relief_reports WHERE infusion_id = $2)`,
			a.ID, prev.ID).Scan(&infusions, &reliefs)
		return infusions, reliefs
	}
	if infusions, reliefs := saved(); infusions != 0 || reliefs != 0 {
		t.Fatalf("after two refused saves: %d infusions, %d relief reports; want none", infusions, reliefs)
	}
	if _, err := c.db.RecordInfusion(c.ctx, a.ID, in.Version, good, goodRelief, c.now); err != nil {
		t.Fatal(err)
	}
	if infusions, reliefs := saved(); infusions != 1 || reliefs != 1 {
		t.Fatalf("after the save: %d infusions, %d relief reports; want one each", infusions, reliefs)
	}
}

// The plan knows the booked next infusion: no suggested slot, no
// DUE_NOT_BOOKED, and a word when it is booked after the due date or
// sooner than the shortest interval.
func TestPlanKnowsTheBookedVisit(t *testing.T) {
	c := newTestClinic(t, 1)
	p := c.patients[0]
	standard := c.protocol(t, "Standard IV loading", 6, 2, 3, 14, 60)
	if _, err := c.db.CreateCourse(c.ctx, p, standard, clinic.D(2026, 1, 5)); err != nil {
		t.Fatal(err)
	}
	// The last infusion 2 Feb, no report: due 2 Mar (28 d), today.
	if _, err := c.db.ImportInfusion(c.ctx, p, clinic.D(2026, 2, 2), nil, clinic.PhaseMaintenance, 0.3, c.now); err != nil {
		t.Fatal(err)
	}
	v, err := c.db.PatientPlan(c.ctx, p, c.now)
	if err != nil || v.Slot == nil || v.Plan.Next != nil || !v.Plan.HasFlag(clinic.FlagDueNotBooked) {
		t.Fatalf("before booking: slot %v next %v flags %v %v", v.Slot, v.Plan.Next, v.Plan.Flags, err)
	}
	a := mustBook(t, c, clinic.Booking{PatientID: p, Start: at(11, 9, 0)})
	v, err = c.db.PatientPlan(c.ctx, p, c.now)
	if err != nil {
		t.Fatal(err)
	}
	if v.Plan.Next == nil || v.Plan.Next.AppointmentID != a.ID || v.Slot != nil || v.Plan.HasFlag(clinic.FlagDueNotBooked) {
		t.Fatalf("booked: next %+v slot %v flags %v", v.Plan.Next, v.Slot, v.Plan.Flags)
	}
	if v.Plan.NextNote != "Booked 9 days after the due date." {
		t.Fatalf("note %q", v.Plan.NextNote)
	}
	// The work lists agree: the patient is not due-and-unbooked.
	for _, list := range []postgres.WorkList{postgres.ListDueSoon, postgres.ListOverdue} {
		items, err := c.db.Work(c.ctx, list, "due", at(4, 9, 0), 50)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			if it.PatientID == p {
				t.Fatalf("booked patient on the %s list", list)
			}
		}
	}
}
