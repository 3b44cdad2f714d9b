package postgres_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/auth"
	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/postgres"
)

// fillClinic is the test clinic on the real calendar (the freed-slot
// triggers compare with the database's clock), with maintenance patients
// whose last infusion was lastDaysAgo days ago (due 28 days after it).
func fillClinic(t *testing.T, lastDaysAgo ...int) (*testClinic, []int64) {
	t.Helper()
	c := newTestClinic(t, 0)
	c.now = time.Now()
	today := clinic.DateOf(c.now, chicago)
	protocol := c.protocol(t, "Standard", 6, 2, 3, 14, 60)
	var ids []int64
	for i, ago := range lastDaysAgo {
		p, err := c.db.CreatePatient(c.ctx, clinic.Patient{FirstName: "Fill", LastName: fmt.Sprintf("Patient%02d", i),
			DateOfBirth: clinic.D(1970, 1, 1+i%28), Condition: clinic.ConditionNeuropathic,
			Email: fmt.Sprintf("fill%02d@example.com", i), ContactBy: []clinic.Channel{clinic.ChannelEmail}}, today)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.db.CreateCourse(c.ctx, p.ID, protocol, today.AddDays(-ago-30)); err != nil {
			t.Fatal(err)
		}
		if _, err := c.db.ImportInfusion(c.ctx, p.ID, today.AddDays(-ago), nil, clinic.PhaseMaintenance, 0.3, c.now); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, p.ID)
	}
	return c, ids
}

// clinicDay is the first Monday to Thursday at least n days after today.
func clinicDay(now time.Time, n int) clinic.Date {
	d := clinic.DateOf(now, chicago).AddDays(n)
	for d.Weekday() < time.Monday || d.Weekday() > time.Thursday {
		d = d.AddDays(1)
	}
	return d
}

