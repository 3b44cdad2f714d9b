package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/infusiondesk/infusiondesk/internal/browsertest"
	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/demo"
)

// keyboardSignIn signs in with the keyboard alone.
func keyboardSignIn(t *testing.T, f *fixture, b *browsertest.Browser, role clinic.Role) *browsertest.Tab {
	t.Helper()
	tab := b.Tab(t)
	tab.Open(f.srv.URL + "/login")
	tab.TabTo("#email", 20)
	tab.Keys(f.email(role))
	tab.TabTo("#password", 5)
	tab.Keys(demo.Password)
	tab.KeysAndWait(kb.Enter)
	if strings.HasPrefix(tab.Path(), "/login") {
		t.Fatalf("keyboard sign-in as %s failed", role)
	}
	return tab
}

// The main flows with the keyboard alone (Tab, Enter, Space, arrows): the
// desk finds a patient from the header, books them from a free cell of
// the day view; the patient follows the confirmation's link and
// confirms; the demo patient says the pain came back and writes a
// journal entry with the 0–10 buttons.
func TestBrowserKeyboardOnly(t *testing.T) {
	f := newFixture(t)
	in := f.deliver(t, time.Now)
	ctx := context.Background()
	sched, _ := f.db.Schedule(ctx)
	p, err := f.db.CreatePatient(ctx, clinic.Patient{FirstName: "Kim", LastName: "Keyboard", DateOfBirth: clinic.D(1980, 3, 3),
		Email: "kim.keyboard@example.com", Condition: clinic.ConditionOther}, clinic.DateOf(time.Now(), sched.Loc))
	if err != nil {
		t.Fatal(err)
	}
	b := browsertest.Start(t)
	desk := keyboardSignIn(t, f, b, clinic.RoleFrontDesk)

	desk.TabTo("#header-q", 40)
	desk.Keys("Keyboard")
	desk.KeysAndWait(kb.Enter)
	desk.TabTo(fmt.Sprintf(`main a[href="/desk/patients/%d"]`, p.ID), 80)
	desk.KeysAndWait(kb.Enter)
	if got := desk.Path(); got != fmt.Sprintf("/desk/patients/%d", p.ID) {
		t.Fatalf("the header search led to %s", got)
	}

	day := openDays(t, f, 2)[1]
	desk.Open(f.srv.URL + "/desk/calendar?date=" + day.String())
	chooseFreeCell(t, desk)
	desk.TabTo("#chosen a", 1500)
	desk.KeysAndWait(kb.Enter)
	desk.TabTo("#patient-q", 80)
	desk.Keys("keyb")
	desk.Do(chromedp.WaitVisible(chromedp.CSS(`input[name=patient_id][data-name="Kim Keyboard"]`)))
	desk.TabTo(`input[name=patient_id][data-name="Kim Keyboard"]`, 20)
	desk.Keys(" ")
	desk.TabTo("#book-form button[type=submit]", 40)
	desk.KeysAndWait(kb.Enter)
	if got := desk.Text("#appointment-notice"); got != "Booked." {
		t.Fatalf("after booking with the keyboard: %q", got)
	}

	link := visitLink.FindString(in.Wait(t, 1, 20*time.Second)[0].Text)
	patient := b.Tab(t)
	patient.Open(link)
	patient.TabTo("#visit-confirm", 40)
	patient.KeysAndWait(kb.Enter)
	if got := patient.Text("#visit-notice"); !strings.Contains(got, "confirmed") {
		t.Fatalf("after confirming with the keyboard: %q", got)
	}

	portal := keyboardSignIn(t, f, b, clinic.RolePatient)
	portal.TabTo("#pain-back", 60)
	portal.KeysAndWait(kb.Enter)
	if got := portal.Text("#portal-notice"); !strings.Contains(got, "pain came back") {
		t.Fatalf("after 'my pain came back': %q", got)
	}
	portal.Open(f.srv.URL + "/portal/journal")
	portal.TabTo("#pain-0", 80)
	for range 6 {
		portal.Keys(kb.ArrowRight)
	}
	portal.TabTo("#journal-form button[type=submit]", 80)
	portal.KeysAndWait(kb.Enter)
	if got := portal.Text("#journal-notice"); !strings.Contains(got, "saved") {
		t.Fatalf("after the journal entry: %q", got)
	}
	entries, err := f.db.Journal(ctx, accountPatient(t, f), clinic.DateOf(time.Now(), sched.Loc).AddDays(-1))
	if err != nil || len(entries) == 0 || entries[len(entries)-1].Pain != 6 {
		t.Fatalf("the entry stored: %+v %v", entries, err)
	}
}
