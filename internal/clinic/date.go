package clinic

import (
	"cmp"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"reflect"
	"time"
)

// Date is a civil date in the clinic's calendar (infusion day, relief end
// day, due date). It is not an instant: it has no time zone, and day
// arithmetic is on the calendar (2026-03-06 + 35 days = 2026-04-10) whatever
// clock changes lie between.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

const dateLayout = "2006-01-02"

// D builds a Date; out-of-range values normalise as time.Date does.
func D(y int, m time.Month, d int) Date {
	return DateOf(time.Date(y, m, d, 12, 0, 0, 0, time.UTC), time.UTC)
}

// DateOf is the civil date of instant t in loc.
func DateOf(t time.Time, loc *time.Location) Date {
	y, m, d := t.In(loc).Date()
	return Date{y, m, d}
}

// ParseDate reads YYYY-MM-DD.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(dateLayout, s)
	if err != nil {
		return Date{}, fmt.Errorf("%q is not a date in the form YYYY-MM-DD", s)
	}
	return DateOf(t, time.UTC), nil
}

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// String formats d as YYYY-MM-DD.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day)
}

// noonUTC is used for arithmetic only: on the UTC calendar every day has 24
// hours, so adding days cannot slip across a clock change.
func (d Date) noonUTC() time.Time { return time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC) }

// AddDays returns the date n calendar days after d (before, for n < 0).
func (d Date) AddDays(n int) Date { return DateOf(d.noonUTC().AddDate(0, 0, n), time.UTC) }

// DaysSince returns the number of calendar days from o to d (d − o).
func (d Date) DaysSince(o Date) int {
	return int(d.noonUTC().Sub(o.noonUTC()).Hours() / 24)
}

// Compare returns -1, 0 or +1 as d is before, equal to or after o (dates
// are kept normalised, so year, month and day order them).
func (d Date) Compare(o Date) int {
	return cmp.Compare(d.Year*10000+int(d.Month)*100+d.Day, o.Year*10000+int(o.Month)*100+o.Day)
}

// Before reports whether d is before o.
func (d Date) Before(o Date) bool { return d.Compare(o) < 0 }

// After reports whether d is after o.
func (d Date) After(o Date) bool { return d.Compare(o) > 0 }

// Weekday is the day of the week of d.
func (d Date) Weekday() time.Weekday { return d.noonUTC().Weekday() }

// At is the instant of wall-clock time c on date d in loc. Built with
// time.Date on the local calendar, so 09:00 stays 09:00 across a
// daylight-saving change.
func (d Date) At(c Clock, loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, int(c)/60, int(c)%60, 0, 0, loc)
}

// Exists reports whether wall-clock time c happens on d in loc: not when
// the clocks jump over it (02:30 on the night daylight saving starts).
func (d Date) Exists(c Clock, loc *time.Location) bool {
	t := d.At(c, loc)
	return DateOf(t, loc) == d && ClockOf(t, loc) == c
}

// LocalStart is the instant of wall-clock time c on d in loc, refused when
// that time does not exist there (the clocks jump over it).
func LocalStart(d Date, c Clock, loc *time.Location) (time.Time, error) {
	if !d.Exists(c, loc) {
		return time.Time{}, Invalid(map[string]string{"time": fmt.Sprintf(
			"%s does not exist on %s: the clocks go forward that night.", c, d.Format("Mon 2 Jan 2006"))})
	}
	return d.At(c, loc), nil
}

// Format formats d with a time layout, e.g. "Mon 2 Jan".
func (d Date) Format(layout string) string { return d.noonUTC().Format(layout) }

// MarshalJSON writes "YYYY-MM-DD" (null for the zero date).
func (d Date) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(d.String())
}

// UnmarshalJSON reads "YYYY-MM-DD" (null leaves the zero date). Anything
// else is a *json.UnmarshalTypeError, so that the decoder names the field.
func (d *Date) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var s string
	err := json.Unmarshal(b, &s)
	v, perr := ParseDate(s)
	if err != nil || perr != nil {
		return &json.UnmarshalTypeError{Value: string(b), Type: reflect.TypeFor[Date]()}
	}
	*d = v
	return nil
}

// Scan reads a Postgres date. pgx hands a date over as midnight UTC, so the
// civil date is read on the UTC calendar and never converted to a zone
// (converting would show the previous day west of Greenwich).
func (d *Date) Scan(src any) error {
	switch v := src.(type) {
	case time.Time:
		*d = DateOf(v, time.UTC)
		return nil
	case string:
		p, err := ParseDate(v)
		*d = p
		return err
	case nil:
		*d = Date{}
		return nil
	}
	return fmt.Errorf("clinic.Date: cannot scan %T", src)
}

// Value writes d as YYYY-MM-DD text; the zero date is NULL.
func (d Date) Value() (driver.Value, error) {
	if d.IsZero() {
		return nil, nil
	}
	return d.String(), nil
}

// Clock is a wall-clock time of day in minutes after midnight.
type Clock int

// ParseClock reads HH:MM (24-hour).
func ParseClock(s string) (Clock, error) {
	t, err := time.Parse("15:04", s)
	if err != nil || len(s) != 5 {
		return 0, fmt.Errorf("%q is not a time in the form HH:MM", s)
	}
	return Clock(t.Hour()*60 + t.Minute()), nil
}

// ClockOf is the wall-clock time of instant t in loc.
func ClockOf(t time.Time, loc *time.Location) Clock {
	l := t.In(loc)
	return Clock(l.Hour()*60 + l.Minute())
}

// String formats c as HH:MM.
func (c Clock) String() string { return fmt.Sprintf("%02d:%02d", int(c)/60, int(c)%60) }
