package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/infusiondesk/infusiondesk/internal/browsertest"
	"github.com/infusiondesk/infusiondesk/internal/clinic"
)

// The header's search finds a patient by name, date of birth, record
// number or phone, the same for the desk, the physician and the nurse;
// each lands where their role works with the patient.
func TestBrowserHeaderSearch(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	p, err := f.db.CreatePatient(ctx, clinic.Patient{FirstName: "Hector", LastName: "Headersearch", DateOfBirth: clinic.D(1966, 6, 16),
		Phone: "602.555.0199", Condition: clinic.ConditionNeuropathic}, clinic.DateOf(time.Now(), time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	b := browsertest.Start(t)
	for _, tt := range []struct {
		role  clinic.Role
		query string
		link  string // the result's link; "" for none
	}{
		{clinic.RoleFrontDesk, "headers", fmt.Sprintf("/desk/patients/%d", p.ID)},
		{clinic.RolePhysician, "(602) 555-0199", fmt.Sprintf("/physician/patients/%d", p.ID)},
		{clinic.RoleNurse, "06/16/1966", ""},
		{clinic.RoleFrontDesk, p.MRN, fmt.Sprintf("/desk/patients/%d", p.ID)},
	} {
		tab := signInTab(t, f, b, tt.role)
		tab.Do(chromedp.SendKeys(chromedp.CSS("#header-q"), tt.query+"\n"))
		tab.WaitNewPage()
		rows := tab.Text("#patients tbody")
		if !strings.Contains(rows, "Headersearch, Hector") {
			t.Fatalf("%s searching %q finds:\n%s", tt.role, tt.query, rows)
		}
		href := browsertest.Run(tab, chromedp.Evaluate[string](`(document.querySelector("#patients tbody a") || {}).pathname || ""`))
		if href != tt.link {
			t.Errorf("%s: the result links to %q, want %q", tt.role, href, tt.link)
		}
		if tab.Path() != "/search" {
			t.Errorf("%s: the search put the query in the address: %s", tt.role, tab.Path())
		}
	}
	// The patient has no search box: it is for staff.
	if n := browsertest.Run(signInTab(t, f, b, clinic.RoleAdmin), chromedp.Evaluate[int](`document.querySelectorAll("#header-search").length`)); n != 0 {
		t.Fatal("the admin has the patient search")
	}
}
