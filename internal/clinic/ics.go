package clinic

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// CalendarEvent is one appointment in a patient's calendar.
type CalendarEvent struct {
	UID       string // stable for the appointment: its id at the clinic's host
	Start     time.Time
	End       time.Time
	Summary   string
	Location  string
	Notes     string
	Cancelled bool
	Sequence  int // the appointment's version: updates replace the event
	Stamp     time.Time
}

// ICS writes an iCalendar (RFC 5545) document: the events in the clinic's
// zone (TZID, with a VTIMEZONE describing its offsets over the events'
// years), CRLF line ends, lines folded at 75 octets.
func ICS(calName string, loc *time.Location, events []CalendarEvent) string {
	var b strings.Builder
	w := func(line string) { b.WriteString(fold(line)); b.WriteString("\r\n") }
	w("BEGIN:VCALENDAR")
	w("VERSION:2.0")
	w("PRODID:-//infusiondesk//portal//EN")
	w("CALSCALE:GREGORIAN")
	w("METHOD:PUBLISH")
	w("X-WR-CALNAME:" + escapeText(calName))
	w("X-WR-TIMEZONE:" + loc.String())
	years := map[int]bool{}
	for _, e := range events {
		years[e.Start.In(loc).Year()] = true
	}
	if len(years) == 0 {
		years[time.Now().In(loc).Year()] = true
	}
	for _, line := range vtimezone(loc, years) {
		w(line)
	}
	for _, e := range events {
		w("BEGIN:VEVENT")
		w("UID:" + e.UID)
		w("DTSTAMP:" + e.Stamp.UTC().Format("20060102T150405Z"))
		w(icsTime("DTSTART", e.Start, loc))
		w(icsTime("DTEND", e.End, loc))
		w("SUMMARY:" + escapeText(e.Summary))
		if e.Location != "" {
			w("LOCATION:" + escapeText(e.Location))
		}
		if e.Notes != "" {
			w("DESCRIPTION:" + escapeText(e.Notes))
		}
		w(fmt.Sprintf("SEQUENCE:%d", e.Sequence))
		if e.Cancelled {
			w("STATUS:CANCELLED")
		} else {
			w("STATUS:CONFIRMED")
		}
		w("END:VEVENT")
	}
	w("END:VCALENDAR")
	return b.String()
}

// vtimezone describes loc's offsets in the given years (and the one before,
// for the offset in force on 1 January) as explicit observances found from
// the zone data: no rules to get wrong.
func vtimezone(loc *time.Location, years map[int]bool) []string {
	var ys []int
	for y := range years {
		ys = append(ys, y)
	}
	sort.Ints(ys)
	first := time.Date(ys[0], 1, 1, 0, 0, 0, 0, loc)
	lines := []string{"BEGIN:VTIMEZONE", "TZID:" + loc.String()}
	_, off := first.Zone()
	// The offset in force at the start, as a standard observance.
	name, _ := first.Zone()
	lines = append(lines, observance("STANDARD", first, off, off, name)...)
	end := time.Date(ys[len(ys)-1]+1, 1, 1, 0, 0, 0, 0, loc)
	t := first
	for t.Before(end) {
		next := nextTransition(t, end)
		if next.IsZero() {
			break
		}
		name, to := next.Zone()
		kind := "STANDARD"
		if next.IsDST() {
			kind = "DAYLIGHT"
		}
		lines = append(lines, observance(kind, next, off, to, name)...)
		off, t = to, next
	}
	return append(lines, "END:VTIMEZONE")
}

// nextTransition finds the first instant after t (before end) at which the
// zone's offset changes, to the second.
func nextTransition(t, end time.Time) time.Time {
	_, off := t.Zone()
	step := 24 * time.Hour // scanning instants, not calendar days
	lo := t
	for hi := t.Add(step); !hi.After(end); hi = hi.Add(step) {
		if _, o := hi.Zone(); o != off {
			for hi.Sub(lo) > time.Second {
				mid := lo.Add(hi.Sub(lo) / 2)
				if _, o := mid.Zone(); o == off {
					lo = mid
				} else {
					hi = mid
				}
			}
			return hi.Truncate(time.Second)
		}
		lo = hi
	}
	return time.Time{}
}

func observance(kind string, at time.Time, from, to int, name string) []string {
	// DTSTART of an observance is the local time before the change.
	local := at.UTC().Add(time.Duration(from) * time.Second)
	return []string{
		"BEGIN:" + kind,
		"DTSTART:" + local.Format("20060102T150405"),
		"TZOFFSETFROM:" + offset(from),
		"TZOFFSETTO:" + offset(to),
		"TZNAME:" + name,
		"END:" + kind,
	}
}

func offset(sec int) string {
	sign := "+"
	if sec < 0 {
		sign, sec = "-", -sec
	}
	return fmt.Sprintf("%s%02d%02d", sign, sec/3600, sec%3600/60)
}

func escapeText(s string) string {
	r := strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\r\n", `\n`, "\n", `\n`)
	return r.Replace(s)
}

// fold breaks a content line into 75-octet pieces, never inside a UTF-8
// sequence.
func fold(line string) string {
	if len(line) <= 75 {
		return line
	}
	var b strings.Builder
	limit := 75
	for len(line) > limit {
		cut := limit
		for cut > 0 && line[cut]&0xC0 == 0x80 {
			cut--
		}
		b.WriteString(line[:cut])
		b.WriteString("\r\n ")
		line = line[cut:]
		limit = 74 // the leading space counts
	}
	b.WriteString(line)
	return b.String()
}

// icsTime writes a date-time property in the clinic's zone, or in UTC when
// its local time is ambiguous (the hour repeated when the clocks go back):
// "01:30" then names two instants, and parsers pick different ones.
func icsTime(name string, t time.Time, loc *time.Location) string {
	if Ambiguous(t, loc) {
		return name + ":" + t.UTC().Format("20060102T150405Z")
	}
	return name + ";TZID=" + loc.String() + ":" + t.In(loc).Format("20060102T150405")
}

// Ambiguous reports whether t's wall-clock time in loc happens twice that
// day (the repeated hour when daylight saving ends).
func Ambiguous(t time.Time, loc *time.Location) bool {
	local := t.In(loc)
	_, off := local.Zone()
	for _, d := range []time.Duration{-time.Hour, time.Hour, -30 * time.Minute, 30 * time.Minute} {
		other := t.Add(d).In(loc)
		if _, o := other.Zone(); o != off && other.Format("2006-01-02T15:04:05") == local.Format("2006-01-02T15:04:05") {
			return true
		}
	}
	return false
}
