package server

import (
	"net/http"
	"net/url"

	"github.com/a-h/templ"

	"github.com/go-chi/chi/v5"
	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/postgres"
	"github.com/infusiondesk/infusiondesk/web"
)

// The reports' pages (issue 20). Each takes the API's query (?from=&to=,
// ?weeks=, ?condition=&protocol_id=) and, with ?format=csv, sends the
// API's CSV. A filter refused re-renders the page with its message.

// reportFrame is what every report page has; the first tab is the one
// the reports' entry opens.
func (s *Server) reportFrame(r *http.Request, path string) web.ReportFrame {
	return web.ReportFrame{Tabs: web.ReportTabs(currentUser(r).Role), Path: path, CSV: web.CSVLink(path, r.URL.Query()),
		Fields: map[string]string{}}
}

// refused notes a refused filter on the frame; false for any other error.
func refused(f *web.ReportFrame, err error) (int, bool) {
	p, ok := refusalOf(err)
	if !ok {
		return 0, false
	}
	f.Message, f.Fields = p.Message, p.Fields
	return p.Status, true
}

// reportsHome opens the first report of the signed-in role.
func (s *Server) reportsHome(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, web.ReportTabs(currentUser(r).Role)[0].Path, http.StatusSeeOther)
}

// reportPage renders a report or its CSV: load reads it (a refused filter
// re-renders the page, with the report empty); csv is its table.
func (s *Server) reportPage(w http.ResponseWriter, r *http.Request, path, title, name string,
	load func(r *http.Request) error, csvRows func() [][]string, page func(f web.ReportFrame) pageOf) {
	asCSV, err := wantsCSV(r)
	if err == nil {
		err = load(r) // each report reads in a snapshot of its own
	}
	f := s.reportFrame(r, path)
	status := http.StatusOK
	if err != nil {
		var ok bool
		if status, ok = refused(&f, err); !ok || asCSV {
			s.fail(w, r, err)
			return
		}
	} else if asCSV {
		writeCSV(w, name, csvRows())
		return
	}
	s.render(w, r, status, page(f)(s.meta(r, title, navSection(r))))
}

// pageOf is a page waiting for its Meta.
type pageOf = func(web.Meta) templ.Component

// navSection is the main navigation's entry for the reports.
func navSection(*http.Request) string { return "/reports" }

func (s *Server) reportsUtilisation(w http.ResponseWriter, r *http.Request) {
	var from, to clinic.Date
	var u clinic.Utilisation
	q := r.URL.Query()
	s.reportPage(w, r, "/reports/utilisation", "Utilisation", "utilisation",
		func(r *http.Request) (err error) {
			if from, to, err = s.period(r, utilisationSince); err == nil {
				u, err = s.db.Utilisation(r.Context(), from, to)
			}
			return err
		},
		func() [][]string { return utilisationCSV(u) },
		func(f web.ReportFrame) pageOf {
			return func(m web.Meta) templ.Component {
				return web.UtilisationPage(m, web.NewUtilisationView(f, orQuery(from, q.Get("from")), orQuery(to, q.Get("to")), u))
			}
		})
}

// orQuery is the date shown in a period field: the one used, else what was
// typed (a refused date is shown as typed).
func orQuery(d clinic.Date, typed string) string {
	if d.IsZero() {
		return typed
	}
	return d.String()
}

func (s *Server) reportsForecast(w http.ResponseWriter, r *http.Request) {
	var f clinic.Forecast
	weeks := clinic.DefaultForecastWeeks
	s.reportPage(w, r, "/reports/forecast", "Forecast", "forecast",
		func(r *http.Request) (err error) {
			if weeks, err = forecastWeeks(r); err != nil {
				weeks = clinic.DefaultForecastWeeks
				return err
			}
			f, err = s.db.Forecast(r.Context(), weeks, s.now())
			return err
		},
		func() [][]string { return forecastCSV(f) },
		func(fr web.ReportFrame) pageOf {
			return func(m web.Meta) templ.Component {
				return web.ForecastPage(m, web.NewForecastView(fr, f, weeks, currentUser(r).Role == clinic.RoleFrontDesk))
			}
		})
}

