package server_test

import (
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/server"
)

var (
	staffRoles = []clinic.Role{clinic.RoleFrontDesk, clinic.RoleNurse, clinic.RolePhysician}
	everyone   = clinic.Roles
	// The reports: managers read them all, planners the forecast and the
	// loading work list.
	managers = []clinic.Role{clinic.RoleAdmin, clinic.RolePhysician}
	planners = []clinic.Role{clinic.RoleAdmin, clinic.RolePhysician, clinic.RoleFrontDesk}
)

// accessRule says who may use a route: public, or these roles.
func accessRule(method, route string) (public bool, roles []clinic.Role) {
	api, isAPI := strings.CutPrefix(route, "/api/v1")
	switch {
	case route == "/login", route == "/logout", route == "/healthz", route == "/readyz", strings.HasPrefix(route, "/static"),
		strings.HasPrefix(route, "/invite/"), strings.HasPrefix(route, "/calendar/"), strings.HasPrefix(route, "/v/"), strings.HasPrefix(route, "/o/"),
		strings.HasPrefix(route, "/kiosk/"), // the desk's tablet: the token is the key
		api == "/openapi.json", method == "POST" && api == "/auth/token",
		method == "POST" && api == "/sms/inbound": // signed by the gateway, not signed in
		return true, nil
	case route == "/":
		return false, everyone
	case route == "/reports/utilisation", route == "/reports/outcomes":
		return false, managers
	case route == "/reports/loading/{id}/call":
		return false, []clinic.Role{clinic.RoleFrontDesk}
	case strings.HasPrefix(route, "/reports"): // the forecast and the loading work list
		return false, planners
	case !isAPI:
		for prefix, role := range map[string]clinic.Role{"/admin": clinic.RoleAdmin, "/desk": clinic.RoleFrontDesk,
			"/nurse": clinic.RoleNurse, "/physician": clinic.RolePhysician, "/portal": clinic.RolePatient} {
			if strings.HasPrefix(route, prefix) {
				return false, []clinic.Role{role}
			}
		}
	}
	desk := []clinic.Role{clinic.RoleFrontDesk}
	key := method + " " + api
	switch key {
	case "DELETE /auth/token", "GET /me", "GET /clinic":
		return false, everyone
	case "GET /users", "GET /audit/checkpoint", "GET /audit/proof", "PUT /clinic", "POST /closures", "DELETE /closures/{date}", "POST /nurse-shifts", "DELETE /nurse-shifts/{id}":
		return false, []clinic.Role{clinic.RoleAdmin}
	case "GET /consent-forms", "POST /consent-forms":
		return false, []clinic.Role{clinic.RoleAdmin}
	case "GET /consent-forms/current":
		return false, append(slices.Clone(staffRoles), clinic.RoleAdmin)
	case "POST /appointments/{id}/clear": // a hold after screening is a physician's to clear
		return false, []clinic.Role{clinic.RolePhysician}
	case "GET /nurse-shifts": // the admin keeps the roster, the desk reads it
		return false, []clinic.Role{clinic.RoleAdmin, clinic.RoleFrontDesk}
	case "GET /chairs", "GET /protocols", "GET /patients/{id}/plan":
		return false, append(slices.Clone(staffRoles), clinic.RoleAdmin)
	case "PUT /patients/{id}/plan":
		return false, []clinic.Role{clinic.RolePhysician, clinic.RoleAdmin}
	case "POST /patients/{id}/courses", "POST /appointments": // a physician books additional infusions
		return false, []clinic.Role{clinic.RoleFrontDesk, clinic.RolePhysician}
	case "POST /appointments/{id}/complete":
		return false, []clinic.Role{clinic.RoleFrontDesk, clinic.RoleNurse}
	case "POST /patients", "POST /patients/{id}/loading-series", "POST /patients/{id}/invite",
		"POST /appointments/{id}/reschedule", "POST /appointments/{id}/cancel", "POST /appointments/{id}/check-in", "POST /appointments/{id}/no-show",
		"POST /messages/{id}/retry", "GET /fill-candidates", "POST /fill-offers", "POST /patients/{id}/waitlist", "DELETE /patients/{id}/waitlist":
		return false, desk
	case "GET /reports/fill":
		return false, []clinic.Role{clinic.RoleFrontDesk, clinic.RoleAdmin}
	case "GET /reports/utilisation", "GET /reports/outcomes":
		return false, managers
	case "GET /reports/forecast", "GET /reports/loading":
		return false, planners
	case "POST /series/{id}/calls":
		return false, desk
	}
	if strings.HasPrefix(api, "/me/") {
		return false, []clinic.Role{clinic.RolePatient}
	}
	return false, staffRoles // the rest of the API: staff reads and clinical records
}

