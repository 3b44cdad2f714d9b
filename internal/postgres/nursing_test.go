package postgres_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
)

// nursedClinic is testClinic with more chairs (so chairs never limit), the
// nursing limits given, and nurses on shift 07:00–12:00 on Mon 2 March.
func nursedClinic(t *testing.T, patients, chairs, nurses int, n clinic.Nursing) (*testClinic, []int64) {
	t.Helper()
	c := newTestClinic(t, patients)
	for i := len(c.chairs) + 1; i <= chairs; i++ {
		ch, err := c.db.SaveChair(c.ctx, clinic.Chair{Name: fmt.Sprintf("Chair %d", i), Position: i, Active: true})
		if err != nil {
			t.Fatal(err)
		}
		c.chairs = append(c.chairs, ch.ID)
	}
	sched, err := c.db.Schedule(c.ctx)
	if err != nil {
		t.Fatal(err)
	}
	s := sched.Settings
	s.Nursing = n
	if _, err := c.db.UpdateSettings(c.ctx, s); err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for i := range nurses {
		u, err := c.db.CreateUser(c.ctx, clinic.NewUser{Email: fmt.Sprintf("nurse%d@example.org", i), Name: fmt.Sprintf("Nurse %c", 'A'+i),
			Role: string(clinic.RoleNurse), Password: "a long enough password"}, "$argon2id$placeholder")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.db.AddShift(c.ctx, clinic.Shift{NurseID: u.ID, Date: clinic.D(2026, 3, 2), From: 7 * 60, To: 12 * 60}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	return c, ids
}

// checkNursing asserts, over the stored rows, that no nurse watches more
// than perNurse patients at any instant nor starts two infusions less than
// spacing apart, and that every infusion on the rostered date has a nurse.
func checkNursing(t *testing.T, c *testClinic, perNurse int, spacing time.Duration) {
	t.Helper()
	su := superuser(t, c.url)
	var over, close, unwatched int
	if err := su.QueryRow(c.ctx, `
		WITH w AS (SELECT id, nurse_id, starts_at, ends_at FROM appointments
		           WHERE nurse_id IS NOT NULL AND status IN ('booked', 'checked_in', 'completed'))
		SELECT (SELECT count(*) FROM w a WHERE (SELECT count(*) FROM w b WHERE b.nurse_id = a.nurse_id
		            AND b.starts_at <= a.starts_at AND b.ends_at > a.starts_at) > $1),
		       (SELECT count(*) FROM w a JOIN w b ON a.nurse_id = b.nurse_id AND a.id < b.id
		            AND abs(extract(epoch FROM a.starts_at - b.starts_at)) < $2),
		       (SELECT count(*) FROM appointments WHERE nurse_id IS NULL AND kind <> 'consult'
		            AND status IN ('booked', 'checked_in') AND local_date = '2026-03-02')`,
		perNurse, spacing.Seconds()).Scan(&over, &close, &unwatched); err != nil {
		t.Fatal(err)
	}
	if over != 0 || close != 0 || unwatched != 0 {
		t.Fatalf("stored rows: %d starts over the limit, %d pairs of starts too close, %d infusions without a nurse", over, close, unwatched)
	}
}

// Sixteen desks book sixteen patients at 09:00 on sixteen chairs at once,
// with two nurses of two places each and no spacing: exactly four stand,
// the rest are told no nurse is free.
func TestNursingRaceSameTime(t *testing.T) {
	c, _ := nursedClinic(t, 16, 16, 2, clinic.Nursing{PatientsPerNurse: 2, StartSpacingMinutes: 0})
	results := race(16, func(i int) error {
		_, err := c.book(clinic.Booking{PatientID: c.patients[i], Start: at(2, 9, 0), ChairID: c.chairs[i]})
		return err
	})
	ok := 0
	for _, err := range results {
		switch clinic.ErrorCode(err) {
		case "":
			ok++
		case clinic.ECONFLICT:
		default:
			t.Fatalf("unexpected: %v", err)
		}
	}
	if ok != 4 {
		t.Fatalf("%d bookings stand; two nurses of two places take four", ok)
	}
	checkNursing(t, c, 2, 0)
}

// Sixteen desks book starts on the grid from 08:15 to 10:30 at once, two nurses
// of two places with 15-minute spacing: whatever the interleaving, no
// nurse is over the limit or the spacing, and the refusals name why.
func TestNursingRaceStaggered(t *testing.T) {
	c, _ := nursedClinic(t, 16, 16, 2, clinic.Nursing{PatientsPerNurse: 2, StartSpacingMinutes: 15})
	results := race(16, func(i int) error {
		_, err := c.book(clinic.Booking{PatientID: c.patients[i], Start: at(2, 8, 15).Add(time.Duration(i%10) * 15 * time.Minute), ChairID: c.chairs[i]})
		return err
	})
	ok := 0
	for _, err := range results {
		switch clinic.ErrorCode(err) {
		case "":
			ok++
		case clinic.ECONFLICT:
			if msg := clinic.ErrorMessage(err); msg == "" || len(clinic.ErrorAlternatives(err)) == 0 {
				t.Fatalf("a refusal without its reason or alternatives: %v", err)
			}
		default:
			t.Fatalf("unexpected: %v", err)
		}
	}
	if ok < 4 {
		t.Fatalf("only %d bookings stand", ok)
	}
	checkNursing(t, c, 2, 15*time.Minute)
}

// A series and single bookings race for the same morning: the rows stay
// within every nurse's limit and spacing.
func TestNursingSeriesAgainstSingles(t *testing.T) {
	c, _ := nursedClinic(t, 9, 9, 1, clinic.Nursing{PatientsPerNurse: 1, StartSpacingMinutes: 15})
	short := c.protocol(t, "Short loading", 3, 1, 3, 7, 45)
	results := race(9, func(i int) error {
		if i == 0 {
			_, _, err := c.db.BookSeries(c.ctx, clinic.SeriesRequest{PatientID: c.patients[0], ProtocolID: short,
				StartDate: clinic.D(2026, 3, 2), Preferred: 9 * 60}, c.now)
			return err
		}
		_, err := c.book(clinic.Booking{PatientID: c.patients[i], Start: at(2, 9, 0), ChairID: c.chairs[i]})
		return err
	})
	for _, err := range results {
		if code := clinic.ErrorCode(err); code != "" && code != clinic.ECONFLICT && code != clinic.EINVALID {
			t.Fatalf("unexpected: %v", err)
		}
	}
	checkNursing(t, c, 1, 15*time.Minute)
}

// The booking refusal names the nurse and the patient in the way, and the
// alternatives have a nurse free.
func TestNursingRefusalAndAlternatives(t *testing.T) {
	c, nurses := nursedClinic(t, 2, 3, 1, clinic.Nursing{PatientsPerNurse: 1, StartSpacingMinutes: 15})
	first := mustBook(t, c, clinic.Booking{PatientID: c.patients[0], Start: at(2, 9, 0)})
	if first.Nurse.NurseID != nurses[0] || first.Nurse.Place != 1 {
		t.Fatalf("the first booking's nurse: %+v", first.Nurse)
	}
	_, err := c.book(clinic.Booking{PatientID: c.patients[1], Start: at(2, 9, 0)})
	if clinic.ErrorCode(err) != clinic.ECONFLICT || clinic.ErrorMessage(err) != "No nurse is free to start then: Nurse A starts Pat Number00 at 9:00 AM." {
		t.Fatalf("a second patient at 09:00 with one nurse: %v", err)
	}
	alts := clinic.ErrorAlternatives(err)
	// 07:30 is as near, but past ("now" is 08:00): 10:30, when the nurse is free again.
	if len(alts) == 0 || !alts[0].Start.Equal(at(2, 10, 30)) || alts[0].Nurse.NurseID != nurses[0] {
		t.Fatalf("alternatives %v; want 10:30 first, with the nurse", alts)
	}
	// A consultation needs no nurse.
	if _, err := c.book(clinic.Booking{PatientID: c.patients[1], Kind: clinic.KindConsult, Start: at(2, 9, 0)}); err != nil {
		t.Fatal(err)
	}
	// Another day has no shifts: not limited by nursing.
	other := mustBook(t, c, clinic.Booking{PatientID: c.patients[1], Start: at(3, 9, 0)})
	if other.Nurse != (clinic.Assignment{}) {
		t.Fatalf("an unrostered day's booking has a nurse: %+v", other.Nurse)
	}
	// Availability offers no start the nurse cannot take.
	_, days, err := c.db.Availability(c.ctx, clinic.D(2026, 3, 2), clinic.D(2026, 3, 2), 90, c.now)
	if err != nil {
		t.Fatal(err)
	}
	for _, cs := range days[0].Chairs {
		for _, s := range cs.Starts {
			if s > 7*60+30 && s < 10*60+30 {
				t.Fatalf("availability offers %s while the one nurse watches 09:00–10:30", s)
			}
		}
	}
	checkNursing(t, c, 1, 15*time.Minute)
}

// Shifts: only an active nurse; never two overlapping for one nurse.
// Adding a shift gives the day's infusions a nurse; removing it gives them
// another where there is room and lists the rest to move, cancelling
// nothing.
func TestShifts(t *testing.T) {
	c, nurses := nursedClinic(t, 3, 3, 0, clinic.Nursing{PatientsPerNurse: 1, StartSpacingMinutes: 15})
	a := mustBook(t, c, clinic.Booking{PatientID: c.patients[0], Start: at(2, 9, 0)}) // no shifts yet: no nurse
	b := mustBook(t, c, clinic.Booking{PatientID: c.patients[1], Start: at(2, 9, 0)})
	if a.Nurse != (clinic.Assignment{}) || b.Nurse != (clinic.Assignment{}) {
		t.Fatal("nurses on an unrostered day")
	}
	desk, err := c.db.CreateUser(c.ctx, clinic.NewUser{Email: "desk@example.org", Name: "Desk", Role: string(clinic.RoleFrontDesk),
		Password: "a long enough password"}, "x")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.db.AddShift(c.ctx, clinic.Shift{NurseID: desk.ID, Date: clinic.D(2026, 3, 2), From: 7 * 60, To: 12 * 60}); clinic.ErrorFields(err)["nurse_id"] == "" {
		t.Fatalf("a shift for the desk: %v", err)
	}
	var ids []int64
	for i := range 2 {
		u, err := c.db.CreateUser(c.ctx, clinic.NewUser{Email: fmt.Sprintf("n%d@example.org", i), Name: fmt.Sprintf("Nurse %d", i),
			Role: string(clinic.RoleNurse), Password: "a long enough password"}, "x")
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	_ = nurses
	ch, err := c.db.AddShift(c.ctx, clinic.Shift{NurseID: ids[0], Date: clinic.D(2026, 3, 2), From: 7 * 60, To: 12 * 60})
	if err != nil || len(ch.Assigned) != 1 || len(ch.ToMove) != 1 {
		t.Fatalf("the first shift: %+v %v; want one visit given the nurse, one left", ch, err)
	}
	if _, err := c.db.AddShift(c.ctx, clinic.Shift{NurseID: ids[0], Date: clinic.D(2026, 3, 2), From: 11 * 60, To: 13 * 60}); clinic.ErrorFields(err)["from"] == "" {
		t.Fatalf("an overlapping shift: %v", err)
	}
	misfits, err := c.db.Misfits(c.ctx, c.now)
	if err != nil || len(misfits) != 1 || misfits[0].ID != ch.ToMove[0] || misfits[0].Reason != "No nurse on shift can watch it." {
		t.Fatalf("misfits %+v %v", misfits, err)
	}
	second, err := c.db.AddShift(c.ctx, clinic.Shift{NurseID: ids[1], Date: clinic.D(2026, 3, 2), From: 8 * 60, To: 12 * 60})
	if err != nil || len(second.Assigned) != 1 || len(second.ToMove) != 0 {
		t.Fatalf("the second shift: %+v %v", second, err)
	}
	checkNursing(t, c, 1, 15*time.Minute)
	// The first nurse goes home: their patient moves to the second nurse
	// only if there is room — there is none, so it is listed to move.
	removed, err := c.db.RemoveShift(c.ctx, ch.Shift.ID)
	if err != nil || len(removed.ToMove) != 1 || len(removed.Assigned) != 0 {
		t.Fatalf("removing the first shift: %+v %v", removed, err)
	}
	visits, _ := c.db.PatientVisits(c.ctx, c.patients[0])
	visits2, _ := c.db.PatientVisits(c.ctx, c.patients[1])
	for _, v := range append(visits, visits2...) {
		if v.Status != clinic.StatusBooked {
			t.Fatalf("a visit %s after a shift was removed", v.Status)
		}
	}
	if shifts, err := c.db.Shifts(c.ctx, clinic.D(2026, 3, 2), clinic.D(2026, 3, 2)); err != nil || len(shifts) != 1 || shifts[0].NurseID != ids[1] {
		t.Fatalf("shifts after the removal: %+v %v", shifts, err)
	}
	if _, err := c.db.RemoveShift(c.ctx, ch.Shift.ID); clinic.ErrorCode(err) != clinic.ENOTFOUND {
		t.Fatalf("removing it again: %v", err)
	}
}

// A weekly pattern adds a shift on each open date of its range on its
// weekdays, in one transaction: a pattern clashing with a shift the nurse
// has is refused naming the date, and adds nothing.
func TestApplyPattern(t *testing.T) {
	c, nurses := nursedClinic(t, 1, 3, 1, clinic.Nursing{PatientsPerNurse: 2, StartSpacingMinutes: 15}) // a shift on Mon 2 March
	a := mustBook(t, c, clinic.Booking{PatientID: c.patients[0], Start: at(4, 9, 0)})                   // Wed 4, no shift yet
	if a.Nurse != (clinic.Assignment{}) {
		t.Fatalf("a nurse on an unrostered day: %+v", a.Nurse)
	}
	pattern := clinic.ShiftPattern{NurseID: nurses[0], Weekdays: []time.Weekday{time.Monday, time.Wednesday}, From: 7 * 60, To: 11 * 60,
		FirstDay: clinic.D(2026, 3, 2), LastDay: clinic.D(2026, 3, 13)}
	_, err := c.db.ApplyPattern(c.ctx, pattern)
	if !strings.Contains(clinic.ErrorFields(err)["from"], "Mon, Mar 2, 2026") {
		t.Fatalf("a pattern over the nurse's Monday shift: %v %v", err, clinic.ErrorFields(err))
	}
	if shifts, _ := c.db.Shifts(c.ctx, clinic.D(2026, 3, 3), clinic.D(2026, 3, 13)); len(shifts) != 0 {
		t.Fatalf("a refused pattern added %d shifts", len(shifts))
	}
	pattern.FirstDay = clinic.D(2026, 3, 3)
	change, err := c.db.ApplyPattern(c.ctx, pattern)
	if err != nil || len(change.Assigned) != 1 || change.Assigned[0] != a.ID || len(change.ToMove) != 0 {
		t.Fatalf("the pattern: %+v %v; want Wednesday's infusion given the nurse", change, err)
	}
	shifts, err := c.db.Shifts(c.ctx, clinic.D(2026, 3, 3), clinic.D(2026, 3, 13))
	var dates []string
	for _, s := range shifts {
		dates = append(dates, s.Date.String()+" "+s.From.String()+"–"+s.To.String())
	}
	if err != nil || strings.Join(dates, ", ") != "2026-03-04 07:00–11:00, 2026-03-09 07:00–11:00, 2026-03-11 07:00–11:00" {
		t.Fatalf("shifts %v %v", dates, err)
	}
	checkNursing(t, c, 2, 15*time.Minute)
}
