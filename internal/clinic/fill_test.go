package clinic

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestBookingWindow(t *testing.T) {
	def := DefaultSelfBooking
	tests := []struct {
		name             string
		due, last, today Date
		minInterval      int
		sb               SelfBooking
		wantFrom, wantTo Date
	}{
		{name: "three days either side of the due date",
			due: D(2026, 6, 10), last: D(2026, 5, 6), today: D(2026, 6, 1), minInterval: 28, sb: def,
			wantFrom: D(2026, 6, 7), wantTo: D(2026, 6, 13)},
		{name: "never sooner than the shortest interval after the last infusion",
			due: D(2026, 6, 10), last: D(2026, 5, 14), today: D(2026, 6, 1), minInterval: 28, sb: def,
			wantFrom: D(2026, 6, 11), wantTo: D(2026, 6, 13)},
		{name: "never before today",
			due: D(2026, 6, 10), last: D(2026, 5, 6), today: D(2026, 6, 9), minInterval: 28, sb: def,
			wantFrom: D(2026, 6, 9), wantTo: D(2026, 6, 13)},
		{name: "the physician's wider window",
			due: D(2026, 6, 10), last: D(2026, 5, 6), today: D(2026, 6, 1), minInterval: 28, sb: SelfBooking{DaysBefore: 5, DaysAfter: 10},
			wantFrom: D(2026, 6, 5), wantTo: D(2026, 6, 20)},
		{name: "a window already over becomes the coming days",
			due: D(2026, 6, 10), last: D(2026, 5, 6), today: D(2026, 6, 20), minInterval: 28, sb: def,
			wantFrom: D(2026, 6, 20), wantTo: D(2026, 6, 26)},
		{name: "a window of the due date alone",
			due: D(2026, 6, 10), last: D(2026, 5, 6), today: D(2026, 6, 1), minInterval: 28, sb: SelfBooking{},
			wantFrom: D(2026, 6, 10), wantTo: D(2026, 6, 10)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := BookingWindow(tt.due, tt.last, tt.minInterval, tt.sb, tt.today)
			if w.From != tt.wantFrom || w.To != tt.wantTo {
				t.Fatalf("window %s – %s, want %s – %s", w.From, w.To, tt.wantFrom, tt.wantTo)
			}
			if !w.Contains(w.From) || !w.Contains(w.To) || w.Contains(w.From.AddDays(-1)) || w.Contains(w.To.AddDays(1)) {
				t.Fatal("Contains does not match the window's ends")
			}
		})
	}
}

