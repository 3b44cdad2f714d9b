package clinic

import (
	"strings"
	"testing"
)

func screen(sys, dia int, yes ...string) ScreenInput {
	in := ScreenInput{Systolic: &sys, Diastolic: &dia}
	for _, q := range Questions {
		v := false
		for _, y := range yes {
			v = v || y == q.Field
		}
		q.SetAnswer(&in.Answers, &v)
	}
	return in
}

func TestCheckScreening(t *testing.T) {
	tests := []struct {
		name  string
		in    ScreenInput
		holds string // "" when the visit may start
	}{
		{"179/109 passes", screen(179, 109), ""},
		{"180 systolic holds", screen(180, 90), "blood pressure 180/90 mmHg (at or over 180/110)"},
		{"110 diastolic holds", screen(150, 110), "blood pressure 150/110 mmHg (at or over 180/110)"},
		{"120/80 with a yes holds", screen(120, 80, "psychosis_history"), "a history of psychosis"},
		{"every yes", screen(120, 80, "pregnant", "psychosis_history", "uncontrolled_hypertension", "recent_substance_use"),
			"pregnant or may be pregnant; a history of psychosis; uncontrolled hypertension; recent substance use"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := CheckScreening(KindMaintenance, tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(s.Holds, "; "); got != tt.holds {
				t.Errorf("holds = %q; want %q", got, tt.holds)
			}
			if s.OnHold() != (tt.holds != "") {
				t.Errorf("OnHold() = %v", s.OnHold())
			}
			err = CheckStart(s)
			if tt.holds == "" && err != nil || tt.holds != "" && ErrorFields(err)["screening"] == "" {
				t.Errorf("CheckStart() = %v", err)
			}
		})
	}
}

func TestCheckScreeningRefuses(t *testing.T) {
	missing := screen(120, 80)
	missing.Answers.RecentSubstanceUse = nil
	tests := []struct {
		name  string
		in    ScreenInput
		field string
	}{
		{"no pressure", ScreenInput{Answers: screen(120, 80).Answers}, "bp_systolic"},
		{"an unanswered question", missing, "recent_substance_use"},
		{"diastolic over systolic", screen(80, 120), "bp_diastolic"},
		{"systolic 301", screen(301, 90), "bp_systolic"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := CheckScreening(KindLoading, tt.in)
			if ErrorFields(err)[tt.field] == "" {
				t.Errorf("CheckScreening() = %v; want a problem with %s", err, tt.field)
			}
		})
	}
	if s, err := CheckScreening(KindConsult, ScreenInput{}); s != nil || err != nil {
		t.Errorf("a consultation's screen = %v, %v; want none", s, err)
	}
}

func TestCheckClear(t *testing.T) {
	held, _ := CheckScreening(KindMaintenance, screen(185, 95))
	if _, err := CheckClear(held, "  "); ErrorFields(err)["reason"] == "" {
		t.Errorf("a clearance without a reason: %v", err)
	}
	reason, err := CheckClear(held, " Repeat reading 150/90 after rest. ")
	if err != nil || reason != "Repeat reading 150/90 after rest." {
		t.Errorf("CheckClear() = %q, %v", reason, err)
	}
	held.Cleared = &Clearance{Reason: reason}
	if held.OnHold() || CheckStart(held) != nil {
		t.Error("a cleared visit is still held")
	}
	if _, err := CheckClear(held, "again"); ErrorCode(err) != ECONFLICT {
		t.Errorf("clearing twice: %v", err)
	}
	fine, _ := CheckScreening(KindMaintenance, screen(120, 80))
	if _, err := CheckClear(fine, "x"); ErrorCode(err) != ECONFLICT {
		t.Errorf("clearing a visit not held: %v", err)
	}
}
