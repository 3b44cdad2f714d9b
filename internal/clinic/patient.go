package clinic

import (
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/infusiondesk/infusiondesk/internal/i18n"
)

// Condition is the pain condition a patient is treated for.
type Condition string

const (
	ConditionCRPS         Condition = "crps"
	ConditionNeuropathic  Condition = "neuropathic"
	ConditionFibromyalgia Condition = "fibromyalgia"
	ConditionOther        Condition = "other"
)

// Label is the condition's name as clinicians write it.
func (c Condition) Label() string {
	switch c {
	case ConditionCRPS:
		return "CRPS"
	case ConditionNeuropathic:
		return "Neuropathic pain"
	case ConditionFibromyalgia:
		return "Fibromyalgia"
	case ConditionOther:
		return "Other"
	}
	return string(c)
}

// Patient is a person treated at the clinic.
type Patient struct {
	ID          int64     `json:"id"`
	MRN         string    `json:"mrn"`
	FirstName   string    `json:"first_name"`
	LastName    string    `json:"last_name"`
	DateOfBirth Date      `json:"date_of_birth"`
	Phone       string    `json:"phone"`
	Email       string    `json:"email"`
	WeightKg    *float64  `json:"weight_kg"`
	Condition   Condition `json:"condition"`
	DriverName  string    `json:"driver_name"`
	DriverPhone string    `json:"driver_phone"`
	Notes       string    `json:"notes"`
	// ContactBy are the channels the patient gets messages on; empty for
	// none. Left nil, Validate chooses every channel the patient has
	// details for.
	ContactBy []Channel `json:"contact_by"`
	// SMSOptedOut is when the patient texted STOP; nil while texts are on.
	SMSOptedOut *time.Time `json:"sms_opted_out_at"`
	// Language is what the portal, the patient's links and every message
	// to them are written in ("en" or "es"; left empty, English).
	Language i18n.Lang `json:"language"`
	Version  int       `json:"version"`
}

// FullName is "First Last".
func (p Patient) FullName() string { return p.FirstName + " " + p.LastName }

// ParseCondition reads a condition.
func ParseCondition(s string) (Condition, bool) {
	switch c := Condition(s); c {
	case ConditionCRPS, ConditionNeuropathic, ConditionFibromyalgia, ConditionOther:
		return c, true
	}
	return "", false
}

// Conditions lists the conditions in the order they are offered.
var Conditions = []Condition{ConditionCRPS, ConditionNeuropathic, ConditionFibromyalgia, ConditionOther}

var phonePattern = regexp.MustCompile(`^[0-9 ()+.\-/x]{7,40}$`)

// Validate tidies the patient's fields and names every field that is wrong.
// today is the clinic's date, for "born in the future".
func (p *Patient) Validate(today Date) error {
	pr := Problems{}
	trim := func(s *string) { *s = strings.TrimSpace(*s) }
	for _, s := range []*string{&p.FirstName, &p.LastName, &p.Phone, &p.Email, &p.DriverName, &p.DriverPhone} {
		trim(s)
	}
	p.Notes = strings.TrimSpace(p.Notes)
	name := func(field, value, what string) {
		switch n := utf8.RuneCountInString(value); {
		case n == 0:
			pr.Add(field, "Enter the patient's "+what+".")
		case n > 100:
			pr.Add(field, "Use at most 100 characters.")
		}
	}
	name("first_name", p.FirstName, "first name")
	name("last_name", p.LastName, "last name")
	switch {
	case p.DateOfBirth.IsZero():
		pr.Add("date_of_birth", "Enter the date of birth.")
	case p.DateOfBirth.After(today):
		pr.Add("date_of_birth", "The date of birth is in the future.")
	case p.DateOfBirth.Before(D(1900, 1, 1)):
		pr.Add("date_of_birth", "Enter a date of birth after 1900.")
	}
	if p.Phone != "" {
		if e164, err := NormalizePhone(p.Phone); err != nil {
			pr.Add("phone", "Enter a phone number with its area code, e.g. (602) 555-0142, or an international number starting with +.")
		} else {
			p.Phone = e164
		}
	}
	if p.DriverPhone != "" && !phonePattern.MatchString(p.DriverPhone) {
		pr.Add("driver_phone", "Enter a phone number of digits, spaces and ( ) + - only.")
	}
	if p.Email != "" && (len(p.Email) > 254 || !emailPattern.MatchString(p.Email)) {
		pr.Add("email", "Enter an email address like name@example.com, or leave it empty.")
	}
	if p.WeightKg != nil && (*p.WeightKg < 2 || *p.WeightKg > 350) {
		pr.Add("weight_kg", "Enter the weight in kilograms, between 2 and 350.")
	}
	if _, ok := ParseCondition(string(p.Condition)); !ok {
		pr.Add("condition", "Choose CRPS, neuropathic pain, fibromyalgia or other.")
	}
	if utf8.RuneCountInString(p.DriverName) > 200 {
		pr.Add("driver_name", "Use at most 200 characters.")
	}
	if utf8.RuneCountInString(p.Notes) > 10000 {
		pr.Add("notes", "Use at most 10,000 characters.")
	}
	pr.checkText(map[string]string{"first_name": p.FirstName, "last_name": p.LastName, "phone": p.Phone, "email": p.Email,
		"driver_name": p.DriverName, "driver_phone": p.DriverPhone}, false)
	pr.checkText(map[string]string{"notes": p.Notes}, true)
	p.ContactBy = contactBy(p.ContactBy, p.Email, p.Phone, pr)
	if p.Language == "" {
		p.Language = i18n.English
	} else if _, ok := i18n.ParseLang(string(p.Language)); !ok {
		pr.Add("language", "Choose English (en) or Spanish (es).")
	}
	return pr.Err()
}

