package clinic

import (
	"testing"
	"time"
)

func TestAllow(t *testing.T) {
	loc, _ := time.LoadLocation("America/Phoenix")
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, loc)
	appt := func(s Status) Appointment {
		return Appointment{Status: s, Start: start, End: start.Add(90 * time.Minute)}
	}
	morning := time.Date(2026, 3, 2, 8, 0, 0, 0, loc)
	later := time.Date(2026, 3, 2, 9, 20, 0, 0, loc)
	dayBefore := time.Date(2026, 3, 1, 12, 0, 0, 0, loc)
	tests := []struct {
		status Status
		act    Action
		now    time.Time
		want   string // error code, "" for allowed
	}{
		{StatusBooked, ActReschedule, morning, ""},
		{StatusBooked, ActCancel, morning, ""},
		{StatusBooked, ActCheckIn, morning, ""},
		{StatusBooked, ActCheckIn, dayBefore, EINVALID},
		{StatusBooked, ActNoShow, morning, EINVALID},
		{StatusBooked, ActNoShow, later, ""},
		{StatusBooked, ActComplete, later, ECONFLICT},
		{StatusCheckedIn, ActComplete, later, ""},
		{StatusCheckedIn, ActCancel, later, ""},
		{StatusCheckedIn, ActReschedule, later, ECONFLICT},
		{StatusCheckedIn, ActCheckIn, later, ECONFLICT},
		{StatusCheckedIn, ActNoShow, later, ECONFLICT},
		{StatusCancelled, ActCancel, later, ECONFLICT},
		{StatusCancelled, ActReschedule, later, ECONFLICT},
		{StatusNoShow, ActCheckIn, later, ECONFLICT},
		{StatusCompleted, ActCancel, later, ECONFLICT},
	}
	for _, tt := range tests {
		if got := ErrorCode(appt(tt.status).Allow(tt.act, tt.now, Schedule{Loc: loc})); got != tt.want {
			t.Errorf("%s on a %s appointment at %s: %q; want %q", tt.act, tt.status, tt.now.Format("Jan 2 15:04"), got, tt.want)
		}
	}
}

func TestOccupancy(t *testing.T) {
	std := Protocol{Numbers: Numbers{InfusionMinutes: 60, RecoveryMinutes: 30, MaintenanceInfusionMinutes: 60, MaintenanceRecoveryMinutes: 30}}
	crps := Protocol{Numbers: Numbers{InfusionMinutes: 240, RecoveryMinutes: 30, MaintenanceInfusionMinutes: 90, MaintenanceRecoveryMinutes: 45}}
	course := &Course{Numbers: crps.Numbers}
	tests := []struct {
		kind     AppointmentKind
		course   *Course
		protocol *Protocol
		want     int
		err      bool
	}{
		{KindConsult, nil, nil, 30, false},
		{KindMaintenance, nil, nil, 90, false},
		{KindMaintenance, course, &std, 135, false}, // the course's own numbers win
		{KindLoading, nil, &std, 90, false},
		{KindLoading, course, nil, 270, false},
		{KindLoading, nil, nil, 0, true},
		{"infusion", nil, nil, 0, true},
	}
	for _, tt := range tests {
		got, err := Occupancy(tt.kind, tt.course, tt.protocol)
		if got != tt.want || (err != nil) != tt.err {
			t.Errorf("Occupancy(%s) = %d, %v; want %d (error %v)", tt.kind, got, err, tt.want, tt.err)
		}
	}
}

func TestCancelReason(t *testing.T) {
	if r, err := CancelReason("  Patient unwell "); r != "Patient unwell" || err != nil {
		t.Fatalf("%q %v", r, err)
	}
	for _, bad := range []string{"", "   ", string(make([]rune, 501))} {
		if _, err := CancelReason(bad); ErrorFields(err)["reason"] == "" {
			t.Errorf("reason %q accepted", bad)
		}
	}
}
