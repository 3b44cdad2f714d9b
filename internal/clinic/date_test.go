package clinic

import (
	"encoding/json"
	"testing"
	"time"
)

func TestDateArithmetic(t *testing.T) {
	tests := []struct {
		d    Date
		n    int
		want Date
	}{
		{D(2026, 3, 6), 35, D(2026, 4, 10)},       // README.md's example
		{D(2026, 3, 7), 1, D(2026, 3, 8)},         // US clock change
		{D(2026, 10, 31), 1, D(2026, 11, 1)},      // and back
		{D(2024, 2, 28), 1, D(2024, 2, 29)},       // leap day
		{D(2026, 12, 31), 1, D(2027, 1, 1)},       // year end
		{D(2026, 1, 1), -1, D(2025, 12, 31)},      // backwards
		{D(2026, 1, 31), 28 + 30, D(2026, 3, 30)}, // over February
	}
	for _, tt := range tests {
		if got := tt.d.AddDays(tt.n); got != tt.want {
			t.Errorf("%s + %d = %s; want %s", tt.d, tt.n, got, tt.want)
		}
		if got := tt.want.DaysSince(tt.d); got != tt.n {
			t.Errorf("%s − %s = %d; want %d", tt.want, tt.d, got, tt.n)
		}
	}
}

func TestDateAtKeepsWallClockAcrossDST(t *testing.T) {
	chicago, err := time.LoadLocation("America/Chicago")
	if err != nil {
		t.Fatal(err)
	}
	nine := Clock(9 * 60)
	for _, tt := range []struct {
		d    Date
		want string
	}{
		{D(2026, 3, 6), "2026-03-06T15:00:00Z"}, // CST, UTC−6
		{D(2026, 3, 9), "2026-03-09T14:00:00Z"}, // CDT, UTC−5
	} {
		got := tt.d.At(nine, chicago).UTC().Format(time.RFC3339)
		if got != tt.want {
			t.Errorf("%s 09:00 Chicago = %s; want %s", tt.d, got, tt.want)
		}
		if back := DateOf(tt.d.At(nine, chicago), chicago); back != tt.d {
			t.Errorf("DateOf round trip: %s; want %s", back, tt.d)
		}
	}
}

func TestDateScanIgnoresZones(t *testing.T) {
	// pgx hands over a date as midnight UTC; west of Greenwich that instant
	// is the previous evening, which must not leak into the civil date.
	var d Date
	if err := d.Scan(time.Date(2026, 3, 6, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if d != D(2026, 3, 6) {
		t.Fatalf("scanned %s; want 2026-03-06", d)
	}
	v, _ := d.Value()
	if v != "2026-03-06" {
		t.Fatalf("Value = %v", v)
	}
}

func TestDateJSONAndParse(t *testing.T) {
	b, _ := json.Marshal(struct{ D Date }{D(2026, 4, 10)})
	if string(b) != `{"D":"2026-04-10"}` {
		t.Fatalf("marshal: %s", b)
	}
	var v struct{ D Date }
	if err := json.Unmarshal([]byte(`{"D":"2026-02-30"}`), &v); err == nil {
		t.Fatal("2026-02-30 accepted")
	}
	for _, bad := range []string{"", "2026-3-6", "06/03/2026", "2026-03-06T00:00:00Z"} {
		if _, err := ParseDate(bad); err == nil {
			t.Errorf("ParseDate(%q) accepted", bad)
		}
	}
	for _, tt := range []struct {
		s    string
		want Clock
		ok   bool
	}{{"09:00", 540, true}, {"16:30", 990, true}, {"9:00", 0, false}, {"25:00", 0, false}, {"", 0, false}} {
		got, err := ParseClock(tt.s)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseClock(%q) = %v, %v", tt.s, got, err)
		}
	}
}

func TestWeeklyHoursValidate(t *testing.T) {
	c := func(s string) Clock { v, _ := ParseClock(s); return v }
	var ok WeeklyHours
	ok[time.Monday] = []Range{{c("13:00"), c("16:30")}, {c("07:00"), c("12:00")}}
	if err := ok.Validate(); err != nil {
		t.Fatalf("lunch break refused: %v", err)
	}
	if ok[time.Monday][0].Opens != c("07:00") {
		t.Fatal("ranges not sorted")
	}
	var backwards WeeklyHours
	backwards[time.Friday] = []Range{{c("12:00"), c("08:00")}}
	if f := ErrorFields(backwards.Validate()); f["fri"] == "" {
		t.Fatalf("close before open not reported: %v", f)
	}
	var overlap WeeklyHours
	overlap[time.Tuesday] = []Range{{c("07:00"), c("12:00")}, {c("11:00"), c("15:00")}}
	if f := ErrorFields(overlap.Validate()); f["tue"] == "" {
		t.Fatalf("overlap not reported: %v", f)
	}
}

func TestNewUserValidate(t *testing.T) {
	good := NewUser{Email: "  Nurse@Example.COM ", Name: " Ana ", Role: "nurse", Password: "twelve chars!"}
	if err := good.Validate(); err != nil {
		t.Fatalf("valid user refused: %v", err)
	}
	if good.Email != "nurse@example.com" || good.Name != "Ana" {
		t.Fatalf("not normalised: %+v", good)
	}
	bad := NewUser{Email: "nope", Name: "", Role: "janitor", Password: "short"}
	f := ErrorFields(bad.Validate())
	for _, field := range []string{"email", "name", "role", "password"} {
		if f[field] == "" {
			t.Errorf("no message for %s: %v", field, f)
		}
	}
	id := int64(1)
	staffLinked := NewUser{Email: "a@b.co", Name: "A", Role: "nurse", Password: "long enough pw", PatientID: &id}
	if ErrorFields(staffLinked.Validate())["patient_id"] == "" {
		t.Error("a staff account linked to a patient was accepted")
	}
}
