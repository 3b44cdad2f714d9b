package web

import (
	"context"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/i18n"
)

type localeKey struct{}

// WithLocale is ctx with the locale its pages are written in: the reader's
// language (staff pages: English) in the clinic's style.
func WithLocale(ctx context.Context, l i18n.Locale) context.Context {
	return context.WithValue(ctx, localeKey{}, l)
}

// LocaleOf is the locale pages rendered with ctx are written in; English
// in the US style when none was set.
func LocaleOf(ctx context.Context) i18n.Locale {
	if l, ok := ctx.Value(localeKey{}).(i18n.Locale); ok {
		return l
	}
	return i18n.Locale{Lang: i18n.English, Style: i18n.Style{}}
}

// T is a patient-facing message in the page's language (i18n.Lang.T).
func T(ctx context.Context, key string, args ...any) string { return LocaleOf(ctx).T(key, args...) }

// lang is the page's language code, for <html lang>.
func lang(ctx context.Context) string { return string(LocaleOf(ctx).Lang) }

// date writes a calendar date in the page's locale.
func date(ctx context.Context, d clinic.Date, f i18n.DateForm) string {
	return LocaleOf(ctx).Date(time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC), f)
}

// dateAt writes the day of an instant in the clinic's zone.
func dateAt(ctx context.Context, t time.Time, loc *time.Location, f i18n.DateForm) string {
	return LocaleOf(ctx).Date(t.In(loc), f)
}

// whenAt writes an instant's day and time: "Tuesday, December 1 at 8:00 AM".
func whenAt(ctx context.Context, t time.Time, loc *time.Location, f i18n.DateForm) string {
	return LocaleOf(ctx).At(t.In(loc), f)
}

// clock writes an instant's time of day in the clinic's zone and style.
func clock(ctx context.Context, t time.Time, loc *time.Location) string {
	return LocaleOf(ctx).Clock(t.In(loc))
}

// clockOf writes a clinic wall-clock time in the clinic's style.
func clockOf(ctx context.Context, c clinic.Clock) string { return LocaleOf(ctx).Minutes(int(c)) }

func longDay(ctx context.Context, t time.Time, loc *time.Location) string {
	return dateAt(ctx, t, loc, i18n.LongYear)
}

func shortDay(ctx context.Context, t time.Time, loc *time.Location) string {
	return dateAt(ctx, t, loc, i18n.ShortYear)
}

// Text is a whole message made elsewhere (a notice, a form's message) in
// the page's language (i18n.Lang.Text).
func Text(ctx context.Context, s string) string { return LocaleOf(ctx).Lang.Text(s) }
