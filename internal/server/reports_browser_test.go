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
	"github.com/jackc/pgx/v5"
)

// fillDay books every free quarter-hour of every chair in service on day
// with a consultation of a filler patient (one per chair), so that the day
// has no chair time left.
func fillDay(t *testing.T, f *fixture, day clinic.Date) {
	t.Helper()
	ctx := context.Background()
	sched, err := f.db.Schedule(ctx)
	if err != nil {
		t.Fatal(err)
	}
	chairs, err := f.db.Chairs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, f.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for i, ch := range chairs {
		p, err := f.db.CreatePatient(ctx, clinic.Patient{FirstName: "Filler", LastName: fmt.Sprintf("Chair%d", i+1), DateOfBirth: clinic.D(1960, 1, 1+i),
			Condition: clinic.ConditionOther}, clinic.DateOf(time.Now(), sched.Loc))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range sched.OpenOn(day) {
			_, err := conn.Exec(ctx, fmt.Sprintf(`DO $$ DECLARE s timestamptz; BEGIN
				FOR s IN SELECT generate_series(timestamptz '%s', timestamptz '%s' - interval '15 minutes', interval '15 minutes') LOOP
					BEGIN
						INSERT INTO appointments (patient_id, chair_id, kind, status, starts_at, ends_at) VALUES (%d, %d, 'consult', 'booked', s, s + interval '15 minutes');
					EXCEPTION WHEN exclusion_violation OR unique_violation THEN NULL;
					END;
				END LOOP; END $$`, day.At(r.Opens, sched.Loc).Format(time.RFC3339), day.At(r.Closes, sched.Loc).Format(time.RFC3339), p.ID, ch.ID))
			if err != nil {
				t.Fatal(err)
			}
		}
	}
}

// The admin opens the forecast, sees a day that a patient's plan makes
// overflow, and follows the suggestion to the nearest day in the
// patient's window with room.
func TestBrowserAdminFollowsAForecastSuggestion(t *testing.T) {
	f := newFixture(t)
	day := openDays(t, f, 6)[5] // three weeks or so ahead
	maintenancePatient(t, f, "Paula", "Planned", "paula@example.com", day.AddDays(-28))
	fillDay(t, f, day)

	b := browsertest.Start(t)
	admin := signInTab(t, f, b, clinic.RoleAdmin)
	admin.Open(f.srv.URL + "/reports")
	if got := admin.Path(); got != "/reports/utilisation" {
		t.Fatalf("the reports open on %s", got)
	}
	admin.Do(chromedp.Click(chromedp.CSS(`.report-tabs a[href="/reports/forecast"]`)))
	admin.WaitNewPage()
	screenshot(admin, "forecast")
	problem := "#problem-" + day.String()
	text := admin.Text(problem)
	if !strings.Contains(text, "Paula Planned") || !strings.Contains(text, "More chair time is booked and planned") {
		t.Fatalf("the problem day %s:\n%s", day, text)
	}
	suggested := browsertest.Run(admin, chromedp.Evaluate[string](fmt.Sprintf(`(() => {
		for (const tr of document.querySelectorAll(%q)) {
			if (tr.querySelector("th").innerText.includes("Paula Planned")) { return tr.querySelector("a.suggestion").getAttribute("href") }
		}
		return "" })()`, problem+" tbody tr")))
	if !strings.HasPrefix(suggested, "/reports/forecast/") {
		t.Fatalf("no suggestion for Paula: %q", suggested)
	}
	target, err := clinic.ParseDate(strings.TrimPrefix(suggested, "/reports/forecast/"))
	if err != nil || target == day || target.Before(day) && day.DaysSince(target) > 3 || target.After(day.AddDays(3)) {
		t.Fatalf("suggested %s for a patient due %s (window: 3 days either side)", suggested, day)
	}
	admin.Do(chromedp.Click(chromedp.CSS(fmt.Sprintf(`%s a.suggestion[href=%q]`, problem, suggested))))
	admin.WaitNewPage()
	screenshot(admin, "forecast-day")
	if got := admin.Path(); got != suggested {
		t.Fatalf("followed the suggestion to %s; want %s", got, suggested)
	}
	if room := admin.Text("#day-room"); !strings.Contains(room, "chair-hours free") {
		t.Fatalf("the suggested day has no room: %q", room)
	}
	if p := admin.Problems(); len(p) > 0 {
		t.Fatalf("console: %v", p)
	}
}
