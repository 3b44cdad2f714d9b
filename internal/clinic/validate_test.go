package clinic

import (
	"strings"
	"testing"
)

func TestPatientValidate(t *testing.T) {
	today := D(2026, 11, 22)
	w := 72.5
	good := Patient{FirstName: " Maria ", LastName: "Alvarez", DateOfBirth: D(1961, 4, 2), Phone: "(602) 555-0100",
		Email: "maria@example.com", WeightKg: &w, Condition: ConditionCRPS}
	if err := good.Validate(today); err != nil || good.FirstName != "Maria" {
		t.Fatalf("valid patient: %v %q", err, good.FirstName)
	}
	heavy, light := 400.0, 0.5
	tests := map[string]struct {
		p     Patient
		field string
	}{
		"no first name":   {Patient{LastName: "A", DateOfBirth: D(1960, 1, 1), Condition: ConditionOther}, "first_name"},
		"no last name":    {Patient{FirstName: "A", DateOfBirth: D(1960, 1, 1), Condition: ConditionOther}, "last_name"},
		"no birth date":   {Patient{FirstName: "A", LastName: "B", Condition: ConditionOther}, "date_of_birth"},
		"born tomorrow":   {Patient{FirstName: "A", LastName: "B", DateOfBirth: today.AddDays(1), Condition: ConditionOther}, "date_of_birth"},
		"born 1850":       {Patient{FirstName: "A", LastName: "B", DateOfBirth: D(1850, 1, 1), Condition: ConditionOther}, "date_of_birth"},
		"bad phone":       {Patient{FirstName: "A", LastName: "B", DateOfBirth: D(1960, 1, 1), Condition: ConditionOther, Phone: "call me"}, "phone"},
		"bad email":       {Patient{FirstName: "A", LastName: "B", DateOfBirth: D(1960, 1, 1), Condition: ConditionOther, Email: "a@"}, "email"},
		"too heavy":       {Patient{FirstName: "A", LastName: "B", DateOfBirth: D(1960, 1, 1), Condition: ConditionOther, WeightKg: &heavy}, "weight_kg"},
		"too light":       {Patient{FirstName: "A", LastName: "B", DateOfBirth: D(1960, 1, 1), Condition: ConditionOther, WeightKg: &light}, "weight_kg"},
		"no condition":    {Patient{FirstName: "A", LastName: "B", DateOfBirth: D(1960, 1, 1)}, "condition"},
		"other condition": {Patient{FirstName: "A", LastName: "B", DateOfBirth: D(1960, 1, 1), Condition: "migraine"}, "condition"},
	}
	for name, tt := range tests {
		if msg := ErrorFields(tt.p.Validate(today))[tt.field]; msg == "" {
			t.Errorf("%s: no message for %s", name, tt.field)
		}
	}
}

func TestParsePatientQuery(t *testing.T) {
	tests := []struct {
		q     string
		dob   string
		mrn   string
		words string
		phone string
	}{
		{"1961-04-02", "1961-04-02", "", "", ""},
		{"04/02/1961", "1961-04-02", "", "", ""},
		{"MRN100028", "", "MRN100028", "", ""},
		{"mrn100028", "", "MRN100028", "", ""},
		{"100028", "", "100028", "", ""},
		{"  Maria  Alv ", "", "", "maria alv", ""},
		{"alvarez, maria", "", "", "alvarez maria", ""},
		{"O'Brien", "", "", "o'brien", ""},
		{"", "", "", "", ""},
		{"(602) 555-0142", "", "", "", "6025550142"},
		{"+1 602 555 0142", "", "", "", "6025550142"},
		{"555-0142", "", "", "", "5550142"},
		{"6025550142", "", "6025550142", "", "6025550142"}, // a record number or a phone
		{"602 555 0142 x", "", "", "602 555 0142 x", ""},
	}
	for _, tt := range tests {
		q := ParsePatientQuery(tt.q)
		dob := ""
		if q.DateOfBirth != nil {
			dob = q.DateOfBirth.String()
		}
		words := ""
		for i, w := range q.Words {
			if i > 0 {
				words += " "
			}
			words += w
		}
		if dob != tt.dob || q.MRN != tt.mrn || words != tt.words || q.Phone != tt.phone {
			t.Errorf("%q → dob %q mrn %q words %q phone %q", tt.q, dob, q.MRN, words, q.Phone)
		}
	}
}

