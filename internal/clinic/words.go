package clinic

import (
	"time"

	"github.com/infusiondesk/infusiondesk/internal/i18n"
)

// The domain's sentences (a refusal, a plan's rationale, why a patient
// ranks first) write dates and times in the clinic's one style, as its
// pages do (Settings.Style), in English: staff read them.

// DayText writes a date in the clinic's style.
func (s Schedule) DayText(d Date, f i18n.DateForm) string { return DayText(s.Settings.Style, d, f) }

// ClockText writes a wall-clock time in the clinic's style: 7:30 AM or 07:30.
func (s Schedule) ClockText(c Clock) string { return clockText(s.Settings.Style, c) }

// TimeText writes an instant's time of day in the clinic's zone and style.
func (s Schedule) TimeText(t time.Time) string { return s.ClockText(ClockOf(t, s.Loc)) }

// DayText writes a date in a clinic's style.
func DayText(st i18n.Style, d Date, f i18n.DateForm) string {
	return i18n.Locale{Lang: i18n.English, Style: st}.Date(d.noonUTC(), f)
}

func clockText(st i18n.Style, c Clock) string {
	return i18n.Locale{Lang: i18n.English, Style: st}.Minutes(int(c))
}
