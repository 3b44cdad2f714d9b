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
	"github.com/infusiondesk/infusiondesk/web"
)

// The fill API: candidates for a freed slot, the waitlist, offers, the
// fill report; bad input is a 4xx with a message per field.
func TestFillAPI(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	sched, _ := f.db.Schedule(ctx)
	today := clinic.DateOf(time.Now(), sched.Loc)
	day := openDays(t, f, 1)[0]
	olive := maintenancePatient(t, f, "Olive", "Apioverdue", "olive.api@example.com", today.AddDays(-200))
	walt := maintenancePatient(t, f, "Walt", "Apiwaits", "walt.api@example.com", today.AddDays(-5))
	desk := f.token(clinic.RoleFrontDesk)

	slot := firstFree(t, f, day)
	chair, start := slot.ChairID, slot.Start.Format(time.RFC3339)
	status, _, v := f.api("POST", "/api/v1/appointments", desk, map[string]any{"patient_id": walt.ID, "kind": "maintenance", "start": start, "chair_id": chair})
	expect(t, "booking Walt", status, http.StatusCreated, v)
	walts := obj(v)
	status, _, v = f.api("POST", fmt.Sprintf("/api/v1/appointments/%v/cancel", walts["id"]), desk, map[string]any{"reason": "moving house"})
	expect(t, "cancelling", status, http.StatusOK, v)

	q := fmt.Sprintf("/api/v1/fill-candidates?start=%s&minutes=90", url.QueryEscape(start))
	status, _, v = f.api("GET", q, desk, nil)
	expect(t, "candidates", status, http.StatusOK, v)
	list := v.([]any)
	if len(list) == 0 || obj(list[0])["patient_id"] != float64(olive.ID) || obj(list[0])["reason"] != "overdue" {
		t.Fatalf("candidates %v", list)
	}
	for _, c := range list {
		if obj(c)["patient_id"] == float64(walt.ID) {
			t.Fatal("the patient who just cancelled is a candidate")
		}
	}
	status, _, v = f.api("GET", "/api/v1/fill-candidates?start=tomorrow&minutes=0", desk, nil)
	expect(t, "bad candidates query", status, http.StatusUnprocessableEntity, v)
	if fields(v)["start"] == nil || fields(v)["minutes"] == nil {
		t.Fatalf("fields %v", v)
	}

	// The waitlist.
	before := day.AddDays(30).String()
	status, _, v = f.api("POST", fmt.Sprintf("/api/v1/patients/%d/waitlist", walt.ID), desk, map[string]any{"before": before, "part_of_day": "morning"})
	expect(t, "waitlist", status, http.StatusCreated, v)
	if obj(v)["before"] != before || obj(v)["part_of_day"] != "morning" {
		t.Fatalf("waitlist entry %v", v)
	}
	status, _, v = f.api("POST", fmt.Sprintf("/api/v1/patients/%d/waitlist", walt.ID), desk, map[string]any{"before": today.String(), "part_of_day": "evening"})
	expect(t, "a bad wish", status, http.StatusUnprocessableEntity, v)
	status, _, v = f.api("POST", "/api/v1/patients/999999/waitlist", desk, map[string]any{"before": before})
	expect(t, "an unknown patient's wish", status, http.StatusNotFound, v)
	status, _, _ = f.api("DELETE", fmt.Sprintf("/api/v1/patients/%d/waitlist", walt.ID), desk, nil)
	if status != http.StatusNoContent {
		t.Fatalf("off the waitlist: %d", status)
	}

	// Offers.
	status, _, v = f.api("POST", "/api/v1/fill-offers", desk, map[string]any{"start": start, "chair_id": chair, "minutes": 90,
		"patient_ids": []int64{olive.ID}, "expires_at": slot.Start.Add(time.Hour).Format(time.RFC3339)})
	expect(t, "an offer ending after the slot", status, http.StatusUnprocessableEntity, v)
	if fields(v)["expires_at"] == nil {
		t.Fatalf("fields %v", v)
	}
	status, _, v = f.api("POST", "/api/v1/fill-offers", desk, map[string]any{"start": start, "chair_id": chair, "minutes": 90, "patient_ids": []int64{olive.ID}})
	expect(t, "an offer", status, http.StatusCreated, v)
	patients := obj(v)["patients"].([]any)
	if len(patients) != 1 || fmt.Sprint(obj(patients[0])["channels"]) != "[email]" {
		t.Fatalf("offer %v", v)
	}
	status, _, v = f.api("POST", "/api/v1/appointments", desk, map[string]any{"patient_id": olive.ID, "kind": "maintenance", "start": start, "chair_id": chair})
	expect(t, "the desk books the chair", status, http.StatusCreated, v)
	status, _, v = f.api("POST", "/api/v1/fill-offers", desk, map[string]any{"start": start, "chair_id": chair, "minutes": 90, "patient_ids": []int64{walt.ID}})
	expect(t, "an offer of a booked chair", status, http.StatusConflict, v)

	// The report: one visit freed 1.5 chair-hours, re-filled by the desk.
	for _, token := range []string{desk, f.token(clinic.RoleAdmin)} {
		status, _, v = f.api("GET", fmt.Sprintf("/api/v1/reports/fill?from=%s&to=%s", day, day), token, nil)
		expect(t, "fill report", status, http.StatusOK, v)
		rep := obj(v)
		if rep["freed_slots"] != 1.0 || rep["freed_chair_hours"] != 1.5 || rep["filled_slots"] != 1.0 ||
			obj(obj(rep["by_channel"])["desk"])["slots"] != 1.0 {
			t.Fatalf("report %v", rep)
		}
	}
	status, _, v = f.api("GET", "/api/v1/reports/fill?from=2026-05-01&to=2026-04-01", desk, nil)
	expect(t, "a backwards report", status, http.StatusUnprocessableEntity, v)

	// The physician widens Walt's self-booking window; too wide is refused.
	phys := f.token(clinic.RolePhysician)
	plan := fmt.Sprintf("/api/v1/patients/%d/plan", walt.ID)
	status, _, v = f.api("PUT", plan, phys, map[string]any{"self_booking_days_before": 40, "note": "wide"})
	expect(t, "a window too wide", status, http.StatusUnprocessableEntity, v)
	if fields(v)["self_booking_days_before"] == nil {
		t.Fatalf("fields %v", v)
	}
	status, _, v = f.api("PUT", plan, phys, map[string]any{"self_booking_days_before": 5, "self_booking_days_after": 7, "note": "travels far"})
	expect(t, "widening the window", status, http.StatusOK, v)
	if iv := obj(obj(v)["intervals"]); iv["self_booking_days_before"] != 5.0 || iv["self_booking_days_after"] != 7.0 {
		t.Fatalf("intervals %v", iv)
	}
}

