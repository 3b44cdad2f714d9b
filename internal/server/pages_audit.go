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
	var records []clinic.AuditRecord
	var check clinic.AuditCheck
	err := s.read(r, func(r *http.Request) (err error) {
		if records, err = s.db.ListAudit(r.Context(), postgres.AuditFilter{BeforeSeq: before, Limit: pageSize}); err != nil {
			return err
		}
		check, err = s.db.VerifyAudit(r.Context())
		return err
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	_, loc := s.clinicInfo(ctx)
	v := web.AuditView{Records: records, Check: check, Loc: loc}
	if len(records) == pageSize && records[len(records)-1].Seq > 1 {
		v.Older = records[len(records)-1].Seq
	}
	s.render(w, r, http.StatusOK, web.AdminAudit(s.meta(r, "Audit log", "/admin/audit"), v))
}
