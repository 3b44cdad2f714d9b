package server

// Helpers the pages share to read forms and answer them.

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/infusiondesk/infusiondesk/internal/auth"
	"github.com/infusiondesk/infusiondesk/internal/clinic"
)

func (s *Server) today(r *http.Request) clinic.Date {
	_, loc := s.clinicInfo(r.Context())
	return clinic.DateOf(s.now(), loc)
}

// startFromForm reads the date and time fields, in clinic time.
func startFromForm(date, clock string, loc *time.Location) (time.Time, map[string]string) {
	p := clinic.Problems{}
	d, err := clinic.ParseDate(strings.TrimSpace(date))
	if err != nil {
		p.Add("date", "Enter a date.")
	}
	c, err := clinic.ParseClock(strings.TrimSpace(clock))
	if err != nil {
		p.Add("time", "Enter a time like 09:00.")
	}
	if len(p) > 0 {
		return time.Time{}, p
	}
	start, err := clinic.LocalStart(d, c, loc)
	return start, clinic.ErrorFields(err)
}

func optionalID(s string) (int64, bool) {
	if strings.TrimSpace(s) == "" {
		return 0, true
	}
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil && id > 0
}

func urlID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, clinic.Errorf(clinic.ENOTFOUND, "There is no such record.")
	}
	return id, nil
}

// newKey is a fresh idempotency key for a form shown.
func newKey() string {
	key, _ := auth.NewToken()
	return key[:32]
}

func fieldMessages(fields map[string]string) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		out = append(out, fields[k])
	}
	return out
}

// postedID reads the record id in the path and the posted form; false when
// either cannot be read (the answer is sent).
func (s *Server) postedID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := urlID(r)
	if err != nil {
		s.fail(w, r, err)
		return 0, false
	}
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, clinic.Errorf(clinic.EMALFORMED, "The form could not be read."))
		return 0, false
	}
	return id, true
}

func isFormError(err error) bool {
	code := clinic.ErrorCode(err)
	return code == clinic.EINVALID || code == clinic.ECONFLICT
}

// refusal is an answer the person can mend by changing their input:
// invalid input or a conflict with what is booked.
type refusal struct {
	Code         string // clinic.EINVALID or clinic.ECONFLICT
	Status       int
	Message      string
	Fields       map[string]string   // a message per field; never nil
	Alternatives []clinic.Slot       // free slots offered instead of one just taken
	Existing     *clinic.Appointment // the appointment in the way
}

// refusalOf is err as a refusal; false for any other error (and nil).
func refusalOf(err error) (refusal, bool) {
	if !isFormError(err) {
		return refusal{}, false
	}
	p := refusal{Code: clinic.ErrorCode(err), Message: clinic.ErrorMessage(err), Fields: clinic.ErrorFields(err), Alternatives: clinic.ErrorAlternatives(err)}
	p.Status, _ = httpStatus(clinic.ErrorCode(err))
	if p.Fields == nil {
		p.Fields = map[string]string{}
	}
	var e *clinic.Error
	if errors.As(err, &e) {
		p.Existing = e.Existing
	}
	return p, true
}

// answerForm answers a posted form: with err nil, a redirect to done
// (303: the browser then GETs it); a refusal re-renders the form through
// again, which puts back the person's input with the message and a
// message per field; any other error fails the request.
func (s *Server) answerForm(w http.ResponseWriter, r *http.Request, err error, done string, again func(refusal)) {
	if err == nil {
		http.Redirect(w, r, done, http.StatusSeeOther)
		return
	}
	if p, ok := refusalOf(err); ok {
		again(p)
		return
	}
	s.fail(w, r, err)
}

// answerInvalid is answerForm for a form whose conflicts are not the
// person's to mend: only invalid input re-renders it.
func (s *Server) answerInvalid(w http.ResponseWriter, r *http.Request, err error, done string, again func(refusal)) {
	if clinic.ErrorCode(err) == clinic.ECONFLICT {
		s.fail(w, r, err)
		return
	}
	s.answerForm(w, r, err, done, again)
}

// about is what the refusal says about field, else its message: for a
// page that shows one line instead of the field.
func (p refusal) about(field string) string {
	if m := p.Fields[field]; m != "" {
		return m
	}
	return p.Message
}

// notices are the fixed texts a page shows after a redirect names what
// was done (?done=…): nothing the person typed travels in a URL.
type notices map[string]string

// of is the notice the request asks for; "" for none.
func (n notices) of(r *http.Request) string { return n[r.URL.Query().Get("done")] }

// read loads what a page shows in one store transaction: every store call
// load makes (through the request it is given) joins it
// (postgres.DB.View). Handlers are then parse → read → render.
func (s *Server) read(r *http.Request, load func(r *http.Request) error) error {
	return s.db.View(r.Context(), func(ctx context.Context) error { return load(r.WithContext(ctx)) })
}
