package server_test

import (
	"time"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/i18n"
)

// usDate and usClock write a date and a time of day as the test clinic's
// pages do (its style is the default: a 12-hour clock, month first).
func usDate(d clinic.Date, f i18n.DateForm) string {
	return i18n.Locale{}.Date(time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC), f)
}

func usClock(c clinic.Clock) string { return i18n.Locale{}.Minutes(int(c)) }
