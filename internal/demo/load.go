package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/postgres"
)

// Summary counts what Load stored.
type Summary struct {
	AlreadyLoaded bool
	Patients      int
	Appointments  int
	Infusions     int
	Reliefs       int
}

// Load stores the demo clinic in one transaction. It is idempotent: when
// the demo is already there it changes nothing. It refuses a database that
// holds anything else (postgres.DB.Seed). passwordHash is used for every
// account.
func Load(ctx context.Context, db *postgres.DB, c *Clinic, passwordHash string) (Summary, error) {
	var sum Summary
	loaded, err := db.Seed(ctx, c.Accounts[0].Email, func(s *postgres.Seeder) error {
		sum = Summary{}
		return load(s, c, passwordHash, &sum)
	})
	sum.AlreadyLoaded = err == nil && !loaded
	return sum, err
}

func load(s *postgres.Seeder, c *Clinic, passwordHash string, sum *Summary) error {
	if err := s.Clinic(c.Settings); err != nil {
		return err
	}
	for d, reason := range c.Closures {
		if err := s.Closure(d, reason); err != nil {
			return err
		}
	}
	ids := ids{chairs: make([]int64, len(c.Chairs)), protocols: make([]int64, len(c.Protocols))}
	var err error
	for i, name := range c.Chairs {
		if ids.chairs[i], err = s.Chair(name, i+1); err != nil {
			return err
		}
	}
	for i, p := range c.Protocols {
		if ids.protocols[i], err = s.Protocol(p); err != nil {
			return err
		}
	}
	// Staff first: the history names its nurses.
	ids.accounts = make([]int64, len(c.Accounts))
	for i, a := range c.Accounts {
		if a.Patient < 0 {
			if ids.accounts[i], err = s.User(clinic.NewUser{Email: a.Email, Name: a.Name, Role: string(a.Role), Password: Password}, passwordHash); err != nil {
				return err
			}
		}
	}
	for _, sh := range c.Shifts {
		if err := s.Shift(ids.accounts[sh.Nurse], sh.Date, sh.From, sh.To); err != nil {
			return err
		}
	}
	form, err := s.ConsentForm(c.Consent)
	if err != nil {
		return err
	}
	patientIDs := make([]int64, len(c.Patients))
	for i, dp := range c.Patients {
		p, err := s.Patient(dp.Patient)
		if err != nil {
			return fmt.Errorf("demo patient %d: %w", i, err)
		}
		patientIDs[i] = p.ID
		if err := loadHistory(s, dp, p.ID, ids, sum); err != nil {
			return fmt.Errorf("demo patient %d: %w", i, err)
		}
		for _, e := range dp.Journal {
			if err := s.Journal(p.ID, e); err != nil {
				return fmt.Errorf("demo patient %d's journal: %w", i, err)
			}
		}
		if dp.Consented {
			if err := s.Signature(p.ID, form, dp.Language, dp.FullName(), firstVisit(dp)); err != nil {
				return fmt.Errorf("demo patient %d's consent: %w", i, err)
			}
		}
		sum.Patients++
	}
	for _, f := range c.Freed {
		courseID, err := s.OpenCourse(patientIDs[f.Patient])
		if err != nil {
			return err
		}
		a := clinic.Appointment{PatientID: patientIDs[f.Patient], ChairID: ids.chairs[f.Visit.Chair], Kind: f.Visit.Kind,
			Status: clinic.StatusBooked, Start: f.Visit.Start, End: f.Visit.End, CourseID: courseID}
		if err := s.CancelledVisit(a, f.Visit.CancelReason); err != nil {
			return err
		}
		sum.Appointments++
	}
	for _, w := range c.Waitlist {
		if err := s.Wish(patientIDs[w.Patient], clinic.Wish{Before: w.Before, Part: w.Part}); err != nil {
			return err
		}
	}
	for _, a := range c.Accounts {
		if a.Patient < 0 {
			continue
		}
		if _, err := s.User(clinic.NewUser{Email: a.Email, Name: a.Name, Role: string(a.Role), Password: Password, PatientID: &patientIDs[a.Patient]}, passwordHash); err != nil {
			return err
		}
	}
	return s.Audit(clinic.AuditEntry{Action: "demo.load", Entity: "clinic", After: sum})
}

