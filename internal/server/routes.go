package server

import (
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/infusiondesk/infusiondesk/internal/clinic"
)

// staff are the roles that read the schedule and patients.
var staff = []clinic.Role{clinic.RoleFrontDesk, clinic.RoleNurse, clinic.RolePhysician}

// routes is the route table: every page and every API endpoint, with who
// may call it. Page handlers are in pages_<feature>.go, API handlers in
// api_<resource>.go.
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
		r.Get("/kiosk/{token}", s.kioskPage) // the desk's tablet, handed to one patient: the token is the key
		r.Post("/kiosk/{token}", s.kioskSign)
		r.Get("/o/{token}", s.offerLinkPage) // an offer's claim link: the token is the key
		r.Post("/o/{token}", s.offerLinkAction)
		r.Post("/invite/{token}", s.acceptInvite)
		r.Post("/login", s.login)
		r.Post("/logout", s.logout)
		r.Group(func(r chi.Router) {
			r.Use(s.requireSignedIn)
			r.Get("/", s.home)
			r.With(s.requireRole(staff...)).Get("/search", s.search)
			r.With(s.requireRole(staff...)).Post("/search", s.search)
			r.Route("/admin", func(r chi.Router) {
				r.Use(s.requireRole(clinic.RoleAdmin))
				r.Get("/", s.adminHome)
				r.Get("/users", s.adminUsers)
				r.Post("/users", s.adminAddUser)
				r.Post("/users/{id}/disable", s.adminSetDisabled(true))
				r.Post("/users/{id}/enable", s.adminSetDisabled(false))
				r.Get("/audit", s.adminAudit)
				r.Get("/roster", s.adminRoster)
				r.Post("/roster/shifts", s.adminAddShift)
				r.Post("/roster/pattern", s.adminApplyPattern)
				r.Post("/roster/shifts/{id}/remove", s.adminRemoveShift)
				r.Get("/clinic", s.adminClinic)
				r.Post("/clinic", s.adminSaveClinic)
				r.Post("/closures", s.adminAddClosure)
				r.Post("/closures/{date}/remove", s.adminRemoveClosure)
				r.Get("/chairs", s.adminChairs)
				r.Post("/chairs", s.adminSaveChair)
				r.Post("/chairs/{id}", s.adminSaveChair)
				r.Get("/consent", s.adminConsent)
				r.Post("/consent", s.adminSaveConsent)
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
				r.Get("/day-sheet", s.daySheet)
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
				r.Post("/patients/{id}/kiosk", s.deskKiosk)
				r.Post("/patients/{id}/revoke-portal", s.deskRevokePortal)
				r.Get("/requests", s.deskRequests)
				r.Post("/requests/{id}/answer", s.deskAnswerRequest)
				r.Get("/work", s.deskWork)
				r.Get("/messages", s.deskFailedMessages)
				r.Post("/messages/{id}/retry", s.deskRetryMessage)
				r.Get("/fill", s.deskFill)
				r.Post("/fill/offers", s.deskSendOffers)
				r.Post("/patients/{id}/waitlist", s.deskSetWish)
				r.Post("/patients/{id}/waitlist/remove", s.deskRemoveWish)
			})
			r.Route("/nurse", func(r chi.Router) {
				r.Use(s.requireRole(clinic.RoleNurse))
				r.Get("/", s.nurseHome)
				r.Get("/day-sheet", s.daySheet)
				r.Get("/appointments/{id}/record", s.nurseRecordForm)
				r.Post("/appointments/{id}/record", s.nurseRecord)
				r.Post("/appointments/{id}/dose", s.nurseDose)
			})
			r.Route("/physician", func(r chi.Router) {
				r.Use(s.requireRole(clinic.RolePhysician))
				r.Get("/", s.physicianHome)
				r.Get("/flags", s.physicianFlags)
				r.Post("/appointments/{id}/clear", s.physicianClear)
				r.Get("/patients/{id}", s.physicianPlan)
				r.Post("/patients/{id}/plan", s.physicianSavePlan)
				r.Post("/patients/{id}/additional", s.physicianAdditional)
			})
			// The reports (pages_reports.go): admins and physicians read
			// them all; the desk the forecast and the loading work list.
			r.Route("/reports", func(r chi.Router) {
				managers, planners := s.requireRole(clinic.RoleAdmin, clinic.RolePhysician), s.requireRole(clinic.RoleAdmin, clinic.RolePhysician, clinic.RoleFrontDesk)
				r.With(planners).Get("/", s.reportsHome)
				r.With(managers).Get("/utilisation", s.reportsUtilisation)
				r.With(planners).Get("/forecast", s.reportsForecast)
				r.With(planners).Get("/forecast/{date}", s.reportsForecastDay)
				r.With(planners).Get("/loading", s.reportsLoading)
				r.With(s.requireRole(clinic.RoleFrontDesk)).Post("/loading/{id}/call", s.reportsLoadingCall)
				r.With(managers).Get("/outcomes", s.reportsOutcomes)
			})
			r.Route("/portal", func(r chi.Router) {
				r.Use(s.requireRole(clinic.RolePatient))
				r.Get("/", s.portalHome)
				r.Post("/relief", s.portalRelief)
				r.Post("/requests", s.portalRequest)
				r.Get("/journal", s.portalJournal)
				r.Get("/consent", s.portalConsent)
				r.Post("/consent", s.portalSignConsent)
				r.Post("/journal", s.portalAddJournal)
				r.Get("/calendar", s.portalCalendar)
				r.Post("/calendar/renew", s.portalCalendarRenew)
				r.Post("/calendar/revoke", s.portalCalendarRevoke)
				r.Get("/appointments/{file}", s.portalICS)
				r.Post("/sign-out-everywhere", s.portalSignOutEverywhere)
				r.Post("/language", s.portalLanguage)
				r.Get("/book", s.portalBook)
				r.Post("/book", s.portalBookTime)
				r.Post("/waitlist", s.portalSetWish)
				r.Post("/waitlist/remove", s.portalRemoveWish)
				r.Post("/offers", s.portalOffers)
				r.Post("/offers/{id}/claim", s.portalClaimOffer)
			})
		})
	})

	r.Route("/api/v1", func(r chi.Router) {
		r.Get("/openapi.json", s.openAPI)
		r.Post("/auth/token", s.apiCreateToken)
		r.Post("/sms/inbound", s.smsInbound) // signed by the gateway
		r.Group(func(r chi.Router) {
			r.Use(s.apiSession, s.requireSignedIn)
			admin, desk, physician := s.requireRole(clinic.RoleAdmin), s.requireRole(clinic.RoleFrontDesk), s.requireRole(clinic.RolePhysician, clinic.RoleAdmin)
			everyStaff, anyStaff := s.requireRole(append(staff, clinic.RoleAdmin)...), s.requireRole(staff...)
			// Sign-in and users (api_auth.go).
			r.Delete("/auth/token", s.apiRevokeToken)
			r.Get("/me", s.apiMe)
			r.With(admin).Get("/users", s.apiUsers)
			// The audit log's signed head and inclusion proofs (api_audit.go).
			r.With(admin).Get("/audit/checkpoint", s.apiAuditCheckpoint)
			r.With(admin).Get("/audit/proof", s.apiAuditProof)
			// The clinic: settings, closures, chairs, protocols (api_clinic.go).
			r.Get("/clinic", s.apiClinic)
			r.With(admin).Put("/clinic", s.apiPutClinic)
			r.With(admin).Post("/closures", s.apiAddClosure)
			r.With(admin).Delete("/closures/{date}", s.apiRemoveClosure)
			r.With(everyStaff).Get("/chairs", s.apiChairs)
			r.With(everyStaff).Get("/protocols", s.apiProtocols)
			// The nursing roster (api_nurses.go): the admin keeps it, the desk reads it.
			r.With(admin).Post("/nurse-shifts", s.apiAddShift)
			r.With(s.requireRole(clinic.RoleAdmin, clinic.RoleFrontDesk)).Get("/nurse-shifts", s.apiShifts)
			r.With(admin).Delete("/nurse-shifts/{id}", s.apiRemoveShift)
			// Patients (api_patients.go), their courses and series (api_series.go).
			r.With(anyStaff).Get("/patients", s.apiSearchPatients)
			r.With(anyStaff).Get("/patients/{id}", s.apiPatient)
			r.With(desk).Post("/patients", s.apiCreatePatient)
			r.With(desk).Post("/patients/{id}/invite", s.apiInvite)
			r.With(s.requireRole(clinic.RoleFrontDesk, clinic.RolePhysician)).Post("/patients/{id}/courses", s.apiCreateCourse)
			r.With(desk).Post("/patients/{id}/loading-series", s.apiLoadingSeries)
			// Appointments (api_appointments.go) and their messages (api_messages.go).
			r.With(anyStaff).Get("/availability", s.apiAvailability)
			r.With(anyStaff).Get("/appointments", s.apiAppointments)
			r.With(anyStaff).Get("/appointments/{id}", s.apiAppointment)
			r.With(anyStaff).Get("/appointments/{id}/messages", s.apiAppointmentMessages)
			// A physician books too: an additional infusion, with its reason.
			r.With(s.requireRole(clinic.RoleFrontDesk, clinic.RolePhysician)).Post("/appointments", s.apiBook)
			r.With(desk).Post("/appointments/{id}/reschedule", s.apiReschedule)
			r.With(desk).Post("/appointments/{id}/cancel", s.apiCancel)
			r.With(desk).Post("/appointments/{id}/check-in", s.apiStatus(nil))
			r.With(desk).Post("/appointments/{id}/no-show", s.apiStatus(s.db.NoShow))
			r.With(s.requireRole(clinic.RolePhysician)).Post("/appointments/{id}/clear", s.apiClear)
			// Consent forms (api_consent.go).
			r.With(admin).Post("/consent-forms", s.apiCreateConsentForm)
			r.With(admin).Get("/consent-forms", s.apiConsentForms)
			r.With(everyStaff).Get("/consent-forms/current", s.apiCurrentConsentForm)
			r.With(desk).Post("/messages/{id}/retry", s.apiRetryMessage)
			// Filling freed chairs (api_fill.go).
			r.With(desk).Get("/fill-candidates", s.apiFillCandidates)
			r.With(desk).Post("/fill-offers", s.apiCreateOffer)
			r.With(desk).Post("/patients/{id}/waitlist", s.apiSetWish)
			r.With(desk).Delete("/patients/{id}/waitlist", s.apiRemoveWish)
			r.With(s.requireRole(clinic.RoleFrontDesk, clinic.RoleAdmin)).Get("/reports/fill", s.apiFillReport)
			// The reports (api_reports.go).
			managers, planners := s.requireRole(clinic.RoleAdmin, clinic.RolePhysician), s.requireRole(clinic.RoleAdmin, clinic.RolePhysician, clinic.RoleFrontDesk)
			r.With(managers).Get("/reports/utilisation", s.apiUtilisation)
			r.With(planners).Get("/reports/forecast", s.apiForecast)
			r.With(planners).Get("/reports/loading", s.apiLoadingCompletion)
			r.With(desk).Post("/series/{id}/calls", s.apiSeriesCall)
			r.With(managers).Get("/reports/outcomes", s.apiOutcomes)
			// Infusions and relief (api_infusions.go), the plan (api_plan.go).
			r.With(s.requireRole(clinic.RoleFrontDesk, clinic.RoleNurse)).Post("/appointments/{id}/complete", s.apiComplete)
			r.With(anyStaff).Post("/patients/{id}/infusions", s.apiImportInfusion)
			r.With(anyStaff).Get("/patients/{id}/infusions", s.apiInfusions)
			r.With(anyStaff).Post("/infusions/{id}/relief", s.apiRelief)
			r.With(everyStaff).Get("/patients/{id}/plan", s.apiPlan)
			r.With(physician).Put("/patients/{id}/plan", s.apiPutPlan)
			// The patient's own (api_portal.go).
			r.Group(func(r chi.Router) {
				r.Use(s.requireRole(clinic.RolePatient))
				r.Get("/me/appointments", s.apiMyAppointments)
				r.Post("/me/relief", s.apiMyRelief)
				r.Get("/me/booking-options", s.apiMyBookingOptions)
				r.Post("/me/appointments", s.apiMyBook)
				r.Post("/me/appointments/{id}/reschedule", s.apiMyReschedule)
				r.Get("/me/offers", s.apiMyOffers)
				r.Post("/me/offers/{id}/claim", s.apiMyClaimOffer)
				r.Post("/me/journal", s.apiMyJournal)
				r.Get("/me/consent", s.apiMyConsent)
				r.Post("/me/consent", s.apiMySignConsent)
				r.Get("/me/calendar", s.apiMyCalendar)
				r.Put("/me/language", s.apiMyLanguage)
				r.Post("/me/calendar", s.apiMyCalendarCreate)
				r.Delete("/me/calendar", s.apiMyCalendarDelete)
			})
		})
	})
	return r
}
