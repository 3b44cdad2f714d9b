package clinic

import (
	"crypto/sha256"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/infusiondesk/infusiondesk/internal/i18n"
	"golang.org/x/text/unicode/norm"
)

// Consent: before a patient's infusion visit is checked in, the patient
// has signed the clinic's current consent form (DOMAIN.md, "Safety
// gates"). The form has versions; a new version supersedes the last, and
// a signature counts for the version, and the very text, it was given on.

// Limits on a consent form.
const (
	MaxConsentTitle = 200
	MaxConsentBody  = 50000
	MaxSignedName   = 200
)

// ConsentForm is one version of the clinic's consent form: its text in
// English and, when the clinic wrote one, in Spanish.
type ConsentForm struct {
	ID        int64
	Version   int
	Title     string
	Body      string
	BodyES    string // "" when the form has no Spanish text
	CreatedAt time.Time
	CreatedBy string
}

// CheckConsentForm tidies and checks a new version's title and texts.
func CheckConsentForm(f *ConsentForm) error {
	f.Title, f.Body, f.BodyES = strings.TrimSpace(f.Title), strings.TrimSpace(f.Body), strings.TrimSpace(f.BodyES)
	p := Problems{}
	switch n := utf8.RuneCountInString(f.Title); {
	case n == 0:
		p.Add("title", "Give the form a title.")
	case n > MaxConsentTitle:
		p.Add("title", fmt.Sprintf("Use at most %d characters.", MaxConsentTitle))
	}
	switch n := utf8.RuneCountInString(f.Body); {
	case n == 0:
		p.Add("body", "Write the text the patient reads and signs.")
	case n > MaxConsentBody:
		p.Add("body", fmt.Sprintf("Use at most %d characters.", MaxConsentBody))
	}
	if utf8.RuneCountInString(f.BodyES) > MaxConsentBody {
		p.Add("body_es", fmt.Sprintf("Use at most %d characters.", MaxConsentBody))
	}
	p.checkText(map[string]string{"title": f.Title}, false)
	p.checkText(map[string]string{"body": f.Body, "body_es": f.BodyES}, true)
	return p.Err()
}

// Text is the form's text a patient reading in lang is shown: the Spanish
// one when there is one, else the English; and the language it is in.
func (f ConsentForm) Text(lang i18n.Lang) (string, i18n.Lang) {
	if lang == i18n.Spanish && f.BodyES != "" {
		return f.BodyES, i18n.Spanish
	}
	return f.Body, i18n.English
}

// TextHash is the SHA-256 of the text shown in lang, with its title: what
// a signature is a signature of.
func (f ConsentForm) TextHash(lang i18n.Lang) []byte {
	text, _ := f.Text(lang)
	h := sha256.Sum256([]byte(f.Title + "\n\n" + text))
	return h[:]
}

// ConsentSignature is a patient's signature of one version of the form.
type ConsentSignature struct {
	ID         int64
	PatientID  int64
	FormID     int64
	Version    int
	Lang       i18n.Lang
	TextSHA256 []byte
	SignedName string
	SignedAt   time.Time
	Address    string
	Via        string // "portal" or "kiosk"
}

// SignatureRequest is what a patient sends to sign: the form and version
// they read and their typed full name.
type SignatureRequest struct {
	FormID     int64
	Version    int
	SignedName string
}

// CheckSignature decides whether a patient (named fullName) may sign now:
// they name the current version (a form superseded while they read it is
// refused, ECONFLICT, so that they read the new one), and type their full
// name as the clinic has it, ignoring case, accents and extra spaces.
func CheckSignature(current *ConsentForm, req *SignatureRequest, fullName string) error {
	req.SignedName = strings.Join(strings.Fields(req.SignedName), " ")
	if current == nil {
		return Errorf(ENOTFOUND, "The clinic has no consent form to sign.")
	}
	if req.FormID != current.ID || req.Version != current.Version {
		return Errorf(ECONFLICT, "The consent form has changed since you opened it. Read the current version and sign it.")
	}
	p := Problems{}
	switch n := utf8.RuneCountInString(req.SignedName); {
	case n == 0:
		p.Add("signed_name", "Type your full name to sign.")
	case n > MaxSignedName:
		p.Add("signed_name", fmt.Sprintf("Use at most %d characters.", MaxSignedName))
	case foldName(req.SignedName) != foldName(fullName):
		p.Add("signed_name", "Type your full name exactly as the clinic has it (shown above the box).")
	}
	p.checkText(map[string]string{"signed_name": req.SignedName}, false)
	return p.Err()
}

// foldName is a name for comparing: lower case, without accents, one
// space between words.
func foldName(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(strings.ToLower(strings.Join(strings.Fields(s), " "))) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// ConsentGate decides whether consent lets an infusion visit be checked
// in: yes when the clinic has no consent form, or when the patient signed
// its current version (that version's text, in the language they read).
// A signature of an older version does not count. Otherwise EINVALID with
// field "consent" and ReasonConsentMissing.
func ConsentGate(kind AppointmentKind, current *ConsentForm, signatures []ConsentSignature) error {
	if !kind.Infusion() || current == nil {
		return nil
	}
	older := false
	for _, s := range signatures {
		if s.FormID == current.ID && s.Version == current.Version && string(s.TextSHA256) == string(current.TextHash(s.Lang)) {
			return nil
		}
		older = older || s.Version < current.Version
	}
	msg := fmt.Sprintf("The patient has not signed the consent form (%s, version %d). An infusion starts only with it signed: "+
		"the patient signs it in the portal or on the desk's tablet.", current.Title, current.Version)
	if older {
		msg = fmt.Sprintf("The patient signed an earlier version of the consent form; version %d of %s is current and must be signed "+
			"before an infusion: in the portal or on the desk's tablet.", current.Version, current.Title)
	}
	return &Error{Code: EINVALID, Reason: ReasonConsentMissing, Message: msg,
		Fields: map[string]string{"consent": "The patient must sign the current consent form first."}}
}