// reportsForecastDay is one day of the forecast: its figures and who is
// planned on it.
func (s *Server) reportsForecastDay(w http.ResponseWriter, r *http.Request) {
	d, err := clinic.ParseDate(chi.URLParam(r, "date"))
	if err != nil {
		s.fail(w, r, clinic.Errorf(clinic.ENOTFOUND, "There is no such day."))
		return
	}
	weeks, err := forecastWeeks(r)
	if err != nil {
		weeks = clinic.DefaultForecastWeeks
	}
	v := web.ForecastDayView{ReportFrame: s.reportFrame(r, "/reports/forecast"), Desk: currentUser(r).Role == clinic.RoleFrontDesk, Weeks: weeks}
	v.Day, v.Names, v.Exists, err = s.db.ForecastDay(r.Context(), d, clinic.MaxForecastWeeks, s.now())
	if err == nil && !v.Exists {
		err = clinic.Errorf(clinic.ENOTFOUND, "That day is not in the forecast: it shows the coming %d weeks.", clinic.MaxForecastWeeks)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, web.ForecastDayPage(s.meta(r, "Forecast "+d.String(), navSection(r)), v))
}

func (s *Server) reportsLoading(w http.ResponseWriter, r *http.Request) {
	var from, to clinic.Date
	var c clinic.Completion
	q := r.URL.Query()
	_, loc := s.clinicInfo(r.Context())
	today := clinic.DateOf(s.now(), loc)
	s.reportPage(w, r, "/reports/loading", "Loading completion", "loading",
		func(r *http.Request) (err error) {
			if from, to, err = s.period(r, loadingSince); err == nil {
				c, err = s.db.Completion(r.Context(), from, to, s.now())
			}
			return err
		},
		func() [][]string { return completionCSV(c) },
		func(f web.ReportFrame) pageOf {
			return func(m web.Meta) templ.Component {
				v := web.NewCompletionView(f, orQuery(from, q.Get("from")), orQuery(to, q.Get("to")), c, today, loc, currentUser(r).Role == clinic.RoleFrontDesk)
				if q.Get("done") == "called" {
					v.Notice = "The call note is saved."
				}
				return web.CompletionPage(m, v)
			}
		})
}

// reportsLoadingCall keeps the desk's call note and goes back to the list.
func (s *Server) reportsLoadingCall(w http.ResponseWriter, r *http.Request) {
	id, err := urlID(r)
	if err == nil {
		if err = r.ParseForm(); err != nil {
			err = clinic.Errorf(clinic.EMALFORMED, "The form could not be read.")
		}
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	back := url.Values{"done": {"called"}}
	for _, k := range []string{"from", "to"} {
		if v := r.PostForm.Get(k); v != "" {
			back.Set(k, v)
		}
	}
	err = s.db.AddSeriesCall(r.Context(), id, r.PostForm.Get("note"), s.now())
	if err == nil {
		http.Redirect(w, r, "/reports/loading?"+back.Encode()+"#series-"+chi.URLParam(r, "id"), http.StatusSeeOther)
		return
	}
	s.fail(w, r, err)
}

func (s *Server) reportsOutcomes(w http.ResponseWriter, r *http.Request) {
	var from, to clinic.Date
	var os []clinic.ConditionOutcome
	var protocols []clinic.Protocol
	q := r.URL.Query()
	s.reportPage(w, r, "/reports/outcomes", "Outcomes", "outcomes",
		func(r *http.Request) (err error) {
			if protocols, err = s.db.AllProtocols(r.Context()); err != nil {
				return err
			}
			var filter postgres.OutcomeFilter
			if from, to, err = s.period(r, outcomesSince); err == nil {
				filter, err = outcomeFilter(r)
			}
			if err == nil {
				os, err = s.db.Outcomes(r.Context(), from, to, filter)
			}
			return err
		},
		func() [][]string { return outcomesCSV(os) },
		func(f web.ReportFrame) pageOf {
			return func(m web.Meta) templ.Component {
				return web.OutcomesPage(m, web.NewOutcomesView(f, orQuery(from, q.Get("from")), orQuery(to, q.Get("to")),
					q.Get("condition"), q.Get("protocol_id"), protocols, os))
			}
		})
}
