package server

import (
	"bytes"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
)

// Any body is either read or refused with a person's message: never a
// panic, never an internal error.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{`{"patient_id":1,"kind":"maintenance","start":"2026-03-09T09:00:00-05:00"}`, `{"date":"2026-13-45"}`,
		`{"weight_kg":"heavy"}`, `[1,2]`, `{`, "", `{"first_name":"A\u0000"}`, "{\"x\":\"\xff\"}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, dst := range []any{&bookRequest{}, &patientRequest{}, &putClinicRequest{}, &infusionRecordJSON{}, &clinic.JournalEntry{}} {
			r := httptest.NewRequest("POST", "/api/v1/x", bytes.NewReader(body))
			r.Header.Set("Content-Type", "application/json")
			if err := decodeJSON(r, dst, "date", "pain"); err != nil && clinic.ErrorCode(err) == clinic.EINTERNAL {
				t.Fatalf("%q into %T: %v", body, dst, err)
			}
		}
	})
}

// Dates and times from forms become an instant in the clinic's zone or a
// message per field.
func FuzzStartFromForm(f *testing.F) {
	f.Add("2026-03-08", "02:30")
	f.Add("2026-02-29", "24:00")
	f.Add("", "9")
	loc, _ := time.LoadLocation("America/Chicago")
	f.Fuzz(func(t *testing.T, date, clock string) {
		start, problems := startFromForm(date, clock, loc)
		if problems == nil && start.IsZero() {
			t.Fatalf("%q %q: neither a time nor a message", date, clock)
		}
	})
}

// Query strings: the availability's and the lists' date ranges and
// minutes are read or refused with a message.
func FuzzQueryRange(f *testing.F) {
	f.Add("from=2026-03-01&to=2026-03-14&minutes=90")
	f.Add("from=2026-03-14&to=2026-03-01")
	f.Add("from=%ff&to=&minutes=-1&minutes=99999999999999999999")
	f.Fuzz(func(t *testing.T, query string) {
		r := httptest.NewRequest("GET", "/api/v1/availability", nil)
		r.URL.RawQuery = query
		from, to, err := dateRange(r, 62)
		if err == nil && (to.Before(from) || to.DaysSince(from) >= 62) {
			t.Fatalf("%q accepted %s..%s", query, from, to)
		}
		if err != nil && clinic.ErrorCode(err) != clinic.EINVALID {
			t.Fatalf("%q: %v", query, err)
		}
	})
}
