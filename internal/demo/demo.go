// Package demo generates the demo clinic: settings, chairs, protocols, one
// account per role and about forty patients with histories that end today —
// loading series done, maintenance infusions with relief reports, a few
// patients mid-series and a few new. It is a pure function of the current
// time (and a fixed seed), so the demo always looks current and two runs on
// the same day give the same clinic.
package demo

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/i18n"
)

// Password is every demo account's password. Demo only.
const Password = "infusiondesk-demo"

// Domain is the email domain of the demo accounts (.example is reserved).
const Domain = "desertbloom.example"

// TimeZone is the demo clinic's zone (no daylight saving).
const TimeZone = "America/Phoenix"

// Account is a demo sign-in.
type Account struct {
	Email   string
	Name    string
	Role    clinic.Role
	Patient int // index into Clinic.Patients for a patient account, else -1
}

// Clinic is the whole demo clinic, ready to be stored.
type Clinic struct {
	Settings  clinic.Settings
	Closures  map[clinic.Date]string
	Chairs    []string
	Protocols []clinic.Protocol
	Accounts  []Account
	Patients  []Patient
	// Shifts are the nurses' roster: two nurses Mon–Thu 07:00–16:30, one
	// Fri 08:00–12:00, over the weeks around today.
	Shifts []Shift
	// Waitlist is who asked for an earlier day than the one booked.
	Waitlist []Wish
	// Freed are visits of the next clinic day the patients called this
	// morning to cancel: their chairs are free to fill.
	Freed []Freed
	// Consent is the clinic's consent form (version 1), in English and
	// Spanish; each patient who has started treatment signed it.
	Consent clinic.ConsentForm
}

// Freed is a visit cancelled before it happened.
type Freed struct {
	Patient int // index into Clinic.Patients
	Visit   Visit
}

// Wish is a patient on the waitlist: any day before Before, at Part of
// the day.
type Wish struct {
	Patient int // index into Clinic.Patients
	Before  clinic.Date
	Part    clinic.PartOfDay
}

// Shift is one nurse on duty on one date.
type Shift struct {
	Nurse    int // index into Clinic.Accounts
	Date     clinic.Date
	From, To clinic.Clock
}

// RosterDays is how far before and after today the demo keeps a roster.
const RosterDays = 120

// Patient is a patient with their treatment history.
type Patient struct {
	clinic.Patient
	Course   *Course     // nil: no treatment course yet
	Visits   []Visit     // appointments, in time order
	Imported []*Infusion // infusions from a previous clinic's paper chart
	Journal  []clinic.JournalEntry
	// Consented is true for a patient who signed the consent form: every
	// one who has had an infusion; not yet a patient whose first is to come.
	Consented bool
}

// Course is a patient's treatment course.
type Course struct {
	Protocol          int // index into Clinic.Protocols
	Phase             clinic.Phase
	StartedOn         clinic.Date
	EndedOn           clinic.Date
	FixedIntervalDays *int
}

// Visit is one appointment.
type Visit struct {
	Chair        int // index into Clinic.Chairs
	Kind         clinic.AppointmentKind
	Status       clinic.Status
	Start, End   time.Time
	SessionNo    int // loading sessions: 1…n, one series per patient; else 0
	CancelReason string
	// Nurse watches an infusion on a rostered date: NurseID is the index
	// into Clinic.Accounts plus one (0: no nurse).
	Nurse    clinic.Assignment
	Infusion *Infusion // the infusion given at a completed visit
}

// Infusion is an infusion given, with what the patient reported after it.
type Infusion struct {
	GivenOn      clinic.Date
	StartedAt    *time.Time
	Phase        clinic.Phase
	DoseMgPerKgH float64
	Minutes      int
	Reliefs      []Relief
}

// Relief is one relief report.
type Relief struct {
	Status clinic.ReliefStatus
	OnDate clinic.Date
	Source string
}

// Protocols are README.md's three protocols with their defaults.
func Protocols() []clinic.Protocol {
	maint := func(p clinic.Protocol) clinic.Protocol {
		p.FirstIntervalDays, p.MinIntervalDays, p.MaxIntervalDays = 28, 28, 84
		p.LeadDays, p.StepDays = 7, 7
		p.MaintenanceInfusionMinutes, p.MaintenanceRecoveryMinutes = 60, 30
		return p
	}
	return []clinic.Protocol{
		maint(clinic.Protocol{Name: "Standard IV loading", Numbers: clinic.Numbers{Sessions: 6, MinGapDays: 2, MaxGapDays: 3, MaxSpanDays: 14,
			InfusionMinutes: 60, RecoveryMinutes: 30, DoseMinMgPerKgH: 0.1, DoseMaxMgPerKgH: 0.5}}),
		maint(clinic.Protocol{Name: "Short loading", Numbers: clinic.Numbers{Sessions: 3, MinGapDays: 1, MaxGapDays: 3, MaxSpanDays: 7,
			InfusionMinutes: 45, RecoveryMinutes: 30, DoseMinMgPerKgH: 0.1, DoseMaxMgPerKgH: 0.5}}),
		maint(clinic.Protocol{Name: "CRPS extended", Numbers: clinic.Numbers{Sessions: 5, MinGapDays: 1, MaxGapDays: 4, MaxSpanDays: 10,
			InfusionMinutes: 240, RecoveryMinutes: 30, DoseMinMgPerKgH: 0.25, DoseMaxMgPerKgH: 0.75}}),
	}
}

