package server

import (
	"net/http"
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

func newKey() string {
	key, _ := auth.NewToken()
	return key[:32]
}

func fieldMessages(fields map[string]string) []string {
	var out []string
	for _, m := range fields {
		out = append(out, m)
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
