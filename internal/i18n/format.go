package i18n

import (
	"fmt"
	"time"
)

// Style is how a clinic writes dates and times: its one setting, used by
// every page, message and calendar entry. The zero Style is a US clinic's.
type Style struct {
	Clock24  bool // 07:30 and 15:00; false: 7:30 AM and 3:00 PM
	DayFirst bool // Tue 1 Dec; false: Tue, Dec 1 (Spanish is always day first)
}

// Clocks and DateOrders are the style's choices, as stored and as forms send them.
const (
	Clock12 = "12h"
	Clock24 = "24h"
	DMY     = "dmy"
	MDY     = "mdy"
)

// ParseStyle reads the stored clock and date order.
func ParseStyle(clock, order string) (Style, error) {
	var s Style
	switch clock {
	case Clock12:
	case Clock24:
		s.Clock24 = true
	default:
		return s, fmt.Errorf("clock %q: want %s or %s", clock, Clock12, Clock24)
	}
	switch order {
	case MDY:
	case DMY:
		s.DayFirst = true
	default:
		return s, fmt.Errorf("date order %q: want %s or %s", order, DMY, MDY)
	}
	return s, nil
}

// Clock and Order are the style's stored values.
func (s Style) Clock() string {
	if s.Clock24 {
		return Clock24
	}
	return Clock12
}

// Order is the stored date order.
func (s Style) Order() string {
	if s.DayFirst {
		return DMY
	}
	return MDY
}

// Locale is one reader's way of writing: their language in the clinic's style.
type Locale struct {
	Lang  Lang
	Style Style
}

// T is the message key in the locale's language (Lang.T).
func (l Locale) T(key string, args ...any) string { return l.Lang.T(key, args...) }

// DateForm is one of the ways a date is written.
type DateForm int

// The date forms, shown for Tuesday 1 December 2026 in English, day first.
const (
	Short     DateForm = iota // Tue 1 Dec
	ShortYear                 // Tue 1 Dec 2026
	Long                      // Tuesday 1 December
	LongYear                  // Tuesday 1 December 2026
	DayMonth                  // 1 Dec
	Plain                     // 1 Dec 2026
	PlainLong                 // 1 December 2026
	Weekday                   // Tuesday
)

var (
	monthsEN   = [...]string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}
	monthsES   = [...]string{"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"}
	monthsESab = [...]string{"ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sept", "oct", "nov", "dic"}
	daysEN     = [...]string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}
	daysES     = [...]string{"domingo", "lunes", "martes", "miércoles", "jueves", "viernes", "sábado"}
	daysESab   = [...]string{"dom", "lun", "mar", "mié", "jue", "vie", "sáb"}
)

func (l Locale) month(m time.Month, long bool) string {
	switch {
	case l.Lang == Spanish && long:
		return monthsES[m-1]
	case l.Lang == Spanish:
		return monthsESab[m-1]
	case long:
		return monthsEN[m-1]
	}
	return monthsEN[m-1][:3]
}

func (l Locale) weekday(d time.Weekday, long bool) string {
	switch {
	case l.Lang == Spanish && long:
		return daysES[d]
	case l.Lang == Spanish:
		return daysESab[d]
	case long:
		return daysEN[d]
	}
	return daysEN[d][:3]
}

// Date writes t's calendar day (t already in the clinic's zone, or a
// civil date at any hour) in the form asked for.
func (l Locale) Date(t time.Time, f DateForm) string {
	long := f == Long || f == LongYear || f == PlainLong || f == Weekday
	wd, mo, d, y := l.weekday(t.Weekday(), long), l.month(t.Month(), long), t.Day(), t.Year()
	if f == Weekday {
		return wd
	}
	if l.Lang == Spanish {
		switch f {
		case Short:
			return fmt.Sprintf("%s %d %s", wd, d, mo)
		case ShortYear:
			return fmt.Sprintf("%s %d %s %d", wd, d, mo, y)
		case Long:
			return fmt.Sprintf("%s, %d de %s", wd, d, mo)
		case LongYear:
			return fmt.Sprintf("%s, %d de %s de %d", wd, d, mo, y)
		case DayMonth:
			return fmt.Sprintf("%d %s", d, mo)
		case Plain:
			return fmt.Sprintf("%d %s %d", d, mo, y)
		}
		return fmt.Sprintf("%d de %s de %d", d, mo, y)
	}
	if !l.Style.DayFirst {
		switch f {
		case Short, Long:
			return fmt.Sprintf("%s, %s %d", wd, mo, d)
		case ShortYear, LongYear:
			return fmt.Sprintf("%s, %s %d, %d", wd, mo, d, y)
		case DayMonth:
			return fmt.Sprintf("%s %d", mo, d)
		}
		return fmt.Sprintf("%s %d, %d", mo, d, y)
	}
	switch f {
	case Short, Long:
		return fmt.Sprintf("%s %d %s", wd, d, mo)
	case ShortYear, LongYear:
		return fmt.Sprintf("%s %d %s %d", wd, d, mo, y)
	case DayMonth:
		return fmt.Sprintf("%d %s", d, mo)
	}
	return fmt.Sprintf("%d %s %d", d, mo, y)
}

// Clock writes t's time of day (t already in the clinic's zone): 07:30 or
// 7:30 AM (7:30 a. m. in Spanish).
func (l Locale) Clock(t time.Time) string {
	return l.Minutes(t.Hour()*60 + t.Minute())
}

// Minutes writes a time of day given as minutes after midnight.
func (l Locale) Minutes(m int) string {
	h, mm := m/60%24, m%60
	if l.Style.Clock24 {
		return fmt.Sprintf("%02d:%02d", h, mm)
	}
	suffix := "AM"
	if l.Lang == Spanish {
		suffix = "a. m."
	}
	if h >= 12 {
		suffix = "PM"
		if l.Lang == Spanish {
			suffix = "p. m."
		}
	}
	h12 := h % 12
	if h12 == 0 {
		h12 = 12
	}
	return fmt.Sprintf("%d:%02d %s", h12, mm, suffix)
}

// At writes a day and its time: "Tuesday, December 1, 2026 at 8:00 AM"
// (LongYear), or with a shorter date form.
func (l Locale) At(t time.Time, f DateForm) string {
	if h := t.Hour(); l.Lang == Spanish && (h == 1 || h == 13 && !l.Style.Clock24) {
		// Spanish writes one o'clock in the singular: "a la 1:00".
		return l.T("%s at %s (one o'clock)", l.Date(t, f), l.Clock(t))
	}
	return l.T("%s at %s", l.Date(t, f), l.Clock(t))
}