// Hours are the example clinic's: Mon–Thu 07:00–16:30, Fri 08:00–12:00.
func Hours() clinic.WeeklyHours {
	c := func(s string) clinic.Clock { v, _ := clinic.ParseClock(s); return v }
	var h clinic.WeeklyHours
	for wd := time.Monday; wd <= time.Thursday; wd++ {
		h[wd] = []clinic.Range{{Opens: c("07:00"), Closes: c("16:30")}}
	}
	h[time.Friday] = []clinic.Range{{Opens: c("08:00"), Closes: c("12:00")}}
	return h
}

// Generate builds the demo clinic as of now.
func Generate(now time.Time) (*Clinic, error) {
	loc, err := time.LoadLocation(TimeZone)
	if err != nil {
		return nil, err
	}
	today := clinic.DateOf(now, loc)
	c := &Clinic{
		Settings: clinic.Settings{Name: "Desert Bloom Pain & Infusion", TimeZone: TimeZone, SlotMinutes: 15, Hours: Hours(),
			Phone: "(602) 555-0100", Address: "2150 E Camelback Rd, Suite 210, Phoenix, AZ 85016", Nursing: clinic.DefaultNursing},
		Closures:  holidays(today.Year-2, today.Year+1),
		Chairs:    []string{"Chair 1", "Chair 2", "Chair 3", "Chair 4", "Chair 5", "Chair 6"},
		Protocols: Protocols(),
	}
	var chairs []clinic.Chair
	for i, name := range c.Chairs {
		chairs = append(chairs, clinic.Chair{ID: int64(i), Name: name, Position: i + 1, Active: true})
	}
	c.Accounts = []Account{
		{"admin@" + Domain, "Alex Morgan", clinic.RoleAdmin, -1},
		{"desk@" + Domain, "Dana Whitfield", clinic.RoleFrontDesk, -1},
		{"nurse@" + Domain, "Rosa Delgado, RN", clinic.RoleNurse, -1},
		{"nurse2@" + Domain, "Kai Tanaka, RN", clinic.RoleNurse, -1},
		{"physician@" + Domain, "Dr. Samuel Okafor", clinic.RolePhysician, -1},
		{"patient@" + Domain, "", clinic.RolePatient, 0}, // named after the patients are made
	}
	c.Shifts = roster(c, today)
	g := &generator{
		dueUnbooked: 4,
		rng:         rand.New(rand.NewPCG(2026, 11)),
		now:         now,
		today:       today,
		clin:        c,
	}
	g.cal = g.newCalendar(loc, chairs)
	g.patients()
	g.busyToday(TodayVisits)
	g.journal(&c.Patients[0])
	c.Consent = ConsentForm()
	for i := range c.Patients {
		c.Patients[i].Consented = startedTreatment(c.Patients[i], now)
	}
	c.Waitlist = g.waitlist(2)
	c.Freed = g.freed(2)
	c.Accounts[len(c.Accounts)-1].Name = c.Patients[0].FullName()
	return c, nil
}

// freed gives up to n of the patients due soon and left unbooked a visit
// on the next clinic day, which they called to cancel this morning: the
// demo's freed chairs. The calendar keeps none of them (cancelled visits
// hold no chair).
func (g *generator) freed(n int) []Freed {
	d := g.nextOpen(g.today.AddDays(1))
	var out []Freed
	for _, pi := range g.unbooked {
		if len(out) == n {
			break
		}
		slot, ok := g.cal.Nearest(d, clinic.Clock(9*60+len(out)*120), 90, int64(pi), g.now)
		if !ok {
			continue
		}
		g.cal.Hold(slot.ChairID, int64(pi), slot.Interval) // two freed visits never share a chair's time
		out = append(out, Freed{Patient: pi, Visit: Visit{Chair: int(slot.ChairID), Kind: clinic.KindMaintenance, Status: clinic.StatusCancelled,
			Start: slot.Start, End: slot.End, CancelReason: []string{"Patient called: unwell", "Patient called: no driver that day"}[len(out)%2]}})
	}
	g.release()
	return out
}

// waitlist puts up to n maintenance patients whose next visit is ten or
// more days out on the waitlist for any day before it, at the part of the
// day they book.
func (g *generator) waitlist(n int) []Wish {
	var out []Wish
	for pi := 1; pi < len(g.clin.Patients) && len(out) < n; pi++ {
		p := g.clin.Patients[pi]
		if p.Course == nil || p.Course.Phase != clinic.PhaseMaintenance || len(p.Visits) == 0 {
			continue
		}
		next := p.Visits[len(p.Visits)-1]
		d := clinic.DateOf(next.Start, g.cal.Loc)
		if next.Kind != clinic.KindMaintenance || next.Status != clinic.StatusBooked || d.Before(g.today.AddDays(10)) {
			continue
		}
		part := clinic.Afternoons
		if clinic.ClockOf(next.Start, g.cal.Loc) < clinic.Noon {
			part = clinic.Mornings
		}
		out = append(out, Wish{Patient: pi, Before: d, Part: part})
	}
	return out
}

