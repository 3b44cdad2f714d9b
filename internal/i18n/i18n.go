// Package i18n is how patient-facing words, dates and times are written in
// the patient's language and the clinic's style: a golang.org/x/text
// message catalog (English keys, Spanish translations in es.json, plurals
// through x/text's plural rules) and the date and clock forms a clinic
// chooses (12- or 24-hour clock, day or month first).
//
// x/text has no date formatting, so the few date forms the product uses
// are written here from the month and weekday names of each language.
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"sort"
	"sync"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/message/catalog"
)

// Lang is a patient's language.
type Lang string

// The languages patients may choose.
const (
	English Lang = "en"
	Spanish Lang = "es"
)

// Langs are the languages offered, in the order a form lists them.
var Langs = []Lang{English, Spanish}

// ParseLang reads a language code; ok is false for one not offered.
func ParseLang(s string) (Lang, bool) {
	switch Lang(s) {
	case English, Spanish:
		return Lang(s), true
	}
	return English, false
}

// Name is the language in its own words, as a language chooser shows it.
func (l Lang) Name() string {
	if l == Spanish {
		return "Español"
	}
	return "English"
}

func (l Lang) tag() language.Tag {
	if l == Spanish {
		return language.Spanish
	}
	return language.English
}

//go:embed es.json
var files embed.FS

// entry is one translation in es.json, in the shape of x/text's gotext
// files: the English message as its id, and its translation.
type entry struct {
	ID          string `json:"id"`
	Translation string `json:"translation"`
}

var cat = sync.OnceValues(func() (*catalog.Builder, map[string]bool) {
	b := catalog.NewBuilder(catalog.Fallback(language.English))
	known := map[string]bool{}
	raw, err := files.ReadFile("es.json")
	if err != nil {
		panic(err)
	}
	var doc struct {
		Messages []entry `json:"messages"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		panic(fmt.Sprintf("i18n: es.json: %v", err))
	}
	for _, e := range doc.Messages {
		if err := b.SetString(language.Spanish, e.ID, e.Translation); err != nil {
			panic(fmt.Sprintf("i18n: %q: %v", e.ID, err))
		}
		known[e.ID] = true
	}
	for _, p := range plurals {
		for lang, forms := range p.forms {
			if err := b.Set(lang.tag(), p.id, forms); err != nil {
				panic(fmt.Sprintf("i18n: %q: %v", p.id, err))
			}
		}
		known[p.id] = true
	}
	return b, known
})

var (
	printers sync.Map // Lang → *message.Printer
	missing  sync.Map // keys asked for in Spanish with no translation
)

func printer(l Lang) *message.Printer {
	if p, ok := printers.Load(l); ok {
		return p.(*message.Printer)
	}
	b, _ := cat()
	p, _ := printers.LoadOrStore(l, message.NewPrinter(l.tag(), message.Catalog(b)))
	return p.(*message.Printer)
}

// T writes the message key (an English format string) in the language,
// with args; a key with no translation is written in English (and noted:
// Missing).
func (l Lang) T(key string, args ...any) string {
	if l == Spanish {
		if _, known := cat(); !known[key] {
			missing.Store(key, true)
		}
	}
	return printer(l).Sprintf(key, args...)
}

// Missing is every key asked for in Spanish that has no translation, in
// order: a test renders the Spanish pages and messages and wants none.
func Missing() []string {
	var out []string
	missing.Range(func(k, _ any) bool { out = append(out, k.(string)); return true })
	sort.Strings(out)
	return out
}

// Text is s, a whole message made elsewhere (a notice, a title, a form's
// message), in the language: as it is in English, and — when the catalog
// has it — translated. Unlike T it never formats, so text holding a "%"
// (a name) comes through whole.
func (l Lang) Text(s string) string {
	if l != Spanish || s == "" {
		return s
	}
	if _, known := cat(); !known[s] {
		missing.Store(s, true)
		return s
	}
	return printer(l).Sprintf(s)
}
