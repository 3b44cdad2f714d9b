package i18n

import (
	"testing"
	"time"
)

func TestDateForms(t *testing.T) {
	day := time.Date(2026, 12, 1, 13, 5, 0, 0, time.UTC) // a Tuesday
	us := Locale{English, Style{}}
	eu := Locale{English, Style{Clock24: true, DayFirst: true}}
	es := Locale{Spanish, Style{}}
	es24 := Locale{Spanish, Style{Clock24: true, DayFirst: true}}
	for _, tt := range []struct {
		l    Locale
		f    DateForm
		want string
	}{
		{us, Short, "Tue, Dec 1"},
		{us, ShortYear, "Tue, Dec 1, 2026"},
		{us, Long, "Tuesday, December 1"},
		{us, LongYear, "Tuesday, December 1, 2026"},
		{us, DayMonth, "Dec 1"},
		{us, Plain, "Dec 1, 2026"},
		{us, PlainLong, "December 1, 2026"},
		{us, Weekday, "Tuesday"},
		{eu, Short, "Tue 1 Dec"},
		{eu, ShortYear, "Tue 1 Dec 2026"},
		{eu, Long, "Tuesday 1 December"},
		{eu, LongYear, "Tuesday 1 December 2026"},
		{eu, DayMonth, "1 Dec"},
		{eu, Plain, "1 Dec 2026"},
		{eu, PlainLong, "1 December 2026"},
		{es, Short, "mar 1 dic"},
		{es, ShortYear, "mar 1 dic 2026"},
		{es, Long, "martes, 1 de diciembre"},
		{es, LongYear, "martes, 1 de diciembre de 2026"},
		{es, DayMonth, "1 dic"},
		{es, PlainLong, "1 de diciembre de 2026"},
		{es24, Weekday, "martes"},
	} {
		if got := tt.l.Date(day, tt.f); got != tt.want {
			t.Errorf("%v form %d = %q; want %q", tt.l, tt.f, got, tt.want)
		}
	}
}

func TestClocks(t *testing.T) {
	for _, tt := range []struct {
		l    Locale
		min  int
		want string
	}{
		{Locale{English, Style{}}, 0, "12:00 AM"},
		{Locale{English, Style{}}, 7*60 + 30, "7:30 AM"},
		{Locale{English, Style{}}, 12 * 60, "12:00 PM"},
		{Locale{English, Style{}}, 15*60 + 5, "3:05 PM"},
		{Locale{English, Style{Clock24: true}}, 7*60 + 30, "07:30"},
		{Locale{English, Style{Clock24: true}}, 15*60 + 5, "15:05"},
		{Locale{Spanish, Style{}}, 7*60 + 30, "7:30 a. m."},
		{Locale{Spanish, Style{}}, 15*60 + 5, "3:05 p. m."},
		{Locale{Spanish, Style{Clock24: true}}, 15*60 + 5, "15:05"},
	} {
		if got := tt.l.Minutes(tt.min); got != tt.want {
			t.Errorf("%v %d = %q; want %q", tt.l, tt.min, got, tt.want)
		}
	}
}

func TestAtAndTranslations(t *testing.T) {
	nine := time.Date(2026, 3, 9, 9, 0, 0, 0, time.UTC)
	one := time.Date(2026, 3, 9, 13, 0, 0, 0, time.UTC)
	us := Locale{English, Style{}}
	es := Locale{Spanish, Style{}}
	for _, tt := range []struct{ got, want string }{
		{us.At(nine, LongYear), "Monday, March 9, 2026 at 9:00 AM"},
		{us.At(one, Short), "Mon, Mar 9 at 1:00 PM"},
		{es.At(nine, LongYear), "lunes, 9 de marzo de 2026 a las 9:00 a. m."},
		{es.At(one, Long), "lunes, 9 de marzo a la 1:00 p. m."},
		{us.T("%d infusion visits", 1), "1 infusion visit"},
		{us.T("%d infusion visits", 6), "6 infusion visits"},
		{es.T("%d infusion visits", 1), "1 visita de infusión"},
		{es.T("%d infusion visits", 6), "6 visitas de infusión"},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q; want %q", tt.got, tt.want)
		}
	}
}

func TestMissingIsNoted(t *testing.T) {
	if got := Spanish.T("No such message %d", 3); got != "No such message 3" {
		t.Errorf("an untranslated message = %q; want the English", got)
	}
	found := false
	for _, k := range Missing() {
		found = found || k == "No such message %d"
	}
	if !found {
		t.Errorf("Missing() = %v; want the untranslated key", Missing())
	}
	if _, ok := ParseLang("fr"); ok {
		t.Error("ParseLang accepted a language not offered")
	}
}