// roster is two nurses Mon–Thu 07:00–16:30 and one Fri 08:00–12:00 on
// every open day from RosterDays before today to RosterDays after.
func roster(c *Clinic, today clinic.Date) []Shift {
	var out []Shift
	for d := today.AddDays(-RosterDays); !d.After(today.AddDays(RosterDays)); d = d.AddDays(1) {
		if _, closed := c.Closures[d]; closed {
			continue
		}
		switch d.Weekday() {
		case time.Monday, time.Tuesday, time.Wednesday, time.Thursday:
			out = append(out, Shift{Nurse: 2, Date: d, From: 7 * 60, To: 16*60 + 30}, Shift{Nurse: 3, Date: d, From: 7 * 60, To: 16*60 + 30})
		case time.Friday:
			out = append(out, Shift{Nurse: 2, Date: d, From: 8 * 60, To: 12 * 60})
		}
	}
	return out
}

// newCalendar is the generator's calendar: hours, closures, chairs, and
// the roster, so that every infusion it places on a rostered date has a
// nurse within the limits.
func (g *generator) newCalendar(loc *time.Location, chairs []clinic.Chair) *clinic.Calendar {
	cal := clinic.NewCalendar(g.clin.Settings, loc, g.clin.Closures, chairs)
	cal.SetNursing(g.clin.Settings.Nursing)
	for _, s := range g.clin.Shifts {
		cal.AddShift(clinic.Shift{NurseID: int64(s.Nurse + 1), NurseName: g.clin.Accounts[s.Nurse].Name, Date: s.Date, From: s.From, To: s.To})
	}
	return cal
}

// holidays are the clinic's closure dates: US federal holidays it observes.
func holidays(from, to int) map[clinic.Date]string {
	out := map[clinic.Date]string{}
	nth := func(y int, m time.Month, wd time.Weekday, n int) clinic.Date {
		d := clinic.D(y, m, 1)
		for d.Weekday() != wd {
			d = d.AddDays(1)
		}
		return d.AddDays(7 * (n - 1))
	}
	last := func(y int, m time.Month, wd time.Weekday) clinic.Date {
		d := clinic.D(y, m+1, 1).AddDays(-1)
		for d.Weekday() != wd {
			d = d.AddDays(-1)
		}
		return d
	}
	for y := from; y <= to; y++ {
		out[clinic.D(y, 1, 1)] = "New Year's Day"
		out[last(y, time.May, time.Monday)] = "Memorial Day"
		out[clinic.D(y, 7, 4)] = "Independence Day"
		out[nth(y, time.September, time.Monday, 1)] = "Labor Day"
		tg := nth(y, time.November, time.Thursday, 4)
		out[tg] = "Thanksgiving"
		out[tg.AddDays(1)] = "Day after Thanksgiving"
		out[clinic.D(y, 12, 24)] = "Christmas Eve"
		out[clinic.D(y, 12, 25)] = "Christmas Day"
	}
	return out
}

type generator struct {
	// dueUnbooked is how many more patients due within two weeks are left
	// without a booking, for the desk's "due, not booked" list.
	dueUnbooked int
	// unbooked are those patients (indices), in the order they were left.
	unbooked []int
	rng      *rand.Rand
	cal      *clinic.Calendar
	now      time.Time
	today    clinic.Date
	clin     *Clinic
}

func (g *generator) between(lo, hi int) int { return lo + g.rng.IntN(hi-lo+1) }

func (g *generator) pick(options []string) string { return options[g.rng.IntN(len(options))] }

// archetype is the shape of a patient's history.
type archetype int

const (
	maintenance   archetype = iota // in maintenance; next visit booked, or due and not yet booked
	maintOverdue                   // due date passed, nothing booked
	maintTransfer                  // history imported from a paper chart
	midSeries                      // loading series under way
	newConsult                     // consultation booked, no course yet
	newSeriesSoon                  // consult done, loading series starts soon
	paused                         // course paused
	ended                          // course ended
)

var firstNames = []string{"Maria", "James", "Linda", "Robert", "Patricia", "Michael", "Jennifer", "David", "Elena", "William",
	"Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Carlos", "Karen", "Daniel",
	"Nancy", "Matthew", "Lisa", "Anthony", "Betty", "Mark", "Sandra", "Steven", "Ashley", "Paul",
	"Kimberly", "Andrew", "Donna", "Joshua", "Michelle", "Kenneth", "Emily", "Kevin", "Carol", "Brian"}

