package server

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/infusiondesk/infusiondesk/internal/auth"
	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/i18n"
	"github.com/infusiondesk/infusiondesk/internal/postgres"
	"github.com/infusiondesk/infusiondesk/web"
)

// cookieName is __Host- prefixed when cookies are Secure: the browser then
// refuses the cookie unless it is Secure, for this host only, with Path=/.
func (s *Server) cookieName() string {
	if s.cfg.SecureCookies {
		return "__Host-infusiondesk"
	}
	return "infusiondesk"
}

func (s *Server) setSessionCookie(w http.ResponseWriter, token string) {
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(), Value: token, Path: "/",
		HttpOnly: true, Secure: s.cfg.SecureCookies, SameSite: http.SameSiteLaxMode})
}

func (s *Server) clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.cfg.SecureCookies, SameSite: http.SameSiteLaxMode})
}

// sessionTimes are the idle timeout and lifetime of a new session.
func (s *Server) sessionTimes(r clinic.Role) postgres.SessionTimes {
	idle := s.cfg.StaffIdle
	if r == clinic.RolePatient {
		idle = s.cfg.PatientIdle
	}
	return postgres.SessionTimes{Idle: idle, Lifetime: s.cfg.SessionLifetime}
}

// withUser records the signed-in user in the request's Actor.
func withUser(ctx context.Context, u *clinic.User) context.Context {
	a := clinic.ActorFrom(ctx)
	a.User = u
	info(ctx).userID = u.ID
	return clinic.WithActor(ctx, a)
}

func currentUser(r *http.Request) *clinic.User { return clinic.ActorFrom(r.Context()).User }

// webSession signs the request in when it carries a live session cookie.
func (s *Server) webSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(s.cookieName())
		if err != nil || c.Value == "" {
			next.ServeHTTP(w, r)
			return
		}
		sess, err := s.db.SessionUser(r.Context(), auth.HashToken(c.Value), postgres.SessionWeb)
		switch clinic.ErrorCode(err) {
		case "":
			r = r.WithContext(withUser(sess.Context(r.Context()), sess.User))
			ri := info(r.Context())
			ri.lang, ri.deskRequests, ri.deskFailed = sess.Lang, sess.DeskRequests, sess.DeskFailed
		case clinic.EUNAUTHORIZED:
			s.clearSessionCookie(w) // ended: idle, expired, signed out or disabled
		default:
			s.fail(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// requireSignedIn sends people who are not signed in to the sign-in page
// (the API answers 401).
func (s *Server) requireSignedIn(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if currentUser(r) != nil {
			next.ServeHTTP(w, r)
			return
		}
		switch {
		case isAPI(r):
			s.fail(w, r, clinic.Errorf(clinic.EUNAUTHORIZED, "Sign in first: send the header Authorization: Bearer TOKEN."))
		case r.Header.Get("HX-Request") == "true":
			w.Header().Set("HX-Redirect", "/login")
			w.WriteHeader(http.StatusUnauthorized)
		case r.Method == http.MethodGet || r.Method == http.MethodHead:
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		default:
			http.Redirect(w, r, "/login", http.StatusSeeOther)
		}
	})
}

// requireRole lets through only the given roles.
func (s *Server) requireRole(roles ...clinic.Role) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u := currentUser(r)
			if u == nil || !slices.Contains(roles, u.Role) {
				s.fail(w, r, clinic.Errorf(clinic.EFORBIDDEN, "This is not available to your account."))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// safeNext returns next when it is a path on this site that the role may
// open, else "".
func safeNext(next string, role clinic.Role) string {
	if len(next) > 512 || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return ""
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" {
		return ""
	}
	if role != "" {
		home := web.HomePath(role)
		if u.Path != home && !strings.HasPrefix(u.Path, home+"/") {
			return ""
		}
	}
	return u.RequestURI()
}

// loadClinic reads the clinic's settings and zone, once per request.
func (s *Server) loadClinic(ctx context.Context) (*requestInfo, error) {
	ri := info(ctx)
	if ri.loc == nil {
		sched, err := s.db.Schedule(ctx)
		if err != nil {
			return ri, err
		}
		ri.settings, ri.loc = sched.Settings, sched.Loc
	}
	return ri, nil
}

// clinicInfo is the clinic's name and zone. There is no fallback: times
// shown in a guessed zone are worse than no page, so a failed read ends
// the request (recoverPanics answers with the error: 503).
func (s *Server) clinicInfo(ctx context.Context) (string, *time.Location) {
	ri, err := s.loadClinic(ctx)
	if err != nil {
		panic(clinicUnavailable{err})
	}
	return ri.settings.Name, ri.loc
}

// clinicUnavailable carries a failed read of the clinic's name and zone
// out of a handler, to be answered as that error.
type clinicUnavailable struct{ err error }

// clinicName is the clinic's name for a page's title; on an error page
// whose cause may be the database itself, the product's name instead.
func (s *Server) clinicName(ctx context.Context) string {
	ri, err := s.loadClinic(ctx)
	if err != nil {
		return "infusiondesk"
	}
	return ri.settings.Name
}

// pageContext is r's context with the locale its page is written in: the
// clinic's style, in the language of the patient reading it (English for
// staff, and on the clinic's own error pages when even that cannot be read).
func (s *Server) pageContext(r *http.Request) context.Context {
	return web.WithLocale(r.Context(), s.locale(r))
}

// locale is the reader's language in the clinic's style.
func (s *Server) locale(r *http.Request) i18n.Locale {
	ri := info(r.Context())
	l := i18n.Locale{Lang: i18n.English, Style: i18n.Style{}}
	if ri.lang != "" {
		l.Lang = ri.lang
	}
	if ri, err := s.loadClinic(r.Context()); err == nil {
		l.Style = ri.settings.Style
	}
	return l
}

// speak sets the language of the page r answers with: a page reached by a
// patient's link (visit, offer, invitation) is in that patient's language.
func speak(r *http.Request, l i18n.Lang) { info(r.Context()).lang = l }

func (s *Server) meta(r *http.Request, title, section string) web.Meta {
	m := web.Meta{Title: title, Clinic: s.clinicName(r.Context()), User: currentUser(r), Section: section, RequestID: info(r.Context()).id}
	if ri, err := s.loadClinic(r.Context()); err == nil {
		m.ClinicPhone, m.ClinicAddress = ri.settings.Phone, ri.settings.Address
	}
	if m.User != nil && m.User.Role == clinic.RoleFrontDesk {
		// What waits for the desk, on its navigation (read with the session).
		ri := info(r.Context())
		m.Counts = map[string]int{"/desk/requests": ri.deskRequests, "/desk/messages": ri.deskFailed}
	}
	return m
}

// render writes a page. It renders into a buffer first so that a failure
// half-way sends an error page, not half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	var buf bytes.Buffer
	if err := c.Render(s.pageContext(r), &buf); err != nil {
		s.log.Error("rendering", "request_id", info(r.Context()).id, "err", err)
		if status < 500 {
			s.fail(w, r, err)
		} else {
			http.Error(w, "Something went wrong. Reference "+info(r.Context()).id, status)
		}
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}
