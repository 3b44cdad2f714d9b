package clinic

import (
	"testing"

	"github.com/infusiondesk/infusiondesk/internal/i18n"
)

func TestConsentGate(t *testing.T) {
	v1 := &ConsentForm{ID: 1, Version: 1, Title: "Consent to ketamine infusion", Body: "I understand …"}
	v2 := &ConsentForm{ID: 2, Version: 2, Title: "Consent to ketamine infusion", Body: "I understand, and also …", BodyES: "Entiendo, y también …"}
	signed := func(f *ConsentForm, lang i18n.Lang) ConsentSignature {
		return ConsentSignature{FormID: f.ID, Version: f.Version, Lang: lang, TextSHA256: f.TextHash(lang)}
	}
	tampered := signed(v2, i18n.English)
	tampered.TextSHA256 = v1.TextHash(i18n.English)
	tests := []struct {
		name    string
		kind    AppointmentKind
		current *ConsentForm
		signed  []ConsentSignature
		refused string // "" when allowed, else the start of the message
	}{
		{"no form: nothing to sign", KindMaintenance, nil, nil, ""},
		{"a consultation needs none", KindConsult, v2, nil, ""},
		{"never signed", KindLoading, v2, nil, "The patient has not signed"},
		{"signed the current version", KindMaintenance, v2, []ConsentSignature{signed(v1, i18n.English), signed(v2, i18n.English)}, ""},
		{"signed the current version in Spanish", KindMaintenance, v2, []ConsentSignature{signed(v2, i18n.Spanish)}, ""},
		{"signed an older version only", KindMaintenance, v2, []ConsentSignature{signed(v1, i18n.English)}, "The patient signed an earlier version"},
		{"a signature of other words", KindMaintenance, v2, []ConsentSignature{tampered}, "The patient has not signed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ConsentGate(tt.kind, tt.current, tt.signed)
			switch {
			case tt.refused == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.refused != "" && (ErrorFields(err)["consent"] == "" || ErrorReason(err) != ReasonConsentMissing ||
				len(ErrorMessage(err)) < len(tt.refused) || ErrorMessage(err)[:len(tt.refused)] != tt.refused):
				t.Errorf("got %v; want a refusal on consent starting %q", err, tt.refused)
			}
		})
	}
}

func TestCheckSignature(t *testing.T) {
	v2 := &ConsentForm{ID: 2, Version: 2, Title: "Consent", Body: "…"}
	tests := []struct {
		name    string
		current *ConsentForm
		req     SignatureRequest
		code    string
		field   string
	}{
		{"the current version, the name as on file", v2, SignatureRequest{2, 2, "José  Álvarez"}, "", ""},
		{"case and accents do not matter", v2, SignatureRequest{2, 2, "jose alvarez"}, "", ""},
		{"a superseded version", v2, SignatureRequest{1, 1, "José Álvarez"}, ECONFLICT, ""},
		{"the right form, a wrong version", v2, SignatureRequest{2, 1, "José Álvarez"}, ECONFLICT, ""},
		{"no name", v2, SignatureRequest{2, 2, " "}, EINVALID, "signed_name"},
		{"another name", v2, SignatureRequest{2, 2, "Maria Lopez"}, EINVALID, "signed_name"},
		{"no form at all", nil, SignatureRequest{2, 2, "José Álvarez"}, ENOTFOUND, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckSignature(tt.current, &tt.req, "José Álvarez")
			if got := ErrorCode(err); err != nil && got != tt.code || err == nil && tt.code != "" {
				t.Fatalf("CheckSignature() = %v; want code %q", err, tt.code)
			}
			if tt.field != "" && ErrorFields(err)[tt.field] == "" {
				t.Errorf("no problem with %s: %v", tt.field, err)
			}
		})
	}
}

func TestCheckConsentForm(t *testing.T) {
	f := ConsentForm{Title: "  ", Body: ""}
	if err := CheckConsentForm(&f); ErrorFields(err)["title"] == "" || ErrorFields(err)["body"] == "" {
		t.Errorf("an empty form: %v", err)
	}
	f = ConsentForm{Title: " Consent ", Body: "Line one.\nLine two."}
	if err := CheckConsentForm(&f); err != nil || f.Title != "Consent" {
		t.Errorf("a form: %v %+v", err, f)
	}
	if text, lang := f.Text(i18n.Spanish); lang != i18n.English || text != f.Body {
		t.Errorf("a form without Spanish shows a Spanish reader %q (%s)", text, lang)
	}
}