var lastNames = []string{"Alvarez", "Bennett", "Castillo", "Dawson", "Ellis", "Fischer", "Garcia", "Holloway", "Ibarra", "Jensen",
	"Kowalski", "Lambert", "Mendoza", "Nakamura", "Ortega", "Patel", "Quintana", "Reyes", "Sandoval", "Thornton",
	"Underwood", "Valdez", "Whitaker", "Yazzie", "Zamora", "Brooks", "Chavez", "Delgado", "Espinoza", "Foster",
	"Gallagher", "Hughes", "Iverson", "Juarez", "Keller", "Lucero", "Montoya", "Navarro", "Olsen", "Pruitt"}

var driverNames = []string{"spouse", "daughter", "son", "sister", "brother", "friend", "partner", "neighbor"}

func (g *generator) patients() {
	var plan []archetype
	add := func(a archetype, n int) {
		for range n {
			plan = append(plan, a)
		}
	}
	add(maintenance, 19)
	add(maintOverdue, 3)
	add(maintTransfer, 2)
	add(midSeries, 7)
	add(newConsult, 2)
	add(newSeriesSoon, 3)
	add(paused, 2)
	add(ended, 2)

	conditions := make([]clinic.Condition, 0, len(plan))
	for _, n := range []struct {
		c clinic.Condition
		k int
	}{{clinic.ConditionCRPS, 10}, {clinic.ConditionNeuropathic, 12}, {clinic.ConditionFibromyalgia, 10}, {clinic.ConditionOther, 8}} {
		for range n.k {
			conditions = append(conditions, n.c)
		}
	}
	g.rng.Shuffle(len(conditions), func(i, j int) { conditions[i], conditions[j] = conditions[j], conditions[i] })
	// Patient 0 is the demo patient account: a CRPS-free maintenance
	// patient, so their visits are the common 90-minute kind.
	for i, c := range conditions {
		if c != clinic.ConditionCRPS {
			conditions[0], conditions[i] = conditions[i], conditions[0]
			break
		}
	}

	for i, a := range plan {
		p := &Patient{Patient: g.person(i, conditions[i])}
		g.clin.Patients = append(g.clin.Patients, *p)
		pp := &g.clin.Patients[i]
		g.history(i, pp, a)
	}
}

