package server

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
)

// checkpointJSON is the audit log's latest signed tree head and the
// sealer's progress.
type checkpointJSON struct {
	Checkpoint    string    `json:"checkpoint"` // the signed head, a note: keep a copy outside the database
	VerifierKey   string    `json:"verifier_key"`
	TreeSize      int64     `json:"tree_size"`
	RootHash      string    `json:"root_hash"` // base64
	LastSeq       int64     `json:"last_seq"`
	SignedAt      time.Time `json:"signed_at"`
	PendingRows   int64     `json:"pending_rows"`
	LagSeconds    float64   `json:"lag_seconds"`
	KeyInDatabase bool      `json:"key_in_database"`
}

func (s *Server) apiAuditCheckpoint(w http.ResponseWriter, r *http.Request) {
	st, err := s.db.AuditStatus(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, checkpointJSON{Checkpoint: st.Signed, VerifierKey: st.VerifierKey,
		TreeSize: st.Head.Size, RootHash: base64.StdEncoding.EncodeToString(st.Head.Root[:]), LastSeq: st.Head.LastSeq,
		SignedAt: st.Head.Time, PendingRows: st.Pending, LagSeconds: st.Lag.Seconds(), KeyInDatabase: st.KeyInDatabase})
}

// proofJSON proves one row is in the signed tree: with tlog.CheckRecord,
// the leaf hash at leaf_index and the proof hashes lead to root_hash of
// the tree of tree_size, which checkpoint signs.
type proofJSON struct {
	Seq        int64    `json:"seq"`
	LeafIndex  int64    `json:"leaf_index"`
	Leaf       string   `json:"leaf"`      // base64 of the leaf's bytes (the row, as clinic.AuditLeaf encodes it)
	LeafHash   string   `json:"leaf_hash"` // base64 of SHA-256(0x00 || leaf)
	TreeSize   int64    `json:"tree_size"`
	RootHash   string   `json:"root_hash"`
	Proof      []string `json:"proof"` // base64 hashes, leaf to root
	Checkpoint string   `json:"checkpoint"`
}

func (s *Server) apiAuditProof(w http.ResponseWriter, r *http.Request) {
	seq, err := strconv.ParseInt(r.URL.Query().Get("seq"), 10, 64)
	if err != nil || seq < 1 {
		s.fail(w, r, clinic.Invalid(map[string]string{"seq": "Give the audit row's seq, a whole number from 1."}))
		return
	}
	p, err := s.db.AuditProof(r.Context(), seq)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	b64 := base64.StdEncoding.EncodeToString
	out := proofJSON{Seq: p.Seq, LeafIndex: p.Index, Leaf: b64(p.Leaf), LeafHash: b64(p.LeafHash[:]),
		TreeSize: p.TreeSize, RootHash: b64(p.Root[:]), Proof: make([]string, len(p.Proof)), Checkpoint: p.Signed}
	for i, h := range p.Proof {
		out.Proof[i] = b64(h[:])
	}
	writeJSON(w, http.StatusOK, out)
}
