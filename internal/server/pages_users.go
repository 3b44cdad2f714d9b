package server

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/infusiondesk/infusiondesk/internal/auth"
	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/web"
)

func (s *Server) adminUsers(w http.ResponseWriter, r *http.Request) {
	notice := notices{"added": "The user was added.", "disabled": "The account was disabled and its sessions ended.",
		"enabled": "The account was enabled."}.of(r)
	s.renderUsers(w, r, http.StatusOK, web.UserForm{}, notice)
}

func (s *Server) renderUsers(w http.ResponseWriter, r *http.Request, status int, f web.UserForm, notice string) {
	users, err := s.db.Users(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, status, web.AdminUsers(s.meta(r, "Users", "/admin/users"), users, f, notice))
}

func (s *Server) adminAddUser(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, clinic.Errorf(clinic.EMALFORMED, "The form could not be read."))
		return
	}
	n := clinic.NewUser{
		Email:    r.PostForm.Get("email"),
		Name:     r.PostForm.Get("name"),
		Role:     r.PostForm.Get("role"),
		Password: r.PostForm.Get("password"),
	}
	form := web.UserForm{Email: strings.TrimSpace(n.Email), Name: strings.TrimSpace(n.Name), Role: n.Role}
	err := n.Validate()
	if err == nil {
		var hash string
		if hash, err = auth.HashPassword(n.Password); err == nil {
			_, err = s.db.CreateUser(r.Context(), n, hash)
		}
	}
	s.answerInvalid(w, r, err, "/admin/users?done=added", func(p refusal) {
		form.Message, form.Fields = p.Message, p.Fields
		s.renderUsers(w, r, p.Status, form, "")
	})
}

func (s *Server) adminSetDisabled(disabled bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
		if err != nil {
			s.fail(w, r, clinic.Errorf(clinic.ENOTFOUND, "No such user."))
			return
		}
		version, err := strconv.Atoi(r.PostFormValue("version"))
		if err != nil {
			s.fail(w, r, clinic.Errorf(clinic.EMALFORMED, "The form is missing the record's version."))
			return
		}
		_, err = s.db.SetUserDisabled(r.Context(), id, version, disabled)
		done := "enabled"
		if disabled {
			done = "disabled"
		}
		s.answerForm(w, r, err, "/admin/users?done="+done, func(p refusal) {
			// Show the list as it stands now, with what happened.
			s.renderUsers(w, r, p.Status, web.UserForm{}, p.Message)
		})
	}
}
