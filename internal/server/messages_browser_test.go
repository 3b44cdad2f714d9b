package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/infusiondesk/infusiondesk/internal/browsertest"
	"github.com/infusiondesk/infusiondesk/internal/clinic"
)

// The desk books a visit; the confirmation arrives at a real SMTP server;
// the patient follows its link and confirms; the desk's day view shows
// the visit confirmed.
func TestBrowserConfirmationLinkConfirms(t *testing.T) {
	f := newFixture(t)
	in := f.deliver(t, time.Now)
	ctx := context.Background()
	p, err := f.db.CreatePatient(ctx, clinic.Patient{FirstName: "Imogen", LastName: "Linkfollow", DateOfBirth: clinic.D(1972, 2, 2),
		Email: "imogen@example.com", Condition: clinic.ConditionCRPS}, clinic.D(2026, 1, 1))
	if err != nil {
		t.Fatal(err)
	}
	day := openDays(t, f, 3)[2]
	b := browsertest.Start(t)
	desk := signInTab(t, f, b, clinic.RoleFrontDesk)
	desk.Open(f.srv.URL + "/desk/calendar?date=" + day.String())
	chooseFreeCell(t, desk)
	desk.Submit(nil, "#chosen a")
	choosePatient(t, desk, "linkf", "Imogen Linkfollow")
	desk.Submit(nil, "#book-form button[type=submit]")
	if got := desk.Text("#appointment-notice"); got != "Booked." {
		t.Fatalf("after booking: %q", got)
	}

	var confirmation string
	for _, m := range in.Wait(t, 1, 20*time.Second) {
		if m.To[0] == p.Email {
			confirmation = m.Text
		}
	}
	link := visitLink.FindString(confirmation)
	if link == "" || !strings.Contains(confirmation, "You are booked at "+f.clin.Settings.Name) {
		t.Fatalf("the confirmation:\n%s", confirmation)
	}
	patient := b.Tab(t) // not signed in
	patient.Open(link)
	screenshot(patient, "visit-link")
	if got := patient.Text("#visit-when"); !strings.Contains(got, day.At(0, time.UTC).Format("Monday, January 2, 2006")) {
		t.Fatalf("the link page shows %q", got)
	}
	patient.Submit(nil, "#visit-confirm")
	if got := patient.Text("#visit-notice"); !strings.Contains(got, "confirmed") {
		t.Fatalf("after confirming: %q", got)
	}
	if n := browsertest.Run(patient, chromedp.Evaluate[int](`document.querySelectorAll("#visit-confirm").length`)); n != 0 {
		t.Fatal("still offers to confirm")
	}

	desk.Open(f.srv.URL + "/desk/calendar?date=" + day.String())
	screenshot(desk, "day-view-confirmed")
	confirmed := browsertest.Run(desk, chromedp.Evaluate[bool](`[...document.querySelectorAll("td.appt")].some(td =>
		td.textContent.includes("Imogen Linkfollow") && td.querySelector(".badge.confirmed") !== null)`))
	if !confirmed {
		t.Fatal("the day view does not show the visit confirmed")
	}
}
