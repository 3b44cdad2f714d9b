package clinic

import (
	"strings"
	"testing"
	"time"

	ical "github.com/emersion/go-ical"
)

// The feed is parsed back by an iCalendar library: each visit at 09:00 in
// Chicago on both sides of the 2026-03-08 change, the zone described, the
// cancelled one marked, UIDs as given.
func TestICSParsesBackAcrossDST(t *testing.T) {
	loc, _ := time.LoadLocation("America/Chicago")
	events := []CalendarEvent{
		{UID: "appointment-1@clinic", Start: D(2026, 3, 6).At(9*60, loc), End: D(2026, 3, 6).At(10*60+30, loc),
			Summary: "Ketamine infusion, Lakeside; clinic", Location: "Chair 1", Notes: "Arrange a driver.\nArrive 15 minutes early.", Sequence: 1},
		{UID: "appointment-2@clinic", Start: D(2026, 3, 9).At(9*60, loc), End: D(2026, 3, 9).At(10*60+30, loc),
			Summary: "Ketamine infusion", Sequence: 3},
		{UID: "appointment-3@clinic", Start: D(2026, 11, 2).At(9*60, loc), End: D(2026, 11, 2).At(10*60, loc),
			Summary: "Consultation", Cancelled: true, Sequence: 2},
	}
	for i := range events {
		events[i].Stamp = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	}
	doc := ICS("My infusions — "+strings.Repeat("long name ", 10), loc, events)
	for _, line := range strings.Split(doc, "\r\n") {
		if len(line) > 75 {
			t.Fatalf("line longer than 75 octets: %q", line)
		}
	}
	cal, err := ical.NewDecoder(strings.NewReader(doc)).Decode()
	if err != nil {
		t.Fatal(err)
	}
	var tz int
	for _, c := range cal.Children {
		if c.Name == ical.CompTimezone {
			tz++
			if id := c.Props.Get(ical.PropTimezoneID); id == nil || id.Value != "America/Chicago" {
				t.Fatalf("VTIMEZONE TZID %v", id)
			}
		}
	}
	if tz != 1 {
		t.Fatalf("%d VTIMEZONE components", tz)
	}
	evs := cal.Events()
	if len(evs) != 3 {
		t.Fatalf("%d events", len(evs))
	}
	wantUTC := []string{"2026-03-06T15:00:00Z", "2026-03-09T14:00:00Z", "2026-11-02T15:00:00Z"}
	for i, e := range evs {
		start, err := e.DateTimeStart(nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := start.UTC().Format(time.RFC3339); got != wantUTC[i] {
			t.Errorf("event %d starts %s; want %s", i, got, wantUTC[i])
		}
		if p := e.Props.Get(ical.PropDateTimeStart); p.Params.Get(ical.ParamTimezoneID) != "America/Chicago" {
			t.Errorf("event %d DTSTART without TZID", i)
		}
		if uid, _ := e.Props.Text(ical.PropUID); uid != events[i].UID {
			t.Errorf("UID %q", uid)
		}
	}
	if s, _ := evs[2].Props.Text(ical.PropStatus); s != "CANCELLED" {
		t.Errorf("cancelled visit status %q", s)
	}
	if s, _ := evs[0].Props.Text(ical.PropSummary); s != "Ketamine infusion, Lakeside; clinic" {
		t.Errorf("summary round trip %q", s)
	}
	if d, _ := evs[0].Props.Text(ical.PropDescription); d != "Arrange a driver.\nArrive 15 minutes early." {
		t.Errorf("description round trip %q", d)
	}
	// The zone's observances include both changes of 2026.
	if !strings.Contains(doc, "DTSTART:20260308T020000") || !strings.Contains(doc, "DTSTART:20261101T020000") {
		t.Errorf("VTIMEZONE lacks the 2026 changes:\n%s", doc)
	}
}

func TestJournalEntryValidate(t *testing.T) {
	today := D(2026, 3, 10)
	n := func(x int) *int { return &x }
	ok := JournalEntry{On: today, Pain: 4, Sleep: n(7)}
	if err := ok.Validate(today); err != nil {
		t.Fatal(err)
	}
	bad := JournalEntry{On: today.AddDays(1), Pain: 11, Mood: n(-1)}
	f := ErrorFields(bad.Validate(today))
	if f["date"] == "" || f["pain"] == "" || f["mood"] == "" {
		t.Fatalf("%v", f)
	}
	if _, err := CheckRequest("teleport", " "); len(ErrorFields(err)) != 2 {
		t.Fatalf("request: %v", err)
	}
}
