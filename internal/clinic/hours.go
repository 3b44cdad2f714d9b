package clinic

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/infusiondesk/infusiondesk/internal/i18n"
)

// Range is one opening range of a day, [Opens, Closes) in local wall-clock time.
type Range struct {
	Opens  Clock `json:"opens"`
	Closes Clock `json:"closes"`
}

// Minutes is the length of the range.
func (r Range) Minutes() int { return int(r.Closes - r.Opens) }

func (r Range) String() string { return r.Opens.String() + "–" + r.Closes.String() }

// MondayFirst is the days of the week as the clinic's pages and reports
// list them.
var MondayFirst = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}

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
		name := WeekdayKeys[wd]
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
	// BookingHorizonDays is how far ahead appointments may be booked.
	BookingHorizonDays int
	// Phone and Address are what messages and the visit-link page give
	// patients; both may be empty.
	Phone     string
	Address   string
	Reminders Reminders
	// Nursing limits bookings on dates with nurses on shift; a zero value
	// in an update keeps the clinic's.
	Nursing Nursing
	// Style is how pages, messages and calendar entries write dates and times.
	Style   i18n.Style
	Version int
}

// Location loads the clinic's time zone (zone data ships in the binary).
func (s Settings) Location() (*time.Location, error) {
	return time.LoadLocation(s.TimeZone)
}

// Chair holds one patient at a time.
type Chair struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	Position int    `json:"-"`
	Active   bool   `json:"-"`
	Version  int    `json:"-"`
}

// SlotChoices are the grids a clinic may use, in minutes.
var SlotChoices = []int{5, 10, 15, 20, 30, 60}

// Validate tidies the settings and names every field that is wrong.
func (s *Settings) Validate() error {
	p := Problems{}
	s.Name = strings.TrimSpace(s.Name)
	s.TimeZone = strings.TrimSpace(s.TimeZone)
	switch n := utf8.RuneCountInString(s.Name); {
	case n == 0:
		p.Add("name", "Enter the clinic's name.")
	case n > 200:
		p.Add("name", "Use at most 200 characters.")
	}
	p.checkText(map[string]string{"name": s.Name}, false)
	if _, err := time.LoadLocation(s.TimeZone); err != nil || s.TimeZone == "" || s.TimeZone == "Local" {
		p.Add("timezone", fmt.Sprintf("%q is not a time zone; use a name like America/Phoenix or America/Chicago.", s.TimeZone))
	}
	if !slices.Contains(SlotChoices, s.SlotMinutes) {
		p.Add("slot_minutes", "Choose a grid of 5, 10, 15, 20, 30 or 60 minutes.")
	}
	if s.BookingHorizonDays == 0 {
		s.BookingHorizonDays = DefaultBookingHorizonDays
	}
	if s.BookingHorizonDays < 1 || s.BookingHorizonDays > 3650 {
		p.Add("booking_horizon_days", "Book between 1 and 3650 days ahead.")
	}
	if err := s.Hours.Validate(); err != nil {
		for k, v := range ErrorFields(err) {
			p.Add("hours."+k, v)
		}
	}
	s.Phone, s.Address = strings.TrimSpace(s.Phone), strings.TrimSpace(s.Address)
	if s.Phone != "" && !phonePattern.MatchString(s.Phone) {
		p.Add("phone", "Enter the clinic's phone number as patients should dial it, e.g. (312) 555-0100.")
	}
	if utf8.RuneCountInString(s.Address) > 300 {
		p.Add("address", "Use at most 300 characters.")
	}
	p.checkText(map[string]string{"phone": s.Phone}, false)
	p.checkText(map[string]string{"address": s.Address}, true)
	if s.Reminders.OffsetsHours == nil && !s.Reminders.Email && !s.Reminders.SMS {
		s.Reminders = DefaultReminders
		s.Reminders.OffsetsHours = slices.Clone(DefaultReminders.OffsetsHours)
	}
	if err := s.Reminders.Validate(); err != nil {
		for k, v := range ErrorFields(err) {
			p.Add(k, v)
		}
	}
	if s.Nursing != (Nursing{}) { // none given: the clinic's stay
		for k, v := range ErrorFields(s.Nursing.Validate()) {
			p.Add(k, v)
		}
	}
	return p.Err()
}

// WeekdayKeys are the short names of the weekdays, indexed by time.Weekday.
var WeekdayKeys = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// ParseWeekday reads "mon", "tue", …
func ParseWeekday(s string) (time.Weekday, bool) {
	for i, k := range WeekdayKeys {
		if k == s {
			return time.Weekday(i), true
		}
	}
	return 0, false
}

// ValidateChair tidies a chair's name and checks its place in the order.
func ValidateChair(c *Chair) error {
	p := Problems{}
	c.Name = strings.TrimSpace(c.Name)
	switch n := utf8.RuneCountInString(c.Name); {
	case n == 0:
		p.Add("name", "Enter the chair's name.")
	case n > 60:
		p.Add("name", "Use at most 60 characters.")
	}
	p.checkText(map[string]string{"name": c.Name}, false)
	if c.Position < 1 || c.Position > 1000 {
		p.Add("position", "Enter its place in the order, from 1.")
	}
	return p.Err()
}

// ClosureReason checks and tidies the reason the clinic is closed on a day.
func ClosureReason(s string) (string, error) {
	s = strings.TrimSpace(s)
	switch n := utf8.RuneCountInString(s); {
	case n == 0:
		return "", Invalid(map[string]string{"reason": "Say why the clinic is closed (for example: Thanksgiving)."})
	case n > 200:
		return "", Invalid(map[string]string{"reason": "Use at most 200 characters."})
	}
	return s, nil
}

// ParseRanges reads one day's opening hours as a person types them:
// "07:00-12:00, 13:00-16:30"; empty (or "closed") for a closed day.
func ParseRanges(s string) ([]Range, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "closed") {
		return nil, nil
	}
	var out []Range
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(strings.ReplaceAll(part, "–", "-"))
		a, b, ok := strings.Cut(part, "-")
		opens, err1 := ParseClock(padHour(a))
		closes, err2 := ParseClock(padHour(b))
		if !ok || err1 != nil || err2 != nil {
			return nil, fmt.Errorf("%q is not a range like 07:00-16:30", part)
		}
		out = append(out, Range{Opens: opens, Closes: closes})
	}
	return out, nil
}

// FormatRanges writes one day's opening hours the way ParseRanges reads them.
func FormatRanges(rs []Range) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = r.Opens.String() + "-" + r.Closes.String()
	}
	return strings.Join(parts, ", ")
}

// padHour turns " 7:00" into "07:00".
func padHour(s string) string {
	s = strings.TrimSpace(s)
	if len(s) == 4 && s[1] == ':' {
		return "0" + s
	}
	return s
}
