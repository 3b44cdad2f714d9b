package server_test

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/infusiondesk/infusiondesk/internal/auth"
	"github.com/infusiondesk/infusiondesk/internal/browsertest"
	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/i18n"
	"github.com/jackc/pgx/v5"
)

// axe-core (WCAG 2.1 A and AA) finds nothing on any page of any role —
// staff, patient (in English and in Spanish) and the pages behind a
// patient's links — on a phone (390 px) and on a desktop (1366 px).
func TestBrowserAccessibleEveryPage(t *testing.T) {
	f := newFixture(t)
	pages := staffPages(t, f)
	pages[clinic.RolePatient] = []string{"/portal", "/portal/journal", "/portal/consent", "/portal/calendar", "/portal/book"}
	// The public pages: sign-in, an invitation and a visit link (from a
	// real confirmation).
	ctx := context.Background()
	in := f.deliver(t, time.Now)
	sched, _ := f.db.Schedule(ctx)
	p, err := f.db.CreatePatient(ctx, clinic.Patient{FirstName: "Ada", LastName: "Axe", DateOfBirth: clinic.D(1970, 1, 1),
		Email: "ada.axe@example.com", Condition: clinic.ConditionOther}, clinic.DateOf(time.Now(), sched.Loc))
	if err != nil {
		t.Fatal(err)
	}
	slot := firstFree(t, f, openDays(t, f, 2)[1])
	if _, _, err := f.db.Book(ctx, clinic.Booking{PatientID: p.ID, Kind: clinic.KindMaintenance, Start: slot.Start, ChairID: slot.ChairID}, time.Now()); err != nil {
		t.Fatal(err)
	}
	public := []string{f.srv.URL + "/login", invitePatient(t, f, f.signIn(clinic.RoleFrontDesk), p.ID)}
	for _, m := range in.Wait(t, 2, 20*time.Second) { // the confirmation and the invitation, in either order
		if link := visitLink.FindString(m.Text); link != "" {
			public = append(public, link)
		}
	}
	if len(public) != 3 {
		t.Fatal("no visit link in the confirmation")
	}
	// The desk's tablet, handed to the patient to sign and answer PEG.
	public = append(public, kioskLink(t, f, p.ID))

	b := browsertest.Start(t)
	check := func(tab *browsertest.Tab, urls []string) {
		for _, width := range []int64{390, 1366} {
			tab.Do(chromedp.EmulateViewport(width, 900, chromedp.EmulateScale(1)))
			for _, u := range urls {
				if status := tab.Open(u); status != 200 {
					t.Errorf("%s: %d", u, status)
				}
				tab.Accessible(u + " at " + strconv.FormatInt(width, 10) + " px")
				if name := shotName(strings.TrimPrefix(u, f.srv.URL), width); name != "" {
					screenshot(tab, name)
				}
			}
		}
	}
	for role, paths := range pages {
		tab := signInTab(t, f, b, role)
		urls := make([]string, len(paths))
		for i, path := range paths {
			urls[i] = f.srv.URL + path
		}
		check(tab, urls)
		if role == clinic.RolePatient {
			// The same pages in Spanish.
			if err := f.db.SetLanguage(ctx, accountPatient(t, f), string(i18n.Spanish)); err != nil {
				t.Fatal(err)
			}
			check(tab, urls)
		}
	}
	check(b.Tab(t), public)
}

// kioskLink is the page of the desk's tablet handed to patient id, for
// their next visit.
func kioskLink(t *testing.T, f *fixture, patientID int64) string {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), f.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var desk, visit int64
	if err := conn.QueryRow(context.Background(), `SELECT id FROM users WHERE email = $1`, f.email(clinic.RoleFrontDesk)).Scan(&desk); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(context.Background(), `SELECT id FROM appointments WHERE patient_id = $1 ORDER BY starts_at LIMIT 1`, patientID).Scan(&visit); err != nil {
		t.Fatal(err)
	}
	token, hash := auth.NewToken()
	ctx := clinic.WithActor(context.Background(), clinic.Actor{User: &clinic.User{ID: desk, Role: clinic.RoleFrontDesk}})
	if err := f.db.OpenKiosk(ctx, patientID, &visit, hash, time.Now()); err != nil {
		t.Fatal(err)
	}
	return f.srv.URL + "/kiosk/" + token
}

// accountPatient is the patient record of the demo's patient account.
func accountPatient(t *testing.T, f *fixture) int64 {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), f.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var id int64
	if err := conn.QueryRow(context.Background(), `SELECT patient_id FROM users WHERE email = $1`, f.email(clinic.RolePatient)).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// shotName names the pages SCREENSHOTS=DIR keeps from this test: the
// desk's day view and patient page, and the portal (phone and desktop).
func shotName(path string, width int64) string {
	w := strconv.FormatInt(width, 10)
	switch {
	case path == "/desk/calendar":
		return "desk-day-view-" + w
	case patientPage.MatchString(path):
		return "patient-page-" + w
	case path == "/portal":
		return "portal-" + w
	case strings.HasPrefix(path, "/reports/") && strings.Count(path, "/") == 2:
		return strings.ReplaceAll(strings.TrimPrefix(path, "/"), "/", "-") + "-" + w
	}
	return ""
}

var patientPage = regexp.MustCompile(`^/desk/patients/\d+$`)
