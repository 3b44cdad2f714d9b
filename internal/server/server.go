// Package server is the HTTP side: the chi router, middleware, the HTML
// pages grouped by who uses them (desk, nurse, physician, portal, admin) and
// the JSON API under /api/v1. Handlers are thin: they parse and check input,
// call the store and render. Errors become HTTP statuses in one place
// (errors.go).
package server

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/infusiondesk/infusiondesk/internal/auth"
	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/postgres"
)

// Config is the server's behaviour, read from the environment by main.
type Config struct {
	// SecureCookies marks cookies Secure and names the session cookie with
	// the __Host- prefix. Set it whenever the site is reached over TLS.
	SecureCookies bool
	// TrustProxyHeaders takes the client address from X-Forwarded-For (set
	// by a reverse proxy in front); otherwise the connection's address.
	TrustProxyHeaders bool
	StaffIdle         time.Duration // staff sessions end after this long idle
	PatientIdle       time.Duration // patient sessions end after this long idle
	SessionLifetime   time.Duration // every session ends this long after sign-in
	Throttle          auth.Throttle
	MaxBodyBytes      int64
	// BaseURL is the site's public address (BASE_URL): text-message
	// webhooks are signed over it.
	BaseURL string
	// SMSAuthToken verifies the gateway's webhook; "" turns it off.
	SMSAuthToken string
	// Now is the clock; tests set it to days such as a change of daylight
	// saving time. nil means time.Now.
	Now func() time.Time
}

// DefaultConfig is the production configuration.
func DefaultConfig() Config {
	return Config{
		StaffIdle:       15 * time.Minute,
		PatientIdle:     60 * time.Minute,
		SessionLifetime: 12 * time.Hour,
		Throttle:        auth.DefaultThrottle,
		MaxBodyBytes:    1 << 20,
	}
}

// Server serves the clinic's pages and API.
type Server struct {
	db      *postgres.DB
	cfg     Config
	log     *slog.Logger
	router  chi.Router   // the routes, for tests to walk
	handler http.Handler // the routes behind cross-origin protection
}

// New builds the server and its routes.
func New(db *postgres.DB, cfg Config, log *slog.Logger) *Server {
	s := &Server{db: db, cfg: cfg, log: log}
	s.router = s.routes()
	// Every state-changing request from another origin is refused.
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, clinic.Errorf(clinic.EFORBIDDEN, "This request came from another site and was refused."))
	}))
	s.handler = cop.Handler(s.router)
	return s
}

