package i18n

import (
	"golang.org/x/text/feature/plural"
	"golang.org/x/text/message/catalog"
)

// pluralEntry is a message whose words depend on a number, in each
// language by x/text's plural rules (CLDR).
type pluralEntry struct {
	id    string
	forms map[Lang]catalog.Message
}

func counted(id, enOne, enOther, esOne, esOther string) pluralEntry {
	return pluralEntry{id: id, forms: map[Lang]catalog.Message{
		English: plural.Selectf(1, "%d", "one", enOne, "other", enOther),
		Spanish: plural.Selectf(1, "%d", "one", esOne, "other", esOther),
	}}
}

var plurals = []pluralEntry{
	counted("%d infusion visits", "%d infusion visit", "%d infusion visits", "%d visita de infusión", "%d visitas de infusión"),
	counted("%d entries", "%d entry", "%d entries", "%d entrada", "%d entradas"),
	counted("%d hours", "%d hour", "%d hours", "%d hora", "%d horas"),
	counted("%d minutes", "%d minute", "%d minutes", "%d minuto", "%d minutos"),
}
