// Package web holds the pages: small templ components composed into a
// shared layout, and the static assets (CSS, htmx) embedded in the binary.
// Pages carry no inline script or style, so a strict Content-Security-Policy
// holds. Times are always shown in the clinic's local time.
package web

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"sync"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
)

//go:embed static
var static embed.FS

// Static is the tree of static assets, served under /static/.
func Static() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embedded tree always has static/
	}
	return sub
}

// fingerprints maps an asset's name to a short hash of its content, so that
// its URL changes when it does and browsers may cache it for good.
var fingerprints = sync.OnceValue(func() map[string]string {
	out := map[string]string{}
	fs.WalkDir(Static(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(Static(), path)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		out[path] = hex.EncodeToString(sum[:6])
		return nil
	})
	return out
})

// Asset returns the URL of a static asset, with its fingerprint.
func Asset(name string) string {
	return "/static/" + name + "?v=" + fingerprints()[name]
}

// Fingerprint returns the current fingerprint of the named asset.
func Fingerprint(name string) string { return fingerprints()[name] }

// Meta is what every page's layout needs.
type Meta struct {
	Title  string
	Clinic string // the clinic's name
	// ClinicPhone and ClinicAddress are in every page's footer ("" when unknown).
	ClinicPhone, ClinicAddress string
	// Counts are the numbers shown on navigation items, by path: work
	// that waits there (open requests, messages that failed).
	Counts    map[string]int
	User      *clinic.User // nil when signed out
	Section   string       // the path of the active navigation item
	RequestID string
}

// NavItem is one entry of a role's navigation.
type NavItem struct {
	Label string
	Path  string
}

// Nav is the navigation a role sees. Each role sees only its own pages.
func Nav(r clinic.Role) []NavItem {
	switch r {
	case clinic.RoleAdmin:
		return []NavItem{{"Overview", "/admin"}, {"Clinic", "/admin/clinic"}, {"Chairs", "/admin/chairs"},
			{"Nursing roster", "/admin/roster"}, {"Protocols", "/admin/protocols"}, {"Consent form", "/admin/consent"}, {"Users", "/admin/users"}, {"Reports", "/reports"}, {"Audit log", "/admin/audit"}}
	case clinic.RoleFrontDesk:
		return []NavItem{{"Today", "/desk"}, {"Calendar", "/desk/calendar"}, {"Who is due", "/desk/work"}, {"Requests", "/desk/requests"}, {"Messages", "/desk/messages"}, {"Patients", "/desk/patients"}, {"Book", "/desk/book"}, {"Reports", "/reports"}}
	case clinic.RoleNurse:
		return []NavItem{{"Infusion floor", "/nurse"}}
	case clinic.RolePhysician:
		return []NavItem{{"Patients", "/physician"}, {"Flags", "/physician/flags"}, {"Reports", "/reports"}}
	case clinic.RolePatient:
		return []NavItem{{"My visits", "/portal"}, {"Journal", "/portal/journal"}, {"Consent", "/portal/consent"}, {"Calendar", "/portal/calendar"}}
	}
	return nil
}

// HomePath is where a role lands after signing in.
func HomePath(r clinic.Role) string {
	if n := Nav(r); len(n) > 0 {
		return n[0].Path
	}
	return "/login"
}

func minutes(a clinic.Appointment) int { return int(a.End.Sub(a.Start).Minutes()) }

func kindLabel(k clinic.AppointmentKind) string {
	switch k {
	case clinic.KindLoading:
		return "Loading"
	case clinic.KindMaintenance:
		return "Maintenance"
	case clinic.KindConsult:
		return "Consultation"
	}
	return string(k)
}

// SearchesPatients reports whether the role has the header's patient search
// (the staff who work with patients).
func SearchesPatients(r clinic.Role) bool {
	return r == clinic.RoleFrontDesk || r == clinic.RoleNurse || r == clinic.RolePhysician
}