func TestRankFill(t *testing.T) {
	loc, _ := time.LoadLocation("America/Chicago")
	today := D(2026, 6, 1)
	day := D(2026, 6, 4) // the freed slot's day
	date := func(y int, m time.Month, d int) *Date { v := D(y, m, d); return &v }
	maint := func(id int64, name string, due *Date) FillFacts {
		return FillFacts{PatientID: id, Name: name, Phase: PhaseMaintenance, Due: due, Last: date(2026, 4, 20), MinInterval: 28,
			SelfBooking: DefaultSelfBooking, Free: true, Fits: true, Offers: true}
	}
	booked := func(f FillFacts, on Date) FillFacts {
		f.Booked = &Appointment{ID: 900 + f.PatientID, PatientID: f.PatientID, Kind: KindMaintenance, Start: on.At(9*60, loc), Version: 2}
		return f
	}
	wish := func(f FillFacts, before Date, part PartOfDay) FillFacts {
		f.Wish = &Wish{Before: before, Part: part, Since: today.AddDays(-10).At(10*60, loc)}
		return f
	}
	session := func(id int64, name string, on Date, no int) FillFacts {
		return FillFacts{PatientID: id, Name: name, Phase: PhaseLoading, Free: true, Fits: true, Offers: true,
			Session: &Appointment{ID: 800 + id, PatientID: id, Kind: KindLoading, Start: on.At(9*60, loc), SessionNo: &no}}
	}
	with := func(f FillFacts, change func(*FillFacts)) FillFacts { change(&f); return f }
	tests := []struct {
		name  string
		at    Clock
		facts []FillFacts
		want  []string // "name reason", best first
	}{
		{name: "overdue first, most overdue first; then due in the window; then the waitlist; then loading",
			at: 9 * 60,
			facts: []FillFacts{
				session(1, "Lena Loading", D(2026, 6, 8), 3),
				wish(booked(maint(2, "Walt Wait", date(2026, 6, 20)), D(2026, 6, 19)), D(2026, 6, 15), AnyTime),
				maint(3, "Dora Due", date(2026, 6, 5)),
				maint(4, "Otto Overdue", date(2026, 5, 28)),
				maint(5, "Olga Older", date(2026, 5, 20)),
			},
			want: []string{"Olga Older overdue", "Otto Overdue overdue", "Dora Due due_window", "Walt Wait waitlist", "Lena Loading loading_earlier"}},
		{name: "due nearer the day ranks higher; ties by name",
			at: 9 * 60,
			facts: []FillFacts{
				maint(1, "Zed Near", date(2026, 6, 7)),
				maint(2, "Amy Exact", date(2026, 6, 4)),
				maint(3, "Bob Exact", date(2026, 6, 4)),
			},
			want: []string{"Amy Exact due_window", "Bob Exact due_window", "Zed Near due_window"}},
		{name: "who cannot take it is not listed",
			at: 9 * 60,
			facts: []FillFacts{
				with(maint(1, "Busy Bea", date(2026, 5, 28)), func(f *FillFacts) { f.Free = false }),
				with(maint(2, "Long Lou", date(2026, 5, 28)), func(f *FillFacts) { f.Fits = false }),
				with(maint(3, "Quiet Quin", date(2026, 5, 28)), func(f *FillFacts) { f.Offers = false }),
				booked(maint(4, "Booked Bo", date(2026, 6, 5)), D(2026, 6, 5)),                                   // booked at their due time
				maint(5, "Far Fay", date(2026, 6, 20)),                                                           // due too far off
				with(maint(6, "Soon Sam", date(2026, 5, 28)), func(f *FillFacts) { f.Last = date(2026, 5, 15) }), // too soon after the last
				wish(maint(7, "After Al", date(2026, 6, 30)), D(2026, 6, 15), Afternoons),                        // a 09:00 slot is no afternoon
				wish(maint(8, "Late Liz", date(2026, 6, 30)), D(2026, 6, 4), AnyTime),                            // wishes for before the 4th
				wish(booked(maint(9, "Early Ed", date(2026, 6, 30)), D(2026, 6, 3)), D(2026, 6, 10), AnyTime),    // booked earlier already
				session(10, "Past Pat", D(2026, 6, 2), 2),                                                        // the session is before the slot
				{PatientID: 11, Name: "No Plan", Phase: PhaseMaintenance, Free: true, Fits: true, Offers: true},
			},
			want: nil},
		{name: "a waitlisted patient in the afternoon, and one with nothing booked",
			at: 13 * 60,
			facts: []FillFacts{
				wish(maint(1, "After Al", date(2026, 6, 30)), D(2026, 6, 15), Afternoons),
				wish(maint(2, "Morning Mo", date(2026, 6, 30)), D(2026, 6, 15), Mornings),
			},
			want: []string{"After Al waitlist"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := RankFill(day, tt.at, today, tt.facts, Schedule{Loc: loc})
			var names []string
			for _, c := range got {
				names = append(names, c.Name+" "+string(c.Reason))
				if c.Why == "" {
					t.Errorf("%s has no reason in words", c.Name)
				}
			}
			if fmt.Sprint(names) != fmt.Sprint(tt.want) {
				t.Fatalf("ranked\n %v\nwant\n %v", names, tt.want)
			}
		})
	}
	t.Run("the waitlisted patient's booked visit moves; a loading session moves", func(t *testing.T) {
		got := RankFill(day, 9*60, today, []FillFacts{
			wish(booked(maint(2, "Walt Wait", date(2026, 6, 20)), D(2026, 6, 19)), D(2026, 6, 15), AnyTime),
			session(1, "Lena Loading", D(2026, 6, 8), 3),
			maint(3, "Dora Due", date(2026, 6, 5)),
		}, Schedule{Loc: loc})
		moves := map[string]int64{}
		for _, c := range got {
			if c.Moves != nil {
				moves[c.Name] = c.Moves.ID
			}
		}
		if moves["Walt Wait"] != 902 || moves["Lena Loading"] != 801 || moves["Dora Due"] != 0 {
			t.Fatalf("moves %v", moves)
		}
		if !strings.Contains(got[len(got)-1].Why, "4 days earlier") {
			t.Fatalf("loading reason: %q", got[len(got)-1].Why)
		}
	})
}

