package clinic

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Range is one opening range of a day, [Opens, Closes) in local wall-clock time.
type Range struct {
	Opens  Clock `json:"opens"`
	Closes Clock `json:"closes"`
}

// Minutes is the length of the range.
func (r Range) Minutes() int { return int(r.Closes - r.Opens) }

func (r Range) String() string { return r.Opens.String() + "–" + r.Closes.String() }

// WeeklyHours holds each weekday's opening ranges, indexed by time.Weekday
// (Sunday = 0). A day without ranges is closed.
type WeeklyHours [7][]Range

// Validate checks every day: each range closes after it opens and no two
// ranges of one day overlap. Ranges are sorted in place.
func (h *WeeklyHours) Validate() error {
	p := Problems{}
	for wd := range h {
		day := h[wd]
		sort.Slice(day, func(i, j int) bool { return day[i].Opens < day[j].Opens })
		name := strings.ToLower(time.Weekday(wd).String()[:3])
		for i, r := range day {
			if r.Closes <= r.Opens {
				p.Add(name, fmt.Sprintf("%s: closing time %s must be after opening time %s.", time.Weekday(wd), r.Closes, r.Opens))
			}
			if i > 0 && r.Opens < day[i-1].Closes {
				p.Add(name, fmt.Sprintf("%s: %s overlaps %s.", time.Weekday(wd), r, day[i-1]))
			}
		}
	}
	return p.Err()
}

// Settings are the clinic-wide facts the schedule depends on.
type Settings struct {
	Name        string
	TimeZone    string
	SlotMinutes int
	Hours       WeeklyHours
	Version     int
}

// Location loads the clinic's time zone (zone data ships in the binary).
func (s Settings) Location() (*time.Location, error) {
	return time.LoadLocation(s.TimeZone)
}

// OpenOn returns the opening ranges of date d, none when d is closed by its
// weekday or by a closure.
func (s Settings) OpenOn(d Date, closures map[Date]string) []Range {
	if _, closed := closures[d]; closed {
		return nil
	}
	return s.Hours[d.Weekday()]
}

// Chair holds one patient at a time.
type Chair struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	Position int    `json:"-"`
	Active   bool   `json:"-"`
}
