package clinic

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Screening at check-in (DOMAIN.md, "Safety gates"): an infusion visit is
// checked in with the patient's blood pressure and the answers to the
// contraindication questions. A pressure at or over the thresholds, or a
// "yes", holds the visit: the infusion does not start until a physician
// clears it, with a reason.

// The blood pressure, in mmHg, at or over which an infusion waits for a
// physician.
const (
	HoldSystolic  = 180
	HoldDiastolic = 110
)

// MaxClearReason is the longest reason a physician gives to clear a hold.
const MaxClearReason = 500

// Answers are the contraindication questions asked at check-in; nil is a
// question not answered.
type Answers struct {
	Pregnant                 *bool `json:"pregnant"`
	PsychosisHistory         *bool `json:"psychosis_history"`
	UncontrolledHypertension *bool `json:"uncontrolled_hypertension"`
	RecentSubstanceUse       *bool `json:"recent_substance_use"`
}

// Question is one contraindication question: its field, what the form
// asks and what a "yes" holds the visit for.
type Question struct {
	Field, Ask, Hold string
	answer           func(*Answers) **bool
}

// Questions are the contraindication questions, in the order forms ask them.
var Questions = []Question{
	{"pregnant", "Is the patient pregnant, or could she be?", "pregnant or may be pregnant", func(a *Answers) **bool { return &a.Pregnant }},
	{"psychosis_history", "Any history of psychosis?", "a history of psychosis", func(a *Answers) **bool { return &a.PsychosisHistory }},
	{"uncontrolled_hypertension", "Uncontrolled high blood pressure?", "uncontrolled hypertension", func(a *Answers) **bool { return &a.UncontrolledHypertension }},
	{"recent_substance_use", "Alcohol or drug use in the last 24 hours?", "recent substance use", func(a *Answers) **bool { return &a.RecentSubstanceUse }},
}

// Answer is a's answer to q (nil: not answered).
func (q Question) Answer(a *Answers) *bool { return *q.answer(a) }

// SetAnswer records the answer to q in a.
func (q Question) SetAnswer(a *Answers, v *bool) { *q.answer(a) = v }

// ScreenInput is what the desk enters at check-in; nil is not entered.
type ScreenInput struct {
	Systolic, Diastolic *int
	Answers             Answers
}

// Clearance is a physician's decision that a held infusion may start.
type Clearance struct {
	At     time.Time `json:"cleared_at"`
	ByID   int64     `json:"cleared_by"`
	By     string    `json:"cleared_by_name"`
	Reason string    `json:"reason"`
}

// Screening is a visit's check-in screen: the pressure, the answers, what
// holds the visit (nothing: it may start) and the physician's clearance.
type Screening struct {
	Systolic  int        `json:"bp_systolic"`
	Diastolic int        `json:"bp_diastolic"`
	Answers   Answers    `json:"screening"`
	Holds     []string   `json:"holds"`
	Cleared   *Clearance `json:"clearance"`
}

// OnHold reports whether the visit waits for a physician.
func (s *Screening) OnHold() bool { return s != nil && len(s.Holds) > 0 && s.Cleared == nil }

// HoldText is why the visit is held, in one line.
func (s *Screening) HoldText() string {
	if s == nil || len(s.Holds) == 0 {
		return ""
	}
	return "On hold after screening: " + strings.Join(s.Holds, "; ") + "."
}

// CheckScreening checks the screen entered at check-in and decides what
// holds the visit. A consultation needs none (and keeps none); an
// infusion needs both pressures and every answer.
func CheckScreening(kind AppointmentKind, in ScreenInput) (*Screening, error) {
	if !kind.Infusion() {
		return nil, nil
	}
	p := Problems{}
	switch {
	case in.Systolic == nil:
		p.Add("bp_systolic", "Enter the systolic pressure (the upper number), in mmHg.")
	case *in.Systolic < 50 || *in.Systolic > 300:
		p.Add("bp_systolic", "Enter a systolic pressure from 50 to 300 mmHg.")
	}
	switch {
	case in.Diastolic == nil:
		p.Add("bp_diastolic", "Enter the diastolic pressure (the lower number), in mmHg.")
	case *in.Diastolic < 20 || *in.Diastolic > 200:
		p.Add("bp_diastolic", "Enter a diastolic pressure from 20 to 200 mmHg.")
	case in.Systolic != nil && *in.Diastolic >= *in.Systolic:
		p.Add("bp_diastolic", "The diastolic pressure is lower than the systolic: check the order.")
	}
	for _, q := range Questions {
		if q.Answer(&in.Answers) == nil {
			p.Add(q.Field, "Answer yes or no.")
		}
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	s := &Screening{Systolic: *in.Systolic, Diastolic: *in.Diastolic, Answers: in.Answers, Holds: []string{}}
	if s.Systolic >= HoldSystolic || s.Diastolic >= HoldDiastolic {
		s.Holds = append(s.Holds, fmt.Sprintf("blood pressure %d/%d mmHg (at or over %d/%d)", s.Systolic, s.Diastolic, HoldSystolic, HoldDiastolic))
	}
	for _, q := range Questions {
		if *q.Answer(&in.Answers) {
			s.Holds = append(s.Holds, q.Hold)
		}
	}
	return s, nil
}

// CheckStart refuses to start (record or complete) an infusion on hold:
// EINVALID with field "screening" until a physician clears it.
func CheckStart(s *Screening) error {
	if !s.OnHold() {
		return nil
	}
	return &Error{Code: EINVALID, Reason: ReasonOnHold,
		Message: s.HoldText() + " A physician must clear the visit before the infusion starts.",
		Fields:  map[string]string{"screening": "On hold until a physician clears it: " + strings.Join(s.Holds, "; ") + "."}}
}

// CheckClear decides whether a physician may clear s with reason: the
// visit must be on hold, and the reason given.
func CheckClear(s *Screening, reason string) (string, error) {
	reason = strings.TrimSpace(reason)
	if !s.OnHold() {
		return reason, Errorf(ECONFLICT, "This visit is not on hold: there is nothing to clear.")
	}
	p := Problems{}
	switch n := utf8.RuneCountInString(reason); {
	case n == 0:
		p.Add("reason", "Say why the infusion may start (for example, the repeat reading).")
	case n > MaxClearReason:
		p.Add("reason", fmt.Sprintf("Use at most %d characters.", MaxClearReason))
	}
	p.checkText(map[string]string{"reason": reason}, true)
	return reason, p.Err()
}
