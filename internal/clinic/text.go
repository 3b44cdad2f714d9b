package clinic

import (
	"fmt"
	"unicode"
)

// Limits on text read from people, checked before anything is hashed,
// looked up or stored.
const (
	MaxEmail    = 254 // RFC 5321's path limit
	MaxPassword = 128
)

// TextProblem says what makes s unfit to store as text a person typed, or
// "" when nothing does: control characters (tab and line breaks are
// allowed in free text, multiline) and the invisible bidirectional
// controls (U+202A–U+202E, U+2066–U+2069, U+200E/U+200F, U+061C) that make
// a name display as something other than what it is.
func TextProblem(s string, multiline bool) string {
	for _, r := range s {
		switch {
		case multiline && (r == '\t' || r == '\n' || r == '\r'):
		case bidiControl(r):
			return fmt.Sprintf("Remove the invisible direction mark (U+%04X): it makes text display as something it is not.", r)
		case unicode.IsControl(r):
			return fmt.Sprintf("Remove the control character (U+%04X).", r)
		}
	}
	return ""
}

func bidiControl(r rune) bool {
	return r >= 0x202A && r <= 0x202E || r >= 0x2066 && r <= 0x2069 || r == 0x200E || r == 0x200F || r == 0x061C
}

// checkText adds a problem for each named one-line field whose text is
// unfit (TextProblem).
func (p Problems) checkText(fields map[string]string, multiline bool) {
	for field, value := range fields {
		if msg := TextProblem(value, multiline); msg != "" {
			p.Add(field, msg)
		}
	}
}