func TestOfferCheck(t *testing.T) {
	now := time.Date(2026, 6, 1, 15, 0, 0, 0, time.UTC)
	slot := now.Add(5 * time.Hour)
	tests := []struct {
		name        string
		o           NewOffer
		wantExpires time.Time
		wantErr     string // the field refused
	}{
		{name: "two hours by default", o: NewOffer{Start: slot, ChairID: 1, Minutes: 90, PatientIDs: []int64{1, 2}},
			wantExpires: now.Add(2 * time.Hour)},
		{name: "never after the slot", o: NewOffer{Start: now.Add(time.Hour), ChairID: 1, Minutes: 90, PatientIDs: []int64{1}},
			wantExpires: now.Add(time.Hour)},
		{name: "an end chosen after the slot is refused",
			o: NewOffer{Start: slot, ChairID: 1, Minutes: 90, PatientIDs: []int64{1}, Expires: slot.Add(time.Minute)}, wantErr: "expires_at"},
		{name: "an end in the past is refused",
			o: NewOffer{Start: slot, ChairID: 1, Minutes: 90, PatientIDs: []int64{1}, Expires: now}, wantErr: "expires_at"},
		{name: "nobody to offer it to", o: NewOffer{Start: slot, ChairID: 1, Minutes: 90}, wantErr: "patient_ids"},
		{name: "too many at once", o: NewOffer{Start: slot, ChairID: 1, Minutes: 90, PatientIDs: make([]int64, 0)}, wantErr: "patient_ids"},
		{name: "no chair", o: NewOffer{Start: slot, Minutes: 90, PatientIDs: []int64{1}}, wantErr: "chair_id"},
		{name: "too short a slot", o: NewOffer{Start: slot, ChairID: 1, Minutes: 10, PatientIDs: []int64{1}}, wantErr: "minutes"},
	}
	for i := range int64(21) {
		tests[5].o.PatientIDs = append(tests[5].o.PatientIDs, i+1)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.o.Check(now)
			if tt.wantErr != "" {
				if ErrorFields(err)[tt.wantErr] == "" {
					t.Fatalf("want a refusal on %s, got %v", tt.wantErr, err)
				}
				return
			}
			if err != nil || !tt.o.Expires.Equal(tt.wantExpires) {
				t.Fatalf("err %v, expires %s, want %s", err, tt.o.Expires, tt.wantExpires)
			}
		})
	}
	o := NewOffer{Start: slot, ChairID: 1, Minutes: 90, PatientIDs: []int64{3, 3, 1, 0, 1}}
	if err := o.Check(now); err != nil || fmt.Sprint(o.PatientIDs) != "[3 1]" {
		t.Fatalf("duplicates: %v %v", o.PatientIDs, err)
	}
}

func TestOfferNoticeSaysNothingClinical(t *testing.T) {
	loc, _ := time.LoadLocation("America/Phoenix")
	n := OfferNotice{ClinicName: "Desert Bloom", ClinicPhone: "(602) 555-0100", Loc: loc,
		Start: D(2026, 6, 4).At(9*60, loc), Minutes: 90, Expires: D(2026, 6, 3).At(17*60, loc), Link: "https://c.example/o/tok"}
	for _, s := range []string{n.Text(), n.HTML(), n.SMS(), n.Subject()} {
		for _, banned := range []string{"ketamine", "mg", "CRPS", "diagnos"} {
			if strings.Contains(strings.ToLower(s), strings.ToLower(banned)) {
				t.Fatalf("the offer says %q:\n%s", banned, s)
			}
		}
	}
	if !strings.Contains(n.Text(), "Thursday, June 4, 2026 at 9:00 AM") || !strings.Contains(n.Text(), n.Link) {
		t.Fatalf("text:\n%s", n.Text())
	}
	if len([]rune(n.SMS())) > MaxSMS || !strings.Contains(n.SMS(), n.Link) {
		t.Fatalf("sms %q", n.SMS())
	}
}

func TestWishCheck(t *testing.T) {
	today := D(2026, 6, 1)
	for _, tt := range []struct {
		w     Wish
		field string
	}{
		{Wish{Before: D(2026, 6, 20), Part: Mornings}, ""},
		{Wish{Before: D(2026, 6, 2), Part: AnyTime}, "before"},
		{Wish{Part: AnyTime}, "before"},
		{Wish{Before: today.AddDays(MaxWaitlistDays + 1), Part: AnyTime}, "before"},
		{Wish{Before: D(2026, 6, 20), Part: "evenings"}, "part_of_day"},
	} {
		err := CheckWish(tt.w, today)
		if (tt.field == "") != (err == nil) || tt.field != "" && ErrorFields(err)[tt.field] == "" {
			t.Errorf("%+v: %v", tt.w, err)
		}
	}
	if !Mornings.Matches(11*60+45) || Mornings.Matches(Noon) || !Afternoons.Matches(Noon) || !AnyTime.Matches(0) {
		t.Fatal("part of day")
	}
}