// now is the current instant by the server's clock.
func (s *Server) now() time.Time {
	if s.cfg.Now != nil {
		return s.cfg.Now()
	}
	return time.Now()
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

func (s *Server) routes() chi.Router {
	r := chi.NewRouter()
	r.Use(s.requestContext, s.logRequests, s.recoverPanics, s.securityHeaders, s.limitBody, s.textOnly)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, clinic.Errorf(clinic.ENOTFOUND, "There is no such page."))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, clinic.Errorf(clinic.ENOTFOUND, "There is no such page."))
	})

	r.Get("/healthz", s.healthz)
	r.Get("/readyz", s.readyz)
	r.Handle("/static/*", s.static())
	r.Get("/calendar/{file}", s.calendarFeed) // the token in the path is the key

	r.Group(func(r chi.Router) {
		r.Use(s.webSession)
		r.Get("/login", s.loginPage)
		r.Get("/invite/{token}", s.invitePage)
		r.Get("/v/{token}", s.visitLinkPage) // the token is the key: no sign-in
		r.Post("/v/{token}", s.visitLinkAction)
		r.Post("/invite/{token}", s.acceptInvite)
		r.Post("/login", s.login)
		r.Post("/logout", s.logout)
		r.Group(func(r chi.Router) {
			r.Use(s.requireSignedIn)
			r.Get("/", s.home)
			r.Route("/admin", func(r chi.Router) {
				r.Use(s.requireRole(clinic.RoleAdmin))
				r.Get("/", s.adminHome)
				r.Get("/users", s.adminUsers)
				r.Post("/users", s.adminAddUser)
				r.Post("/users/{id}/disable", s.adminSetDisabled(true))
				r.Post("/users/{id}/enable", s.adminSetDisabled(false))
				r.Get("/audit", s.adminAudit)
				r.Get("/clinic", s.adminClinic)
				r.Post("/clinic", s.adminSaveClinic)
				r.Post("/closures", s.adminAddClosure)
				r.Post("/closures/{date}/remove", s.adminRemoveClosure)
				r.Get("/chairs", s.adminChairs)
				r.Post("/chairs", s.adminSaveChair)
				r.Post("/chairs/{id}", s.adminSaveChair)
				r.Get("/protocols", s.adminProtocols)
				r.Get("/protocols/new", s.adminProtocol)
				r.Post("/protocols/new", s.adminSaveProtocol)
				r.Get("/protocols/{id}", s.adminProtocol)
				r.Post("/protocols/{id}", s.adminSaveProtocol)
			})
			r.Route("/desk", func(r chi.Router) {
				r.Use(s.requireRole(clinic.RoleFrontDesk))
				r.Get("/", s.deskHome)
				r.Get("/calendar", s.deskDay)
				r.Get("/week", s.deskWeek)
				r.Get("/misfits", s.deskMisfits)
				r.Get("/book", s.deskBookForm)
				r.Post("/book", s.deskBook)
				r.Get("/appointments/{id}", s.deskAppointment)
				r.Post("/appointments/{id}/{action}", s.deskAppointmentAction)
				r.Get("/patients", s.deskPatients)
				r.Post("/patients", s.deskPatients)
				r.Post("/patients/pick", s.deskPatientPick)
				r.Get("/patients/new", s.deskPatientForm)
				r.Post("/patients/new", s.deskSavePatient)
				r.Get("/patients/{id}", s.deskPatient)
				r.Get("/patients/{id}/edit", s.deskPatientForm)
				r.Post("/patients/{id}/edit", s.deskSavePatient)
				r.Get("/patients/{id}/series/new", s.deskSeriesForm)
				r.Post("/patients/{id}/series/propose", s.deskSeriesPropose)
				r.Post("/patients/{id}/series/check", s.deskSeriesCheck)
				r.Post("/patients/{id}/series", s.deskSeriesBook)
				r.Post("/series/{id}/reflow", s.deskReflowPreview)
				r.Post("/series/{id}/reflow/confirm", s.deskReflowConfirm)
				r.Post("/series/{id}/cancel", s.deskCancelSeries)
				r.Post("/patients/{id}/relief", s.deskRelief)
				r.Post("/patients/{id}/infusions", s.deskImport)
				r.Post("/patients/{id}/invite", s.deskInvite)
				r.Post("/patients/{id}/revoke-portal", s.deskRevokePortal)
				r.Get("/requests", s.deskRequests)
				r.Post("/requests/{id}/answer", s.deskAnswerRequest)
				r.Get("/work", s.deskWork)
				r.Get("/messages", s.deskFailedMessages)
				r.Post("/messages/{id}/retry", s.deskRetryMessage)
			})
			r.Route("/nurse", func(r chi.Router) {
				r.Use(s.requireRole(clinic.RoleNurse))
				r.Get("/", s.nurseHome)
				r.Get("/appointments/{id}/record", s.nurseRecordForm)
				r.Post("/appointments/{id}/record", s.nurseRecord)
				r.Post("/appointments/{id}/dose", s.nurseDose)
			})
			r.Route("/physician", func(r chi.Router) {
				r.Use(s.requireRole(clinic.RolePhysician))
				r.Get("/", s.physicianHome)
				r.Get("/flags", s.physicianFlags)
				r.Get("/patients/{id}", s.physicianPlan)
				r.Post("/patients/{id}/plan", s.physicianSavePlan)
				r.Post("/patients/{id}/additional", s.physicianAdditional)
			})
			r.Route("/portal", func(r chi.Router) {
				r.Use(s.requireRole(clinic.RolePatient))
				r.Get("/", s.portalHome)
				r.Post("/relief", s.portalRelief)
				r.Post("/requests", s.portalRequest)
				r.Get("/journal", s.portalJournal)
				r.Post("/journal", s.portalAddJournal)
				r.Get("/calendar", s.portalCalendar)
				r.Post("/calendar/renew", s.portalCalendarRenew)
				r.Post("/calendar/revoke", s.portalCalendarRevoke)
				r.Get("/appointments/{file}", s.portalICS)
				r.Post("/sign-out-everywhere", s.portalSignOutEverywhere)
			})
		})
	})

	r.Route("/api/v1", s.apiRoutes)
	return r
}

// Purge deletes expired sessions and old failed sign-ins every interval
// until ctx ends.
func (s *Server) Purge(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.db.PurgeExpired(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("purging expired sessions", "err", err)
			}
		}
	}
}

// WatchDatabase logs whether the database is reachable: at start, retrying
// with backoff until it is, and whenever that changes.
func (s *Server) WatchDatabase(ctx context.Context) {
	ready := false
	wait := time.Second
	for {
		pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		err := s.db.Ping(pctx)
		cancel()
		switch {
		case ctx.Err() != nil:
			return
		case err == nil && !ready:
			s.log.Info("database ready")
			ready, wait = true, time.Second
		case err != nil:
			if ready {
				s.log.Error("database became unreachable", "err", err)
			} else {
				s.log.Warn("database not ready, retrying", "err", err, "retry_in", wait.String())
			}
			ready = false
		}
		next := 10 * time.Second
		if !ready {
			next, wait = wait, min(wait*2, 30*time.Second)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(next):
		}
	}
}
