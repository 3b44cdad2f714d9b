package server

import (
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/infusiondesk/infusiondesk/internal/auth"
	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/web"
)

// invitePage is the page behind an invitation link (public).
func (s *Server) invitePage(w http.ResponseWriter, r *http.Request) {
	inv, err := s.db.OpenInvitation(r.Context(), auth.HashToken(chi.URLParam(r, "token")), s.now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	speak(r, inv.Lang)
	s.render(w, r, http.StatusOK, web.InvitePage(s.meta(r, "Welcome", ""), web.InviteView{FirstName: inv.FirstName, Email: inv.Email,
		NeedsEmail: inv.Email == "" && !inv.HasAccount, Fields: map[string]string{}}))
}

// acceptInvite sets the patient's password and signs them in.
func (s *Server) acceptInvite(w http.ResponseWriter, r *http.Request) {
	hash := auth.HashToken(chi.URLParam(r, "token"))
	inv, err := s.db.OpenInvitation(r.Context(), hash, s.now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	speak(r, inv.Lang)
	v := web.InviteView{FirstName: inv.FirstName, Email: inv.Email, NeedsEmail: inv.Email == "" && !inv.HasAccount, Fields: map[string]string{}}
	email := inv.Email
	if v.NeedsEmail {
		email = strings.TrimSpace(r.PostFormValue("email"))
		v.Email = email
	}
	pw := r.PostFormValue("password")
	if msg := clinic.PasswordProblem(pw); msg != "" {
		v.Fields["password"] = msg
	} else if pw != r.PostFormValue("password2") {
		v.Fields["password2"] = "The two passwords are not the same."
	}
	var u *clinic.User
	if len(v.Fields) == 0 {
		var pwHash string
		if pwHash, err = auth.HashPassword(pw); err == nil {
			u, err = s.db.AcceptInvitation(r.Context(), hash, email, pwHash, s.now())
		}
		if clinic.ErrorCode(err) == clinic.EINVALID {
			for k, m := range clinic.ErrorFields(err) {
				v.Fields[k] = m
			}
		} else if err != nil {
			s.fail(w, r, err)
			return
		}
	}
	if len(v.Fields) > 0 {
		v.Message = "Please correct the highlighted fields."
		s.render(w, r, http.StatusUnprocessableEntity, web.InvitePage(s.meta(r, "Welcome", ""), v))
		return
	}
	token, _, _, err := s.signIn(r.Context(), u.Email, pw, "web")
	if err != nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	s.setSessionCookie(w, token)
	http.Redirect(w, r, "/portal", http.StatusSeeOther)
}

// deskInvite creates an invitation and shows its link on the patient page.
func (s *Server) deskInvite(w http.ResponseWriter, r *http.Request) {
	id, err := urlID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	link, _, err := s.invite(r, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderPatientInvite(w, r, id, link)
}

// invite creates a one-time invitation link for a patient.
func (s *Server) invite(r *http.Request, patientID int64) (string, time.Time, error) {
	token, hash := auth.NewToken()
	link := s.absoluteURL(r, "/invite/"+token)
	expires, err := s.db.CreateInvitation(r.Context(), patientID, hash, link, s.now())
	return link, expires, err
}

func (s *Server) deskRevokePortal(w http.ResponseWriter, r *http.Request) {
	id, err := urlID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.db.RevokePortal(r.Context(), id, s.now()); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, web.PatientURL(id)+"?done=portal-revoked", http.StatusSeeOther)
}
