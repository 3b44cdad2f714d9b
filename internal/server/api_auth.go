package server

import (
	"net/http"
	"strings"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/auth"
	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/postgres"
)

type tokenRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

type tokenResponse struct {
	Token     string    `json:"token"`
	Role      string    `json:"role"`
	ExpiresAt time.Time `json:"expires_at"`
}

func (s *Server) apiCreateToken(w http.ResponseWriter, r *http.Request) {
	var req tokenRequest
	if err := decodeJSON(r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	p := clinic.Problems{}
	if strings.TrimSpace(req.Email) == "" {
		p.Add("email", "Enter your email address.")
	}
	if req.Password == "" {
		p.Add("password", "Enter your password.")
	}
	if err := p.Err(); err != nil {
		s.fail(w, r, err)
		return
	}
	token, u, expires, err := s.signIn(r.Context(), req.Email, req.Password, postgres.SessionAPI)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, tokenResponse{Token: token, Role: string(u.Role), ExpiresAt: expires.UTC()})
}

func (s *Server) apiRevokeToken(w http.ResponseWriter, r *http.Request) {
	token, _ := bearerToken(r)
	if err := s.db.SignOut(r.Context(), auth.HashToken(token)); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type userJSON struct {
	ID        int64  `json:"id"`
	Email     string `json:"email"`
	Name      string `json:"name"`
	Role      string `json:"role"`
	PatientID *int64 `json:"patient_id,omitempty"`
	Disabled  bool   `json:"disabled"`
}

func toUserJSON(u *clinic.User) userJSON {
	return userJSON{ID: u.ID, Email: u.Email, Name: u.Name, Role: string(u.Role), PatientID: u.PatientID, Disabled: u.Disabled()}
}

func (s *Server) apiMe(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, toUserJSON(currentUser(r)))
}

func (s *Server) apiUsers(w http.ResponseWriter, r *http.Request) {
	users, err := s.db.Users(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]userJSON, len(users))
	for i, u := range users {
		out[i] = toUserJSON(u)
	}
	writeJSON(w, http.StatusOK, out)
}