// A visit of the coming days cancelled: the desk's home page lists its
// chair with the best candidate and a link to fill it; once the chair is
// booked again it is gone.
func TestDeskHomeListsFreedChairs(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	sched, _ := f.db.Schedule(ctx)
	now := time.Now()
	today := clinic.DateOf(now, sched.Loc)
	olive := maintenancePatient(t, f, "Olive", "Homeoverdue", "olive.home@example.com", today.AddDays(-300))
	cara := maintenancePatient(t, f, "Cara", "Homecancels", "cara.home@example.com", today.AddDays(-25))
	var slot clinic.Slot
	for d := today.AddDays(1); slot.ChairID == 0 && d.Before(today.AddDays(6)); d = d.AddDays(1) {
		_, free, err := f.db.Availability(ctx, d, d, 90, now)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range free[0].Chairs {
			if len(c.Starts) > 0 && slot.ChairID == 0 {
				slot = clinic.Slot{ChairID: c.ChairID, Interval: sched.Interval(d, c.Starts[0], 90)}
			}
		}
	}
	if slot.ChairID == 0 {
		t.Fatal("no free 90 minutes in the coming days")
	}
	a, _, err := f.db.Book(ctx, clinic.Booking{PatientID: cara.ID, Kind: clinic.KindMaintenance, Start: slot.Start, ChairID: slot.ChairID}, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.Cancel(ctx, a.ID, a.Version, "called in sick", now); err != nil {
		t.Fatal(err)
	}
	desk := f.signIn(clinic.RoleFrontDesk)
	_, page := f.get(desk, "/desk")
	fill := strings.ReplaceAll(web.FillURL(slot.ChairID, slot.Start, 90), "&", "&amp;")
	if !strings.Contains(page, `class="freed-slot"`) || !strings.Contains(page, fill) || !strings.Contains(page, "best: Olive Homeoverdue") {
		t.Fatalf("the desk home does not list the freed chair (%s):\n%s", fill, extractSection(page, "freed-slots"))
	}
	if _, _, err := f.db.Book(ctx, clinic.Booking{PatientID: olive.ID, Kind: clinic.KindMaintenance, Start: slot.Start, ChairID: slot.ChairID}, now); err != nil {
		t.Fatal(err)
	}
	if _, page = f.get(desk, "/desk"); strings.Contains(page, fill) {
		t.Fatal("a chair booked again is still listed as freed")
	}
}

// extractSection is the HTML of the element with id, for a failure message.
func extractSection(page, id string) string {
	i := strings.Index(page, `id="`+id+`"`)
	if i < 0 {
		return "(no #" + id + ")"
	}
	return page[i:min(len(page), i+2000)]
}

// A patient signed in sees the offers made to them and can take one in the
// portal or the API; the first takes it, the other is told it was taken;
// another patient's offer is "not found".
func TestPortalOffers(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	client, tokenA, a, b, _ := portalPair(t, f)
	status, _, v := f.api("POST", "/api/v1/auth/token", "", map[string]string{"email": b.Email, "password": "infusiondesk-demo"})
	expect(t, "B's token", status, http.StatusOK, v)
	tokenB := obj(v)["token"].(string)
	sched, _ := f.db.Schedule(ctx)
	day := openDays(t, f, 1)[0]
	_, free, err := f.db.Availability(ctx, day, day, 90, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var slot clinic.Slot
	for _, c := range free[0].Chairs {
		for _, s := range c.Starts {
			if iv := sched.Interval(day, s, 90); slot.ChairID == 0 && iv.End.Before(day.At(12*60, sched.Loc)) {
				slot = clinic.Slot{ChairID: c.ChairID, Interval: iv}
			}
		}
	}
	desk := f.token(clinic.RoleFrontDesk)
	status, _, v = f.api("POST", "/api/v1/fill-offers", desk, map[string]any{"start": slot.Start.Format(time.RFC3339), "chair_id": slot.ChairID,
		"minutes": 90, "patient_ids": []int64{a.ID, b.ID}})
	expect(t, "offer to both", status, http.StatusCreated, v)
	offerID := obj(v)["id"].(float64)
	status, _, v = f.api("POST", "/api/v1/fill-offers", desk, map[string]any{"start": slot.Start.Add(30 * time.Minute).Format(time.RFC3339),
		"chair_id": slot.ChairID, "minutes": 90, "patient_ids": []int64{b.ID}})
	expect(t, "an offer to B only", status, http.StatusCreated, v)
	bOnly := obj(v)["id"].(float64)

	status, _, v = f.api("GET", "/api/v1/me/offers", tokenA, nil)
	expect(t, "A's offers", status, http.StatusOK, v)
	if list := v.([]any); len(list) != 1 || obj(list[0])["id"] != offerID {
		t.Fatalf("A's offers: %v", v)
	}
	if _, page := f.get(client, "/portal"); !strings.Contains(page, `id="my-offers"`) || !strings.Contains(page, fmt.Sprintf("/portal/offers/%d/claim", int64(offerID))) {
		t.Fatal("the portal does not show A's offer")
	}
	status, _, v = f.api("POST", fmt.Sprintf("/api/v1/me/offers/%d/claim", int64(bOnly)), tokenA, nil)
	expect(t, "A claiming B's offer", status, http.StatusNotFound, v)

	status, _, v = f.api("POST", fmt.Sprintf("/api/v1/me/offers/%d/claim", int64(offerID)), tokenB, nil)
	expect(t, "B claims first", status, http.StatusCreated, v)
	if got := obj(v); got["placed_by"] != "offer" || got["start"] != slot.Start.In(sched.Loc).Format(time.RFC3339) || got["patient_id"] != float64(b.ID) {
		t.Fatalf("B's visit: %v", got)
	}
	status, _, v = f.api("POST", fmt.Sprintf("/api/v1/me/offers/%d/claim", int64(offerID)), tokenA, nil)
	expect(t, "A claims second", status, http.StatusConflict, v)
	status, _, v = f.api("POST", fmt.Sprintf("/api/v1/me/offers/%d/claim", int64(offerID)), tokenB, nil)
	expect(t, "B claims again", status, http.StatusConflict, v)
	status, _, v = f.api("GET", "/api/v1/me/offers", tokenA, nil)
	expect(t, "A's offers after", status, http.StatusOK, v)
	if len(v.([]any)) != 0 {
		t.Fatalf("a taken offer is still listed: %v", v)
	}
	// In the portal: taking the time B still has open, as B.
	cb := f.client()
	if resp := f.postForm(cb, "/login", url.Values{"email": {b.Email}, "password": {"infusiondesk-demo"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("B signs in: %d", resp.StatusCode)
	}
	// B's booked next infusion (the one just taken) moves to it.
	resp := f.postForm(cb, fmt.Sprintf("/portal/offers/%d/claim", int64(bOnly)), url.Values{})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/portal?done=offer-claimed" {
		t.Fatalf("B takes the second offer in the portal: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	visits, err := f.db.PatientVisits(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	var booked []string
	for _, v := range visits {
		if v.Status == clinic.StatusBooked {
			booked = append(booked, v.Start.In(sched.Loc).Format(time.RFC3339))
		}
	}
	if len(booked) != 1 || booked[0] != slot.Start.Add(30*time.Minute).In(sched.Loc).Format(time.RFC3339) {
		t.Fatalf("B's booked visits: %v", booked)
	}
}
