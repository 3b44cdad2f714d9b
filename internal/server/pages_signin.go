package server

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

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

// signIn checks credentials under the throttle and starts a session. It is
// the same for the sign-in page and the API's token endpoint.
func (s *Server) signIn(ctx context.Context, email, password string, kind postgres.SessionKind) (string, *clinic.User, time.Time, error) {
	email = clinic.NormalizeEmail(email)
	// Text longer than any account's is checked before anything is hashed
	// or looked up, and fails like a wrong password: counted, throttled,
	// the same answer. The address counted is cut to the longest allowed.
	overlong := len(email) > clinic.MaxEmail || len(password) > clinic.MaxPassword
	for len(email) > clinic.MaxEmail {
		_, size := utf8.DecodeLastRuneInString(email)
		email = email[:len(email)-size] // cut on a character's edge
	}
	addr := clinic.ActorFrom(ctx).Address
	if err := s.throttle(ctx, email, addr); err != nil {
		return "", nil, time.Time{}, err
	}
	u, ok, err := s.checkPassword(ctx, email, password, overlong)
	if err != nil {
		return "", nil, time.Time{}, err
	}
	if !ok {
		var userID *int64
		if u != nil {
			userID = &u.ID
		}
		if err := s.db.RecordFailure(ctx, email, addr, userID); err != nil {
			return "", nil, time.Time{}, err
		}
		return "", nil, time.Time{}, clinic.Errorf(clinic.EUNAUTHORIZED, badCredentials)
	}

	token, tokenHash := auth.NewToken()
	ctx = withUser(ctx, u)
	expires, err := s.db.SignIn(ctx, u, kind, tokenHash, s.sessionTimes(u.Role))
	if err != nil {
		return "", nil, time.Time{}, err
	}
	return token, u, expires, nil
}

// badCredentials is the one message for an unknown email, a wrong password
// and a disabled account, so that none can be told from the others.
const badCredentials = "The email or password is not correct."

// throttle refuses a sign-in after too many recent failures for the
// address or the account (ETHROTTLED, audited), and slows down the ones
// the throttle delays.
func (s *Server) throttle(ctx context.Context, email, addr string) error {
	failures, now, err := s.db.RecentFailures(ctx, email, addr, s.cfg.Throttle.Window)
	if err != nil {
		return err
	}
	d := s.cfg.Throttle.Decide(now, email, addr, failures)
	if d.Refuse {
		if err := s.db.Audit(ctx, clinic.AuditEntry{Action: "auth.sign_in_refused", Entity: "user"}); err != nil {
			return err
		}
		mins := int(d.RetryAfter.Round(time.Minute).Minutes())
		msg := "Too many failed sign-ins. Please wait a minute and try again."
		if mins > 1 {
			msg = fmt.Sprintf("Too many failed sign-ins. Please wait %d minutes and try again.", mins)
		}
		return &clinic.Error{Code: clinic.ETHROTTLED, Message: msg, RetryAfterSeconds: int(d.RetryAfter.Seconds()) + 1}
	}
	if d.Delay > 0 {
		select {
		case <-time.After(d.Delay):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// checkPassword reports whether password is the account's and the
// account is enabled; the user is nil for an unknown address. It takes as
// long for an unknown or overlong address as for a wrong password.
func (s *Server) checkPassword(ctx context.Context, email, password string, overlong bool) (*clinic.User, bool, error) {
	if overlong {
		auth.SpendVerifyTime("") // never hashed: as slow as a wrong password, on nothing
		return nil, false, nil
	}
	u, hash, err := s.db.UserCredentials(ctx, email)
	switch clinic.ErrorCode(err) {
	case "":
	case clinic.ENOTFOUND:
		auth.SpendVerifyTime(password) // as slow as a wrong password
		return nil, false, nil
	default:
		return nil, false, err
	}
	ok, err := auth.VerifyPassword(hash, password)
	if err != nil {
		s.log.Error("stored password hash unreadable", "user_id", u.ID, "err", err)
	}
	return u, ok && !u.Disabled(), nil
}
