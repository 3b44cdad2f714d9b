package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/postgres"
	"github.com/infusiondesk/infusiondesk/internal/postgres/pgtest"
)

// chicago is the test clinic's zone: it changes to daylight saving time on
// Sunday 2026-03-08.
var chicago = mustZone("America/Chicago")

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// at is a clinic-local wall-clock time in March 2026.
func at(day, hour, minute int) time.Time {
	return time.Date(2026, time.March, day, hour, minute, 0, 0, chicago)
}

// testClinic is a small clinic in Chicago: Monday to Thursday 07:00–12:00
// and 13:00–17:00, Friday 07:00–13:00, closed at weekends; a 15-minute
// grid; three chairs; "now" is Monday 2 March 2026, 08:00.
type testClinic struct {
	db       *postgres.DB
	url      string
	ctx      context.Context
	now      time.Time
	chairs   []int64
	patients []int64
}

func newTestClinic(t testing.TB, patients int) *testClinic {
	t.Helper()
	db, url := pgtest.Open(t)
	c := &testClinic{db: db, url: url, ctx: context.Background(), now: at(2, 8, 0)}
	sched, err := db.Schedule(c.ctx)
	if err != nil {
		t.Fatal(err)
	}
	s := clinic.Settings{Name: "Lakeside", TimeZone: "America/Chicago", SlotMinutes: 15, Version: sched.Settings.Version}
	for wd := time.Monday; wd <= time.Thursday; wd++ {
		s.Hours[wd] = []clinic.Range{{Opens: 7 * 60, Closes: 12 * 60}, {Opens: 13 * 60, Closes: 17 * 60}}
	}
	s.Hours[time.Friday] = []clinic.Range{{Opens: 7 * 60, Closes: 13 * 60}}
	if _, err := db.UpdateSettings(c.ctx, s); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		ch, err := db.SaveChair(c.ctx, clinic.Chair{Name: fmt.Sprintf("Chair %d", i), Position: i, Active: true})
		if err != nil {
			t.Fatal(err)
		}
		c.chairs = append(c.chairs, ch.ID)
	}
	for i := 0; i < patients; i++ {
		p, err := db.CreatePatient(c.ctx, clinic.Patient{FirstName: "Pat", LastName: fmt.Sprintf("Number%02d", i),
			DateOfBirth: clinic.D(1970, 1, 1+i%28), Condition: clinic.ConditionNeuropathic}, clinic.D(2026, 3, 2))
		if err != nil {
			t.Fatal(err)
		}
		c.patients = append(c.patients, p.ID)
	}
	return c
}

func (c *testClinic) book(b clinic.Booking) (clinic.Appointment, error) {
	if b.Kind == "" {
		b.Kind = clinic.KindMaintenance // 60 + 30 minutes without a course
	}
	a, _, err := c.db.Book(c.ctx, b, c.now)
	return a, err
}

func mustBook(t *testing.T, c *testClinic, b clinic.Booking) clinic.Appointment {
	t.Helper()
	a, err := c.book(b)
	if err != nil {
		t.Fatalf("booking %+v: %v", b, err)
	}
	return a
}

