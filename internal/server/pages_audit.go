package server

import (
	"net/http"
	"strconv"

	"github.com/infusiondesk/infusiondesk/internal/postgres"
	"github.com/infusiondesk/infusiondesk/web"
)

func (s *Server) adminAudit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	before, _ := strconv.ParseInt(r.URL.Query().Get("before"), 10, 64)
	const pageSize = 100
	records, err := s.db.ListAudit(ctx, postgres.AuditFilter{BeforeSeq: before, Limit: pageSize})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	check, err := s.db.VerifyAudit(ctx)
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
