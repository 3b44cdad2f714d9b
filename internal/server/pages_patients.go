package server

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/i18n"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/web"
)

// deskPatients lists patients by name; a POST searches (by POST, so that
// names and dates of birth never appear in a URL or a log).
func (s *Server) deskPatients(w http.ResponseWriter, r *http.Request) {
	v := web.PatientListView{}
	q := clinic.PatientQuery{}
	if r.Method == http.MethodPost {
		v.Query = strings.TrimSpace(r.PostFormValue("q"))
		q = clinic.ParsePatientQuery(v.Query)
		v.Searched = !q.Empty()
	}
	var err error
	if v.Patients, err = s.db.SearchPatients(r.Context(), q); err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, web.PatientList(s.meta(r, "Patients", "/desk/patients"), v))
}

func (s *Server) deskPatient(w http.ResponseWriter, r *http.Request) {
	id, err := urlID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderPatient(w, r, id, http.StatusOK, "")
}

// renderPatient shows a patient's page: details, the maintenance plan,
// loading series with their progress, infusions and relief, upcoming and
// past appointments; message is a refusal to show.
func (s *Server) renderPatient(w http.ResponseWriter, r *http.Request, id int64, status int, message string) {
	s.renderPatientWith(w, r, id, status, message, nil)
}

// renderPatientWith is renderPatient with the relief form as the person
// left it.
func (s *Server) renderPatientWith(w http.ResponseWriter, r *http.Request, id int64, status int, message string, relief *web.ReliefForm) {
	s.renderPatientFull(w, r, id, status, message, patientExtras{relief: relief})
}

// renderPatientInvite is renderPatient showing a new invitation link once.
func (s *Server) renderPatientInvite(w http.ResponseWriter, r *http.Request, id int64, link string) {
	s.renderPatientFull(w, r, id, http.StatusOK, "", patientExtras{inviteURL: link})
}

// patientExtras are the parts of the patient page that come from the
// person's last action: forms as they were left, a link to show once.
type patientExtras struct {
	relief    *web.ReliefForm
	imp       *web.ImportForm
	inviteURL string
	wish      *web.WishForm
}

// renderPatientFull is renderPatient with the extras.
func (s *Server) renderPatientFull(w http.ResponseWriter, r *http.Request, id int64, status int, message string, x patientExtras) {
	var v web.PatientView
	err := s.read(r, func(r *http.Request) (err error) { v, err = s.patientView(r, id, x); return err })
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v.Notice, v.Message = deskNotice(r), message
	s.render(w, r, status, web.PatientPage(s.meta(r, v.Patient.FullName(), "/desk/patients"), v))
}

// patientView reads what the patient page shows.
func (s *Server) patientView(r *http.Request, id int64, x patientExtras) (web.PatientView, error) {
	ctx := r.Context()
	_, loc := s.clinicInfo(ctx)
	v := web.PatientView{Loc: loc}
	var err error
	if v.Patient, err = s.db.Patient(ctx, id); err != nil {
		return v, err
	}
	visits, err := s.db.PatientVisits(ctx, id)
	if err != nil {
		return v, err
	}
	series, err := s.db.PatientSeries(ctx, id)
	if err != nil {
		return v, err
	}
	if x.relief != nil {
		v.Relief = *x.relief
		v.Relief.Infusions = nil
	}
	if x.imp != nil {
		v.Import = *x.imp
	}
	if err := s.patientPlanParts(r, id, &v); err != nil {
		return v, err
	}
	if v.Portal, err = s.portalAccess(r, id, loc); err != nil {
		return v, err
	}
	v.Portal.InviteURL = x.inviteURL
	current, _, err := s.db.Wish(ctx, id, s.now())
	if err != nil {
		return v, err
	}
	v.Wish = wishForm(current, fmt.Sprintf("/desk/patients/%d/waitlist", id), x.wish)
	for _, sr := range series {
		v.Series = append(v.Series, web.SeriesSummary{ID: sr.ID, Protocol: sr.Protocol, Sessions: sr.Sessions, Done: sr.Done,
			Cancelled: sr.Cancelled, CancelReason: sr.CancelReason, Visits: sr.Appointments})
	}
	now := s.now()
	for _, visit := range visits {
		if visit.End.After(now) && (visit.Status == clinic.StatusBooked || visit.Status == clinic.StatusCheckedIn) {
			v.Upcoming = append(v.Upcoming, visit)
		} else {
			v.Past = append([]clinic.Visit{visit}, v.Past...) // newest first
		}
	}
	return v, nil
}

