package server

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/web"
)

// httpStatus maps an application error code to the HTTP status and to the
// code the API reports. This is the only place that does so.
func httpStatus(code string) (status int, apiCode string) {
	switch code {
	case clinic.EINVALID:
		return http.StatusUnprocessableEntity, "invalid"
	case clinic.EMALFORMED:
		return http.StatusBadRequest, "invalid"
	case clinic.ETOOLARGE:
		return http.StatusRequestEntityTooLarge, "invalid"
	case clinic.EUNSUPPORTED:
		return http.StatusUnsupportedMediaType, "invalid"
	case clinic.EUNAUTHORIZED:
		return http.StatusUnauthorized, "unauthorized"
	case clinic.ETHROTTLED:
		return http.StatusTooManyRequests, "unauthorized"
	case clinic.EFORBIDDEN:
		return http.StatusForbidden, "forbidden"
	case clinic.ENOTFOUND:
		return http.StatusNotFound, "not_found"
	case clinic.ECONFLICT:
		return http.StatusConflict, "conflict"
	case clinic.EUNAVAILABLE:
		return http.StatusServiceUnavailable, "unavailable"
	}
	return http.StatusInternalServerError, "internal"
}

var problemTitles = map[int]string{
	http.StatusBadRequest:            "That request could not be read",
	http.StatusUnauthorized:          "Please sign in",
	http.StatusForbidden:             "This page is not for you",
	http.StatusNotFound:              "Not found",
	http.StatusConflict:              "Changed by someone else",
	http.StatusRequestEntityTooLarge: "Too much data",
	http.StatusUnsupportedMediaType:  "That request could not be read",
	http.StatusUnprocessableEntity:   "Please check your input",
	http.StatusTooManyRequests:       "Too many attempts",
	http.StatusServiceUnavailable:    "Temporarily unavailable",
	http.StatusInternalServerError:   "Something went wrong",
}

// fail answers a request with an error: a JSON body for the API, a page
// otherwise. Server-side failures are logged with their cause; the person
// sees only the message written for them and the request's id.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		return // the client went away
	}
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		err = clinic.Errorf(clinic.ETOOLARGE, "The request is larger than %d bytes.", maxErr.Limit)
	}
	code := clinic.ErrorCode(err)
	status, apiCode := httpStatus(code)
	if status >= 500 {
		s.log.Error("request failed", "request_id", info(r.Context()).id, "path", logPath(r.URL.Path), "err", err)
	}
	setRetryAfter(w, err)
	if isAPI(r) {
		fields := clinic.ErrorFields(err)
		if fields == nil {
			fields = map[string]string{}
		}
		body := map[string]any{"code": apiCode, "message": clinic.ErrorMessage(err), "fields": fields}
		if alts := clinic.ErrorAlternatives(err); len(alts) > 0 {
			list := make([]map[string]any, len(alts))
			for i, a := range alts {
				list[i] = map[string]any{"chair_id": a.ChairID, "start": a.Start.Format(time.RFC3339), "end": a.End.Format(time.RFC3339)}
			}
			body["alternatives"] = list
		}
		var appErr *clinic.Error
		if errors.As(err, &appErr) && appErr.Existing != nil {
			// The visit in the way (the next infusion already booked), to move instead.
			body["existing"] = map[string]any{"appointment_id": appErr.Existing.ID,
				"start": appErr.Existing.Start.Format(time.RFC3339)}
		}
		writeJSON(w, status, map[string]any{"error": body})
		return
	}
	if r.Header.Get("HX-Request") == "true" && status == http.StatusUnauthorized {
		w.Header().Set("HX-Redirect", "/login")
	}
	m := s.meta(r, problemTitles[status], "")
	p := web.Problem{Status: status, Title: problemTitles[status], Message: clinic.ErrorMessage(err)}
	if m.User != nil {
		p.Home = web.HomePath(m.User.Role)
	}
	s.render(w, r, status, web.ErrorPage(m, p))
}

// setRetryAfter tells a throttled client when to come back.
func setRetryAfter(w http.ResponseWriter, err error) {
	var appErr *clinic.Error
	if errors.As(err, &appErr) && appErr.RetryAfterSeconds > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(appErr.RetryAfterSeconds))
	}
}