// Every route × every role × signed out: allowed or refused exactly as
// designed (pages send the signed-out to the sign-in page, the API says
// 401; a role not allowed gets 403; an allowed one never 401/403/5xx).
func TestAccessMatrix(t *testing.T) {
	f := newFixture(t)
	type identity struct {
		role   clinic.Role
		client *http.Client
		token  string
	}
	ids := []identity{{role: "", client: f.client()}}
	for _, r := range clinic.Roles {
		ids = append(ids, identity{role: r, client: f.signIn(r), token: f.token(r)})
	}
	type route struct{ method, pattern string }
	var routes []route
	chi.Walk(server.New(nil, server.DefaultConfig(), testLogger(t)).Routes(), func(method, pattern string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		routes = append(routes, route{method, strings.TrimSuffix(pattern, "/")})
		return nil
	})
	// Routes that end sessions run last: handing the desk's tablet to a
	// patient (which signs the desk out on it, signed in again after), then
	// those that sign everyone out.
	kiosk := func(r route) bool { return strings.HasSuffix(r.pattern, "/kiosk") }
	last := func(r route) int {
		switch {
		case kiosk(r):
			return 1
		case r.pattern == "/api/v1/auth/token" && r.method == "DELETE" || strings.HasSuffix(r.pattern, "sign-out-everywhere"):
			return 2
		}
		return 0
	}
	sort.SliceStable(routes, func(i, j int) bool { return last(routes[i]) < last(routes[j]) })
	checked := 0
	for _, rt := range routes {
		if rt.pattern == "" {
			rt.pattern = "/"
		}
		public, roles := accessRule(rt.method, rt.pattern)
		if public {
			continue
		}
		// Id 2: the demo patient account is patient 1's, whose portal a desk
		// route would otherwise revoke in the middle of the walk.
		path := strings.NewReplacer("{id}", "2", "{file}", "1.ics", "{token}", "x", "{date}", "2026-03-11", "{action}", "cancel").Replace(rt.pattern)
		for _, id := range ids {
			isAPI := strings.HasPrefix(path, "/api/")
			body := ""
			if isAPI && (rt.method == "POST" || rt.method == "PUT") {
				body = "{}"
			}
			req, _ := http.NewRequest(rt.method, f.srv.URL+path, strings.NewReader(body))
			if isAPI {
				req.Header.Set("Content-Type", "application/json")
				if id.token != "" {
					req.Header.Set("Authorization", "Bearer "+id.token)
				}
			} else {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			client := id.client
			if isAPI {
				client = f.client()
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			who := string(id.role)
			if who == "" {
				who = "signed out"
			}
			switch {
			case id.role == "" && isAPI:
				if resp.StatusCode != http.StatusUnauthorized {
					t.Errorf("%s %s, %s: %d; want 401", rt.method, path, who, resp.StatusCode)
				}
			case id.role == "":
				if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
					t.Errorf("%s %s, %s: %d → %s; want the sign-in page", rt.method, path, who, resp.StatusCode, resp.Header.Get("Location"))
				}
			case !slices.Contains(roles, id.role):
				if resp.StatusCode != http.StatusForbidden {
					t.Errorf("%s %s, %s: %d; want 403", rt.method, path, who, resp.StatusCode)
				}
			default:
				if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden || resp.StatusCode >= 500 {
					t.Errorf("%s %s, %s (allowed): %d", rt.method, path, who, resp.StatusCode)
				}
			}
			checked++
		}
		if kiosk(rt) {
			for i := range ids {
				if ids[i].role == clinic.RoleFrontDesk {
					ids[i].client = f.signIn(clinic.RoleFrontDesk)
				}
			}
		}
	}
	if checked < 500 {
		t.Fatalf("only %d route × identity pairs checked", checked)
	}
}