// Fifty desks book the same chair at the same time for fifty patients at
// once: exactly one booking stands, forty-nine are told it was taken.
func TestBookingRaceSameChair(t *testing.T) {
	c := newTestClinic(t, 50)
	results := race(50, func(i int) error {
		_, err := c.book(clinic.Booking{PatientID: c.patients[i], Start: at(9, 9, 0), ChairID: c.chairs[0]})
		return err
	})
	checkOneWins(t, results)
	visits, err := c.db.Visits(c.ctx, postgres.AppointmentFilter{From: at(9, 0, 0), To: at(10, 0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	if len(visits) != 1 {
		t.Fatalf("%d appointments stored; want 1", len(visits))
	}
}

// One patient booked fifty times at once on two chairs: one booking stands.
// (Consultations: two infusions of one patient on one day are refused
// before the overlap is even looked at; see TestOneInfusionADay.)
func TestBookingRaceSamePatientTwoChairs(t *testing.T) {
	c := newTestClinic(t, 1)
	results := race(50, func(i int) error {
		_, err := c.book(clinic.Booking{PatientID: c.patients[0], Kind: clinic.KindConsult, Start: at(9, 9, 0), ChairID: c.chairs[i%2]})
		return err
	})
	checkOneWins(t, results)
}

// Without a chair named, racing bookings fill the chairs in order and only
// the surplus is refused.
func TestBookingRaceFirstFreeChair(t *testing.T) {
	c := newTestClinic(t, 10)
	results := race(10, func(i int) error {
		_, err := c.book(clinic.Booking{PatientID: c.patients[i], Start: at(9, 9, 0)})
		return err
	})
	ok := 0
	for _, err := range results {
		switch clinic.ErrorCode(err) {
		case "":
			ok++
		case clinic.ECONFLICT:
		default:
			t.Fatalf("unexpected error: %v", err)
		}
	}
	if ok != 3 {
		t.Fatalf("%d bookings stood; want 3 (one per chair)", ok)
	}
}

// race runs fn n times at once and returns each result.
func race(n int, fn func(i int) error) []error {
	results := make([]error, n)
	var start, done sync.WaitGroup
	start.Add(1)
	for i := 0; i < n; i++ {
		done.Add(1)
		go func() {
			defer done.Done()
			start.Wait()
			results[i] = fn(i)
		}()
	}
	start.Done()
	done.Wait()
	return results
}

func checkOneWins(t *testing.T, results []error) {
	t.Helper()
	ok, conflicts := 0, 0
	for _, err := range results {
		switch clinic.ErrorCode(err) {
		case "":
			ok++
		case clinic.ECONFLICT:
			conflicts++
			if clinic.ErrorMessage(err) == "" {
				t.Error("a conflict without a message")
			}
			if strings.Contains(clinic.ErrorMessage(err), "at the same moment") {
				t.Errorf("a deadlock victim, not a clear refusal: %v", err)
			}
		default:
			t.Fatalf("unexpected error: %v", err)
		}
	}
	if ok != 1 || conflicts != len(results)-1 {
		t.Fatalf("%d succeeded and %d conflicted; want 1 and %d", ok, conflicts, len(results)-1)
	}
}

// Twenty people move the same appointment from the version they all saw:
// one move stands, nineteen are told it changed meanwhile.
func TestRescheduleRaceSameAppointment(t *testing.T) {
	c := newTestClinic(t, 1)
	a := mustBook(t, c, clinic.Booking{PatientID: c.patients[0], Start: at(9, 9, 0), ChairID: c.chairs[0]})
	results := race(20, func(i int) error {
		_, err := c.db.Reschedule(c.ctx, a.ID, a.Version, at(10, 7, 0).Add(time.Duration(i%10*15)*time.Minute).AddDate(0, 0, i/10), 0, c.now)
		return err
	})
	checkOneWins(t, results)
	v, err := c.db.Visit(c.ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if v.Version != 2 {
		t.Fatalf("version %d after one move; want 2", v.Version)
	}
}

// Two appointments moved into the same chair and time at once: one lands.
func TestRescheduleRaceIntoSameSlot(t *testing.T) {
	c := newTestClinic(t, 2)
	for round := 0; round < 5; round++ {
		// Consultations: each patient gets one every day of the test.
		a := mustBook(t, c, clinic.Booking{PatientID: c.patients[0], Kind: clinic.KindConsult, Start: at(9, 7, 0).AddDate(0, 0, round), ChairID: c.chairs[0]})
		b := mustBook(t, c, clinic.Booking{PatientID: c.patients[1], Kind: clinic.KindConsult, Start: at(9, 7, 0).AddDate(0, 0, round), ChairID: c.chairs[1]})
		target := at(9, 10, 0).AddDate(0, 0, round)
		results := race(2, func(i int) error {
			appt := []clinic.Appointment{a, b}[i]
			_, err := c.db.Reschedule(c.ctx, appt.ID, appt.Version, target, c.chairs[2], c.now)
			return err
		})
		checkOneWins(t, results)
	}
}

func TestBookingRefusals(t *testing.T) {
	c := newTestClinic(t, 2)
	if err := c.db.AddClosure(c.ctx, clinic.D(2026, 3, 11), "Staff training", c.now); err != nil {
		t.Fatal(err)
	}
	taken := mustBook(t, c, clinic.Booking{PatientID: c.patients[0], Start: at(9, 9, 0), ChairID: c.chairs[0]})
	retired, err := c.db.SaveChair(c.ctx, clinic.Chair{Name: "Old chair", Position: 9, Active: false})
	if err != nil {
		t.Fatal(err)
	}
	p := c.patients[1]
	cases := []struct {
		name  string
		b     clinic.Booking
		code  string
		field string
	}{
		{"before opening", clinic.Booking{PatientID: p, Start: at(9, 6, 0)}, clinic.EINVALID, "start"},
		{"runs past closing", clinic.Booking{PatientID: p, Start: at(9, 16, 0)}, clinic.EINVALID, "start"},
		{"runs into the lunch break", clinic.Booking{PatientID: p, Start: at(9, 11, 0)}, clinic.EINVALID, "start"},
		{"Friday is short", clinic.Booking{PatientID: p, Start: at(6, 12, 0)}, clinic.EINVALID, "start"},
		{"weekend", clinic.Booking{PatientID: p, Start: at(7, 9, 0)}, clinic.EINVALID, "start"},
		{"closure", clinic.Booking{PatientID: p, Start: at(11, 9, 0)}, clinic.EINVALID, "start"},
		{"off the grid", clinic.Booking{PatientID: p, Start: at(9, 9, 10)}, clinic.EINVALID, "start"},
		{"seconds off the grid", clinic.Booking{PatientID: p, Start: at(9, 9, 0).Add(30 * time.Second)}, clinic.EINVALID, "start"},
		{"in the past", clinic.Booking{PatientID: p, Start: at(2, 7, 0)}, clinic.EINVALID, "start"},
		{"unknown patient", clinic.Booking{PatientID: 999999, Start: at(9, 9, 0)}, clinic.EINVALID, "patient_id"},
		{"unknown chair", clinic.Booking{PatientID: p, Start: at(9, 9, 0), ChairID: 999999}, clinic.EINVALID, "chair_id"},
		{"chair out of service", clinic.Booking{PatientID: p, Start: at(9, 9, 0), ChairID: retired.ID}, clinic.EINVALID, "chair_id"},
		{"loading without a course", clinic.Booking{PatientID: p, Kind: clinic.KindLoading, Start: at(9, 9, 0)}, clinic.EINVALID, "protocol_id"},
		{"unknown kind", clinic.Booking{PatientID: p, Kind: "massage", Start: at(9, 9, 0)}, clinic.EINVALID, "kind"},
		{"chair taken", clinic.Booking{PatientID: p, Start: at(9, 9, 30), ChairID: c.chairs[0]}, clinic.ECONFLICT, ""},
		{"patient busy", clinic.Booking{PatientID: taken.PatientID, Kind: clinic.KindConsult, Start: at(9, 10, 0), ChairID: c.chairs[1]}, clinic.ECONFLICT, ""},
		{"second infusion that day", clinic.Booking{PatientID: taken.PatientID, Start: at(9, 14, 0), ChairID: c.chairs[1]}, clinic.EINVALID, "start"},
		{"beyond the booking horizon", clinic.Booking{PatientID: p, Start: time.Date(3001, 3, 9, 9, 0, 0, 0, chicago)}, clinic.EINVALID, "start"},
		{"long key", clinic.Booking{PatientID: p, Start: at(9, 13, 0), IdempotencyKey: string(make([]byte, 65))}, clinic.EINVALID, "idempotency_key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.book(tc.b)
			if clinic.ErrorCode(err) != tc.code {
				t.Fatalf("got %v; want %s", err, tc.code)
			}
			if tc.field != "" && clinic.ErrorFields(err)[tc.field] == "" {
				t.Fatalf("no message on %q: %v", tc.field, clinic.ErrorFields(err))
			}
			if tc.code == clinic.ECONFLICT && len(clinic.ErrorAlternatives(err)) == 0 {
				t.Fatal("a conflict offers no alternatives")
			}
		})
	}
	// Nothing refused was written.
	visits, err := c.db.Visits(c.ctx, postgres.AppointmentFilter{From: at(1, 0, 0), To: at(31, 0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	if len(visits) != 1 {
		t.Fatalf("%d appointments stored; want only the first", len(visits))
	}
	// Back to back is fine: 09:00–10:30 then 10:30.
	mustBook(t, c, clinic.Booking{PatientID: p, Start: at(9, 10, 30), ChairID: c.chairs[0]})
}

// The alternatives offered for a taken slot are free for the patient and
// nearest to the time asked for.
func TestConflictOffersFreeAlternatives(t *testing.T) {
	c := newTestClinic(t, 4)
	for i := 0; i < 3; i++ {
		mustBook(t, c, clinic.Booking{PatientID: c.patients[i], Start: at(9, 9, 0)})
	}
	_, err := c.book(clinic.Booking{PatientID: c.patients[3], Start: at(9, 9, 0)})
	if clinic.ErrorCode(err) != clinic.ECONFLICT {
		t.Fatalf("all chairs busy: %v", err)
	}
	alts := clinic.ErrorAlternatives(err)
	if len(alts) == 0 {
		t.Fatal("no alternatives")
	}
	// 09:00–10:30 is full; the nearest free starts are 07:30 (ending 09:00) and 10:30.
	if got := alts[0].Start; !got.Equal(at(9, 7, 30)) {
		t.Fatalf("first alternative %s; want 07:30", got.In(chicago))
	}
	if got := alts[1].Start; !got.Equal(at(9, 10, 30)) {
		t.Fatalf("second alternative %s; want 10:30", got.In(chicago))
	}
	// The first alternative books (the patient may have one infusion that day).
	a := alts[0]
	if _, err := c.book(clinic.Booking{PatientID: c.patients[3], Start: a.Start, ChairID: a.ChairID}); err != nil {
		t.Fatalf("alternative %s chair %d was not free: %v", a.Start.In(chicago), a.ChairID, err)
	}
}

// A retried booking with the same idempotency key books once, even when
// the retries race; the same key for a different booking is refused.
func TestIdempotentBooking(t *testing.T) {
	c := newTestClinic(t, 2)
	b := clinic.Booking{PatientID: c.patients[0], Kind: clinic.KindMaintenance, Start: at(9, 9, 0), IdempotencyKey: "form-123"}
	first, replayed, err := c.db.Book(c.ctx, b, c.now)
	if err != nil || replayed {
		t.Fatalf("first: %v replayed=%v", err, replayed)
	}
	again, replayed, err := c.db.Book(c.ctx, b, c.now)
	if err != nil || !replayed || again.ID != first.ID {
		t.Fatalf("retry: %v replayed=%v id %d (first %d)", err, replayed, again.ID, first.ID)
	}
	// Ten at once with a new key: one appointment, every answer the same.
	b2 := clinic.Booking{PatientID: c.patients[1], Kind: clinic.KindMaintenance, Start: at(9, 13, 0), IdempotencyKey: "form-456"}
	ids := make([]int64, 10)
	results := race(10, func(i int) error {
		a, _, err := c.db.Book(c.ctx, b2, c.now)
		ids[i] = a.ID
		return err
	})
	for i, err := range results {
		if err != nil || ids[i] != ids[0] {
			t.Fatalf("racing retries: %v, id %d vs %d", err, ids[i], ids[0])
		}
	}
	visits, err := c.db.Visits(c.ctx, postgres.AppointmentFilter{From: at(9, 0, 0), To: at(10, 0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	if len(visits) != 2 {
		t.Fatalf("%d appointments; want 2", len(visits))
	}
	// The key names one booking only.
	other := b
	other.PatientID = c.patients[1]
	if _, _, err := c.db.Book(c.ctx, other, c.now); clinic.ErrorCode(err) != clinic.ECONFLICT {
		t.Fatalf("key reused for another patient: %v", err)
	}
}

// 09:00 in Chicago is 15:00Z before the clock change of 8 March 2026 and
// 14:00Z after it, whatever the server's zone (TestMain sets Asia/Kolkata)
// and the database session's.
func TestDaylightSavingChicago(t *testing.T) {
	c := newTestClinic(t, 1)
	if time.Local.String() == "America/Chicago" || time.Local.String() == "UTC" {
		t.Fatalf("the test process runs in %s; it must not be the clinic's zone or UTC", time.Local)
	}
	// A store whose database sessions run in yet another zone.
	other, err := postgres.Open(c.ctx, c.url+"&timezone=Pacific/Auckland", postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	for _, tc := range []struct {
		day  int
		want string
	}{{6, "2026-03-06T15:00:00Z"}, {9, "2026-03-09T14:00:00Z"}} {
		start := clinic.D(2026, 3, tc.day).At(9*60, chicago)
		a, _, err := other.Book(c.ctx, clinic.Booking{PatientID: c.patients[0], Kind: clinic.KindConsult, Start: start}, c.now)
		if err != nil {
			t.Fatal(err)
		}
		if got := a.Start.UTC().Format(time.RFC3339); got != tc.want {
			t.Errorf("09:00 on 2026-03-%02d booked as %s; want %s", tc.day, got, tc.want)
		}
		back, err := other.Visit(c.ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got := back.Start.UTC().Format(time.RFC3339); got != tc.want {
			t.Errorf("read back as %s; want %s", got, tc.want)
		}
		if got := clinic.ClockOf(back.Start, chicago); got != 9*60 {
			t.Errorf("read back at %s local", got)
		}
	}
	// Availability lists 09:00 local on both sides of the change.
	cal, days, err := other.Availability(c.ctx, clinic.D(2026, 3, 6), clinic.D(2026, 3, 9), 90, c.now)
	if err != nil {
		t.Fatal(err)
	}
	if cal.Loc.String() != "America/Chicago" || len(days) != 4 {
		t.Fatalf("zone %s, %d days", cal.Loc, len(days))
	}
	for _, d := range []int{0, 3} {
		starts := days[d].Chairs[1].Starts // chair 2 is free all day
		if !containsClock(starts, 9*60) || starts[0] != 7*60 {
			t.Errorf("%s: chair 2 starts %v", days[d].Date, starts)
		}
	}
}

func containsClock(cs []clinic.Clock, c clinic.Clock) bool {
	for _, x := range cs {
		if x == c {
			return true
		}
	}
	return false
}

func TestAvailability(t *testing.T) {
	c := newTestClinic(t, 1)
	mustBook(t, c, clinic.Booking{PatientID: c.patients[0], Start: at(9, 9, 0), ChairID: c.chairs[0]})
	_, days, err := c.db.Availability(c.ctx, clinic.D(2026, 3, 2), clinic.D(2026, 3, 9), 90, c.now)
	if err != nil {
		t.Fatal(err)
	}
	if len(days) != 8 {
		t.Fatalf("%d days", len(days))
	}
	// Monday 2 March, now 08:00: nothing before now.
	if got := days[0].Chairs[0].Starts[0]; got != 8*60 {
		t.Errorf("today's first start %s; want 08:00", got)
	}
	// Saturday and Sunday are closed.
	if days[5].Closed == "" || days[6].Closed == "" || len(days[5].Chairs[0].Starts) != 0 {
		t.Errorf("weekend: %+v %+v", days[5], days[6])
	}
	// Monday 9 March, chair 1 holds 09:00–10:30.
	mon := days[7].Chairs
	var want []clinic.Clock
	for s := clinic.Clock(7 * 60); s+90 <= 12*60; s += 15 {
		if s+90 <= 9*60 || s >= 10*60+30 {
			want = append(want, s)
		}
	}
	for s := clinic.Clock(13 * 60); s+90 <= 17*60; s += 15 {
		want = append(want, s)
	}
	if fmt.Sprint(mon[0].Starts) != fmt.Sprint(want) {
		t.Errorf("chair 1 on 9 March: %v\nwant %v", mon[0].Starts, want)
	}
	// Chair 2 is free all day: 07:00–10:30 and 13:00–15:30.
	if len(mon[1].Starts) != 15+11 {
		t.Errorf("chair 2 on 9 March: %d starts; want 26", len(mon[1].Starts))
	}
}

func TestAppointmentLifecycle(t *testing.T) {
	c := newTestClinic(t, 2)
	a := mustBook(t, c, clinic.Booking{PatientID: c.patients[0], Start: at(9, 9, 0), ChairID: c.chairs[0]})
	dayBefore := at(8, 12, 0)
	if _, err := c.db.CheckIn(c.ctx, a.ID, a.Version, testArrival, dayBefore); clinic.ErrorCode(err) != clinic.EINVALID {
		t.Fatalf("check-in the day before: %v", err)
	}
	if _, err := c.db.NoShow(c.ctx, a.ID, a.Version, at(9, 8, 0)); clinic.ErrorCode(err) != clinic.EINVALID {
		t.Fatalf("no-show before the time: %v", err)
	}
	if _, err := c.db.Complete(c.ctx, a.ID, a.Version, at(9, 9, 0)); clinic.ErrorCode(err) != clinic.ECONFLICT {
		t.Fatalf("complete before check-in: %v", err)
	}
	in, err := c.db.CheckIn(c.ctx, a.ID, a.Version, testArrival, at(9, 8, 50))
	if err != nil || in.Status != clinic.StatusCheckedIn || in.Version != a.Version+1 {
		t.Fatalf("check-in: %+v %v", in, err)
	}
	if _, err := c.db.CheckIn(c.ctx, a.ID, a.Version, testArrival, at(9, 8, 55)); clinic.ErrorCode(err) != clinic.ECONFLICT {
		t.Fatalf("check-in from a stale version: %v", err)
	}
	if _, err := c.db.Reschedule(c.ctx, a.ID, in.Version, at(10, 9, 0), 0, at(9, 8, 55)); clinic.ErrorCode(err) != clinic.ECONFLICT {
		t.Fatalf("moving a checked-in visit: %v", err)
	}
	done, err := c.db.Complete(c.ctx, a.ID, in.Version, at(9, 10, 30))
	if err != nil || done.Status != clinic.StatusCompleted {
		t.Fatalf("complete: %+v %v", done, err)
	}
	if _, err := c.db.Cancel(c.ctx, a.ID, done.Version, "changed mind", at(9, 11, 0)); clinic.ErrorCode(err) != clinic.ECONFLICT {
		t.Fatalf("cancelling a completed visit: %v", err)
	}

	// Cancelling keeps the record and frees the chair.
	b := mustBook(t, c, clinic.Booking{PatientID: c.patients[1], Start: at(10, 9, 0), ChairID: c.chairs[0]})
	if _, err := c.db.Cancel(c.ctx, b.ID, b.Version, "  ", c.now); clinic.ErrorFields(err)["reason"] == "" {
		t.Fatalf("cancel without a reason: %v", err)
	}
	cancelled, err := c.db.Cancel(c.ctx, b.ID, b.Version, "Patient has the flu", c.now)
	if err != nil || cancelled.Status != clinic.StatusCancelled {
		t.Fatalf("cancel: %+v %v", cancelled, err)
	}
	v, err := c.db.Visit(c.ctx, b.ID)
	if err != nil || v.CancelReason != "Patient has the flu" || v.Status != clinic.StatusCancelled {
		t.Fatalf("cancelled record: %+v %v", v, err)
	}
	mustBook(t, c, clinic.Booking{PatientID: c.patients[0], Start: at(10, 9, 0), ChairID: c.chairs[0]})

	// Rescheduling keeps the length, checks the rules, keeps the chair when free.
	m := mustBook(t, c, clinic.Booking{PatientID: c.patients[1], Start: at(12, 13, 0), ChairID: c.chairs[1]})
	if _, err := c.db.Reschedule(c.ctx, m.ID, m.Version, at(13, 12, 0), 0, c.now); clinic.ErrorFields(err)["start"] == "" {
		t.Fatalf("moving past Friday's closing: %v", err)
	}
	moved, err := c.db.Reschedule(c.ctx, m.ID, m.Version, at(12, 14, 15), 0, c.now)
	if err != nil || moved.ChairID != c.chairs[1] || moved.Minutes() != 90 || !moved.Start.Equal(at(12, 14, 15)) {
		t.Fatalf("move: %+v %v", moved, err)
	}
	// The appointment may move over its own old time.
	if _, err := c.db.Reschedule(c.ctx, m.ID, moved.Version, at(12, 14, 45), 0, c.now); err != nil {
		t.Fatalf("move onto its own time: %v", err)
	}
}

// Changing hours, closing a day or retiring a chair never touches an
// appointment; those that no longer fit are listed.
func TestMisfitsAfterSettingsChange(t *testing.T) {
	c := newTestClinic(t, 3)
	fri := mustBook(t, c, clinic.Booking{PatientID: c.patients[0], Start: at(6, 11, 0), ChairID: c.chairs[0]})
	mon := mustBook(t, c, clinic.Booking{PatientID: c.patients[1], Start: at(9, 9, 0), ChairID: c.chairs[0]})
	tue := mustBook(t, c, clinic.Booking{PatientID: c.patients[2], Start: at(10, 9, 0), ChairID: c.chairs[2]})
	if m, err := c.db.Misfits(c.ctx, c.now); err != nil || len(m) != 0 {
		t.Fatalf("misfits before any change: %v %v", m, err)
	}
	sched, err := c.db.Schedule(c.ctx)
	if err != nil {
		t.Fatal(err)
	}
	s := sched.Settings
	s.Hours[time.Friday] = []clinic.Range{{Opens: 7 * 60, Closes: 12 * 60}}
	if _, err := c.db.UpdateSettings(c.ctx, s); err != nil {
		t.Fatal(err)
	}
	// The same settings saved from a stale version are refused.
	if _, err := c.db.UpdateSettings(c.ctx, s); clinic.ErrorCode(err) != clinic.ECONFLICT {
		t.Fatalf("stale settings: %v", err)
	}
	if err := c.db.AddClosure(c.ctx, clinic.D(2026, 3, 9), "Burst pipe", c.now); err != nil {
		t.Fatal(err)
	}
	if err := c.db.AddClosure(c.ctx, clinic.D(2026, 3, 9), "Again", c.now); clinic.ErrorFields(err)["date"] == "" {
		t.Fatalf("closing a closed day: %v", err)
	}
	chairs, err := c.db.AllChairs(c.ctx)
	if err != nil {
		t.Fatal(err)
	}
	third := chairs[2]
	third.Active = false
	if _, err := c.db.SaveChair(c.ctx, third); err != nil {
		t.Fatal(err)
	}
	misfits, err := c.db.Misfits(c.ctx, c.now)
	if err != nil {
		t.Fatal(err)
	}
	got := map[int64]string{}
	for _, m := range misfits {
		got[m.ID] = m.Reason
	}
	if len(got) != 3 || got[fri.ID] == "" || got[mon.ID] == "" || got[tue.ID] == "" {
		t.Fatalf("misfits %v; want the Friday, Monday and Tuesday visits", got)
	}
	for _, id := range []int64{fri.ID, mon.ID, tue.ID} {
		v, err := c.db.Visit(c.ctx, id)
		if err != nil || v.Status != clinic.StatusBooked {
			t.Fatalf("appointment %d after the change: %+v %v", id, v, err)
		}
	}
	// Opening again takes the Monday visit off the list.
	if err := c.db.RemoveClosure(c.ctx, clinic.D(2026, 3, 9), c.now); err != nil {
		t.Fatal(err)
	}
	if misfits, _ = c.db.Misfits(c.ctx, c.now); len(misfits) != 2 {
		t.Fatalf("%d misfits after reopening; want 2", len(misfits))
	}
}

func TestPatientsSearchAndEdit(t *testing.T) {
	c := newTestClinic(t, 0)
	today := clinic.D(2026, 3, 2)
	maria, err := c.db.CreatePatient(c.ctx, clinic.Patient{FirstName: "María", LastName: "Álvarez", DateOfBirth: clinic.D(1961, 4, 2),
		Condition: clinic.ConditionCRPS}, today)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.db.CreatePatient(c.ctx, clinic.Patient{FirstName: "Mark", LastName: "O'Neil_50%", DateOfBirth: clinic.D(1980, 1, 1),
		Condition: clinic.ConditionOther}, today); err != nil {
		t.Fatal(err)
	}
	if _, err := c.db.CreatePatient(c.ctx, clinic.Patient{FirstName: "", LastName: "X", DateOfBirth: clinic.D(2030, 1, 1),
		Condition: "flu"}, today); len(clinic.ErrorFields(err)) != 3 {
		t.Fatalf("invalid patient: %v", clinic.ErrorFields(err))
	}
	search := func(q string) []string {
		ps, err := c.db.SearchPatients(c.ctx, clinic.ParsePatientQuery(q))
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, p := range ps {
			names = append(names, p.FullName())
		}
		return names
	}
	for q, want := range map[string]string{
		"álv":        "[María Álvarez]",
		"mar":        "[María Álvarez Mark O'Neil_50%]",
		"mar álv":    "[María Álvarez]",
		"1961-04-02": "[María Álvarez]",
		"04/02/1961": "[María Álvarez]",
		maria.MRN:    "[María Álvarez]",
		"o'neil_5":   "[Mark O'Neil_50%]",
		"o_n":        "[]",
		"%":          "[]",
	} {
		if got := fmt.Sprint(search(q)); got != want {
			t.Errorf("search %q: %s; want %s", q, got, want)
		}
	}
	maria.Phone = "(602) 555-0100"
	saved, err := c.db.UpdatePatient(c.ctx, maria, today)
	if err != nil || saved.Version != maria.Version+1 {
		t.Fatalf("update: %+v %v", saved, err)
	}
	maria.Phone = "(602) 555-0199"
	if _, err := c.db.UpdatePatient(c.ctx, maria, today); clinic.ErrorCode(err) != clinic.ECONFLICT {
		t.Fatalf("stale update: %v", err)
	}
	back, err := c.db.Patient(c.ctx, maria.ID)
	if err != nil || back.Phone != "+16025550100" { // stored as E.164
		t.Fatalf("after a refused update: %+v %v", back, err)
	}
}
