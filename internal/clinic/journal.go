package clinic

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// JournalEntry is one day of a patient's symptom journal. Scores run 0–10
// (pain: 10 is the worst; sleep, mobility, mood: 10 is the best).
type JournalEntry struct {
	ID           int64  `json:"id"`
	On           Date   `json:"date"`
	Pain         int    `json:"pain"`
	Sleep        *int   `json:"sleep"`
	Mobility     *int   `json:"mobility"`
	Mood         *int   `json:"mood"`
	Breakthrough string `json:"breakthrough_medication"`
	// BreakthroughDoses is how many whole doses of breakthrough
	// medication the patient took that day; nil when not told.
	BreakthroughDoses *int   `json:"breakthrough_doses"`
	PEG               *PEG   `json:"peg"`
	Note              string `json:"note"`
}

// JournalDaysBack is how far back a journal entry may be dated.
const JournalDaysBack = 60

// MaxBreakthroughDoses bounds a day's breakthrough doses (a typing slip,
// not a count, beyond it).
const MaxBreakthroughDoses = 50

// PEG is the three-item pain scale (Pain, Enjoyment of life, General
// activity), each 0–10 over the past week (10: pain interfered
// completely).
type PEG struct {
	Pain      int `json:"pain"`
	Enjoyment int `json:"enjoyment"`
	Activity  int `json:"activity"`
}

// Score is the PEG score, the mean of the three, in tenths (6.3 is 63).
func (g PEG) Score() int { return (g.Pain + g.Enjoyment + g.Activity) * 10 / 3 }

// ScoreText writes the score with one decimal: "6.3".
func (g PEG) ScoreText() string { return fmt.Sprintf("%d.%d", g.Score()/10, g.Score()%10) }

// PEGQuestions are the three questions, in the order asked, with their fields.
var PEGQuestions = []struct{ Field, Ask string }{
	{"peg_pain", "What number best describes your pain on average in the past week?"},
	{"peg_enjoyment", "What number best describes how, during the past week, pain has interfered with your enjoyment of life?"},
	{"peg_activity", "What number best describes how, during the past week, pain has interfered with your general activity?"},
}

// Validate checks the three answers, naming fields prefix+pain, … .
func (g PEG) Validate(p Problems, prefix string) {
	for _, x := range []struct {
		field string
		v     int
	}{{prefix + "pain", g.Pain}, {prefix + "enjoyment", g.Enjoyment}, {prefix + "activity", g.Activity}} {
		if x.v < 0 || x.v > 10 {
			p.Add(x.field, "Choose from 0 to 10.")
		}
	}
}

// Validate checks an entry against the patient's today.
func (e *JournalEntry) Validate(today Date) error {
	p := Problems{}
	e.Breakthrough, e.Note = strings.TrimSpace(e.Breakthrough), strings.TrimSpace(e.Note)
	switch {
	case e.On.IsZero():
		p.Add("date", "Enter the day.")
	case e.On.After(today):
		p.Add("date", "That day has not come yet.")
	case e.On.Before(today.AddDays(-JournalDaysBack)):
		p.Add("date", fmt.Sprintf("Enter a day within the last %d days.", JournalDaysBack))
	}
	if e.BreakthroughDoses != nil && (*e.BreakthroughDoses < 0 || *e.BreakthroughDoses > MaxBreakthroughDoses) {
		p.Add("breakthrough_doses", fmt.Sprintf("Enter the whole doses you took that day, from 0 to %d.", MaxBreakthroughDoses))
	}
	if e.PEG != nil {
		e.PEG.Validate(p, "peg_")
	}
	if e.Pain < 0 || e.Pain > 10 {
		p.Add("pain", "Choose your pain from 0 (none) to 10 (worst).")
	}
	for _, s := range []struct {
		field string
		v     *int
	}{{"sleep", e.Sleep}, {"mobility", e.Mobility}, {"mood", e.Mood}} {
		if s.v != nil && (*s.v < 0 || *s.v > 10) {
			p.Add(s.field, "Choose from 0 to 10.")
		}
	}
	if utf8.RuneCountInString(e.Breakthrough) > 500 {
		p.Add("breakthrough_medication", "Use at most 500 characters.")
	}
	if utf8.RuneCountInString(e.Note) > 2000 {
		p.Add("note", "Use at most 2,000 characters.")
	}
	return p.Err()
}

// RequestKind is what a patient asks the desk to do with an appointment.
type RequestKind string

const (
	RequestMove   RequestKind = "move"
	RequestCancel RequestKind = "cancel"
)

// Request is a patient's request about an appointment and the desk's answer.
type Request struct {
	ID            int64
	PatientID     int64
	PatientName   string
	AppointmentID int64
	Start         time.Time
	Kind          RequestKind
	Message       string
	Answer        string
	AnsweredAt    *time.Time
	CreatedAt     time.Time
}

// CheckRequest tidies and checks a request's kind and message.
func CheckRequest(kind RequestKind, message string) (string, error) {
	p := Problems{}
	message = strings.TrimSpace(message)
	if kind != RequestMove && kind != RequestCancel {
		p.Add("kind", "Choose whether to move or cancel the appointment.")
	}
	switch n := utf8.RuneCountInString(message); {
	case n == 0:
		p.Add("message", "Tell the desk what you need (for example, which days suit you).")
	case n > 1000:
		p.Add("message", "Use at most 1,000 characters.")
	}
	return message, p.Err()
}
