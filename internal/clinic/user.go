package clinic

import (
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// User is a person who signs in: staff or a patient.
type User struct {
	ID         int64      `json:"id"`
	Email      string     `json:"email"`
	Name       string     `json:"name"`
	Role       Role       `json:"role"`
	PatientID  *int64     `json:"patient_id,omitempty"`
	DisabledAt *time.Time `json:"disabled_at,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	Version    int        `json:"version"`
}

// Disabled reports whether the account may no longer sign in.
func (u *User) Disabled() bool { return u.DisabledAt != nil }

// Password length bounds (OWASP ASVS 5.0 level 2: at least 12 characters,
// at least 64 allowed).
const (
	PasswordMinLength = 12
	PasswordMaxLength = 128
)

// NewUser is the input for creating a user.
type NewUser struct {
	Email     string
	Name      string
	Role      string
	Password  string
	PatientID *int64
}

var emailPattern = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)

// NormalizeEmail trims and lower-cases an email address, the form in which
// addresses are stored and compared.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// Validate normalises the input and returns an EINVALID error naming every
// field that is wrong.
func (n *NewUser) Validate() error {
	p := Problems{}
	n.Email = NormalizeEmail(n.Email)
	n.Name = strings.TrimSpace(n.Name)
	switch {
	case n.Email == "":
		p.Add("email", "Enter an email address.")
	case len(n.Email) > 254 || !emailPattern.MatchString(n.Email):
		p.Add("email", "Enter an email address like name@example.com.")
	}
	switch {
	case n.Name == "":
		p.Add("name", "Enter the person's name.")
	case utf8.RuneCountInString(n.Name) > 200:
		p.Add("name", "Use at most 200 characters.")
	}
	p.checkText(map[string]string{"name": n.Name, "email": n.Email}, false)
	role, ok := ParseRole(n.Role)
	if !ok {
		p.Add("role", "Choose one of: admin, front_desk, nurse, physician, patient.")
	}
	if n.PatientID != nil && role != RolePatient {
		p.Add("patient_id", "Only a patient account can be linked to a patient record.")
	}
	if msg := PasswordProblem(n.Password); msg != "" {
		p.Add("password", msg)
	}
	return p.Err()
}

// PasswordProblem describes what is wrong with a new password, or "".
func PasswordProblem(pw string) string {
	n := utf8.RuneCountInString(pw)
	switch {
	case !utf8.ValidString(pw):
		return "The password contains characters that cannot be read."
	case n < PasswordMinLength:
		return "Use at least 12 characters."
	case n > PasswordMaxLength:
		return "Use at most 128 characters."
	}
	return ""
}
