package demo

import (
	"reflect"
	"testing"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/i18n"
)

// The demo must obey every rule the real calendar enforces, whatever day it
// is generated on.
func TestGenerateKeepsTheRules(t *testing.T) {
	loc, _ := time.LoadLocation(TimeZone)
	for _, now := range []time.Time{
		time.Date(2026, 11, 22, 15, 0, 0, 0, loc), // a Sunday
		time.Date(2026, 3, 2, 10, 7, 0, 0, loc),   // a Monday morning, mid-day
		time.Date(2027, 1, 1, 9, 0, 0, 0, loc),    // a holiday
		time.Date(2026, 7, 10, 11, 30, 0, 0, loc), // a Friday before closing
	} {
		t.Run(now.Format("2006-01-02 15:04"), func(t *testing.T) {
			c, err := Generate(now)
			if err != nil {
				t.Fatal(err)
			}
			checkClinic(t, c, now, loc)
		})
	}
}

func checkClinic(t *testing.T, c *Clinic, now time.Time, loc *time.Location) {
	t.Helper()
	today := clinic.DateOf(now, loc)
	sched := clinic.Schedule{Settings: c.Settings, Loc: loc, Closures: c.Closures}
	if len(c.Patients) != 40 {
		t.Fatalf("%d patients; want 40", len(c.Patients))
	}
	byCondition := map[clinic.Condition]int{}
	type hold struct {
		iv    clinic.Interval
		owner int
	}
	chairs := map[int][]hold{}
	patients := map[int][]clinic.Interval{}
	var completed, booked, checkedIn, reports int
	roles := map[clinic.Role]bool{}
	for _, a := range c.Accounts {
		roles[a.Role] = true
	}
	if len(roles) != 5 {
		t.Fatalf("accounts cover %d roles; want all 5", len(roles))
	}
	for pi, p := range c.Patients {
		byCondition[p.Condition]++
		var loadingDates []clinic.Date
		for _, v := range p.Visits {
			d := clinic.DateOf(v.Start, loc)
			// Opening hours and closures, by the calendar's own rule.
			if msg := sched.Misfit(clinic.Interval{Start: v.Start, End: v.End}); msg != "" {
				t.Errorf("patient %d: %s visit at %s: %s", pi, v.Kind, v.Start.In(loc), msg)
			}
			if v.Start.Minute()%c.Settings.SlotMinutes != 0 || v.Start.Second() != 0 {
				t.Errorf("patient %d: start %s off the grid", pi, v.Start.In(loc))
			}
			// Status follows the clock.
			switch {
			case v.Status == clinic.StatusCancelled || v.Status == clinic.StatusNoShow:
				if !v.Start.Before(now) || v.Infusion != nil {
					t.Errorf("patient %d: %s visit in the future or with an infusion", pi, v.Status)
				}
			case !v.End.After(now):
				completed++
				if v.Status != clinic.StatusCompleted {
					t.Errorf("patient %d: past visit %s", pi, v.Status)
				}
				if (v.Kind != clinic.KindConsult) != (v.Infusion != nil) {
					t.Errorf("patient %d: completed %s visit with infusion %v", pi, v.Kind, v.Infusion != nil)
				}
			case !v.Start.After(now):
				checkedIn++
			default:
				booked++
				if v.Status != clinic.StatusBooked {
					t.Errorf("patient %d: future visit %s", pi, v.Status)
				}
			}
			if v.Status.Active() {
				iv := clinic.Interval{Start: v.Start, End: v.End}
				for _, o := range chairs[v.Chair] {
					if o.iv.Overlaps(iv) {
						t.Errorf("chair %d double-booked: patients %d and %d at %s", v.Chair, o.owner, pi, v.Start.In(loc))
					}
				}
				for _, o := range patients[pi] {
					if o.Overlaps(iv) {
						t.Errorf("patient %d double-booked at %s", pi, v.Start.In(loc))
					}
				}
				chairs[v.Chair] = append(chairs[v.Chair], hold{iv, pi})
				patients[pi] = append(patients[pi], iv)
			}
			if v.Kind == clinic.KindLoading && v.Status.Active() {
				loadingDates = append(loadingDates, d)
			}
			if v.Infusion != nil {
				reports += checkInfusion(t, pi, v.Infusion, today)
			}
		}
		for _, inf := range p.Imported {
			if !inf.GivenOn.Before(today) {
				t.Errorf("patient %d: imported infusion in the future", pi)
			}
			reports += checkInfusion(t, pi, inf, today)
		}
		// Loading sessions keep the protocol's gaps and span.
		if p.Course != nil && len(loadingDates) > 1 {
			proto := c.Protocols[p.Course.Protocol]
			for k := 1; k < len(loadingDates); k++ {
				gap := loadingDates[k].DaysSince(loadingDates[k-1])
				if gap < proto.MinGapDays || gap > proto.MaxGapDays {
					t.Errorf("patient %d (%s): gap %d days between sessions %d and %d", pi, proto.Name, gap, k, k+1)
				}
			}
			if span := loadingDates[len(loadingDates)-1].DaysSince(loadingDates[0]); span > proto.MaxSpanDays {
				t.Errorf("patient %d: series spans %d days", pi, span)
			}
		}
	}
	for cond, n := range map[clinic.Condition]int{clinic.ConditionCRPS: 10, clinic.ConditionNeuropathic: 12, clinic.ConditionFibromyalgia: 10, clinic.ConditionOther: 8} {
		if byCondition[cond] != n {
			t.Errorf("%d %s patients; want %d", byCondition[cond], cond, n)
		}
	}
	if completed < 200 || booked < 20 || reports < 100 {
		t.Errorf("thin history: %d completed visits, %d booked, %d relief reports", completed, booked, reports)
	}
	future := false
	for _, v := range c.Patients[0].Visits {
		future = future || v.Status == clinic.StatusBooked
	}
	if !future {
		t.Error("the demo patient account has nothing upcoming")
	}
}