// firstVisit is when a patient signed the consent form: before their
// first visit (a paper chart's patient: before the first infusion in it).
func firstVisit(p Patient) time.Time {
	first := time.Now()
	for _, v := range p.Visits {
		if v.Start.Before(first) {
			first = v.Start
		}
	}
	for _, inf := range p.Imported {
		if t := inf.GivenOn.At(9*60, time.UTC); t.Before(first) {
			first = t
		}
	}
	return first.Add(-time.Hour)
}

// ids are the stored ids of the demo's chairs, protocols and accounts, by
// index.
type ids struct{ chairs, protocols, accounts []int64 }

// loadHistory stores one patient's course, series, visits, infusions and
// relief reports.
func loadHistory(s *postgres.Seeder, dp Patient, patientID int64, ids ids, sum *Summary) error {
	courseID, seriesID, err := loadCourse(s, dp, patientID, ids)
	if err != nil {
		return err
	}
	h := history{s: s, dp: dp, patientID: patientID, sum: sum}
	for _, inf := range dp.Imported {
		if err := h.infusion(inf, *courseID, nil, "imported"); err != nil {
			return err
		}
	}
	for _, v := range dp.Visits {
		a := clinic.Appointment{PatientID: patientID, ChairID: ids.chairs[v.Chair], Kind: v.Kind, Status: v.Status,
			Start: v.Start, End: v.End}
		if v.Kind != clinic.KindConsult {
			a.CourseID = courseID
		}
		if v.Nurse.NurseID != 0 {
			a.Nurse = clinic.Assignment{NurseID: ids.accounts[v.Nurse.NurseID-1], Place: v.Nurse.Place}
		}
		if v.SessionNo > 0 {
			n := v.SessionNo
			a.SeriesID, a.SessionNo = seriesID, &n
		}
		id, err := s.Appointment(a, v.CancelReason)
		if err != nil {
			return err
		}
		sum.Appointments++
		if v.Infusion != nil {
			if err := h.infusion(v.Infusion, *courseID, &id, "recorded"); err != nil {
				return err
			}
		}
	}
	return nil
}

// loadCourse opens the patient's course and, when a visit is a loading
// session, their series; nil for what the patient has not.
func loadCourse(s *postgres.Seeder, dp Patient, patientID int64, ids ids) (courseID, seriesID *int64, err error) {
	if dp.Course == nil {
		return nil, nil, nil
	}
	protocol := ids.protocols[dp.Course.Protocol]
	id, err := s.Course(patientID, protocol, dp.Course.Phase, dp.Course.StartedOn, dp.Course.EndedOn, dp.Course.FixedIntervalDays)
	if err != nil {
		return nil, nil, err
	}
	for _, v := range dp.Visits {
		if v.SessionNo > 0 {
			sid, err := s.Series(id, patientID, protocol)
			return &id, &sid, err
		}
	}
	return &id, nil, nil
}

// history stores one patient's infusions with their relief reports.
type history struct {
	s         *postgres.Seeder
	dp        Patient
	patientID int64
	sum       *Summary
}

func (h history) infusion(inf *Infusion, courseID int64, appointmentID *int64, source string) error {
	id, err := h.s.Infusion(clinic.Infusion{PatientID: h.patientID, CourseID: courseID, AppointmentID: appointmentID,
		GivenOn: inf.GivenOn, StartedAt: inf.StartedAt, Phase: inf.Phase, DoseMgPerKgH: inf.DoseMgPerKgH,
		WeightKg: h.dp.WeightKg, Minutes: &inf.Minutes}, source)
	if err != nil {
		return err
	}
	h.sum.Infusions++
	for _, r := range inf.Reliefs {
		if _, err := h.s.Relief(clinic.ReliefReport{InfusionID: id, Status: r.Status, OnDate: r.OnDate, Source: r.Source}); err != nil {
			return err
		}
		h.sum.Reliefs++
	}
	return nil
}