// Twenty patients claim one offered slot at once: exactly one is booked,
// the others are told it has just been taken, and the offers not yet sent
// are dropped.
func TestClaimRaceBooksExactlyOne(t *testing.T) {
	const n = 20
	ago := make([]int, n)
	for i := range ago {
		ago[i] = 40 // overdue by 12 days
	}
	c, ids := fillClinic(t, ago...)
	desk := c.as(t, clinic.RoleFrontDesk)
	start := clinicDay(c.now, 2).At(9*60, chicago)
	offer, err := c.db.CreateOffer(desk, clinic.NewOffer{Start: start, ChairID: c.chairs[0], Minutes: 90, PatientIDs: ids}, c.now)
	if err != nil {
		t.Fatal(err)
	}
	if !offer.Expires.Equal(c.now.Add(2*time.Hour)) && !offer.Expires.Equal(start) {
		t.Fatalf("the offer ends %s", offer.Expires)
	}
	tokens := make([]string, n)
	for i, id := range ids {
		if tokens[i], err = postgres.OfferLinkForTest(c.ctx, c.db, offer.ID, id); err != nil {
			t.Fatal(err)
		}
	}
	states := make([]postgres.OfferState, n)
	errs := race(n, func(i int) error {
		v, err := c.db.ClaimOffer(c.ctx, auth.HashToken(tokens[i]), c.now)
		states[i] = v.State
		return err
	})
	yours, taken := 0, 0
	winner := 0
	for i, err := range errs {
		if err != nil {
			t.Fatalf("claim %d: %v", i, err)
		}
		switch states[i] {
		case postgres.OfferYours:
			yours++
			winner = i
		case postgres.OfferTaken:
			taken++
		}
	}
	if yours != 1 || taken != n-1 {
		t.Fatalf("%d booked, %d told it was taken; want 1 and %d", yours, taken, n-1)
	}
	visits, err := c.db.Visits(c.ctx, postgres.AppointmentFilter{From: start, To: start.Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if len(visits) != 1 || visits[0].PatientID != ids[winner] || visits[0].PlacedBy != clinic.PlacedByOffer || visits[0].ChairID != c.chairs[0] {
		t.Fatalf("booked at the slot: %+v (winner %d)", visits, ids[winner])
	}
	// The winner's link keeps saying it is theirs; a loser's says taken.
	if v, err := c.db.OpenOffer(c.ctx, auth.HashToken(tokens[winner]), c.now); err != nil || v.State != postgres.OfferYours {
		t.Fatalf("the winner's link: %v %v", v.State, err)
	}
	loser := (winner + 1) % n
	v, err := c.db.ClaimOffer(c.ctx, auth.HashToken(tokens[loser]), c.now)
	if err != nil || v.State != postgres.OfferTaken || v.Next == nil {
		t.Fatalf("a late claim: %v, next %v, %v", v.State, v.Next, err)
	}
	conn := superuser(t, c.url)
	var scheduled int
	if err := conn.QueryRow(c.ctx, `SELECT count(*) FROM messages WHERE offer_id = $1 AND status = 'scheduled'`, offer.ID).Scan(&scheduled); err != nil {
		t.Fatal(err)
	}
	if scheduled != 0 {
		t.Fatalf("%d offers still to be sent after the slot was taken", scheduled)
	}
}

// The desk books the chair before anyone claims: the offer's claim finds
// it taken (nothing booked for the claimant, the next free time in their
// window offered), and a new offer for that chair and time is refused.
func TestOfferAfterTheDeskBookedTheSlot(t *testing.T) {
	c, ids := fillClinic(t, 40, 40, 10)
	desk := c.as(t, clinic.RoleFrontDesk)
	start := clinicDay(c.now, 2).At(9*60, chicago)
	offer, err := c.db.CreateOffer(desk, clinic.NewOffer{Start: start, ChairID: c.chairs[1], Minutes: 90, PatientIDs: ids[:1]}, c.now)
	if err != nil {
		t.Fatal(err)
	}
	token, err := postgres.OfferLinkForTest(c.ctx, c.db, offer.ID, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.db.Book(desk, clinic.Booking{PatientID: ids[1], Kind: clinic.KindMaintenance, Start: start, ChairID: c.chairs[1]}, c.now); err != nil {
		t.Fatal(err)
	}
	v, err := c.db.ClaimOffer(c.ctx, auth.HashToken(token), c.now)
	if err != nil || v.State != postgres.OfferTaken {
		t.Fatalf("claim after the desk booked: %v %v", v.State, err)
	}
	if v.Next == nil || v.Next.Start.Equal(start) && v.Next.ChairID == c.chairs[1] {
		t.Fatalf("next free time offered: %+v", v.Next)
	}
	mine, err := c.db.PatientVisits(c.ctx, ids[0])
	if err != nil || len(mine) != 0 {
		t.Fatalf("the claimant has visits %v (%v)", mine, err)
	}
	_, err = c.db.CreateOffer(desk, clinic.NewOffer{Start: start, ChairID: c.chairs[1], Minutes: 90, PatientIDs: ids[:1]}, c.now)
	if clinic.ErrorCode(err) != clinic.ECONFLICT {
		t.Fatalf("offering a booked chair: %v", err)
	}
	// A patient not in maintenance, or without any channel, is refused by name.
	p, err := c.db.CreatePatient(c.ctx, clinic.Patient{FirstName: "No", LastName: "Course", DateOfBirth: clinic.D(1980, 1, 1),
		Condition: clinic.ConditionOther, Email: "nc@example.com"}, clinic.DateOf(c.now, chicago))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.db.CreateOffer(desk, clinic.NewOffer{Start: start.Add(4 * time.Hour), ChairID: c.chairs[1], Minutes: 90, PatientIDs: []int64{p.ID}}, c.now)
	if clinic.ErrorFields(err)["patient_ids"] == "" {
		t.Fatalf("offering to a patient without a course: %v", err)
	}
}

// Candidates for a freed slot come from the plans: the overdue patient
// first, then the one due that week; one due in two months is not listed;
// a waitlisted patient with a later visit booked is, with it to move.
func TestFillCandidatesFromThePlans(t *testing.T) {
	c, ids := fillClinic(t, 30, 45, 10, 26)
	desk := c.as(t, clinic.RoleFrontDesk)
	day := clinicDay(c.now, 2)
	start := day.At(13*60, chicago)
	// ids[3]: due in 2 days; books a visit later, then asks for earlier afternoons.
	later := clinicDay(c.now, 8).At(9*60, chicago)
	booked, _, err := c.db.Book(desk, clinic.Booking{PatientID: ids[3], Kind: clinic.KindMaintenance, Start: later}, c.now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.db.SetWish(desk, ids[3], clinic.Wish{Before: clinic.DateOf(later, chicago), Part: clinic.Afternoons}, c.now); err != nil {
		t.Fatal(err)
	}
	// A loading patient whose series starts a week later: its first
	// session could move to the slot's day.
	loose := c.protocol(t, "Loose", 2, 1, 14, 20, 60)
	lp, err := c.db.CreatePatient(c.ctx, clinic.Patient{FirstName: "Lena", LastName: "Loading", DateOfBirth: clinic.D(1980, 1, 1),
		Condition: clinic.ConditionCRPS}, clinic.DateOf(c.now, chicago))
	if err != nil {
		t.Fatal(err)
	}
	series, _, err := c.db.BookSeries(desk, clinic.SeriesRequest{PatientID: lp.ID, ProtocolID: loose, StartDate: day.AddDays(7), Preferred: 9 * 60}, c.now)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.db.FillCandidates(desk, start, 90, c.now)
	if err != nil {
		t.Fatal(err)
	}
	var list []string
	for _, cand := range got {
		list = append(list, fmt.Sprintf("%d %s", cand.PatientID, cand.Reason))
	}
	want := []string{fmt.Sprintf("%d overdue", ids[1])}
	// ids[0] is due in -2 days: overdue too, less so.
	want = append(want, fmt.Sprintf("%d overdue", ids[0]), fmt.Sprintf("%d waitlist", ids[3]), fmt.Sprintf("%d loading_earlier", lp.ID))
	if fmt.Sprint(list) != fmt.Sprint(want) {
		t.Fatalf("candidates %v, want %v", list, want)
	}
	if got[2].Moves == nil || got[2].Moves.ID != booked.ID {
		t.Fatalf("the waitlisted patient's visit to move: %+v", got[2].Moves)
	}
	if got[3].Moves == nil || got[3].Moves.ID != series.Sessions[0].ID {
		t.Fatalf("the loading session to move: %+v", got[3].Moves)
	}
	if _, err := c.db.FillCandidates(desk, start.Add(7*time.Minute), 90, c.now); clinic.ErrorFields(err)["start"] == "" {
		t.Fatalf("a start off the grid: %v", err)
	}
}

// A cancelled visit frees its chair; what is placed there fills it, by its
// channel; the report counts both.
func TestFreedSlotsAndTheFillReport(t *testing.T) {
	c, ids := fillClinic(t, 40, 40)
	desk := c.as(t, clinic.RoleFrontDesk)
	day := clinicDay(c.now, 2)
	start := day.At(9*60, chicago)
	a, _, err := c.db.Book(desk, clinic.Booking{PatientID: ids[0], Kind: clinic.KindMaintenance, Start: start, ChairID: c.chairs[0]}, c.now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.db.Cancel(desk, a.ID, a.Version, "patient has the flu", c.now); err != nil {
		t.Fatal(err)
	}
	// The best candidate is the other overdue patient: not the one who
	// just cancelled.
	freed, err := c.db.FreedSlots(desk, day.AddDays(1).At(0, chicago), c.now)
	if err != nil || len(freed) != 1 || freed[0].AppointmentID != a.ID || freed[0].Best == nil || freed[0].Best.PatientID != ids[1] {
		t.Fatalf("freed slots %+v (%v)", freed, err)
	}
	// ids[1] books it themselves in the portal (overdue: their window is the coming days).
	mine, err := c.db.BookOwn(c.as(t, clinic.RolePatient), ids[1], start, c.now)
	if err != nil {
		t.Fatal(err)
	}
	if mine.ChairID != c.chairs[0] || mine.PlacedBy != clinic.PlacedBySelf {
		t.Fatalf("self-booked %+v", mine)
	}
	freed, err = c.db.FreedSlots(desk, day.AddDays(1).At(0, chicago), c.now)
	if err != nil || len(freed) != 0 {
		t.Fatalf("still freed: %+v (%v)", freed, err)
	}
	rep, err := c.db.FillReport(desk, day.AddDays(-1), day)
	if err != nil {
		t.Fatal(err)
	}
	if rep.FreedSlots != 1 || rep.FreedMinutes != 90 || rep.FilledSlots != 1 || rep.FilledMinutes != 90 ||
		rep.ByChannel[clinic.PlacedBySelf].Slots != 1 || rep.MedianMinutesToFill == nil {
		t.Fatalf("report %+v", rep)
	}
}

// A patient books and moves only inside their window; a loading session
// is not theirs to move.
func TestSelfBookingWindowIsEnforced(t *testing.T) {
	c, ids := fillClinic(t, 26) // due in 2 days
	me := c.as(t, clinic.RolePatient)
	opts, err := c.db.BookingOptions(me, ids[0], c.now)
	if err != nil {
		t.Fatal(err)
	}
	today := clinic.DateOf(c.now, chicago)
	// Due in two days, which is also the shortest interval after the last.
	if opts.Window.From != today.AddDays(2) || opts.Window.To != today.AddDays(5) || opts.Due != today.AddDays(2) {
		t.Fatalf("window %s – %s, due %s", opts.Window.From, opts.Window.To, opts.Due)
	}
	outside := clinicDay(c.now, 9).At(9*60, chicago)
	if _, err := c.db.BookOwn(me, ids[0], outside, c.now); clinic.ErrorFields(err)["start"] == "" {
		t.Fatalf("outside the window: %v", err)
	}
	if len(opts.Slots) < 2 {
		t.Fatalf("%d free times in the window", len(opts.Slots))
	}
	a, err := c.db.BookOwn(me, ids[0], opts.Slots[0].Start, c.now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.db.BookOwn(me, ids[0], opts.Slots[1].Start, c.now); clinic.ErrorCode(err) != clinic.EINVALID {
		t.Fatalf("a second own booking: %v", err)
	}
	if _, err := c.db.MoveOwn(me, ids[0], a.ID, a.Version, outside, c.now); clinic.ErrorFields(err)["start"] == "" {
		t.Fatalf("moving outside the window: %v", err)
	}
	moved, err := c.db.MoveOwn(me, ids[0], a.ID, a.Version, opts.Slots[len(opts.Slots)-1].Start, c.now)
	if err != nil || !moved.Start.Equal(opts.Slots[len(opts.Slots)-1].Start) {
		t.Fatalf("moved %v (%v)", moved.Start, err)
	}
	if _, err := c.db.MoveOwn(me, ids[0]+999, a.ID, moved.Version, opts.Slots[0].Start, c.now); clinic.ErrorCode(err) != clinic.ENOTFOUND {
		t.Fatalf("another patient's visit: %v", err)
	}
}

// An offer ends when the desk said: a claim after it books nothing and
// says so; an offer may not end after its slot begins.
func TestOfferEndsAtItsExpiry(t *testing.T) {
	c, ids := fillClinic(t, 40)
	desk := c.as(t, clinic.RoleFrontDesk)
	start := clinicDay(c.now, 2).At(9*60, chicago)
	offer, err := c.db.CreateOffer(desk, clinic.NewOffer{Start: start, ChairID: c.chairs[0], Minutes: 90, PatientIDs: ids,
		Expires: c.now.Add(30 * time.Minute)}, c.now)
	if err != nil {
		t.Fatal(err)
	}
	token, err := postgres.OfferLinkForTest(c.ctx, c.db, offer.ID, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	v, err := c.db.ClaimOffer(c.ctx, auth.HashToken(token), c.now.Add(31*time.Minute))
	if err != nil || v.State != postgres.OfferEnded || v.Next == nil {
		t.Fatalf("a claim after the end: %v, next %v (%v)", v.State, v.Next, err)
	}
	if visits, _ := c.db.PatientVisits(c.ctx, ids[0]); len(visits) != 0 {
		t.Fatalf("booked after the offer ended: %+v", visits)
	}
	_, err = c.db.CreateOffer(desk, clinic.NewOffer{Start: start, ChairID: c.chairs[0], Minutes: 90, PatientIDs: ids,
		Expires: start.Add(time.Minute)}, c.now)
	if clinic.ErrorFields(err)["expires_at"] == "" {
		t.Fatalf("an offer ending after its slot: %v", err)
	}
	if _, err := c.db.ClaimOffer(c.ctx, auth.HashToken("not-a-token"), c.now); clinic.ErrorCode(err) != clinic.ENOTFOUND {
		t.Fatalf("an unknown link: %v", err)
	}
}