func checkInfusion(t *testing.T, pi int, inf *Infusion, today clinic.Date) int {
	t.Helper()
	if inf.DoseMgPerKgH <= 0 || inf.DoseMgPerKgH > 1 {
		t.Errorf("patient %d: dose %v", pi, inf.DoseMgPerKgH)
	}
	for _, r := range inf.Reliefs {
		if r.OnDate.Before(inf.GivenOn) || r.OnDate.After(today) {
			t.Errorf("patient %d: relief report on %s for an infusion on %s (today %s)", pi, r.OnDate, inf.GivenOn, today)
		}
	}
	return len(inf.Reliefs)
}

func TestGenerateIsDeterministic(t *testing.T) {
	now := time.Date(2026, 11, 22, 22, 0, 0, 0, time.UTC)
	a, _ := Generate(now)
	b, _ := Generate(now)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two runs at the same time differ")
	}
}

// Two demo patients wait for an earlier day than the one booked: the wish
// is for before their booked visit, and valid on the day it is made.
func TestGenerateWaitlist(t *testing.T) {
	loc, _ := time.LoadLocation(TimeZone)
	now := time.Date(2026, 11, 22, 15, 0, 0, 0, loc)
	c, err := Generate(now)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Waitlist) != 2 {
		t.Fatalf("%d on the waitlist", len(c.Waitlist))
	}
	today := clinic.DateOf(now, loc)
	for _, w := range c.Waitlist {
		p := c.Patients[w.Patient]
		next := p.Visits[len(p.Visits)-1]
		if err := clinic.CheckWish(clinic.Wish{Before: w.Before, Part: w.Part}, today); err != nil {
			t.Errorf("patient %d: %v", w.Patient, err)
		}
		if next.Status != clinic.StatusBooked || clinic.DateOf(next.Start, loc) != w.Before {
			t.Errorf("patient %d waits for before %s; booked %s (%s)", w.Patient, w.Before, next.Start, next.Status)
		}
	}
}

// Opened on a working morning, the demo is a working day: visits done
// already, patients in their chairs, arrivals to come; and the demo
// patient has a symptom journal to look at. Some patients read Spanish.
func TestDemoTodayIsBusy(t *testing.T) {
	loc, _ := time.LoadLocation(TimeZone)
	for _, now := range []time.Time{time.Date(2026, 12, 2, 10, 30, 0, 0, loc), time.Date(2026, 12, 7, 11, 0, 0, 0, loc)} {
		c, err := Generate(now)
		if err != nil {
			t.Fatal(err)
		}
		today := clinic.DateOf(now, loc)
		n, spanish := map[clinic.Status]int{}, 0
		for _, p := range c.Patients {
			for _, v := range p.Visits {
				if clinic.DateOf(v.Start, loc) == today {
					n[v.Status]++
				}
			}
			if p.Language == i18n.Spanish {
				spanish++
			}
		}
		if n[clinic.StatusCompleted] == 0 || n[clinic.StatusCheckedIn] == 0 || n[clinic.StatusBooked] == 0 ||
			n[clinic.StatusCompleted]+n[clinic.StatusCheckedIn]+n[clinic.StatusBooked] < 6 {
			t.Errorf("%s: today's visits %v; want some done, some in the chair, some to come", now, n)
		}
		if j := c.Patients[0].Journal; len(j) < 10 || j[len(j)-1].On.After(today) {
			t.Errorf("%s: the demo patient's journal has %d entries", now, len(j))
		}
		if spanish < 5 {
			t.Errorf("%s: %d patients read Spanish", now, spanish)
		}
	}
}
