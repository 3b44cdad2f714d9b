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