func TestSettingsValidate(t *testing.T) {
	good := demoSettings()
	if err := good.Validate(); err != nil {
		t.Fatalf("demo settings refused: %v", err)
	}
	bad := Settings{Name: " ", TimeZone: "Mars/Olympus", SlotMinutes: 7}
	bad.Hours[1] = []Range{{clk("12:00"), clk("08:00")}}
	f := ErrorFields(bad.Validate())
	for _, field := range []string{"name", "timezone", "slot_minutes", "hours.mon"} {
		if f[field] == "" {
			t.Errorf("no message for %s: %v", field, f)
		}
	}
	local := demoSettings()
	local.TimeZone = "Local"
	if ErrorFields(local.Validate())["timezone"] == "" {
		t.Error("the server's own zone accepted")
	}
}

func TestProtocolValidate(t *testing.T) {
	std := Protocol{Name: "Standard IV loading", Numbers: Numbers{Sessions: 6, MinGapDays: 2, MaxGapDays: 3, MaxSpanDays: 14,
		InfusionMinutes: 60, RecoveryMinutes: 30, DoseMinMgPerKgH: 0.1, DoseMaxMgPerKgH: 0.5,
		FirstIntervalDays: 28, MinIntervalDays: 28, MaxIntervalDays: 84, LeadDays: 7, StepDays: 7,
		MaintenanceInfusionMinutes: 60, MaintenanceRecoveryMinutes: 30}}
	if err := std.Validate(); err != nil {
		t.Fatalf("README.md's standard protocol refused: %v", err)
	}
	tests := map[string]struct {
		change func(*Protocol)
		field  string
	}{
		"gaps reversed":         {func(p *Protocol) { p.MaxGapDays = 1 }, "max_gap_days"},
		"span too short":        {func(p *Protocol) { p.MaxSpanDays = 9 }, "max_span_days"},
		"dose above 1":          {func(p *Protocol) { p.DoseMaxMgPerKgH = 1.2 }, "dose_max_mg_per_kg_h"},
		"doses reversed":        {func(p *Protocol) { p.DoseMinMgPerKgH = 0.6 }, "dose_max_mg_per_kg_h"},
		"first outside":         {func(p *Protocol) { p.FirstIntervalDays = 90 }, "first_interval_days"},
		"intervals reversed":    {func(p *Protocol) { p.MaxIntervalDays = 20 }, "max_interval_days"},
		"no sessions":           {func(p *Protocol) { p.Sessions = 0 }, "sessions"},
		"short infusion":        {func(p *Protocol) { p.InfusionMinutes = 5 }, "infusion_minutes"},
		"no name":               {func(p *Protocol) { p.Name = "" }, "name"},
		"negative lead":         {func(p *Protocol) { p.LeadDays = -1 }, "lead_days"},
		"maintenance too short": {func(p *Protocol) { p.MaintenanceInfusionMinutes = 10 }, "maintenance_infusion_minutes"},
	}
	for name, tt := range tests {
		p := std
		tt.change(&p)
		if ErrorFields(p.Validate())[tt.field] == "" {
			t.Errorf("%s: no message for %s", name, tt.field)
		}
	}
}

func TestCheckImport(t *testing.T) {
	today := D(2026, 3, 10)
	for _, c := range []struct {
		on     Date
		phase  Phase
		rate   float64
		fields string
	}{
		{D(2026, 3, 10), PhaseLoading, 0.3, ""},
		{D(2026, 1, 2), PhaseMaintenance, MaxDoseRate, ""},
		{Date{}, PhaseLoading, 0.3, "date"},
		{D(2026, 3, 11), PhaseLoading, 0.3, "date"},
		{D(2026, 3, 1), PhasePaused, 0.3, "phase"},
		{D(2026, 3, 1), PhaseLoading, 0, "dose_mg_per_kg_h"},
		{D(2026, 3, 1), PhaseLoading, 1.01, "dose_mg_per_kg_h"},
		{D(2026, 3, 11), "", -1, "date dose_mg_per_kg_h phase"},
	} {
		var got []string
		for _, f := range []string{"date", "dose_mg_per_kg_h", "phase"} {
			if ErrorFields(CheckImport(c.on, c.phase, c.rate, today))[f] != "" {
				got = append(got, f)
			}
		}
		if strings.Join(got, " ") != c.fields {
			t.Errorf("CheckImport(%s, %q, %g): problems on %v, want %q", c.on, c.phase, c.rate, got, c.fields)
		}
	}
}