// contactBy tidies the patient's channels: nil means every channel there
// are details for; a channel without its detail is a mistake to name.
func contactBy(chosen []Channel, email, phone string, pr Problems) []Channel {
	if chosen == nil {
		chosen = []Channel{}
		if email != "" {
			chosen = append(chosen, ChannelEmail)
		}
		if phone != "" {
			chosen = append(chosen, ChannelSMS)
		}
		return chosen
	}
	out := []Channel{}
	for _, c := range []Channel{ChannelEmail, ChannelSMS} {
		if slices.Contains(chosen, c) {
			out = append(out, c)
		}
	}
	for _, c := range chosen {
		if c != ChannelEmail && c != ChannelSMS {
			pr.Add("contact_by", "Choose from email and sms.")
		}
	}
	if slices.Contains(out, ChannelEmail) && email == "" {
		pr.Add("contact_by", "Enter an email address to send messages by email.")
	}
	if slices.Contains(out, ChannelSMS) && phone == "" {
		pr.Add("contact_by", "Enter a phone number to send text messages.")
	}
	return out
}

// PatientQuery is what a search for patients asks: a date of birth, a
// medical record number, or words that each begin a first or last name.
type PatientQuery struct {
	DateOfBirth *Date
	MRN         string
	Phone       string   // the number's last (up to) ten digits; with MRN, either matches
	Words       []string // lower-case
}

// maxQuery is the longest search the store is asked for (first and last
// name, each at most 100 characters, and a space).
const maxQuery = 201

var mrnPattern = regexp.MustCompile(`^(?i:mrn)?-?\d{3,}$`)

// ParsePatientQuery reads a search box: "1961-04-02" or "04/02/1961" is a
// date of birth, "MRN100028" or "100028" a record number, anything else
// name words ("mar alv" finds Maria Alvarez).
func ParsePatientQuery(q string) PatientQuery {
	q = strings.TrimSpace(q)
	if r := []rune(q); len(r) > maxQuery {
		q = string(r[:maxQuery]) // no name is longer: the rest cannot match
	}
	if d, err := ParseDate(q); err == nil {
		return PatientQuery{DateOfBirth: &d}
	}
	if t, err := time.Parse("01/02/2006", q); err == nil {
		d := DateOf(t, time.UTC)
		return PatientQuery{DateOfBirth: &d}
	}
	digits, phone := phoneDigits(q)
	switch mrn := mrnPattern.MatchString(q); {
	case phone && mrn: // digits alone: either
		return PatientQuery{MRN: strings.ToUpper(q), Phone: digits}
	case phone:
		return PatientQuery{Phone: digits}
	case mrn:
		return PatientQuery{MRN: strings.ToUpper(q)}
	}
	var words []string
	for _, w := range strings.FieldsFunc(strings.ToLower(q), func(r rune) bool { return r == ' ' || r == ',' }) {
		if len(words) < 5 {
			words = append(words, w)
		}
	}
	return PatientQuery{Words: words}
}

// Empty reports whether the query asks for nothing.
func (q PatientQuery) Empty() bool {
	return q.DateOfBirth == nil && q.MRN == "" && q.Phone == "" && len(q.Words) == 0
}

// phoneDigits reads q as a phone number: 7 to 15 digits, written with
// nothing but spaces, dashes, dots, brackets and a leading +. It answers
// the last ten digits (a US number with or without its 1, or the local
// part of another). Record numbers have six digits.
func phoneDigits(q string) (string, bool) {
	var digits []rune
	for i, r := range q {
		switch {
		case r >= '0' && r <= '9':
			digits = append(digits, r)
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')' || r == '+' && i == 0:
		default:
			return "", false
		}
	}
	if len(digits) < 7 || len(digits) > 15 {
		return "", false
	}
	if len(digits) > 10 {
		digits = digits[len(digits)-10:]
	}
	return string(digits), true
}
