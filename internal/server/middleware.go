package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-chi/chi/v5/middleware"
	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/i18n"
	"github.com/infusiondesk/infusiondesk/internal/postgres"
)

// requestInfo is filled in as a request is handled, for the request log.
type requestInfo struct {
	id     string
	userID int64
	// The clinic's settings and zone, read once per request (loadClinic).
	settings clinic.Settings
	loc      *time.Location
	// lang is the language pages are written in (the patient's, or "" for English).
	lang i18n.Lang
	// What waits for the front desk (postgres.Session), for its navigation.
	deskRequests, deskFailed int
}

type infoKey struct{}

func info(ctx context.Context) *requestInfo {
	if i, ok := ctx.Value(infoKey{}).(*requestInfo); ok {
		return i
	}
	return &requestInfo{}
}

// requestContext gives each request an id (echoed in X-Request-ID and
// shown on error pages) and an Actor with the client's address.
func (s *Server) requestContext(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 8)
		rand.Read(b)
		ri := &requestInfo{id: hex.EncodeToString(b)}
		w.Header().Set("X-Request-ID", ri.id)
		ctx := context.WithValue(r.Context(), infoKey{}, ri)
		ctx = clinic.WithActor(ctx, clinic.Actor{RequestID: ri.id, Address: s.clientAddress(r)})
		ctx, _ = postgres.CountTrips(ctx)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// clientAddress is the connection's address, or the last hop recorded by a
// trusted reverse proxy.
func (s *Server) clientAddress(r *http.Request) string {
	if s.cfg.TrustProxyHeaders {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			parts := strings.Split(xff, ",")
			if ip := net.ParseIP(strings.TrimSpace(parts[len(parts)-1])); ip != nil {
				return ip.String()
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// logRequests writes one line per request. It logs the path but never the
// query string or body, which may carry names or health data.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		s.log.Debug("request started", "request_id", info(r.Context()).id, "method", r.Method, "path", logPath(r.URL.Path))
		next.ServeHTTP(ww, r)
		ri := info(r.Context())
		status := ww.Status()
		if status == 0 {
			status = http.StatusOK
		}
		attrs := []any{"request_id", ri.id, "method", r.Method, "path", logPath(r.URL.Path), "status", status,
			"bytes", ww.BytesWritten(), "ms", time.Since(start).Milliseconds()}
		if ri.userID != 0 {
			attrs = append(attrs, "user_id", ri.userID)
		}
		if t := postgres.TripsOf(r.Context()); t != nil {
			attrs = append(attrs, "db_round_trips", t.RoundTrips.Load(), "db_transactions", t.Transactions.Load())
		}
		s.log.Info("request", attrs...)
	})
}

// recoverPanics turns a panic into a 500 page with the request's id.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				if cu, ok := v.(clinicUnavailable); ok {
					s.fail(w, r, cu.err)
					return
				}
				s.log.Error("panic", "request_id", info(r.Context()).id, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				s.fail(w, r, errors.New("panic"))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// contentSecurityPolicy allows nothing inline and nothing from other hosts.
// data: images are Pico's form icons.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'; object-src 'none'"

// securityHeaders applies to every response. Nothing is cached unless a
// handler says otherwise (only static assets do): pages carry patient data.
func (s *Server) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
		h.Set("Cache-Control", "no-store")
		if s.cfg.SecureCookies {
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		next.ServeHTTP(w, r)
	})
}

// limitBody caps request bodies.
func (s *Server) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
		}
		next.ServeHTTP(w, r)
	})
}

func isAPI(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/api/") }

// logPath is the path as logs may show it: the secret in an invitation
// link or a calendar address is replaced.
func logPath(p string) string {
	for _, prefix := range []string{"/invite/", "/calendar/"} {
		if strings.HasPrefix(p, prefix) {
			return prefix + "…"
		}
	}
	return p
}

// textOnly refuses a query string or form whose values are not valid
// UTF-8: such bytes are nobody's name or note, and the database would
// refuse them later with an error nobody could read.
func (s *Server) textOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		values := r.URL.Query()
		if ct := r.Header.Get("Content-Type"); r.Method == http.MethodPost && strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
			if err := r.ParseForm(); err != nil {
				var tooLarge *http.MaxBytesError
				if !errors.As(err, &tooLarge) {
					err = clinic.Errorf(clinic.EMALFORMED, "The form could not be read.")
				}
				s.fail(w, r, err)
				return
			}
			values = r.PostForm
		}
		for k, vs := range values {
			for _, v := range append(vs, k) {
				if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
					s.fail(w, r, clinic.Errorf(clinic.EMALFORMED, "The request contains bytes that are not text."))
					return
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}
