package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/infusiondesk/infusiondesk/internal/browsertest"
	"github.com/infusiondesk/infusiondesk/internal/clinic"
)

// The day sheet lists the day's arrivals in time order with what the
// floor needs (chair, nurse, protocol, phone, driver, notes), and prints
// without the navigation; the day view prints without it too.
func TestBrowserDaySheetPrints(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	sched, _ := f.db.Schedule(ctx)
	today := clinic.DateOf(time.Now(), sched.Loc)
	day := openDays(t, f, 1)[0]
	late := maintenancePatient(t, f, "Laura", "Latesheet", "laura@example.com", today.AddDays(-20))
	early := maintenancePatient(t, f, "Eli", "Earlysheet", "eli@example.com", today.AddDays(-20))
	if _, err := f.db.UpdatePatient(ctx, func() clinic.Patient {
		p, _ := f.db.Patient(ctx, early.ID)
		p.DriverName, p.DriverPhone, p.Notes, p.Phone = "Sam Earlysheet", "(602) 555-0188", "Needs a warm blanket.", "(602) 555-0177"
		return p
	}(), today); err != nil {
		t.Fatal(err)
	}
	_, free, err := f.db.Availability(ctx, day, day, 90, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var starts []time.Time
	for _, c := range free[0].Chairs {
		for _, s := range c.Starts {
			starts = append(starts, sched.Interval(day, s, 90).Start)
		}
	}
	first, last := starts[0], starts[0]
	for _, s := range starts {
		if s.Before(first) {
			first = s
		}
		if s.After(last) {
			last = s
		}
	}
	if _, _, err := f.db.Book(ctx, clinic.Booking{PatientID: late.ID, Kind: clinic.KindMaintenance, Start: last}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.db.Book(ctx, clinic.Booking{PatientID: early.ID, Kind: clinic.KindMaintenance, Start: first}, time.Now()); err != nil {
		t.Fatal(err)
	}
	b := browsertest.Start(t)
	desk := signInTab(t, f, b, clinic.RoleFrontDesk)
	desk.Open(f.srv.URL + "/desk/calendar?date=" + day.String())
	desk.Submit(nil, "#day-sheet-link")
	rows := desk.Text("#day-sheet-rows tbody")
	ie, il := strings.Index(rows, "Eli Earlysheet"), strings.Index(rows, "Laura Latesheet")
	if ie < 0 || il < 0 || ie > il {
		t.Fatalf("the day sheet is not in time order:\n%s", rows)
	}
	for _, want := range []string{"(602) 555-0177", "Driver: Sam Earlysheet (602) 555-0188", "Needs a warm blanket.", "Maintenance"} {
		if !strings.Contains(rows, want) {
			t.Errorf("the day sheet does not show %q:\n%s", want, rows)
		}
	}
	visible := func(css string) bool {
		return browsertest.Run(desk, chromedp.Evaluate[bool](`(() => { const e = document.querySelector("`+css+`"); return !!e && getComputedStyle(e).display !== "none" })()`))
	}
	if !visible("header.topbar") {
		t.Fatal("the navigation is hidden on screen")
	}
	desk.Do(emulateMedia("print"))
	screenshot(desk, "day-sheet-print")
	for _, css := range []string{"header.topbar", "footer", ".no-print"} {
		if visible(css) {
			t.Errorf("%s prints", css)
		}
	}
	if !visible("#day-sheet-rows") || !visible(".print-only") {
		t.Fatal("the day sheet's table does not print")
	}
	desk.Open(f.srv.URL + "/desk/calendar?date=" + day.String())
	for _, css := range []string{"header.topbar", ".day-nav"} {
		if visible(css) {
			t.Errorf("the day view prints %s", css)
		}
	}
	desk.Do(emulateMedia(""))
	nurse := signInTab(t, f, b, clinic.RoleNurse)
	nurse.Open(f.srv.URL + "/nurse")
	nurse.Submit(nil, "#day-sheet-link")
	if got := nurse.Path(); !strings.HasPrefix(got, "/nurse/day-sheet") {
		t.Fatalf("the nurse's day sheet: %s", got)
	}
}

// emulateMedia makes the tab render as for media ("print"; "" for the screen).
func emulateMedia(media string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: media})
		return err
	})
}
