package server_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/infusiondesk/infusiondesk/internal/browsertest"
	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/postgres"
	"github.com/infusiondesk/infusiondesk/web"
)

// Every staff page fits a phone (390 px) and a tablet (820 px): the page
// never scrolls sideways; a wide table scrolls inside its own labelled,
// focusable region.
func TestBrowserStaffPagesFitAPhone(t *testing.T) {
	f := newFixture(t)
	pages := staffPages(t, f)
	b := browsertest.Start(t)
	for role, paths := range pages {
		tab := signInTab(t, f, b, role)
		for _, width := range []int64{390, 820} {
			tab.Do(chromedp.EmulateViewport(width, 844, chromedp.EmulateScale(1)))
			for _, path := range paths {
				if status := tab.Open(f.srv.URL + path); status != 200 {
					t.Errorf("%s: %d", path, status)
				}
				if width == 390 && path == "/desk/calendar" {
					screenshot(tab, "day-view-phone")
				}
				if w := browsertest.Run(tab, chromedp.Evaluate[int64](`document.documentElement.scrollWidth`)); w > width {
					wide := browsertest.Run(tab, chromedp.Evaluate[string](fmt.Sprintf(`[...document.querySelectorAll("body *")].filter(e => e.getBoundingClientRect().right > %d + 1 && !(e.closest(".table-scroll") && e.closest(".table-scroll").getBoundingClientRect().right <= %d + 1)).slice(0, 4).map(e => e.tagName + (e.id ? "#" + e.id : "") + "." + e.className).join(", ")`, width, width)))
					t.Errorf("%s at %d px is %d px wide: %s", path, width, w, wide)
				}
				bad := browsertest.Run(tab, chromedp.Evaluate[string](`[...document.querySelectorAll(".table-scroll")].filter(e => e.scrollWidth > e.clientWidth && (e.tabIndex < 0 || !e.getAttribute("aria-label") && !e.getAttribute("aria-labelledby"))).map(e => e.innerText.slice(0, 30)).join(" | ")`))
				if bad != "" {
					t.Errorf("%s at %d px: a scrolling table region is not focusable and labelled: %s", path, width, bad)
				}
			}
		}
	}
}

// staffPages are the pages of each staff role, with ids from the demo.
func staffPages(t *testing.T, f *fixture) map[clinic.Role][]string {
	t.Helper()
	ctx := context.Background()
	sched, _ := f.db.Schedule(ctx)
	today := clinic.DateOf(time.Now(), sched.Loc)
	visits, err := f.db.Visits(ctx, postgres.AppointmentFilter{From: today.AddDays(-30).At(0, sched.Loc), To: today.AddDays(30).At(0, sched.Loc)})
	if err != nil || len(visits) == 0 {
		t.Fatalf("no demo visits (%v)", err)
	}
	v := visits[len(visits)-1]
	day := openDays(t, f, 1)[0]
	slot := firstFree(t, f, day)
	return map[clinic.Role][]string{
		clinic.RoleFrontDesk: {"/desk", "/desk/calendar", "/desk/day-sheet?date=" + day.String(), "/desk/week", "/desk/misfits", "/desk/book", "/desk/patients",
			fmt.Sprintf("/desk/patients/%d", v.PatientID), "/desk/patients/new", "/desk/requests", "/desk/work", "/desk/messages",
			fmt.Sprintf("/desk/appointments/%d", v.ID), fmt.Sprintf("/desk/patients/%d/edit", v.PatientID),
			fmt.Sprintf("/desk/patients/%d/series/new", v.PatientID), web.FillURL(slot.ChairID, slot.Start, 90),
			"/reports/forecast", web.ForecastDayURL(day), "/reports/loading"},
		clinic.RoleNurse:     {"/nurse", "/nurse/day-sheet"},
		clinic.RolePhysician: {"/physician", "/physician/flags", fmt.Sprintf("/physician/patients/%d", v.PatientID), "/reports/outcomes", "/reports/loading"},
		clinic.RoleAdmin: {"/admin", "/admin/users", "/admin/audit", "/admin/roster", "/admin/clinic", "/admin/chairs",
			"/admin/protocols", "/admin/protocols/new", "/admin/consent", "/reports/utilisation", "/reports/forecast", "/reports/outcomes"},
	}
}
