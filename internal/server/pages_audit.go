package server

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/postgres"
	"github.com/infusiondesk/infusiondesk/web"
)

func (s *Server) adminAudit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	before, _ := strconv.ParseInt(q.Get("before"), 10, 64)
	const pageSize = 100
	_, loc := s.clinicInfo(ctx)
	v := web.AuditView{Filter: web.AuditFilterForm{Who: q.Get("who"), Patient: q.Get("patient"), Action: strings.TrimSpace(q.Get("action")),
		From: q.Get("from"), To: q.Get("to")}}
	f, problems := auditFilter(v.Filter, loc)
	f.BeforeSeq, f.Limit = before, pageSize
	status := http.StatusOK
	if problems != nil {
		v.Filter.Fields, status = problems, http.StatusUnprocessableEntity
	}
	err := s.read(r, func(r *http.Request) (err error) {
		if problems == nil {
			if v.Records, err = s.db.ListAudit(r.Context(), f); err != nil {
				return err
			}
		}
		if v.Users, err = s.db.Users(r.Context()); err != nil {
			return err
		}
		v.Status, err = s.db.AuditStatus(r.Context())
		return err
	})
	if err == nil && r.URL.Query().Get("verify") == "1" {
		var c clinic.AuditCheck
		c, err = s.db.VerifyAuditLog(ctx, postgres.AuditVerify{Keys: s.cfg.AuditKeys})
		v.Check = &c
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v.Loc = loc
	if n := len(v.Records); n == pageSize && v.Records[n-1].Seq > 1 {
		v.Older = v.Records[n-1].Seq
	}
	s.render(w, r, status, web.AdminAudit(s.meta(r, "Audit log", "/admin/audit"), v))
}

// auditFilter reads the audit log's filter form: who (a user), the
// patient, the action's beginning, and the clinic-local days from..to.
func auditFilter(in web.AuditFilterForm, loc *time.Location) (postgres.AuditFilter, clinic.Problems) {
	var f postgres.AuditFilter
	p := clinic.Problems{}
	id := func(field, raw string) *int64 {
		if raw == "" {
			return nil
		}
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n <= 0 {
			p.Add(field, "Give a record number, e.g. 42.")
			return nil
		}
		return &n
	}
	f.ActorID, f.PatientID, f.Action = id("who", in.Who), id("patient", in.Patient), in.Action
	if len(f.Action) > 100 {
		p.Add("action", "Give at most 100 characters of the action.")
	}
	day := func(field, raw string, next bool) time.Time {
		if raw == "" {
			return time.Time{}
		}
		d, err := clinic.ParseDate(raw)
		if err != nil {
			p.Add(field, "Give the day as YYYY-MM-DD.")
			return time.Time{}
		}
		if next {
			d = d.AddDays(1)
		}
		return d.At(0, loc)
	}
	f.From, f.To = day("from", in.From, false), day("to", in.To, true)
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		p.Add("to", "The last day is before the first.")
	}
	if len(p) == 0 {
		return f, nil
	}
	return f, p
}
