package server

import (
	"net/http"
	"strconv"

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
	switch clinic.ErrorCode(err) {
	case "":
		http.Redirect(w, r, "/portal?done=request", http.StatusSeeOther)
	case clinic.EINVALID, clinic.ECONFLICT:
		msg := clinic.ErrorMessage(err)
		for _, m := range clinic.ErrorFields(err) {
			msg += " " + m
		}
		status, _ := httpStatus(clinic.ErrorCode(err))
		s.renderPortal(w, r, status, msg)
	default:
		s.fail(w, r, err)
	}
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
	if r.URL.Query().Get("done") == "answered" {
		v.Notice = "The answer was sent."
	}
	s.render(w, r, status, web.DeskRequests(s.meta(r, "Requests", "/desk/requests"), v))
}

func (s *Server) deskAnswerRequest(w http.ResponseWriter, r *http.Request) {
	id, err := urlID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	err = s.db.AnswerRequest(r.Context(), id, r.PostFormValue("answer"), s.now())
	switch clinic.ErrorCode(err) {
	case "":
		http.Redirect(w, r, "/desk/requests?done=answered", http.StatusSeeOther)
	case clinic.EINVALID, clinic.ECONFLICT:
		msg := clinic.ErrorMessage(err)
		if f := clinic.ErrorFields(err); f["answer"] != "" {
			msg = f["answer"]
		}
		status, _ := httpStatus(clinic.ErrorCode(err))
		s.renderRequests(w, r, status, msg)
	default:
		s.fail(w, r, err)
	}
}
