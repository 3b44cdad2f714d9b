package server

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/infusiondesk/infusiondesk/internal/auth"
	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/postgres"
	"github.com/infusiondesk/infusiondesk/web"
)

// visitLinkPage shows the visit behind a link, without signing in.
func (s *Server) visitLinkPage(w http.ResponseWriter, r *http.Request) {
	v, err := s.db.OpenVisitLink(r.Context(), auth.HashToken(chi.URLParam(r, "token")), s.now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	speak(r, v.Lang)
	s.render(w, r, http.StatusOK, web.VisitLinkPage(s.meta(r, "Your visit", ""), visitLinkView(v)))
}

// visitLinkAction is the patient's answer: action=confirm or action=cancel.
func (s *Server) visitLinkAction(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, clinic.Errorf(clinic.EMALFORMED, "The form could not be read."))
		return
	}
	hash := auth.HashToken(chi.URLParam(r, "token"))
	var v postgres.VisitLink
	var err error
	notice := ""
	switch r.PostForm.Get("action") {
	case "confirm":
		v, err = s.db.ConfirmByLink(r.Context(), hash, s.now())
		notice = "Thank you: your visit is confirmed."
	case "cancel":
		v, err = s.db.CancelByLink(r.Context(), hash, s.now())
		notice = "Your visit is cancelled and its time offered to another patient. Call us to book a new one."
		if v.Kind == clinic.KindLoading {
			notice = "Thank you for telling us. This visit is one of a series, so the desk will call you to move it and the ones after it."
		}
	default:
		err = clinic.Errorf(clinic.EINVALID, "Choose whether you will come or not.")
	}
	if err != nil {
		code := clinic.ErrorCode(err)
		if code != clinic.ECONFLICT && code != clinic.EINVALID {
			s.fail(w, r, err)
			return
		}
		// Show the visit as it stands, with why nothing changed.
		cur, oerr := s.db.OpenVisitLink(r.Context(), hash, s.now())
		if oerr != nil {
			s.fail(w, r, oerr)
			return
		}
		speak(r, cur.Lang)
		view := visitLinkView(cur)
		view.Message = clinic.ErrorMessage(err)
		status, _ := httpStatus(code)
		s.render(w, r, status, web.VisitLinkPage(s.meta(r, "Your visit", ""), view))
		return
	}
	speak(r, v.Lang)
	view := visitLinkView(v)
	view.Notice = notice
	s.render(w, r, http.StatusOK, web.VisitLinkPage(s.meta(r, "Your visit", ""), view))
}

func visitLinkView(v postgres.VisitLink) web.VisitLinkView {
	return web.VisitLinkView{ClinicName: v.Clinic.Name, ClinicPhone: v.Clinic.Phone, ClinicAddress: v.Clinic.Address,
		Kind: v.Kind, Status: v.Status, Start: v.Start, End: v.End, Loc: v.Loc, Confirmed: v.ConfirmedAt != nil, CancelAsked: v.CancelAsked}
}

// deskFailedMessages lists the messages that could not be sent.
func (s *Server) deskFailedMessages(w http.ResponseWriter, r *http.Request) {
	s.renderFailedMessages(w, r, http.StatusOK, "")
}

func (s *Server) renderFailedMessages(w http.ResponseWriter, r *http.Request, status int, message string) {
	ms, err := s.db.FailedMessages(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	_, loc := s.clinicInfo(r.Context())
	v := web.FailedMessagesView{Messages: ms, Loc: loc, Message: message}
	v.Notice = notices{"retried": "The message is being sent again."}.of(r)
	s.render(w, r, status, web.FailedMessages(s.meta(r, "Messages that failed", "/desk/messages"), v))
}

func (s *Server) deskRetryMessage(w http.ResponseWriter, r *http.Request) {
	id, err := urlID(r)
	if err == nil {
		err = s.db.RetryMessage(r.Context(), id)
	}
	if clinic.ErrorCode(err) == clinic.ECONFLICT {
		s.renderFailedMessages(w, r, http.StatusConflict, clinic.ErrorMessage(err))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	back := "/desk/messages?done=retried"
	if ref, err := url.Parse(r.Referer()); err == nil && strings.HasPrefix(ref.Path, "/desk/appointments/") {
		back = ref.Path
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}