// portalAccess is the patient page's portal box: the account and the
// latest ten journal entries of the last 30 days, newest first.
func (s *Server) portalAccess(r *http.Request, id int64, loc *time.Location) (web.PortalAccessView, error) {
	ctx := r.Context()
	access, err := s.db.Portal(ctx, id, s.now())
	if err != nil {
		return web.PortalAccessView{}, err
	}
	v := web.PortalAccessView{HasAccount: access.HasAccount, Active: access.Active, Email: access.Email,
		InviteExpires: access.InviteExpires, Loc: loc}
	journal, err := s.db.Journal(ctx, id, clinic.DateOf(s.now(), loc).AddDays(-30))
	if err != nil {
		return v, err
	}
	for i := len(journal) - 1; i >= 0 && len(v.Journal) < 10; i-- {
		v.Journal = append(v.Journal, journal[i])
	}
	return v, nil
}

// deskPatientForm shows the new-patient form, or the edit form filled from
// the record.
func (s *Server) deskPatientForm(w http.ResponseWriter, r *http.Request) {
	f := web.PatientForm{Fields: map[string]string{}, ContactEmail: true, ContactSMS: true}
	if strings.HasSuffix(r.URL.Path, "/edit") {
		id, err := urlID(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		p, err := s.db.Patient(r.Context(), id)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		f = web.PatientFormOf(p)
	}
	s.render(w, r, http.StatusOK, web.PatientEdit(s.meta(r, "Patient", "/desk/patients"), f))
}

// patientFromForm reads the patient form; fields that cannot be read at
// all (a weight that is not a number) are named in problems.
func patientFromForm(r *http.Request) (clinic.Patient, web.PatientForm, clinic.Problems) {
	g := func(k string) string { return r.PostForm.Get(k) }
	f := web.PatientForm{FirstName: g("first_name"), LastName: g("last_name"), DateOfBirth: g("date_of_birth"),
		Phone: g("phone"), Email: g("email"), WeightKg: g("weight_kg"), Condition: g("condition"),
		DriverName: g("driver_name"), DriverPhone: g("driver_phone"), Notes: g("notes"),
		ContactEmail: g("contact_by.email") != "", ContactSMS: g("contact_by.sms") != "", Language: g("language")}
	p := clinic.Patient{FirstName: f.FirstName, LastName: f.LastName, Phone: f.Phone, Email: f.Email,
		Condition: clinic.Condition(f.Condition), DriverName: f.DriverName, DriverPhone: f.DriverPhone, Notes: f.Notes,
		ContactBy: []clinic.Channel{}, Language: i18n.Lang(f.Language)}
	if f.ContactEmail {
		p.ContactBy = append(p.ContactBy, clinic.ChannelEmail)
	}
	if f.ContactSMS {
		p.ContactBy = append(p.ContactBy, clinic.ChannelSMS)
	}
	problems := clinic.Problems{}
	if strings.TrimSpace(f.DateOfBirth) != "" {
		d, err := clinic.ParseDate(strings.TrimSpace(f.DateOfBirth))
		if err != nil {
			problems.Add("date_of_birth", "Enter the date of birth as a date (YYYY-MM-DD).")
		}
		p.DateOfBirth = d
	}
	if w := strings.TrimSpace(f.WeightKg); w != "" {
		kg, err := strconv.ParseFloat(strings.ReplaceAll(w, ",", "."), 64)
		if err != nil {
			problems.Add("weight_kg", "Enter the weight in kilograms as a number, e.g. 72.5.")
		} else {
			p.WeightKg = &kg
		}
	}
	return p, f, problems
}

func (s *Server) deskSavePatient(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, clinic.Errorf(clinic.EMALFORMED, "The form could not be read."))
		return
	}
	p, f, problems := patientFromForm(r)
	ctx := r.Context()
	_, loc := s.clinicInfo(ctx)
	today := clinic.DateOf(s.now(), loc)
	editing := strings.HasSuffix(r.URL.Path, "/edit")
	if !editing {
		// A new patient's boxes come ticked: a channel without its detail
		// is left out rather than refused.
		p.ContactBy = slices.DeleteFunc(p.ContactBy, func(c clinic.Channel) bool {
			return (c == clinic.ChannelEmail && strings.TrimSpace(p.Email) == "") || (c == clinic.ChannelSMS && strings.TrimSpace(p.Phone) == "")
		})
	}
	var err error
	if editing {
		if p.ID, err = urlID(r); err != nil {
			s.fail(w, r, err)
			return
		}
		f.ID = p.ID
		if p.Version, err = strconv.Atoi(r.PostForm.Get("version")); err != nil {
			s.fail(w, r, clinic.Errorf(clinic.EMALFORMED, "The form is missing the record's version."))
			return
		}
		f.Version = p.Version
	}
	// Validate everything, so each field's message shows at once.
	if verr := p.Validate(today); verr != nil || len(problems) > 0 {
		for k, v := range clinic.ErrorFields(verr) {
			problems.Add(k, v)
		}
		err = problems.Err()
	} else if editing {
		p, err = s.db.UpdatePatient(ctx, p, today)
	} else {
		p, err = s.db.CreatePatient(ctx, p, today)
	}
	s.answerForm(w, r, err, "/desk/patients/"+strconv.FormatInt(p.ID, 10)+"?done=saved", func(rf refusal) {
		f.Message = rf.Message
		if rf.Code == clinic.EINVALID {
			f.Fields = rf.Fields
		} else {
			// Show the record as it stands now beside the person's input;
			// saving again (at the current version) means "mine, having
			// seen theirs".
			current, err := s.db.Patient(ctx, p.ID)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			f.Current, f.Version = &current, current.Version
		}
		s.render(w, r, rf.Status, web.PatientEdit(s.meta(r, "Patient", "/desk/patients"), f))
	})
}

