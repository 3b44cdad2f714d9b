package server_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/infusiondesk/infusiondesk/internal/browsertest"
	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/demo"
	"github.com/infusiondesk/infusiondesk/web"
)

// screenshot saves a picture of the page when SCREENSHOTS names a folder.
func screenshot(tab *browsertest.Tab, name string) {
	if dir := os.Getenv("SCREENSHOTS"); dir != "" {
		tab.Screenshot(filepath.Join(dir, name+".png"))
	}
}

// Each role signs in, lands on its own home page, sees only its own
// navigation, is refused another role's page, and signs out.
func TestBrowserEachRoleSignsIn(t *testing.T) {
	f := newFixture(t)
	b := browsertest.Start(t)
	homes := map[clinic.Role]string{
		clinic.RoleAdmin:     "Clinic overview",
		clinic.RoleFrontDesk: "Front desk",
		clinic.RoleNurse:     "Infusion floor",
		clinic.RolePhysician: "Patients on treatment",
		clinic.RolePatient:   "My visits",
	}
	// A page of another role for each role to be refused.
	other := map[clinic.Role]string{
		clinic.RoleAdmin:     "/desk",
		clinic.RoleFrontDesk: "/admin/users",
		clinic.RoleNurse:     "/physician",
		clinic.RolePhysician: "/portal",
		clinic.RolePatient:   "/nurse",
	}
	for _, role := range clinic.Roles {
		t.Run(string(role), func(t *testing.T) {
			tab := b.Tab(t)
			// Signed out, the home page sends us to sign in, and back after.
			home := web.HomePath(role)
			if status := tab.Open(f.srv.URL + home); status != http.StatusOK || tab.Path() != "/login?next="+strings.ReplaceAll(home, "/", "%2F") {
				t.Fatalf("signed out, %s gave %d at %s; want the sign-in page", home, status, tab.Path())
			}
			tab.Submit(map[string]string{"#email": f.email(role), "#password": demo.Password}, "button[type=submit]")
			tab.Do(chromedp.WaitVisible(chromedp.CSS("main h1")))
			if got := tab.Path(); got != home {
				t.Fatalf("after sign-in at %s; want %s", got, home)
			}
			if got := tab.Text("main h1"); got != homes[role] {
				t.Fatalf("home page heading %q; want %q", got, homes[role])
			}
			screenshot(tab, "home-"+string(role))

			// The navigation is the role's own, and only that.
			links := browsertest.Run(tab, chromedp.Evaluate[[]string](
				`[...document.querySelectorAll("nav .sections a")].map(a => a.getAttribute("href"))`))
			var want []string
			for _, item := range web.Nav(role) {
				want = append(want, item.Path)
			}
			if strings.Join(links, " ") != strings.Join(want, " ") {
				t.Fatalf("navigation %v; want %v", links, want)
			}

			// Another role's page is refused on the server.
			if status := tab.Open(f.srv.URL + other[role]); status != http.StatusForbidden {
				t.Fatalf("%s as %s: %d; want 403", other[role], role, status)
			}
			if got := tab.Text("main h1"); got != "This page is not for you" {
				t.Fatalf("refusal page says %q", got)
			}

			// Signing out ends the session.
			tab.Submit(nil, "form[action='/logout'] button")
			if got := tab.Text("p.notice"); got != "You have been signed out." {
				t.Fatalf("after sign-out: %q", got)
			}
			tab.Open(f.srv.URL + home)
			if !strings.HasPrefix(tab.Path(), "/login") {
				t.Fatalf("after sign-out %s still opens (at %s)", home, tab.Path())
			}
		})
	}
}

// A wrong password and an unknown email get the same answer, and the form
// keeps what was typed.
func TestBrowserFailedSignIn(t *testing.T) {
	f := newFixture(t)
	tab := browsertest.Start(t).Tab(t)
	tab.Open(f.srv.URL + "/login")
	tab.Submit(map[string]string{"#email": f.email(clinic.RoleNurse), "#password": "wrong password!"}, "button[type=submit]")
	tab.Do(chromedp.WaitVisible(chromedp.CSS("#login-error")))
	wrongPassword := tab.Text("#login-error")
	if v := browsertest.Run(tab, chromedp.Value(chromedp.CSS("#email"))); v != f.email(clinic.RoleNurse) {
		t.Fatalf("email field lost the input: %q", v)
	}
	tab.Submit(map[string]string{"#email": "nobody@desertbloom.example", "#password": "wrong password!"}, "button[type=submit]")
	tab.Do(chromedp.WaitVisible(chromedp.CSS("#login-error")))
	if unknown := tab.Text("#login-error"); unknown != wrongPassword || unknown == "" {
		t.Fatalf("unknown email says %q, wrong password %q; want the same", unknown, wrongPassword)
	}
	// An empty form names each field.
	tab.Submit(map[string]string{"#email": "", "#password": ""}, "button[type=submit]")
	tab.Do(chromedp.WaitVisible(chromedp.CSS("#password-error")))
	if tab.Text("#email-error") == "" || tab.Text("#password-error") == "" {
		t.Fatal("empty fields not named")
	}
	screenshot(tab, "login-errors")
}
