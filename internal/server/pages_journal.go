package server

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/web"
)

func (s *Server) portalJournal(w http.ResponseWriter, r *http.Request) {
	s.renderJournal(w, r, http.StatusOK, nil, nil)
}

func (s *Server) renderJournal(w http.ResponseWriter, r *http.Request, status int, form, fields map[string]string) {
	id, ok := s.portalPatient(w, r)
	if !ok {
		return
	}
	_, loc := s.clinicInfo(r.Context())
	today := clinic.DateOf(s.now(), loc)
	entries, err := s.db.Journal(r.Context(), id, today.AddDays(-89))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if form == nil {
		form = map[string]string{"date": today.String()}
	}
	if fields == nil {
		fields = map[string]string{}
	}
	v := web.JournalView{Entries: entries, Chart: web.NewJournalChart(s.pageContext(r), entries, today), Form: form, Fields: fields, Today: today, Notice: portalNotice(r),
		PEGDue: pegDue(entries, today)}
	s.render(w, r, status, web.JournalPage(s.meta(r, "My journal", "/portal/journal"), v))
}

func (s *Server) portalAddJournal(w http.ResponseWriter, r *http.Request) {
	id, ok := s.portalPatient(w, r)
	if !ok {
		return
	}
	form := map[string]string{}
	for _, k := range []string{"date", "pain", "sleep", "mobility", "mood", "breakthrough_medication", "breakthrough_doses",
		"peg_pain", "peg_enjoyment", "peg_activity", "note"} {
		form[k] = r.PostFormValue(k)
	}
	e, problems := journalFromForm(form)
	err := problems.Err()
	if err == nil {
		_, err = s.db.AddJournal(r.Context(), id, e, s.now())
	}
	s.answerInvalid(w, r, err, "/portal/journal?done=journal", func(p refusal) {
		s.renderJournal(w, r, p.Status, form, p.Fields)
	})
}

// journalFromForm reads the journal form (scores as 0–10 choices).
func journalFromForm(form map[string]string) (clinic.JournalEntry, clinic.Problems) {
	p := clinic.Problems{}
	e := clinic.JournalEntry{Breakthrough: form["breakthrough_medication"], Note: form["note"]}
	var err error
	if e.On, err = clinic.ParseDate(strings.TrimSpace(form["date"])); err != nil {
		p.Add("date", "Enter the day.")
	}
	if e.Pain, err = strconv.Atoi(form["pain"]); err != nil {
		p.Add("pain", "Choose your pain from 0 (none) to 10 (worst).")
	}
	score := func(k string) *int {
		if form[k] == "" {
			return nil
		}
		n, err := strconv.Atoi(form[k])
		if err != nil {
			p.Add(k, "Choose from 0 to 10.")
			return nil
		}
		return &n
	}
	e.Sleep, e.Mobility, e.Mood = score("sleep"), score("mobility"), score("mood")
	if v := strings.TrimSpace(form["breakthrough_doses"]); v != "" {
		if n, err := strconv.Atoi(v); err != nil {
			p.Add("breakthrough_doses", "Enter the whole doses you took that day, like 2.")
		} else {
			e.BreakthroughDoses = &n
		}
	}
	e.PEG = pegOf(score("peg_pain"), score("peg_enjoyment"), score("peg_activity"), p, "Answer all three weekly questions, or none of them.")
	return e, p
}

// pegDue reports whether the weekly PEG questions are due: no entry of the
// last seven days answered them.
func pegDue(entries []clinic.JournalEntry, today clinic.Date) bool {
	for _, e := range entries {
		if e.PEG != nil && today.DaysSince(e.On) < 7 {
			return false
		}
	}
	return true
}
