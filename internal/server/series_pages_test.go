package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
)

// seriesForm is the wizard's confirm form for a proposal.
func seriesForm(protocol int64, start clinic.Date, slots []clinic.Slot, loc *time.Location) url.Values {
	form := url.Values{"protocol_id": {fmt.Sprint(protocol)}, "start_date": {start.String()}, "preferred": {"09:00"},
		"sessions": {fmt.Sprint(len(slots))}, "key": {"page-test"}}
	for i, s := range slots {
		k := fmt.Sprint(i + 1)
		form.Set("date."+k, clinic.DateOf(s.Start, loc).String())
		form.Set("time."+k, clinic.ClockOf(s.Start, loc).String())
		form.Set("chair."+k, fmt.Sprint(s.ChairID))
	}
	return form
}

// A slot taken between proposal and confirmation: nothing booked, a fresh
// proposal shown with the changed sessions marked. Then the series is
// booked, a session cancelled and re-planned, and the rest cancelled.
func TestPageSeriesConflictReflowCancel(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	sched, _ := f.db.Schedule(ctx)
	protocols, _ := f.db.Protocols(ctx)
	var short int64
	for _, p := range protocols {
		if p.Name == "Short loading" {
			short = p.ID
		}
	}
	p, err := f.db.CreatePatient(ctx, clinic.Patient{FirstName: "Pia", LastName: "Pages", DateOfBirth: clinic.D(1980, 8, 8),
		Condition: clinic.ConditionOther}, clinic.D(2026, 1, 1))
	if err != nil {
		t.Fatal(err)
	}
	start := openDays(t, f, 1)[0]
	req := clinic.SeriesRequest{PatientID: p.ID, ProtocolID: short, StartDate: start, Preferred: 9 * 60}
	proposal, err := f.db.ProposeSeries(ctx, req, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	slots := proposal.Sessions()
	// Someone else takes session 2's chair and time.
	other, _ := f.db.CreatePatient(ctx, clinic.Patient{FirstName: "Otto", LastName: "Other", DateOfBirth: clinic.D(1980, 1, 1),
		Condition: clinic.ConditionOther}, clinic.D(2026, 1, 1))
	if _, _, err := f.db.Book(ctx, clinic.Booking{PatientID: other.ID, Kind: clinic.KindMaintenance, Start: slots[1].Start,
		ChairID: slots[1].ChairID}, time.Now()); err != nil {
		t.Fatal(err)
	}
	desk := f.signIn(clinic.RoleFrontDesk)
	path := fmt.Sprintf("/desk/patients/%d/series", p.ID)
	status, page := f.post(desk, path, seriesForm(short, start, slots, sched.Loc))
	if status != http.StatusConflict || !strings.Contains(page, "taken meanwhile") || !strings.Contains(page, `class="changed`) {
		t.Fatalf("taken meanwhile: %d", status)
	}
	if v, _ := f.db.PatientVisits(ctx, p.ID); len(v) != 0 {
		t.Fatalf("%d sessions booked after a conflict", len(v))
	}
	// The fresh proposal books.
	fresh, err := f.db.ProposeSeries(ctx, req, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if status, _ := f.post(desk, path, seriesForm(short, start, fresh.Sessions(), sched.Loc)); status != http.StatusSeeOther {
		t.Fatalf("booking the fresh proposal: %d", status)
	}
	series, err := f.db.PatientSeries(ctx, p.ID)
	if err != nil || len(series) != 1 || len(series[0].Appointments) != 3 {
		t.Fatalf("series %+v %v", series, err)
	}
	// Cancel session 2, then re-plan it from its page.
	second := series[0].Appointments[1]
	if status, _ := f.post(desk, fmt.Sprintf("/desk/appointments/%d/cancel", second.ID), url.Values{"version": {"1"}, "reason": {"Car broke down"}}); status != http.StatusSeeOther {
		t.Fatalf("cancel session 2: %d", status)
	}
	_, page = f.get(desk, fmt.Sprintf("/desk/appointments/%d", second.ID))
	if !strings.Contains(page, `id="reflow-cancelled"`) {
		t.Fatal("a cancelled session does not offer a re-flow")
	}
	reflow := fmt.Sprintf("/desk/series/%d/reflow", series[0].ID)
	status, page = f.post(desk, reflow, url.Values{"from": {"2"}})
	if status != http.StatusOK || !strings.Contains(page, `id="reflow-confirm"`) {
		t.Fatalf("re-flow preview: %d", status)
	}
	// Confirm what the preview showed.
	confirm := url.Values{"from": {"2"}}
	for _, line := range strings.Split(page, "\n") {
		if i := strings.Index(line, `name="want.`); i >= 0 {
			name := line[i+6 : i+12]
			v := line[strings.Index(line, `value="`)+7:]
			confirm.Set(name, v[:strings.Index(v, `"`)])
		}
	}
	if status, _ := f.post(desk, reflow+"/confirm", confirm); status != http.StatusSeeOther {
		t.Fatalf("re-flow confirm: %d", status)
	}
	if series, _ = f.db.PatientSeries(ctx, p.ID); len(series[0].Appointments) != 4 {
		t.Fatalf("%d appointments after re-planning session 2; want 3 + the cancelled one", len(series[0].Appointments))
	}
	// Cancelling the rest needs a reason.
	cancel := fmt.Sprintf("/desk/series/%d/cancel", series[0].ID)
	if status, page := f.post(desk, cancel, url.Values{"patient_id": {fmt.Sprint(p.ID)}}); status != http.StatusUnprocessableEntity || !strings.Contains(page, "not cancelled") {
		t.Fatalf("cancel series without a reason: %d", status)
	}
	if status, _ := f.post(desk, cancel, url.Values{"patient_id": {fmt.Sprint(p.ID)}, "reason": {"Moving away"}}); status != http.StatusSeeOther {
		t.Fatalf("cancel series: %d", status)
	}
	visits, _ := f.db.PatientVisits(ctx, p.ID)
	for _, v := range visits {
		if v.Status != clinic.StatusCancelled {
			t.Fatalf("after cancelling the series: %+v", v)
		}
	}
	_, page = f.get(desk, fmt.Sprintf("/desk/patients/%d", p.ID))
	if !strings.Contains(page, "0 of 3 done") || !strings.Contains(page, "Cancelled: Moving away") {
		t.Fatal("the patient page does not show the cancelled series with its progress")
	}
}

// The desk adds past infusions from a paper chart and records relief on
// the patient page; mistakes are refused with the reason, nothing written.
func TestPageImportAndRelief(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	sched, _ := f.db.Schedule(ctx)
	today := clinic.DateOf(time.Now(), sched.Loc)
	p, err := f.db.CreatePatient(ctx, clinic.Patient{FirstName: "Ida", LastName: "Import", DateOfBirth: clinic.D(1955, 5, 5),
		Condition: clinic.ConditionOther}, today)
	if err != nil {
		t.Fatal(err)
	}
	protocols, _ := f.db.Protocols(ctx)
	if _, err := f.db.CreateCourse(ctx, p.ID, protocols[0].ID, today.AddDays(-60)); err != nil {
		t.Fatal(err)
	}
	desk := f.signIn(clinic.RoleFrontDesk)
	path := fmt.Sprintf("/desk/patients/%d", p.ID)
	if status, page := f.post(desk, path+"/infusions", url.Values{"import_date": {today.AddDays(3).String()}, "phase": {"maintenance"}, "import_dose": {"2"}}); status != http.StatusUnprocessableEntity || !strings.Contains(page, "future") {
		t.Fatalf("a future infusion at 2 mg/kg/h: %d", status)
	}
	if status, _ := f.post(desk, path+"/infusions", url.Values{"import_date": {today.AddDays(-30).String()}, "phase": {"maintenance"}, "import_dose": {"0,3"}}); status != http.StatusSeeOther {
		t.Fatalf("import: %d", status)
	}
	rows, err := f.db.PatientInfusions(ctx, p.ID)
	if err != nil || len(rows) != 1 {
		t.Fatalf("infusions %v %v", rows, err)
	}
	form := url.Values{"infusion_id": {fmt.Sprint(rows[0].ID)}, "status": {"ended"}, "relief_date": {today.AddDays(-31).String()}}
	if status, page := f.post(desk, path+"/relief", form); status != http.StatusUnprocessableEntity || !strings.Contains(page, "before the infusion") {
		t.Fatalf("relief before the infusion: %d", status)
	}
	form.Set("relief_date", today.AddDays(-2).String())
	if status, _ := f.post(desk, path+"/relief", form); status != http.StatusSeeOther {
		t.Fatalf("relief: %d", status)
	}
	_, page := f.get(desk, path)
	if !strings.Contains(page, "ended") || !strings.Contains(page, "(28 d)") {
		t.Fatal("the patient page does not show the relief")
	}
	// Another patient's infusion cannot be reported on this patient's page.
	q, _ := f.db.CreatePatient(ctx, clinic.Patient{FirstName: "Other", LastName: "One", DateOfBirth: clinic.D(1955, 5, 5),
		Condition: clinic.ConditionOther}, today)
	if status, _ := f.post(desk, fmt.Sprintf("/desk/patients/%d/relief", q.ID), form); status != http.StatusNotFound {
		t.Fatalf("someone else's infusion: %d", status)
	}
}
