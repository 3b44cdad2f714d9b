package postgres_test

import (
	"strings"
	"testing"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
)

// The weekly PEG reminder goes to a patient with a portal account and a
// course under way, by each channel they take, once a week; an answer in
// the journal puts off the next. It names no condition, dose or note.
func TestPEGReminders(t *testing.T) {
	c := newMessagingClinic(t)
	p := c.patient
	standard := c.protocol(t, "Standard IV loading", 6, 2, 3, 14, 60)
	if _, err := c.db.CreateCourse(c.ctx, p.ID, standard, clinic.DateOf(c.now, chicago).AddDays(-60)); err != nil {
		t.Fatal(err)
	}
	if n, err := c.db.SchedulePEGReminders(c.ctx, c.now); err != nil || n != 0 {
		t.Fatalf("without a portal account: %d reminders (%v)", n, err)
	}
	if _, err := c.db.CreateUser(c.ctx, clinic.NewUser{Email: p.Email, Name: p.FullName(), Role: string(clinic.RolePatient),
		Password: "placeholder password", PatientID: &p.ID}, "$argon2id$placeholder"); err != nil {
		t.Fatal(err)
	}
	n, err := c.db.SchedulePEGReminders(c.ctx, c.now)
	if err != nil || n != 2 { // email and text
		t.Fatalf("reminders: %d (%v); want 2", n, err)
	}
	if n, err := c.db.SchedulePEGReminders(c.ctx, c.now.Add(3*time.Hour)); err != nil || n != 0 {
		t.Fatalf("the same day again: %d reminders (%v)", n, err)
	}
	c.deliver(t)
	mail := c.inbox.Wait(t, 1, 20*time.Second)[0]
	texts := c.texts.Wait(t, 1, 20*time.Second)
	if !strings.HasPrefix(mail.Subject, "Three questions for this week — ") {
		t.Errorf("subject %q", mail.Subject)
	}
	if !strings.Contains(mail.Text, baseURL+"/portal/journal") || !strings.Contains(texts[0].Get("Body"), baseURL+"/portal/journal") {
		t.Errorf("the reminder has no link to the journal: %q / %q", mail.Text, texts[0])
	}
	for _, body := range []string{mail.Text, mail.HTML, texts[0].Get("Body")} {
		for _, never := range []string{"CRPS", "Ketamine", "0.5", "nausea"} {
			if strings.Contains(body, never) {
				t.Errorf("the reminder carries %q: %s", never, body)
			}
		}
	}
	// A week on: due again, unless the patient answered meanwhile.
	week := c.now.AddDate(0, 0, 7)
	if _, err := c.db.AddJournal(c.ctx, p.ID, clinic.JournalEntry{On: clinic.DateOf(week, chicago).AddDays(-2), Pain: 4,
		PEG: &clinic.PEG{Pain: 4, Enjoyment: 3, Activity: 3}}, week); err != nil {
		t.Fatal(err)
	}
	if n, err := c.db.SchedulePEGReminders(c.ctx, week); err != nil || n != 0 {
		t.Fatalf("answered two days ago: %d reminders (%v)", n, err)
	}
	if n, err := c.db.SchedulePEGReminders(c.ctx, week.AddDate(0, 0, 5)); err != nil || n != 2 {
		t.Fatalf("a week after the answer: %d reminders (%v); want 2", n, err)
	}
}

// The stored plan's signals follow the days: an entry moving out of the
// recent window changes the flag the work lists read, on the next refresh.
func TestRefreshSignals(t *testing.T) {
	c := newTestClinic(t, 1)
	pid := c.patients[0]
	standard := c.protocol(t, "Standard IV loading", 6, 2, 3, 14, 60)
	today := clinic.DateOf(c.now, chicago)
	if _, err := c.db.CreateCourse(c.ctx, pid, standard, today.AddDays(-120)); err != nil {
		t.Fatal(err)
	}
	for i, back := range []int{120, 118, 116, 113, 111, 109} {
		if _, err := c.db.ImportInfusion(c.ctx, pid, today.AddDays(-back), nil, clinic.PhaseLoading, 0.3, c.now); err != nil {
			t.Fatal(err, i)
		}
	}
	if _, err := c.db.ImportInfusion(c.ctx, pid, today.AddDays(-60), nil, clinic.PhaseMaintenance, 0.3, c.now); err != nil {
		t.Fatal(err)
	}
	n := func(v int) *int { return &v }
	// Function 7 in the four weeks before, 4 in the last two.
	for _, back := range []int{0, 4, 8, 13, 14, 20, 30, 41} {
		score := 4
		if back >= 14 {
			score = 7
		}
		if _, err := c.db.AddJournal(c.ctx, pid, clinic.JournalEntry{On: today.AddDays(-back), Pain: 5, Sleep: n(score)}, c.now); err != nil {
			t.Fatal(err)
		}
	}
	flagged := func(now time.Time) bool {
		items, err := c.db.Work(c.ctx, "flagged", "due", now, 50)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			for _, f := range it.Flags {
				if it.PatientID == pid && f.Code == clinic.FlagFunctionDeclining {
					return true
				}
			}
		}
		return false
	}
	if !flagged(c.now) {
		t.Fatal("FUNCTION_DECLINING is not on the physician's list")
	}
	// Three days on, the entry 13 days back is 16: the recent window has
	// three entries left, too few; until the refresh the list keeps the flag.
	later := c.now.AddDate(0, 0, 3)
	if !flagged(later) {
		t.Fatal("the stored flag changed before any refresh")
	}
	if n, err := c.db.RefreshSignals(c.ctx, later); err != nil || n != 1 {
		t.Fatalf("refreshed %d plans (%v); want 1", n, err)
	}
	if flagged(later) {
		t.Fatal("FUNCTION_DECLINING stayed on the list after the refresh")
	}
}
