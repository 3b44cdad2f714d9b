package clinic

import (
	"crypto/rand"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func TestAuditLeafCoversEveryField(t *testing.T) {
	base := AuditRecord{Seq: 7, At: time.Date(2026, 12, 2, 9, 30, 0, 123456000, time.FixedZone("MST", -7*3600)),
		ActorID: ID(3), ActorRole: "front_desk", Action: "appointment.book", Entity: "appointment", EntityID: ID(41),
		PatientID: ID(12), RequestID: "req-1", Address: "10.0.0.1", Before: json.RawMessage(`{"a": 1}`), After: json.RawMessage(`{"b": "<x>"}`)}
	want := `[1,7,"2026-12-02T16:30:00.123456Z",3,"front_desk","appointment.book","appointment",41,12,"req-1","10.0.0.1","{\"a\": 1}","{\"b\": \"<x>\"}"]`
	if got := string(AuditLeaf(base)); got != want {
		t.Fatalf("leaf\n got %s\nwant %s", got, want)
	}
	// The same instant in another zone is the same leaf.
	same := base
	same.At = base.At.UTC()
	if string(AuditLeaf(same)) != want {
		t.Fatal("the leaf depends on the time's zone")
	}
	for name, change := range map[string]func(*AuditRecord){
		"seq":        func(r *AuditRecord) { r.Seq++ },
		"time":       func(r *AuditRecord) { r.At = r.At.Add(time.Microsecond) },
		"actor":      func(r *AuditRecord) { r.ActorID = nil },
		"role":       func(r *AuditRecord) { r.ActorRole = "admin" },
		"action":     func(r *AuditRecord) { r.Action = "appointment.cancel" },
		"entity":     func(r *AuditRecord) { r.Entity = "patient" },
		"entity id":  func(r *AuditRecord) { r.EntityID = ID(42) },
		"patient id": func(r *AuditRecord) { r.PatientID = nil },
		"request":    func(r *AuditRecord) { r.RequestID = "req-2" },
		"address":    func(r *AuditRecord) { r.Address = "10.0.0.2" },
		"before":     func(r *AuditRecord) { r.Before = nil },
		"after":      func(r *AuditRecord) { r.After = json.RawMessage(`{"b": "<y>"}`) },
	} {
		r := base
		change(&r)
		if string(AuditLeaf(r)) == want {
			t.Errorf("changing the %s leaves the leaf as it was", name)
		}
	}
}

func TestAuditHeadText(t *testing.T) {
	h := AuditHead{Origin: "clinic-audit", Size: 1234, Root: tlog.RecordHash([]byte("x")), LastSeq: 1240,
		Time: time.Date(2026, 12, 2, 1, 2, 3, 4000000, time.UTC)}
	text := h.Text()
	if !strings.HasPrefix(text, "clinic-audit\n1234\n") || !strings.HasSuffix(text, "\nseq 1240\ntime 2026-12-02T01:02:03.004Z\n") {
		t.Fatalf("head text %q", text)
	}
	back, err := ParseAuditHead(text)
	if err != nil || back != h {
		t.Fatalf("parsed back %+v, %v; want %+v", back, err, h)
	}
	for _, bad := range []string{"", "clinic\n12\n", strings.Replace(text, "1234", "-1", 1), strings.Replace(text, "seq ", "sq ", 1),
		strings.Replace(text, "time 2026", "time 20xx", 1), "clinic\n1\nnot base64!\nseq 1\ntime 2026-12-02T01:02:03Z\n"} {
		if _, err := ParseAuditHead(bad); err == nil {
			t.Errorf("ParseAuditHead(%q) accepted it", bad)
		}
	}
	skey, vkey, _ := note.GenerateKey(rand.Reader, "clinic-audit")
	signer, _ := note.NewSigner(skey)
	signed, _ := note.Sign(&note.Note{Text: text}, signer)
	if got, err := OpenAuditHead(signed, []string{vkey}); err != nil || got != h {
		t.Fatalf("OpenAuditHead = %+v, %v", got, err)
	}
	_, other, _ := note.GenerateKey(rand.Reader, "clinic-audit")
	if _, err := OpenAuditHead(signed, []string{other}); err == nil || !strings.Contains(err.Error(), "not signed by a trusted key") {
		t.Fatalf("a head checked with another key: %v", err)
	}
	if derived, err := AuditVerifierKey(skey); err != nil || derived != vkey {
		t.Fatalf("AuditVerifierKey = %q, %v; want %q", derived, err, vkey)
	}
	if _, err := AuditVerifierKey("PRIVATE+KEY+x+00000000+AAAA"); err == nil {
		t.Fatal("a malformed signer key was accepted")
	}
}

func TestCompareLeaves(t *testing.T) {
	h := func(s string) tlog.Hash { return tlog.RecordHash([]byte(s)) }
	a, b, c, d, x := h("a"), h("b"), h("c"), h("d"), h("x")
	sealed := []tlog.Hash{a, b, c, d}
	for _, tc := range []struct {
		name    string
		got     []tlog.Hash
		index   int
		problem string
	}{
		{"the same", []tlog.Hash{a, b, c, d}, -1, ""},
		{"one altered", []tlog.Hash{a, x, c, d}, 1, "altered"},
		{"one removed", []tlog.Hash{a, c, d}, 1, "removed"},
		{"one inserted", []tlog.Hash{a, x, b, c, d}, 1, "inserted"},
		{"the last removed", []tlog.Hash{a, b, c}, 3, "end"},
		{"one added in the sealed range at the end", []tlog.Hash{a, b, c, d, x}, 4, "inserted"},
		{"the first altered", []tlog.Hash{x, b, c, d}, 0, "altered"},
	} {
		m := CompareLeaves(sealed, tc.got)
		switch {
		case tc.index < 0 && m != nil:
			t.Errorf("%s: %+v; want no difference", tc.name, m)
		case tc.index >= 0 && (m == nil || m.Index != tc.index || !strings.Contains(m.Problem, tc.problem)):
			t.Errorf("%s: %+v; want index %d (%s)", tc.name, m, tc.index, tc.problem)
		}
	}
}
