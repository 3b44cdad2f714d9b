package clinic

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	ical "github.com/emersion/go-ical"
)

// Fuzz targets for every parser of outside input in the domain. `make test`
// runs each for a few seconds; their seeds run with every `go test`.

func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2026-03-08", "0000-01-01", "2026-02-30", "2026-3-8", "", "９９９９-01-01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDate(s)
		if err != nil {
			return
		}
		// What parses prints back to itself and survives JSON.
		if back, err := ParseDate(d.String()); err != nil || back != d {
			t.Fatalf("%q → %s → %v %v", s, d, back, err)
		}
		b, _ := json.Marshal(d)
		var j Date
		if err := json.Unmarshal(b, &j); err != nil || j != d {
			t.Fatalf("JSON round trip of %s: %s %v", d, b, err)
		}
	})
}

func FuzzParseClockAndRanges(f *testing.F) {
	for _, s := range []string{"07:00-12:00, 13:00-16:30", "7:00-9:00", "closed", "", "24:00-25:00", "07:00–08:00", ",,,-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rs, err := ParseRanges(s)
		if err != nil {
			return
		}
		for _, r := range rs {
			if r.Opens < 0 || r.Opens >= 24*60 || r.Closes < 0 || r.Closes >= 24*60 {
				t.Fatalf("%q gave a range outside the day: %v", s, r)
			}
		}
		if back, err := ParseRanges(FormatRanges(rs)); err != nil || len(back) != len(rs) {
			t.Fatalf("%q → %q → %v %v", s, FormatRanges(rs), back, err)
		}
		var h WeeklyHours
		h[1] = rs
		h.Validate() // must not panic whatever the ranges
	})
}

func FuzzParsePatientQuery(f *testing.F) {
	for _, s := range []string{"alv mar", "1961-04-02", "04/02/1961", "MRN100028", "100028", "%_\\", strings.Repeat("a ", 100)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q := ParsePatientQuery(s)
		if len(q.Words) > 5 {
			t.Fatalf("%q gave %d words", s, len(q.Words))
		}
	})
}

func FuzzPatientValidate(f *testing.F) {
	f.Add("Ada", "Lovelace", "555-0100", "ada@example.com", "note", 70.0)
	f.Add("<script>", "'; DROP TABLE patients; --", "x", "not an email", "\xff\xfe", -1.0)
	f.Fuzz(func(t *testing.T, first, last, phone, email, notes string, kg float64) {
		p := Patient{FirstName: first, LastName: last, Phone: phone, Email: email, Notes: notes, WeightKg: &kg,
			DateOfBirth: D(1970, 1, 1), Condition: ConditionOther}
		if err := p.Validate(D(2026, 1, 1)); err == nil {
			// Accepted text fits the database's limits.
			for _, v := range []string{p.FirstName, p.LastName} {
				if v == "" || utf8.RuneCountInString(v) > 100 {
					t.Fatalf("accepted name %q", v)
				}
			}
		}
	})
}

// The calendar writer's output parses back, whatever text goes into it.
func FuzzICS(f *testing.F) {
	f.Add("Ketamine infusion", "Chair 1; room 2, north", "Arrange a driver.\nArrive early.")
	f.Add("\r\n\\;,", "é"+strings.Repeat("ü", 80), "BEGIN:VEVENT\r\nEND:VCALENDAR")
	loc, _ := time.LoadLocation("America/Chicago")
	f.Fuzz(func(t *testing.T, summary, location, notes string) {
		if !utf8.ValidString(summary + location + notes) {
			return // the server only ever writes text it stored as UTF-8
		}
		ev := CalendarEvent{UID: "a-1@x", Start: D(2026, 3, 9).At(9*60, loc), End: D(2026, 3, 9).At(10*60, loc),
			Summary: summary, Location: location, Notes: notes, Stamp: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
		doc := ICS("Cal", loc, []CalendarEvent{ev})
		cal, err := ical.NewDecoder(strings.NewReader(doc)).Decode()
		if err != nil {
			t.Fatalf("does not parse: %v\n%s", err, doc)
		}
		evs := cal.Events()
		if len(evs) != 1 {
			t.Fatalf("%d events", len(evs))
		}
		got, _ := evs[0].Props.Text(ical.PropSummary)
		want := strings.NewReplacer("\r\n", "\n", "\r", "").Replace(summary)
		if strings.ReplaceAll(got, "\r", "") != strings.ReplaceAll(want, "\r", "") {
			t.Fatalf("summary %q came back as %q", summary, got)
		}
	})
}
