package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/infusiondesk/infusiondesk/internal/browsertest"
	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/i18n"
	"github.com/jackc/pgx/v5"
)

// A patient who reads Spanish: the confirmation and a reminder arrive in
// Spanish at a real SMTP server; on a phone the invitation, the portal
// and the visit link are in Spanish (and say so to screen readers); the
// patient switches the portal to English themselves. No string a Spanish
// page or message asked for is missing from the catalog.
func TestBrowserSpanishPortalAndReminder(t *testing.T) {
	f := newFixture(t)
	in := f.deliver(t, time.Now)
	ctx := context.Background()
	sched, _ := f.db.Schedule(ctx)
	today := clinic.DateOf(time.Now(), sched.Loc)
	p, err := f.db.CreatePatient(ctx, clinic.Patient{FirstName: "Lucía", LastName: "Reyes", DateOfBirth: clinic.D(1968, 4, 12),
		Condition: clinic.ConditionCRPS, Email: "lucia@example.com", Language: i18n.Spanish}, today)
	if err != nil {
		t.Fatal(err)
	}
	protocols, _ := f.db.Protocols(ctx)
	if _, err := f.db.CreateCourse(ctx, p.ID, protocols[0].ID, today.AddDays(-60)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.ImportInfusion(ctx, p.ID, today.AddDays(-40), nil, clinic.PhaseMaintenance, 0.3, time.Now()); err != nil {
		t.Fatal(err)
	}
	day := openDays(t, f, 4)[3]
	start := day.At(13*60, sched.Loc)
	if _, _, err := f.db.Book(ctx, clinic.Booking{PatientID: p.ID, Kind: clinic.KindMaintenance, Start: start}, time.Now()); err != nil {
		t.Fatal(err)
	}
	es := i18n.Locale{Lang: i18n.Spanish, Style: sched.Settings.Style}
	when := es.At(start.In(sched.Loc), i18n.LongYear) // "lunes, 7 de diciembre de 2026 a la 1:00 p. m."

	confirmation := in.Wait(t, 1, 20*time.Second)[0]
	if confirmation.Subject != "Su cita de infusión el "+when+" — "+f.clin.Settings.Name ||
		!strings.Contains(confirmation.Text, "Tiene cita en "+f.clin.Settings.Name) || !strings.Contains(confirmation.Text, "no puede conducir") {
		t.Fatalf("the confirmation:\n%s\n%s", confirmation.Subject, confirmation.Text)
	}
	// The first reminder falls due now (River holds it for 72 hours before
	// the visit): it is written and sent in Spanish.
	conn, err := pgx.Connect(ctx, f.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if tag, err := conn.Exec(ctx, `UPDATE river.river_job SET scheduled_at = now() WHERE id = (
		SELECT job_id FROM messages WHERE patient_id = $1 AND kind = 'reminder' AND channel = 'email' ORDER BY scheduled_for LIMIT 1)`, p.ID); err != nil || tag.RowsAffected() != 1 {
		t.Fatalf("making the reminder due: %v %v", tag, err)
	}
	reminder := in.Wait(t, 2, 20*time.Second)[1]
	if reminder.Subject != "Recordatorio: su cita de infusión el "+when+" — "+f.clin.Settings.Name ||
		!strings.Contains(reminder.Text, "Le recordamos su cita en") || !strings.Contains(reminder.Text, "Confirmar o cancelar: ") {
		t.Fatalf("the reminder:\n%s\n%s", reminder.Subject, reminder.Text)
	}
	for _, english := range []string{"reminder", "Arrange", "minutes", "Please", " at "} {
		if strings.Contains(reminder.Subject+reminder.Text, english) {
			t.Errorf("the Spanish reminder has %q in English:\n%s", english, reminder.Text)
		}
	}

	tab := browsertest.Start(t).Tab(t)
	tab.Do(chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	link := visitLink.FindString(reminder.Text)
	tab.Open(link)
	if got := tab.Text("#visit-when"); !strings.Contains(got, es.Date(start.In(sched.Loc), i18n.LongYear)) || !strings.Contains(got, "1:00 p. m.") {
		t.Fatalf("the visit link page shows %q", got)
	}
	if got := tab.Text("#visit-confirm"); got != "Allí estaré" {
		t.Fatalf("the confirm button reads %q", got)
	}

	invite := invitePatient(t, f, f.signIn(clinic.RoleFrontDesk), p.ID)
	tab.Open(invite)
	if got := tab.Text("h1"); got != "Bienvenido/a, Lucía" {
		t.Fatalf("the invitation page: %q", got)
	}
	tab.Submit(map[string]string{"#password": "lucía's own password", "#password2": "lucía's own password"}, "#invite-form button")
	if tab.Path() != "/portal" {
		t.Fatalf("after setting the password: %s", tab.Path())
	}
	screenshot(tab, "portal-spanish")
	if got := browsertest.Run(tab, chromedp.Evaluate[string](`document.documentElement.lang`)); got != "es" {
		t.Errorf("the portal's lang is %q", got)
	}
	if got := tab.Text("h1"); got != "Mis citas" {
		t.Errorf("the portal's heading: %q", got)
	}
	if got := tab.Text(".next-visit h3"); !strings.Contains(got, es.Date(start.In(sched.Loc), i18n.LongYear)) || !strings.Contains(got, "1:00 p. m.") {
		t.Errorf("the next visit reads %q", got)
	}
	if got := tab.Text(".next-visit"); !strings.Contains(got, "Añadir a mi calendario") || !strings.Contains(got, "no puede conducir") {
		t.Errorf("the next visit card: %q", got)
	}
	if width := browsertest.Run(tab, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); width > 390 {
		t.Errorf("the Spanish portal is %d px wide on a 390 px phone", width)
	}
	tab.Open(f.srv.URL + "/portal/journal")
	if got := tab.Text("h1"); got != "Mi diario de síntomas" {
		t.Errorf("the journal's heading: %q", got)
	}
	if got := tab.Text("#peg-questions summary"); !strings.Contains(got, "Las tres preguntas de esta semana") {
		t.Errorf("the weekly questions: %q", got)
	}
	tab.Submit(nil, "#journal-form button[type=submit]") // no pain score: refused, in Spanish
	if got := tab.Text("#pain-error"); got == "" || strings.Contains(got, "Choose") {
		t.Errorf("the journal's refusal: %q", got)
	}

	tab.Open(f.srv.URL + "/portal/consent")
	if got := tab.Text("#consent-text"); !strings.Contains(got, "Acepto recibir ketamina") {
		t.Errorf("the consent form in Spanish: %q", got)
	}

	// The patient chooses English.
	tab.Open(f.srv.URL + "/portal")
	tab.Do(chromedp.SetValue(chromedp.CSS("#portal-language"), "en"))
	tab.Submit(nil, "#language-save")
	if got := tab.Text("h1"); got != "My visits" {
		t.Errorf("after choosing English: %q", got)
	}
	if got, _ := f.db.Patient(ctx, p.ID); got.Language != i18n.English {
		t.Errorf("the language stored: %q", got.Language)
	}
	for _, k := range i18n.Missing() {
		t.Errorf("no Spanish for %q", k)
	}
}
