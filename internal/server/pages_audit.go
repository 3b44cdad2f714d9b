package server

import (
	"net/http"
	"strconv"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/postgres"
	"github.com/infusiondesk/infusiondesk/web"
)

func (s *Server) adminAudit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	before, _ := strconv.ParseInt(r.URL.Query().Get("before"), 10, 64)
	const pageSize = 100
	var v web.AuditView
	err := s.read(r, func(r *http.Request) (err error) {
		if v.Records, err = s.db.ListAudit(r.Context(), postgres.AuditFilter{BeforeSeq: before, Limit: pageSize}); err != nil {
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
	_, v.Loc = s.clinicInfo(ctx)
	if n := len(v.Records); n == pageSize && v.Records[n-1].Seq > 1 {
		v.Older = v.Records[n-1].Seq
	}
	s.render(w, r, http.StatusOK, web.AdminAudit(s.meta(r, "Audit log", "/admin/audit"), v))
}
