package server

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/web"
)

// portalRequest sends a request to move or cancel one of the patient's
// own appointments.
func (s *Server) portalRequest(w http.ResponseWriter, r *http.Request) {
	id, ok := s.portalPatient(w, r)
	if !ok {
		return
	}
	appt, _ := strconv.ParseInt(r.PostFormValue("appointment_id"), 10, 64)
	_, err := s.db.CreateRequest(r.Context(), id, appt, clinic.RequestKind(r.PostFormValue("kind")), r.PostFormValue("message"), s.now())
	s.answerForm(w, r, err, "/portal?done=request", func(p refusal) {
		s.renderPortal(w, r, p.Status, strings.Join(append([]string{p.Message}, fieldMessages(p.Fields)...), " "))
	})
}

func (s *Server) deskRequests(w http.ResponseWriter, r *http.Request) {
	s.renderRequests(w, r, http.StatusOK, "")
}

func (s *Server) renderRequests(w http.ResponseWriter, r *http.Request, status int, message string) {
	reqs, err := s.db.Requests(r.Context(), nil)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	_, loc := s.clinicInfo(r.Context())
	v := web.DeskRequestsView{Requests: reqs, Loc: loc, Message: message}
	v.Notice = notices{"answered": "The answer was sent."}.of(r)
	s.render(w, r, status, web.DeskRequests(s.meta(r, "Requests", "/desk/requests"), v))
}

func (s *Server) deskAnswerRequest(w http.ResponseWriter, r *http.Request) {
	id, err := urlID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	err = s.db.AnswerRequest(r.Context(), id, r.PostFormValue("answer"), s.now())
	s.answerForm(w, r, err, "/desk/requests?done=answered", func(p refusal) {
		s.renderRequests(w, r, p.Status, p.about("answer"))
	})
}
