package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
)

// post sends a form and returns the status and the page.
func (f *fixture) post(c *http.Client, path string, form url.Values) (int, string) {
	f.t.Helper()
	resp, err := c.PostForm(f.srv.URL+path, form)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// Two people edit the same appointment: the second is refused, sees the
// appointment as it is now, and keeps what they typed.
func TestPageStaleAppointmentChangeIsRefused(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	days := openDays(t, f, 2)
	sched, _ := f.db.Schedule(ctx)
	p, err := f.db.CreatePatient(ctx, clinic.Patient{FirstName: "Vera", LastName: "Version", DateOfBirth: clinic.D(1966, 6, 6),
		Condition: clinic.ConditionOther}, clinic.D(2026, 1, 1))
	if err != nil {
		t.Fatal(err)
	}
	a, _, err := f.db.Book(ctx, clinic.Booking{PatientID: p.ID, Kind: clinic.KindConsult, Start: days[0].At(16*60, sched.Loc)}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	desk := f.signIn(clinic.RoleFrontDesk)
	path := fmt.Sprintf("/desk/appointments/%d", a.ID)
	// Someone else moves it first.
	if _, err := f.db.Reschedule(ctx, a.ID, a.Version, days[0].At(15*60+45, sched.Loc), 0, time.Now()); err != nil {
		t.Fatal(err)
	}
	status, page := f.post(desk, path+"/reschedule", url.Values{"version": {"1"}, "date": {days[1].String()}, "time": {"16:00"}})
	if status != http.StatusConflict || !strings.Contains(page, "changed by someone else") {
		t.Fatalf("stale move: %d", status)
	}
	if !strings.Contains(page, "3:45 PM") || !strings.Contains(page, `value="`+days[1].String()+`"`) {
		t.Fatal("the refusal does not show the current time and the input typed")
	}
	status, page = f.post(desk, path+"/cancel", url.Values{"version": {"2"}, "reason": {""}})
	if status != http.StatusUnprocessableEntity || !strings.Contains(page, `id="reason-error"`) {
		t.Fatalf("cancel without reason: %d", status)
	}
	status, _ = f.post(desk, path+"/teleport", url.Values{"version": {"2"}})
	if status != http.StatusNotFound {
		t.Fatalf("unknown action: %d", status)
	}
	status, _ = f.post(desk, path+"/cancel", url.Values{"reason": {"x"}})
	if status != http.StatusBadRequest {
		t.Fatalf("no version: %d", status)
	}
	// A nurse may not change appointments through the desk's pages.
	status, _ = f.post(f.signIn(clinic.RoleNurse), path+"/cancel", url.Values{"version": {"2"}, "reason": {"x"}})
	if status != http.StatusForbidden {
		t.Fatalf("nurse cancels: %d", status)
	}
}

func TestPageStalePatientEditShowsBoth(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	p, err := f.db.CreatePatient(ctx, clinic.Patient{FirstName: "Ed", LastName: "Twice", DateOfBirth: clinic.D(1966, 6, 6),
		Condition: clinic.ConditionOther, Phone: "(602) 555-0001"}, clinic.D(2026, 1, 1))
	if err != nil {
		t.Fatal(err)
	}
	p.Phone = "(602) 555-0002"
	if _, err := f.db.UpdatePatient(ctx, p, clinic.D(2026, 1, 1)); err != nil {
		t.Fatal(err)
	}
	desk := f.signIn(clinic.RoleFrontDesk)
	form := url.Values{"version": {"1"}, "first_name": {"Ed"}, "last_name": {"Twice"}, "date_of_birth": {"1966-06-06"},
		"condition": {"other"}, "phone": {"(602) 555-0003"}}
	status, page := f.post(desk, fmt.Sprintf("/desk/patients/%d/edit", p.ID), form)
	if status != http.StatusConflict || !strings.Contains(page, "(602) 555-0002") || !strings.Contains(page, `value="(602) 555-0003"`) {
		t.Fatalf("stale edit: %d; want 409 with theirs and mine", status)
	}
	// Saving again from the page (now at version 2) is deliberate and lands.
	form.Set("version", "2")
	if status, _ := f.post(desk, fmt.Sprintf("/desk/patients/%d/edit", p.ID), form); status != http.StatusSeeOther {
		t.Fatalf("second save: %d", status)
	}
}

func TestPageAdminFormsNameEachMistake(t *testing.T) {
	f := newFixture(t)
	admin := f.signIn(clinic.RoleAdmin)
	status, page := f.post(admin, "/admin/protocols/new", url.Values{"name": {""}, "sessions": {"six"}, "min_gap_days": {"3"},
		"max_gap_days": {"2"}, "dose_min_mg_per_kg_h": {"0.5"}, "dose_max_mg_per_kg_h": {"0.2"}, "active": {"1"}})
	if status != http.StatusUnprocessableEntity {
		t.Fatalf("bad protocol: %d", status)
	}
	for _, id := range []string{"name-error", "sessions-error", "max_gap_days-error", "dose_max_mg_per_kg_h-error", "infusion_minutes-error"} {
		if !strings.Contains(page, `id="`+id+`"`) {
			t.Errorf("no %s", id)
		}
	}
	if !strings.Contains(page, `value="six"`) {
		t.Error("the typed value is lost")
	}
	good := url.Values{"name": {"Short CRPS"}, "sessions": {"5"}, "min_gap_days": {"1"}, "max_gap_days": {"1"}, "max_span_days": {"4"},
		"infusion_minutes": {"240"}, "recovery_minutes": {"30"}, "dose_min_mg_per_kg_h": {"0.1"}, "dose_max_mg_per_kg_h": {"0,3"},
		"first_interval_days": {"42"}, "min_interval_days": {"28"}, "max_interval_days": {"84"}, "lead_days": {"7"}, "step_days": {"7"},
		"maintenance_infusion_minutes": {"120"}, "maintenance_recovery_minutes": {"30"}, "active": {"1"}}
	if status, _ := f.post(admin, "/admin/protocols/new", good); status != http.StatusSeeOther {
		t.Fatalf("good protocol: %d", status)
	}
	if status, page := f.post(admin, "/admin/protocols/new", good); status != http.StatusUnprocessableEntity || !strings.Contains(page, "already has this name") {
		t.Fatalf("duplicate protocol name: %d", status)
	}
	// Chairs: a duplicate name, then a real one.
	if status, page := f.post(admin, "/admin/chairs", url.Values{"name": {"Chair 1"}, "position": {"7"}}); status != http.StatusUnprocessableEntity || !strings.Contains(page, "already has this name") {
		t.Fatalf("duplicate chair: %d", status)
	}
	if status, _ := f.post(admin, "/admin/chairs", url.Values{"name": {"Recliner 7"}, "position": {"7"}}); status != http.StatusSeeOther {
		t.Fatalf("new chair: %d", status)
	}
	// Closures: no date, no reason.
	status, page = f.post(admin, "/admin/closures", url.Values{"date": {""}, "reason": {""}})
	if status != http.StatusUnprocessableEntity || !strings.Contains(page, `id="date-error"`) || !strings.Contains(page, `id="reason-error"`) {
		t.Fatalf("empty closure: %d", status)
	}
	// Settings: an unknown zone.
	status, page = f.post(admin, "/admin/clinic", url.Values{"version": {"1"}, "name": {"X"}, "timezone": {"Mars/Olympus"}, "slot_minutes": {"15"}})
	if status != http.StatusUnprocessableEntity || !strings.Contains(page, `id="timezone-error"`) || !strings.Contains(page, `value="Mars/Olympus"`) {
		t.Fatalf("unknown zone: %d", status)
	}
}

func TestPageWeekAndDayViews(t *testing.T) {
	f := newFixture(t)
	desk := f.signIn(clinic.RoleFrontDesk)
	resp, page := f.get(desk, "/desk/week")
	if resp.StatusCode != 200 || strings.Count(page, `class="week-day`) != 7 {
		t.Fatalf("week view: %d", resp.StatusCode)
	}
	resp, page = f.get(desk, "/desk/calendar?date=not-a-date")
	if resp.StatusCode != 200 || !strings.Contains(page, `id="day-grid"`) {
		t.Fatalf("day view with a bad date falls back to today: %d", resp.StatusCode)
	}
	if resp, _ := f.get(desk, "/desk/appointments/999999"); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown appointment: %d", resp.StatusCode)
	}
	if resp, _ := f.get(desk, "/desk/patients/abc"); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("bad patient id: %d", resp.StatusCode)
	}
}
