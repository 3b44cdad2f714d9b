package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/infusiondesk/infusiondesk/internal/auth"
	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/postgres"
)

func (s *Server) apiRoutes(r chi.Router) {
	r.Get("/openapi.json", s.openAPI)
	r.Post("/auth/token", s.apiCreateToken)
	r.Group(func(r chi.Router) {
		r.Use(s.apiSession, s.requireSignedIn)
		r.Delete("/auth/token", s.apiRevokeToken)
		r.Get("/me", s.apiMe)
		r.With(s.requireRole(clinic.RoleAdmin)).Get("/users", s.apiUsers)
		s.apiCalendarRoutes(r)
	})
}

// apiSession signs the request in from its bearer token.
func (s *Server) apiSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := bearerToken(r)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		u, err := s.db.SessionUser(r.Context(), auth.HashToken(token), postgres.SessionAPI)
		if err != nil {
			if clinic.ErrorCode(err) == clinic.EUNAUTHORIZED {
				err = clinic.Errorf(clinic.EUNAUTHORIZED, "The token is not valid or has expired. Request a new one at POST /api/v1/auth/token.")
			}
			s.fail(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(withUser(r.Context(), u)))
	})
}

func bearerToken(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return "", false
	}
	return strings.TrimSpace(token), true
}

// errEmptyBody is decodeJSON's answer to a request without a body: an
// EMALFORMED error that handlers whose body is optional can recognise.
var errEmptyBody = clinic.Errorf(clinic.EMALFORMED, "The request body is empty; send a JSON object.")

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	enc.Encode(v)
}

// decodeJSON reads a JSON body into dst. Unknown fields are ignored; a body
// that is not JSON, too large, or has a value of the wrong type is refused
// with a message naming the field.
func decodeJSON(r *http.Request, dst any) error {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return err // over the size limit
	}
	if bytes.Contains(raw, []byte(`\u0000`)) {
		return clinic.Errorf(clinic.EMALFORMED, "The request contains a NUL character, which is not text.")
	}
	err = json.NewDecoder(bytes.NewReader(raw)).Decode(dst)
	var maxErr *http.MaxBytesError
	var typeErr *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &maxErr):
		return err
	case errors.Is(err, io.EOF):
		return errEmptyBody
	case errors.As(err, &typeErr) && typeErr.Field != "" && typeErr.Type == reflect.TypeFor[clinic.Date]():
		return clinic.Invalid(map[string]string{typeErr.Field: "Give a date as YYYY-MM-DD."})
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return clinic.Invalid(map[string]string{typeErr.Field: "This field has the wrong type (expected " + typeErr.Type.String() + ")."})
	default:
		return clinic.Errorf(clinic.EMALFORMED, "The request body is not valid JSON.")
	}
}

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
