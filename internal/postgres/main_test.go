package postgres_test

import (
	"os"
	"testing"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
)

// TestMain runs every test of the store with the process in a zone far from
// both UTC and the test clinic's, so that nothing may lean on time.Local.
func TestMain(m *testing.M) {
	time.Local = mustZone("Asia/Kolkata")
	os.Exit(m.Run())
}

// testDriver takes a test patient home after an infusion.
var testDriver = clinic.Driver{Name: "Sam Rivera", Phone: "602-555-0142"}

// testArrival checks a test patient in: the test driver and a screen that
// holds nothing (120/80, every answer no).
var testArrival = arrive(testDriver)

// arrive is a check-in with driver d and a screen that holds nothing.
func arrive(d clinic.Driver) clinic.Arrival {
	sys, dia, no := 120, 80, false
	a := clinic.Arrival{Driver: d, Screen: clinic.ScreenInput{Systolic: &sys, Diastolic: &dia}}
	for _, q := range clinic.Questions {
		q.SetAnswer(&a.Screen.Answers, &no)
	}
	return a
}