func (g *generator) person(i int, c clinic.Condition) clinic.Patient {
	first, last := firstNames[i], lastNames[(i*7)%len(lastNames)]
	age := g.between(24, 76)
	dob := g.today.AddDays(-age*365 - g.between(0, 364))
	w := float64(g.between(480, 1150)) / 10
	notes := ""
	switch g.rng.IntN(5) {
	case 0:
		notes = "Prefers morning appointments."
	case 1:
		notes = "Needs a blanket; feels cold during infusions."
	case 2:
		notes = "Anxious about IV placement; use the smallest gauge."
	}
	p := clinic.Patient{
		FirstName:   first,
		LastName:    last,
		DateOfBirth: dob,
		Phone:       fmt.Sprintf("(602) 555-01%02d", i),
		Email:       fmt.Sprintf("%s.%s@example.com", lower(first), lower(last)),
		WeightKg:    &w,
		Condition:   c,
		DriverName:  fmt.Sprintf("%s %s (%s)", firstNames[(i+13)%len(firstNames)], last, g.pick(driverNames)),
		DriverPhone: fmt.Sprintf("(480) 555-01%02d", i+40),
		Notes:       notes,
	}
	// Most take email and texts; some only email; a few want no messages.
	switch i % 7 {
	case 3:
		p.ContactBy = []clinic.Channel{clinic.ChannelEmail}
	case 5:
		p.ContactBy = []clinic.Channel{}
	}
	// Many of a Glendale clinic's patients read Spanish: their portal,
	// links and messages are in it.
	if first == "Elena" || first == "Carlos" || i%6 == 4 {
		p.Language = i18n.Spanish
	}
	if err := p.Validate(g.today); err != nil {
		panic(fmt.Sprintf("demo patient %d: %v", i, err)) // the generator is wrong
	}
	return p
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// profile is how a patient responds: relief in days after an infusion.
type profile struct {
	relief    int     // typical relief, days
	trend     int     // days gained (or lost) per maintenance infusion
	dose      float64 // starting dose rate, mg/kg/h
	doseStep  float64 // dose increase per maintenance infusion (tolerance)
	preferred clinic.Clock
}

func (g *generator) profile(proto clinic.Protocol) profile {
	times := []string{"07:30", "08:00", "09:00", "09:30", "10:00", "11:00", "13:00", "14:00"}
	if proto.InfusionMinutes >= 180 {
		times = []string{"07:00", "07:30", "08:00"}
	}
	pref, _ := clinic.ParseClock(g.pick(times))
	steps := int((proto.DoseMaxMgPerKgH - proto.DoseMinMgPerKgH) / 0.05)
	dose := proto.DoseMinMgPerKgH + 0.05*float64(g.between(steps/3, steps*2/3))
	pr := profile{relief: g.between(33, 75), dose: dose, preferred: pref}
	switch g.rng.IntN(8) {
	case 0:
		pr.trend = -5 // relief shortening: a physician should look
	case 1, 2:
		pr.trend = 3
	}
	if g.rng.IntN(10) == 0 {
		pr.doseStep = 0.05
	}
	return pr
}

func (g *generator) protocolFor(c clinic.Condition) int {
	if c == clinic.ConditionCRPS && g.rng.IntN(4) > 0 {
		return 2
	}
	if g.rng.IntN(4) == 0 {
		return 1
	}
	return 0
}

func (g *generator) history(i int, p *Patient, a archetype) {
	protoIdx := g.protocolFor(p.Condition)
	proto := g.clin.Protocols[protoIdx]
	pr := g.profile(proto)
	switch a {
	case newConsult:
		g.book(i, p, g.nextOpen(g.today.AddDays(g.between(1, 8))), pr.preferred, clinic.ConsultMinutes, clinic.KindConsult, 0, 5)
		return
	case newSeriesSoon:
		g.book(i, p, g.today.AddDays(-g.between(5, 12)), pr.preferred, clinic.ConsultMinutes, clinic.KindConsult, 0, 5)
		start := g.nextOpen(g.today.AddDays(g.between(2, 9)))
		p.Course = &Course{Protocol: protoIdx, Phase: clinic.PhaseLoading, StartedOn: start}
		g.loading(i, p, proto, pr, start)
		return
	case midSeries:
		start := g.prevOpen(g.today.AddDays(-g.between(1, proto.MaxSpanDays-2)))
		g.book(i, p, start.AddDays(-g.between(7, 14)), pr.preferred, clinic.ConsultMinutes, clinic.KindConsult, 0, 5)
		p.Course = &Course{Protocol: protoIdx, Phase: clinic.PhaseLoading, StartedOn: start}
		g.loading(i, p, proto, pr, start)
		return
	}

	// Everyone else finished a loading series months ago.
	monthsAgo := g.between(4, 16)
	if a == paused || a == ended {
		monthsAgo = g.between(10, 20)
	}
	start := g.nextOpen(g.today.AddDays(-monthsAgo * 30))
	p.Course = &Course{Protocol: protoIdx, Phase: clinic.PhaseMaintenance, StartedOn: start}

	var last *Infusion
	if a == maintTransfer {
		// Came from another clinic: loading and early maintenance on paper.
		d := start
		for k := range proto.Sessions {
			inf := &Infusion{GivenOn: d, Phase: clinic.PhaseLoading, DoseMgPerKgH: pr.dose, Minutes: proto.InfusionMinutes}
			p.Imported = append(p.Imported, inf)
			last = inf
			if k < proto.Sessions-1 {
				d = d.AddDays(proto.MinGapDays + g.rng.IntN(proto.MaxGapDays-proto.MinGapDays+1))
			}
		}
		g.relief(last, pr.relief, pr)
		d = d.AddDays(max(28, pr.relief-7))
		inf := &Infusion{GivenOn: d, Phase: clinic.PhaseMaintenance, DoseMgPerKgH: pr.dose, Minutes: 60}
		p.Imported = append(p.Imported, inf)
		g.relief(inf, pr.relief, pr)
		last = inf
	} else {
		g.book(i, p, start.AddDays(-g.between(7, 21)), pr.preferred, clinic.ConsultMinutes, clinic.KindConsult, 0, 5)
		last = g.loading(i, p, proto, pr, start)
	}
	if a == maintenance && g.rng.IntN(6) == 0 {
		f := 42
		p.Course.FixedIntervalDays = &f
	}

	// Maintenance until today. Overdue patients stopped coming three months
	// ago (longer than any interval); paused and ended courses stopped
	// months ago.
	stopBy := g.today
	switch a {
	case maintOverdue:
		stopBy = g.today.AddDays(-g.between(88, 100))
	case paused:
		stopBy = g.today.AddDays(-g.between(90, 150))
	case ended:
		stopBy = g.today.AddDays(-g.between(120, 200))
	}
	relief := pr.relief
	dose := pr.dose
	for {
		interval := clampInt(relief-7, 28, 84)
		if f := p.Course.FixedIntervalDays; f != nil {
			interval = *f
		}
		due := last.GivenOn.AddDays(interval)
		if !due.Before(stopBy) {
			if a == maintenance || a == maintTransfer {
				g.bookNext(i, p, due, pr.preferred)
			}
			break
		}
		// Now and then a visit is cancelled or missed and rebooked.
		d := g.nextOpen(due)
		if roll := g.rng.IntN(14); roll <= 1 {
			if v, ok := g.book(i, p, d, pr.preferred, 90, clinic.KindMaintenance, 0, 5); ok && v.Start.Before(g.now) {
				if roll == 0 {
					v.Status, v.Infusion = clinic.StatusCancelled, nil
					v.CancelReason = g.pick([]string{"Patient unwell", "Driver unavailable", "Weather", "Work conflict"})
				} else {
					v.Status, v.Infusion = clinic.StatusNoShow, nil
				}
				g.release()
				d = g.nextOpen(d.AddDays(g.between(2, 5)))
			}
		}
		v, ok := g.book(i, p, d, pr.preferred, 90, clinic.KindMaintenance, 0, 10)
		if !ok || v.Infusion == nil {
			break // booked today or later: the visit to come
		}
		relief = max(20, relief+pr.trend+g.between(-2, 2))
		dose = min(proto.DoseMaxMgPerKgH, dose+pr.doseStep)
		v.Infusion.DoseMgPerKgH = round2(dose)
		g.relief(v.Infusion, relief, pr)
		last = v.Infusion
	}
	switch a {
	case paused:
		p.Course.Phase = clinic.PhasePaused
	case ended:
		p.Course.Phase = clinic.PhaseEnded
		p.Course.EndedOn = last.GivenOn.AddDays(g.between(20, 40))
	}
}

// bookNext books the next maintenance visit near its due date — except for
// a few patients due within two weeks, and some due later, whom the desk has
// not booked yet. The demo patient account (patient 0) is always booked.
func (g *generator) bookNext(i int, p *Patient, due clinic.Date, pref clinic.Clock) {
	soon := due.Before(g.today.AddDays(14))
	switch {
	case i == 0:
	case soon && g.dueUnbooked > 0:
		g.dueUnbooked--
		g.unbooked = append(g.unbooked, i)
		return
	case !soon && g.rng.IntN(5) == 0:
		return
	}
	if due.Before(g.today) {
		due = g.today
	}
	g.book(i, p, g.nextOpen(due), pref, 90, clinic.KindMaintenance, 0, 10)
}

// loading books the protocol's series from start: each session on the
// earliest day within the protocol's gap limits that has room.
func (g *generator) loading(i int, p *Patient, proto clinic.Protocol, pr profile, start clinic.Date) *Infusion {
	minutes := proto.InfusionMinutes + proto.RecoveryMinutes
	var prev clinic.Date
	var last *Infusion
	for k := 1; k <= proto.Sessions; k++ {
		var v *Visit
		ok := false
		if k == 1 {
			v, ok = g.book(i, p, start, pr.preferred, minutes, clinic.KindLoading, k, 7)
		}
		for gap := proto.MinGapDays; k > 1 && !ok && gap <= proto.MaxGapDays; gap++ {
			v, ok = g.book(i, p, prev.AddDays(gap), pr.preferred, minutes, clinic.KindLoading, k, 0)
		}
		if !ok {
			break // the series was cut short; it happens
		}
		prev = clinic.DateOf(v.Start, g.cal.Loc)
		if v.Infusion != nil {
			v.Infusion.DoseMgPerKgH = round2(pr.dose)
			last = v.Infusion
		}
	}
	if last != nil && p.Course.Phase == clinic.PhaseMaintenance {
		g.relief(last, pr.relief, pr)
	}
	return last
}

// relief adds what the patient reported after inf, as far as today allows.
func (g *generator) relief(inf *Infusion, days int, pr profile) {
	ends := inf.GivenOn.AddDays(days)
	sources := []string{"patient", "desk", "nurse"}
	switch {
	case ends.Before(g.today):
		if days > 30 && g.rng.IntN(3) == 0 {
			inf.Reliefs = append(inf.Reliefs, Relief{clinic.ReliefHolding, inf.GivenOn.AddDays(days / 2), "desk"})
		}
		if g.rng.IntN(12) == 0 && ends.After(g.today.AddDays(-30)) {
			return // report missing: nobody has asked yet
		}
		inf.Reliefs = append(inf.Reliefs, Relief{clinic.ReliefEnded, ends, g.pick(sources)})
	case g.today.DaysSince(inf.GivenOn) > 10:
		inf.Reliefs = append(inf.Reliefs, Relief{clinic.ReliefHolding, g.today.AddDays(-g.between(1, 4)), g.pick(sources)})
	}
}

// book places a visit of the patient on d, or up to maxShift days later,
// at the time nearest to pref. Past visits are completed (with an infusion
// when they are infusions), one under way is checked in, later ones booked.
func (g *generator) book(i int, p *Patient, d clinic.Date, pref clinic.Clock, minutes int, kind clinic.AppointmentKind, session, maxShift int) (*Visit, bool) {
	for shift := 0; shift <= maxShift; shift++ {
		day := d.AddDays(shift)
		notBefore := time.Time{}
		if !day.Before(g.today) {
			notBefore = g.now
		}
		slot, ok := g.cal.Nearest(day, pref, minutes, int64(i), notBefore)
		if !ok {
			continue
		}
		return g.place(i, p, slot, day, minutes, kind, session), true
	}
	return nil, false
}

// place holds slot for the patient's visit on day and records it: past
// visits completed (with an infusion when they are infusions), one under
// way checked in, later ones booked.
func (g *generator) place(i int, p *Patient, slot clinic.Slot, day clinic.Date, minutes int, kind clinic.AppointmentKind, session int) *Visit {
	g.cal.Hold(slot.ChairID, int64(i), slot.Interval)
	v := Visit{Chair: int(slot.ChairID), Kind: kind, Start: slot.Start, End: slot.End, SessionNo: session}
	if kind.Infusion() && slot.Nurse.NurseID != 0 {
		v.Nurse = slot.Nurse
		g.cal.HoldWatch(clinic.Watch{NurseID: slot.Nurse.NurseID, Place: slot.Nurse.Place, Interval: slot.Interval})
	}
	switch {
	case !slot.End.After(g.now):
		v.Status = clinic.StatusCompleted
		if kind != clinic.KindConsult {
			phase := clinic.PhaseMaintenance
			infMin := 60
			if kind == clinic.KindLoading {
				phase = clinic.PhaseLoading
				infMin = minutes - g.clin.Protocols[g.protocolOf(p)].RecoveryMinutes
			}
			start := slot.Start
			v.Infusion = &Infusion{GivenOn: day, StartedAt: &start, Phase: phase, Minutes: infMin}
		}
	case !slot.Start.After(g.now):
		v.Status = clinic.StatusCheckedIn
	default:
		v.Status = clinic.StatusBooked
	}
	p.Visits = append(p.Visits, v)
	return &p.Visits[len(p.Visits)-1]
}

func (g *generator) protocolOf(p *Patient) int {
	if p.Course == nil {
		return 0
	}
	return p.Course.Protocol
}

// release rebuilds the calendar from the active visits, freeing the chair
// of a visit just cancelled or missed.
func (g *generator) release() {
	g.cal = g.newCalendar(g.cal.Loc, g.cal.Chairs)
	for pi := range g.clin.Patients {
		for _, w := range g.clin.Patients[pi].Visits {
			if w.Status.Active() {
				g.cal.Hold(int64(w.Chair), int64(pi), clinic.Interval{Start: w.Start, End: w.End})
				if w.Nurse.NurseID != 0 {
					g.cal.HoldWatch(clinic.Watch{NurseID: w.Nurse.NurseID, Place: w.Nurse.Place, Interval: clinic.Interval{Start: w.Start, End: w.End}})
				}
			}
		}
	}
}

// nextOpen is d, or the first day after it the clinic is open.
func (g *generator) nextOpen(d clinic.Date) clinic.Date {
	for !g.cal.Open(d) {
		d = d.AddDays(1)
	}
	return d
}

// prevOpen is d, or the last day before it the clinic is open.
func (g *generator) prevOpen(d clinic.Date) clinic.Date {
	for !g.cal.Open(d) {
		d = d.AddDays(-1)
	}
	return d
}

func clampInt(v, lo, hi int) int { return max(lo, min(hi, v)) }

func round2(f float64) float64 { return float64(int(f*100+0.5)) / 100 }

// TodayVisits is how many maintenance visits the demo brings forward onto
// today (when the clinic is open), so that the day view, the nurse floor
// and the day sheet show a working day: visits done this morning, patients
// in their chairs now, arrivals to come.
const TodayVisits = 8

// busyToday moves up to n of the next maintenance visits booked in the
// coming three weeks onto today, spread over the day (early, as a
// patient whose relief is fading is brought in). Those over by now are
// completed with their infusion recorded; one under way is checked in.
func (g *generator) busyToday(n int) {
	if !g.cal.Open(g.today) {
		return
	}
	times := []string{"07:30", "08:00", "09:00", "09:30", "10:30", "11:00", "12:30", "13:00", "14:00", "14:30"}
	moved := 0
	for i := range g.clin.Patients {
		if moved == n {
			return
		}
		p := &g.clin.Patients[i]
		k := len(p.Visits) - 1
		// The demo account (patient 0) keeps its visit to come.
		if i == 0 || k < 0 || p.Course == nil || p.Course.Phase != clinic.PhaseMaintenance {
			continue
		}
		next := p.Visits[k]
		d := clinic.DateOf(next.Start, g.cal.Loc)
		if next.Kind != clinic.KindMaintenance || next.Status != clinic.StatusBooked || !d.After(g.today) || d.After(g.today.AddDays(21)) {
			continue
		}
		p.Visits = p.Visits[:k]
		g.release()
		pref, _ := clinic.ParseClock(times[moved%len(times)])
		v, ok := g.bookToday(i, p, pref)
		if !ok {
			p.Visits = append(p.Visits, next) // nowhere today: keep it as it was
			g.release()
			continue
		}
		if v.Infusion != nil {
			v.Infusion.DoseMgPerKgH = g.lastDose(p)
		}
		moved++
	}
}

// bookToday books a 90-minute maintenance visit today at the time nearest
// pref, today's earlier hours included (book keeps to the hours to come).
func (g *generator) bookToday(i int, p *Patient, pref clinic.Clock) (*Visit, bool) {
	slot, ok := g.cal.Nearest(g.today, pref, 90, int64(i), time.Time{})
	if !ok {
		return nil, false
	}
	return g.place(i, p, slot, g.today, 90, clinic.KindMaintenance, 0), true
}

// lastDose is the dose rate of the patient's latest infusion: the paper
// chart's came before the clinic's own.
func (g *generator) lastDose(p *Patient) float64 {
	dose := 0.0
	for _, inf := range p.Imported {
		if inf.DoseMgPerKgH > 0 {
			dose = inf.DoseMgPerKgH
		}
	}
	for _, v := range p.Visits {
		if v.Infusion != nil && v.Infusion.DoseMgPerKgH > 0 {
			dose = v.Infusion.DoseMgPerKgH
		}
	}
	return dose
}

// lastPEG is the day of the latest entry with PEG answers (the first
// entry's day when none has).
func lastPEG(journal []clinic.JournalEntry) clinic.Date {
	last := journal[0].On
	for _, e := range journal {
		if e.PEG != nil {
			last = e.On
		}
	}
	return last
}

// startedTreatment reports whether the patient has had an infusion: a
// visit's infusion given before now, or one from a paper chart.
func startedTreatment(p Patient, now time.Time) bool {
	if len(p.Imported) > 0 {
		return true
	}
	for _, v := range p.Visits {
		if v.Infusion != nil && v.Start.Before(now) {
			return true
		}
	}
	return false
}

// ConsentForm is the demo clinic's consent form, version 1.
func ConsentForm() clinic.ConsentForm {
	return clinic.ConsentForm{Title: "Consent to ketamine infusion therapy",
		Body: `I agree to receive ketamine by intravenous infusion for chronic pain, given by the clinic's nurses under a physician's supervision.

I understand that:
- Ketamine can cause dizziness, nausea, blurred vision, a feeling of being detached (dissociation), a rise in blood pressure and, rarely, confusion or distressing dreams. Most effects fade within an hour or two of the infusion.
- My blood pressure and my answers to the screening questions are checked before every infusion; the infusion may be postponed until a physician has reviewed them.
- I must not drive, operate machinery or make important decisions until the next day, and an adult must take me home.
- I will tell the clinic if I am or may be pregnant, if I have ever had psychosis, or if I have used alcohol or drugs in the last 24 hours.
- Relief varies from person to person and may not last; the clinic plans my next infusion from what I report.
- I may stop treatment at any time.

My questions have been answered.`,
		BodyES: `Acepto recibir ketamina por infusión intravenosa para el dolor crónico, administrada por el personal de enfermería de la clínica bajo la supervisión de un médico.

Entiendo que:
- La ketamina puede causar mareo, náuseas, visión borrosa, una sensación de desconexión (disociación), un aumento de la presión arterial y, en raras ocasiones, confusión o sueños angustiantes. La mayoría de los efectos desaparecen una o dos horas después de la infusión.
- Mi presión arterial y mis respuestas a las preguntas de detección se revisan antes de cada infusión; la infusión puede posponerse hasta que un médico las haya revisado.
- No debo conducir, manejar maquinaria ni tomar decisiones importantes hasta el día siguiente, y un adulto debe llevarme a casa.
- Informaré a la clínica si estoy o podría estar embarazada, si alguna vez he tenido psicosis o si he consumido alcohol o drogas en las últimas 24 horas.
- El alivio varía de una persona a otra y puede no durar; la clínica planifica mi próxima infusión a partir de lo que yo informe.
- Puedo dejar el tratamiento en cualquier momento.

Mis preguntas han sido respondidas.`}
}

// journal gives the demo patient six weeks of symptom journal: pain low
// after each infusion, creeping up as relief fades.
func (g *generator) journal(p *Patient) {
	var given []clinic.Date
	for _, v := range p.Visits {
		if v.Infusion != nil {
			given = append(given, v.Infusion.GivenOn)
		}
	}
	score := func(v int) *int { v = clampInt(v, 0, 10); return &v }
	for d := g.today.AddDays(-42); !d.After(g.today.AddDays(-1)); d = d.AddDays(1 + g.rng.IntN(3)) {
		since := 60
		for _, gd := range given {
			if !gd.After(d) {
				since = d.DaysSince(gd)
			}
		}
		pain := clampInt(2+since/7+g.between(-1, 1), 0, 10)
		e := clinic.JournalEntry{On: d, Pain: pain, Sleep: score(9 - pain + g.between(-1, 1)), Mobility: score(8 - pain/2), Mood: score(9 - pain + g.between(-2, 1))}
		if pain >= 6 && g.rng.IntN(2) == 0 {
			e.Breakthrough = "Ibuprofen 400 mg"
			doses := 1 + g.rng.IntN(2)
			e.BreakthroughDoses = &doses
		} else if pain >= 4 {
			none := 0
			e.BreakthroughDoses = &none
		}
		if len(p.Journal) == 0 || d.DaysSince(lastPEG(p.Journal)) >= 7 { // the weekly questions
			e.PEG = &clinic.PEG{Pain: pain, Enjoyment: clampInt(pain-1+g.between(-1, 1), 0, 10), Activity: clampInt(pain+g.between(-1, 1), 0, 10)}
		}
		p.Journal = append(p.Journal, e)
	}
}
