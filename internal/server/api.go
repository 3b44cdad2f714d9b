package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/infusiondesk/infusiondesk/internal/auth"
	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/postgres"
)

// apiSession signs the request in from its bearer token.
func (s *Server) apiSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := bearerToken(r)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		sess, err := s.db.SessionUser(r.Context(), auth.HashToken(token), postgres.SessionAPI)
		if err != nil {
			if clinic.ErrorCode(err) == clinic.EUNAUTHORIZED {
				err = clinic.Errorf(clinic.EUNAUTHORIZED, "The token is not valid or has expired. Request a new one at POST /api/v1/auth/token.")
			}
			s.fail(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(withUser(sess.Context(r.Context()), sess.User)))
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

// decodeJSON reads a JSON body into dst. Unknown fields are ignored. It is
// strict about the rest: a body not sent as application/json is 415; one
// that is not one JSON value (trailing data), not UTF-8, too large, or has
// a value of the wrong type is refused with a message naming the field; a
// string holding a control character or an invisible direction mark is
// 422 on its field; and each required key must be present and not null
// (else a missing number would be stored as 0).
func decodeJSON(r *http.Request, dst any, required ...string) error {
	raw, err := jsonBody(r)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	if _, extra := dec.Token(); extra != io.EOF {
		return clinic.Errorf(clinic.EMALFORMED, "The request body has data after the JSON value.")
	}
	return checkJSONText(raw, required)
}

// jsonBody reads a body sent as JSON, as UTF-8 text without NUL.
func jsonBody(r *http.Request) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" || r.ContentLength != 0 {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" && !strings.HasSuffix(mt, "+json") {
			return nil, clinic.Errorf(clinic.EUNSUPPORTED, "Send the body as JSON, with the header Content-Type: application/json.")
		}
	}
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err // over the size limit
	}
	if !utf8.Valid(raw) {
		return nil, clinic.Errorf(clinic.EMALFORMED, "The request body is not valid UTF-8 text.")
	}
	if bytes.Contains(raw, []byte(`\u0000`)) {
		return nil, clinic.Errorf(clinic.EMALFORMED, "The request contains a NUL character, which is not text.")
	}
	return raw, nil
}

// decodeError says what is wrong with a body the decoder refused: a value
// of the wrong type on its field, else the body as a whole.
func decodeError(err error) error {
	var maxErr *http.MaxBytesError
	var typeErr *json.UnmarshalTypeError
	switch {
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

// checkJSONText applies decodeJSON's rules on text and required keys to
// the body's top-level object.
func checkJSONText(raw []byte, required []string) error {
	var top map[string]json.RawMessage
	if json.Unmarshal(raw, &top) != nil {
		return nil // not an object: nothing is named
	}
	p := clinic.Problems{}
	for _, key := range required {
		if v, ok := top[key]; !ok || string(v) == "null" {
			p.Add(key, "This field is required.")
		}
	}
	var walk func(field string, v any)
	walk = func(field string, v any) {
		switch x := v.(type) {
		case string:
			if msg := clinic.TextProblem(x, true); msg != "" {
				p.Add(field, msg)
			}
		case []any:
			for _, e := range x {
				walk(field, e)
			}
		case map[string]any:
			for k, e := range x {
				walk(field+"."+k, e)
			}
		}
	}
	for key, v := range top {
		var x any
		if json.Unmarshal(v, &x) == nil {
			walk(key, x)
		}
	}
	return p.Err()
}
