package clinic

import (
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
	Note         string `json:"note"`
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
	case e.On.Before(today.AddDays(-365)):
		p.Add("date", "Enter a day within the last year.")
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
