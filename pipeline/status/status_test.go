package status

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/photoguard/photoguard/pipeline/journal"
)

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

func sha(c byte) string { return strings.Repeat(string(c), 64) }

func TestCollect(t *testing.T) {
	dir := t.TempDir()
	state, in := filepath.Join(dir, "state"), filepath.Join(dir, "inbox")
	write(t, filepath.Join(in, "groep-5", "a.jpg"), "\xff\xd8\xff")
	write(t, filepath.Join(in, ".hidden.jpg"), "\xff\xd8\xff")
	write(t, filepath.Join(in, "b.mp4"), "video")
	write(t, filepath.Join(state, "held", "20261201-aaaa", "reason.txt"), "photo: groep-5/c.jpg\nreason: no consent register\n")
	write(t, filepath.Join(state, "rejected", "20261201-bbbb", "reason.txt"), "reason: not a photo\n")
	write(t, filepath.Join(state, "quarantine", "no-reason", "x"), "")

	j, err := journal.Open(state)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []*journal.Record{
		{SHA256: sha('a'), State: journal.Done, Outcome: "published", Reason: "all faces consented", Rel: "a.jpg",
			Deliveries: map[string]*journal.Delivery{"website": {Name: "w-a.jpg", Published: true}, "portal": {Name: "p-a.jpg", Published: true}, "news": {Name: "n-a.jpg"}}},
		{SHA256: sha('b'), State: journal.Done, Outcome: "held", Reason: "no consent register", Rel: "b.jpg"},
		{SHA256: sha('c'), State: journal.Done, Outcome: "rejected", Reason: "not a photo", Rel: "c.jpg"},
		{SHA256: sha('d'), State: journal.Claimed, Rel: "d.jpg"},
	} {
		if err := j.Put(r); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond) // Put dates the records: a, b, c, d
	}
	j.Close()

	calls := 0
	s := Collect(Options{StateDir: state, Inbox: in, Last: 2, ConsentStore: func() ConsentStore { calls++; return ConsentStore{State: "ok", People: 3, Enrolled: 2} }})
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	if s.Service.Running || s.StateDir != state || calls != 1 || s.ConsentStore.People != 3 {
		t.Errorf("service %+v, state %s, register %+v (%d calls)", s.Service, s.StateDir, s.ConsentStore, calls)
	}
	if want := (Inbox{Path: in, Waiting: 2, Photos: 1, Videos: 1}); s.Inbox != want {
		t.Errorf("inbox %+v, want %+v", s.Inbox, want)
	}
	if len(s.InProgress) != 1 || s.InProgress[0].SHA256 != sha('d') || s.InProgress[0].State != string(journal.Claimed) {
		t.Errorf("in progress: %+v", s.InProgress)
	}
	if len(s.Last) != 2 || s.Last[0].SHA256 != sha('c') || s.Last[1].SHA256 != sha('b') || s.Last[0].Reason != "not a photo" {
		t.Errorf("last 2: %+v", s.Last)
	}
	if s := Collect(Options{StateDir: state, Inbox: in, Last: 5, ConsentStore: func() ConsentStore { return ConsentStore{} }}); len(s.Last) != 3 ||
		!slices.Equal(s.Last[2].Outputs, []string{"portal:p-a.jpg", "website:w-a.jpg"}) || s.Last[2].Reason != "" || s.Last[2].Input != "" { // a finished record keeps no input path
		t.Errorf("a published photo: %+v", s.Last)
	}
	if h := s.Aside["held"]; len(h) != 1 || h[0] != (AsideItem{Folder: "20261201-aaaa", Input: "groep-5/c.jpg", Reason: "no consent register", At: h[0].At}) || h[0].At.IsZero() {
		t.Errorf("held: %+v", s.Aside)
	}
	if _, ok := s.Aside["quarantine"]; ok || len(s.Aside["rejected"]) != 1 {
		t.Errorf("aside: %+v", s.Aside)
	}

	// The JSON of status --json: the names monitoring reads.
	raw, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	keys := func(v any) []string {
		var out []string
		for k := range v.(map[string]any) {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}
	for path, want := range map[string][]string{
		"":         {"aside", "in_progress", "inbox", "last", "ledger", "register", "service", "state_dir"},
		"ledger":   {"entries", "damaged_lines", "changed_lines"},
		"service":  {"running"},
		"inbox":    {"path", "photos", "videos", "waiting", "other"},
		"register": {"enrolled", "people", "state"},
	} {
		v := any(m)
		if path != "" {
			v = m[path]
		}
		slices.Sort(want)
		if got := keys(v); !reflect.DeepEqual(got, want) {
			t.Errorf("JSON %q: keys %v, want %v", path, got, want)
		}
	}
	last := m["last"].([]any)[0]
	if got := keys(last); !reflect.DeepEqual(got, []string{"input", "outcome", "reason", "sha256", "state", "updated"}) {
		t.Errorf("JSON last[0]: keys %v", got)
	}
	if got := keys(m["aside"].(map[string]any)["held"].([]any)[0]); !reflect.DeepEqual(got, []string{"at", "folder", "input", "reason"}) {
		t.Errorf("JSON aside: keys %v", got)
	}
}