// wishForm is the waitlist form posting under action: the patient's open
// wish (current), or the input as the person left it.
func wishForm(current *clinic.Wish, action string, input *web.WishForm) web.WishForm {
	f := web.WishForm{Action: action, Remove: action + "/remove", Current: current, Part: string(clinic.AnyTime)}
	if current != nil {
		f.Before, f.Part = current.Before.String(), string(current.Part)
	}
	if input != nil {
		f.Before, f.Part, f.Fields = input.Before, input.Part, input.Fields
	}
	return f
}

// search is the header's patient search, the same for every staff role:
// name, date of birth, record number or phone. POST, so that no name is
// in a URL; GET shows how to use it.
func (s *Server) search(w http.ResponseWriter, r *http.Request) {
	v := web.SearchView{}
	switch currentUser(r).Role {
	case clinic.RoleFrontDesk:
		v.Link = web.PatientURL
	case clinic.RolePhysician:
		v.Link = web.PhysicianPatientURL
	}
	if r.Method == http.MethodPost {
		v.Query = strings.TrimSpace(r.PostFormValue("q"))
		if q := clinic.ParsePatientQuery(v.Query); !q.Empty() {
			var err error
			if v.Patients, err = s.db.SearchPatients(r.Context(), q); err != nil {
				s.fail(w, r, err)
				return
			}
		} else {
			v.Query = ""
		}
	}
	s.render(w, r, http.StatusOK, web.SearchPage(s.meta(r, "Find a patient", ""), v))
}
