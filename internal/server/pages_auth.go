package server

import (
	"net/http"
	"strings"

	"github.com/infusiondesk/infusiondesk/internal/auth"
	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/postgres"
	"github.com/infusiondesk/infusiondesk/web"
)

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	if u := currentUser(r); u != nil {
		http.Redirect(w, r, web.HomePath(u.Role), http.StatusSeeOther)
		return
	}
	f := web.LoginForm{Next: safeNext(r.URL.Query().Get("next"), "")}
	if r.URL.Query().Has("signed_out") {
		f.Notice = "You have been signed out."
	}
	s.render(w, r, http.StatusOK, web.LoginPage(s.meta(r, "Sign in", ""), f))
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, clinic.Errorf(clinic.EMALFORMED, "The form could not be read."))
		return
	}
	f := web.LoginForm{
		Email:  strings.TrimSpace(r.PostForm.Get("email")),
		Next:   safeNext(r.PostForm.Get("next"), ""),
		Fields: map[string]string{},
	}
	password := r.PostForm.Get("password")
	if f.Email == "" {
		f.Fields["email"] = "Enter your email address."
	}
	if password == "" {
		f.Fields["password"] = "Enter your password."
	}
	if len(f.Fields) > 0 {
		s.render(w, r, http.StatusUnprocessableEntity, web.LoginPage(s.meta(r, "Sign in", ""), f))
		return
	}

	// Signing in again replaces any session this browser had (no fixation).
	if c, err := r.Cookie(s.cookieName()); err == nil && c.Value != "" {
		if err := s.db.SignOut(r.Context(), auth.HashToken(c.Value)); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	token, u, _, err := s.signIn(r.Context(), f.Email, password, postgres.SessionWeb)
	switch clinic.ErrorCode(err) {
	case "":
	case clinic.EUNAUTHORIZED, clinic.ETHROTTLED:
		f.Error = clinic.ErrorMessage(err)
		status, _ := httpStatus(clinic.ErrorCode(err))
		setRetryAfter(w, err)
		s.render(w, r, status, web.LoginPage(s.meta(r, "Sign in", ""), f))
		return
	default:
		s.fail(w, r, err)
		return
	}
	s.setSessionCookie(w, token)
	dest := safeNext(f.Next, u.Role)
	if dest == "" {
		dest = web.HomePath(u.Role)
	}
	http.Redirect(w, r, dest, http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(s.cookieName()); err == nil && c.Value != "" {
		if err := s.db.SignOut(r.Context(), auth.HashToken(c.Value)); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	s.clearSessionCookie(w)
	http.Redirect(w, r, "/login?signed_out=1", http.StatusSeeOther)
}

// home sends a signed-in person to their role's home page.
func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, web.HomePath(currentUser(r).Role), http.StatusSeeOther)
}