// What cannot be read is said; the rest is still collected.
func TestCollectErrors(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	s := Collect(Options{StateDir: state, Inbox: filepath.Join(dir, "none"), ConsentStore: func() ConsentStore { return ConsentStore{State: "empty"} }})
	if !s.Inbox.Missing || s.Err() != nil || s.ConsentStore.State != "empty" || s.InProgress == nil || s.Last == nil {
		t.Errorf("a missing inbox: %+v, %v", s, s.Err())
	}
	if _, err := os.Stat(filepath.Join(state, "journal")); err == nil {
		t.Error("Collect made a journal")
	}
	real := filepath.Join(dir, "real")
	write(t, filepath.Join(real, "a.jpg"), "\xff\xd8\xff")
	link := filepath.Join(dir, "inbox")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	s = Collect(Options{StateDir: state, Inbox: link, ConsentStore: func() ConsentStore { return ConsentStore{State: "empty"} }})
	if err := s.Err(); err == nil || !strings.HasPrefix(err.Error(), "inbox: ") || s.ConsentStore.State != "empty" {
		t.Errorf("an inbox that is a link: %v", err)
	}
}

// Issue 19: a photo whose outputs were all taken down is listed as taken
// down, not as published; one taken down on one of two targets shows which.
func TestTakenDownIsShownAsTakenDown(t *testing.T) {
	state := t.TempDir()
	j, err := journal.Open(state)
	if err != nil {
		t.Fatal(err)
	}
	down := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	for _, r := range []*journal.Record{
		{SHA256: sha('a'), State: journal.Done, Outcome: "published", Rel: "",
			Deliveries: map[string]*journal.Delivery{"website": {Name: "w-a.jpg", Published: true, TakenDown: down}}},
		{SHA256: sha('b'), State: journal.Done, Outcome: "published", Rel: "",
			Deliveries: map[string]*journal.Delivery{"website": {Name: "w-b.jpg", TakenDown: down}, "news": {Name: "n-b.jpg", Published: true}}},
	} {
		if err := j.Put(r); err != nil {
			t.Fatal(err)
		}
	}
	j.Close()
	s := Collect(Options{StateDir: state, Inbox: filepath.Join(state, "inbox"), Last: 5, ConsentStore: func() ConsentStore { return ConsentStore{} }})
	got := map[string]Record{}
	for _, r := range s.Last {
		got[r.SHA256] = r
	}
	if r := got[sha('a')]; r.Outcome != TakenDown || !reflect.DeepEqual(r.Outputs, []string{"website:w-a.jpg (taken down)"}) {
		t.Errorf("taken down everywhere: %+v", r)
	}
	if r := got[sha('b')]; r.Outcome != "published" || !reflect.DeepEqual(r.Outputs, []string{"news:n-b.jpg", "website:w-b.jpg (taken down)"}) {
		t.Errorf("taken down on one target: %+v", r)
	}
}
