package server

import (
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/infusiondesk/infusiondesk/internal/auth"
	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/postgres"
	"github.com/infusiondesk/infusiondesk/web"
)

func (s *Server) adminHome(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	c, err := s.clinicDays(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	o := web.AdminOverview{Settings: c.Settings, Users: map[clinic.Role]int{}}
	for d, reason := range c.Closures {
		if !d.Before(c.today) && d.Before(c.today.AddDays(120)) {
			o.Closures = append(o.Closures, web.Closure{Date: d, Reason: reason})
		}
	}
	sort.Slice(o.Closures, func(i, j int) bool { return o.Closures[i].Date.Before(o.Closures[j].Date) })
	if o.Chairs, err = s.db.Chairs(ctx); err != nil {
		s.fail(w, r, err)
		return
	}
	if o.Protocols, err = s.db.Protocols(ctx); err != nil {
		s.fail(w, r, err)
		return
	}
	users, err := s.db.Users(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, u := range users {
		if !u.Disabled() {
			o.Users[u.Role]++
		}
	}
	if o.Audit, err = s.db.VerifyAudit(ctx); err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, web.AdminHome(s.meta(r, "Overview", "/admin"), o))
}

func (s *Server) adminUsers(w http.ResponseWriter, r *http.Request) {
	notice := ""
	switch r.URL.Query().Get("done") {
	case "added":
		notice = "The user was added."
	case "disabled":
		notice = "The account was disabled and its sessions ended."
	case "enabled":
		notice = "The account was enabled."
	}
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
	if clinic.ErrorCode(err) == clinic.EINVALID {
		form.Message, form.Fields = clinic.ErrorMessage(err), clinic.ErrorFields(err)
		s.renderUsers(w, r, http.StatusUnprocessableEntity, form, "")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/users?done=added", http.StatusSeeOther)
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
		switch clinic.ErrorCode(err) {
		case "":
			done := "enabled"
			if disabled {
				done = "disabled"
			}
			http.Redirect(w, r, "/admin/users?done="+done, http.StatusSeeOther)
		case clinic.ECONFLICT, clinic.EINVALID:
			// Show the list as it stands now, with what happened.
			status, _ := httpStatus(clinic.ErrorCode(err))
			s.renderUsers(w, r, status, web.UserForm{}, clinic.ErrorMessage(err))
		default:
			s.fail(w, r, err)
		}
	}
}

func (s *Server) adminAudit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	before, _ := strconv.ParseInt(r.URL.Query().Get("before"), 10, 64)
	const pageSize = 100
	records, err := s.db.ListAudit(ctx, postgres.AuditFilter{BeforeSeq: before, Limit: pageSize})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	check, err := s.db.VerifyAudit(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	_, loc := s.clinicInfo(ctx)
	v := web.AuditView{Records: records, Check: check, Loc: loc}
	if len(records) == pageSize && records[len(records)-1].Seq > 1 {
		v.Older = records[len(records)-1].Seq
	}
	s.render(w, r, http.StatusOK, web.AdminAudit(s.meta(r, "Audit log", "/admin/audit"), v))
}
