package server_test

import (
	"os"
	"testing"
	"time"
)

// TestMain runs the server's tests with the process in an odd zone (UTC+12:45
// or +13:45), so that a time shown or parsed in the server's zone instead of
// the clinic's shows up as a failure.
func TestMain(m *testing.M) {
	loc, err := time.LoadLocation("Pacific/Chatham")
	if err != nil {
		panic(err)
	}
	time.Local = loc
	os.Exit(m.Run())
}
