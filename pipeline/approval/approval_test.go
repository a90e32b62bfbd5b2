package approval

import (
	"bytes"
	"context"
	"errors"
	"image"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/photoguard/photoguard/pipeline"
	"github.com/photoguard/photoguard/pipeline/journal"
	"github.com/photoguard/photoguard/pipeline/target"
	"github.com/photoguard/photoguard/pipeline/target/dir"
	"github.com/photoguard/photoguard/redact/decode"
)

// school is a state folder, an inbox and two targets: "web" (the website:
// approval and the individual rule) and "portal" (neither).
type school struct {
	t                  *testing.T
	root, inbox, state string
	j                  *journal.Journal
	store              *Store
	det                *fakeAnalyzer
	reg                *register
	led                *memLedger
	web                target.Target
}

var (
	// 320x240: three pupils, a sixth of the shorter side each.
	groupFaces = []face{{image.Rect(20, 40, 60, 80), 0}, {image.Rect(140, 40, 180, 80), 1}, {image.Rect(260, 40, 300, 80), 2}}
	// 300x300: one pupil.
	singleFaces = []face{{image.Rect(100, 100, 160, 160), 0}}
)

func newSchool(t *testing.T) *school {
	root := t.TempDir()
	s := &school{t: t, root: root, inbox: filepath.Join(root, "inbox"), state: filepath.Join(root, "state"),
		det: &fakeAnalyzer{byWidth: map[int][]face{320: groupFaces, 300: singleFaces}},
		reg: newRegister(3, "website", "parent_portal"), led: &memLedger{}}
	if err := os.MkdirAll(s.state, 0o700); err != nil {
		t.Fatal(err)
	}
	var err error
	if s.j, err = journal.Open(s.state); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.j.Close() })
	if s.store, err = Open(s.state, testKey(t), nil); err != nil {
		t.Fatal(err)
	}
	if s.web, err = dir.New(filepath.Join(root, "out-web")); err != nil {
		t.Fatal(err)
	}
	return s
}

// pipeline is the run's pipeline over the given destinations.
func (s *school) pipeline(dests ...*pipeline.Destination) *pipeline.Pipeline {
	p, err := pipeline.New(pipeline.Options{StateDir: s.state, Destinations: dests, Limits: decode.DefaultLimits(),
		MaxSide: 512, Quality: 85, Wipe: true, Workers: 1, Journal: s.j, Faces: faceOptions(s.det, s.reg),
		Approvals: s.store, Ledger: s.led})
	if err != nil {
		s.t.Fatal(err)
	}
	return p
}

func (s *school) webDest() *pipeline.Destination {
	return &pipeline.Destination{Name: "web", Channel: "website", Target: s.web, Approval: true, ClosedOnly: true}
}

// run processes one photo to web and portal as the service does.
func (s *school) run(name string, data []byte) (sha string, items map[string]pipeline.Item) {
	s.t.Helper()
	portal, err := dir.New(filepath.Join(s.root, "out-portal"))
	if err != nil {
		s.t.Fatal(err)
	}
	p := s.pipeline(s.webDest(), &pipeline.Destination{Name: "portal", Channel: "parent_portal", Target: portal})
	path := filepath.Join(s.inbox, "groep-5", name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		s.t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		s.t.Fatal(err)
	}
	list, err := p.Process(context.Background(), s.inbox, path)
	if err != nil {
		s.t.Fatalf("%s: %v", name, err)
	}
	items = map[string]pipeline.Item{}
	for _, it := range list {
		items[it.Target] = it
		sha = it.SHA256
	}
	return sha, items
}

// approver is what `photoguard approve` gives Approve: the pipeline for
// web alone, approved.
func (s *school) approver(tg target.Target) func(pipeline.Approval) (Processor, error) {
	return func(a pipeline.Approval) (Processor, error) {
		d := s.webDest()
		d.Target, d.Approval, d.Approved = tg, false, &a
		return s.pipeline(d), nil
	}
}

func (s *school) published() []string {
	entries, _ := os.ReadDir(filepath.Join(s.root, "out-web"))
	var names []string
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	return names
}

// downTarget is a target that is not available.
type downTarget struct{ target.Target }

func (downTarget) Publish(ctx context.Context, name string, data []byte) (string, error) {
	return "", errors.New("connection refused")
}

func TestWaitApproveRejectExpire(t *testing.T) {
	s := newSchool(t)
	ctx := context.Background()
	group := photoWith(t, 320, 240, 1, groupFaces)
	sha, items := s.run("IMG_0001 Emma.jpg", group)
	if it := items["web"]; it.Outcome != pipeline.Waiting || it.Reason != pipeline.ReasonWaiting {
		t.Fatalf("web: %+v, want waiting", it)
	}
	if it := items["portal"]; it.Outcome != pipeline.Published {
		t.Fatalf("portal: %+v, want published", it)
	}
	if _, err := os.Lstat(filepath.Join(s.inbox, "groep-5", "IMG_0001 Emma.jpg")); err == nil {
		t.Error("the input of a waiting photo was not wiped")
	}
	if rec, err := s.j.Get(sha); err != nil || rec.State != journal.Done || rec.Outcome != string(pipeline.Waiting) {
		t.Errorf("journal: %+v %v, want done/waiting", rec, err)
	}
	ph, err := s.store.Get(sha)
	if err != nil {
		t.Fatal(err)
	}
	if w := ph.Targets["web"]; ph.Group != "groep-5" || w == nil || w.State != Waiting || w.Shown != 3 || w.Faces != 3 || !slices.Equal(w.Pupils, []string{"p0", "p1", "p2"}) {
		t.Fatalf("stored: %+v %+v", ph, ph.Targets["web"])
	}
	// Sealed: neither the photo nor its name in the clear.
	sealed, _ := os.ReadFile(filepath.Join(s.state, Folder, sha, originalFile))
	meta, _ := os.ReadFile(filepath.Join(s.state, Folder, sha, metaFile))
	if len(sealed) == 0 || bytes.Contains(sealed, group[200:300]) || bytes.Contains(append(sealed, meta...), []byte("Emma")) {
		t.Error("the kept original is not sealed, or its name is in the clear")
	}
	if rel, data, err := s.store.Original(sha); err != nil || rel != "groep-5/IMG_0001 Emma.jpg" || !bytes.Equal(data, group) {
		t.Fatalf("original: %q %v", rel, err)
	}

	// One pupil on their own: portal only.
	_, items = s.run("IMG_0002.jpg", photoWith(t, 300, 300, 2, singleFaces))
	if it := items["web"]; it.Outcome != pipeline.Rejected || it.Reason != pipeline.ReasonIndividual {
		t.Errorf("a portrait on web: %+v, want rejected: %s", it, pipeline.ReasonIndividual)
	}
	if it := items["portal"]; it.Outcome != pipeline.Published {
		t.Errorf("a portrait on the portal: %+v, want published", it)
	}

	// p1 withdraws while it waits; the target is down at the first approval.
	s.reg.revoke("p1", "website")
	at := time.Date(2026, 12, 8, 9, 30, 0, 0, time.UTC)
	ans, err := s.store.Approve(ctx, sha, "web", pipeline.Approval{By: "directie", At: at}, s.approver(downTarget{s.web}))
	if err != nil || ans.State != Approved || !strings.Contains(ans.Note, "run photoguard approve") {
		t.Fatalf("approve with the target down: %+v %v", ans, err)
	}
	if len(s.published()) != 0 {
		t.Fatal("published while the target was down")
	}
	if entries, _ := os.ReadDir(filepath.Join(s.state, Folder, stagingDir)); len(entries) != 0 {
		t.Errorf("staging keeps %d entries after the approval", len(entries))
	}
	ans, err = s.store.Approve(ctx, sha, "web", pipeline.Approval{By: "someone else", At: at.Add(time.Hour)}, s.approver(s.web))
	if err != nil || ans.State != Published || ans.Output == "" {
		t.Fatalf("approve again: %+v %v", ans, err)
	}
	if got := s.published(); len(got) != 1 || got[0] != ans.Output {
		t.Fatalf("web holds %v, want %s", got, ans.Output)
	}
	var pubs []pipeline.Publication
	for _, p := range s.led.pubs {
		if p.Target == "web" {
			pubs = append(pubs, p)
		}
	}
	if len(pubs) != 1 || pubs[0].Approved == nil || pubs[0].Approved.By != "directie" || !pubs[0].Approved.At.Equal(at) {
		t.Fatalf("ledger: %+v, want one publication approved by directie at %s", pubs, at)
	}
	if !slices.Equal(pubs[0].Pupils, []string{"p0", "p2"}) {
		t.Errorf("published showing %v; p1 withdrew while it waited", pubs[0].Pupils)
	}
	if _, err := os.Lstat(filepath.Join(s.state, Folder, sha, originalFile)); err == nil {
		t.Error("the original is kept after its only target was published")
	}
	// Idempotent: nothing more is published, and a reject now changes nothing.
	ans, err = s.store.Approve(ctx, sha, "web", pipeline.Approval{By: "directie", At: at}, s.approver(s.web))
	if err != nil || ans.State != Published || !strings.Contains(ans.Note, "already approved by directie") || len(s.published()) != 1 {
		t.Errorf("approve a third time: %+v %v; web %v", ans, err, s.published())
	}
	if ans, err := s.store.Reject(sha, "web", "directie", "te laat"); err != nil || ans.State != Published || ans.Note == "" {
		t.Errorf("reject after publication: %+v %v", ans, err)
	}

	// Reject: nothing is sent; approving afterwards sends nothing either.
	sha2, _ := s.run("IMG_0003.jpg", photoWith(t, 320, 240, 3, groupFaces))
	if ans, err := s.store.Reject(sha2, "web", "directie", "niet voor de website"); err != nil || ans.State != Rejected {
		t.Fatalf("reject: %+v %v", ans, err)
	}
	if ans, err := s.store.Reject(sha2, "web", "directie", "nog eens"); err != nil || !strings.Contains(ans.Note, "rejected by directie") {
		t.Errorf("reject again: %+v %v", ans, err)
	}
	if ans, err := s.store.Approve(ctx, sha2, "web", pipeline.Approval{By: "directie", At: at}, s.approver(s.web)); err != nil || ans.State != Rejected {
		t.Errorf("approve after reject: %+v %v", ans, err)
	}
	if len(s.published()) != 1 {
		t.Errorf("a rejected photo was published: %v", s.published())
	}
	if _, err := os.Lstat(filepath.Join(s.state, Folder, sha2, originalFile)); err == nil {
		t.Error("the original of a rejected photo is kept")
	}

	// Expiry.
	sha3, _ := s.run("IMG_0004.jpg", photoWith(t, 320, 240, 4, groupFaces))
	if got, err := s.store.Expire(time.Hour, false); err != nil || len(got) != 0 {
		t.Fatalf("expired a photo that waited less than the time: %+v %v", got, err)
	}
	s.store.Now = func() time.Time { return time.Now().Add(31 * 24 * time.Hour) }
	if got, err := s.store.Expire(30*24*time.Hour, true); err != nil || len(got) != 1 {
		t.Fatalf("dry run: %+v %v", got, err)
	}
	if _, err := os.Lstat(filepath.Join(s.state, Folder, sha3, originalFile)); err != nil {
		t.Fatal("a dry run removed the original")
	}
	got, err := s.store.Expire(30*24*time.Hour, false)
	if err != nil || len(got) != 1 || got[0].SHA256 != sha3 || !strings.Contains(got[0].Note, "not answered within 30 days") {
		t.Fatalf("expire: %+v %v", got, err)
	}
	if ph, _ := s.store.Get(sha3); ph.Targets["web"].State != Expired || ph.Open() {
		t.Errorf("after expiry: %+v", ph.Targets["web"])
	}
	if _, err := os.Lstat(filepath.Join(s.state, Folder, sha3, originalFile)); err == nil {
		t.Error("the original of an expired photo is kept")
	}
	// The answered records go after their retention (the expiry was
	// answered just now).
	gone, err := s.store.Purge(24*time.Hour, false)
	if err != nil || len(gone) != 2 || slices.Contains(gone, sha3[:12]) {
		t.Errorf("purge: %v %v, want the 2 photos answered a month ago", gone, err)
	}
	if list, _ := s.store.List(); len(list) != 1 {
		t.Errorf("after purge: %d photos, want 1", len(list))
	}
}

// A photo delivered again while it waits waits again (still once); one
// delivered again once approved is not published twice.
func TestParkAgainAndSelect(t *testing.T) {
	s := newSchool(t)
	group := photoWith(t, 320, 240, 5, groupFaces)
	sha, _ := s.run("a.jpg", group)
	if _, items := s.run("b.jpg", group); items["web"].Outcome != pipeline.Waiting {
		t.Errorf("delivered again: %+v", items["web"])
	}
	list, _ := s.store.List()
	if len(list) != 1 {
		t.Fatalf("%d photos wait, want 1", len(list))
	}
	if _, err := s.store.Approve(context.Background(), sha, "web", pipeline.Approval{By: "d", At: time.Now()}, s.approver(s.web)); err != nil {
		t.Fatal(err)
	}
	if _, items := s.run("c.jpg", group); items["web"].Outcome != pipeline.Published || !items["web"].Duplicate {
		t.Errorf("delivered after its approval: %+v, want a duplicate of what was published", items["web"])
	}
	if len(s.published()) != 1 {
		t.Errorf("web holds %v", s.published())
	}
	for _, c := range []struct {
		names []string
		err   string
	}{
		{[]string{sha[:12]}, ""},
		{[]string{sha[:6]}, ""},
		{[]string{sha[:5]}, "at least 6"},
		{[]string{"abcdef"}, "no photo"},
	} {
		_, err := Select(list, c.names)
		if (err == nil) != (c.err == "") || err != nil && !strings.Contains(err.Error(), c.err) {
			t.Errorf("Select(%v): %v, want %q", c.names, err, c.err)
		}
	}
}

// Approving while the service works on the same photo (a teacher dropped
// it again): the service's claim in the journal stops the approval, which
// publishes nothing and stays approved; once the service is done, approving
// again publishes it once.
func TestApproveWhileTheServiceHasIt(t *testing.T) {
	s := newSchool(t)
	sha, _ := s.run("a.jpg", photoWith(t, 320, 240, 6, groupFaces))
	service, err := journal.Open(s.state) // another process's journal
	if err != nil {
		t.Fatal(err)
	}
	defer service.Close()
	rec, res, err := service.Claim(&journal.Record{SHA256: sha, Input: "/srv/inbox/a.jpg"}, []string{"web", "portal"})
	if err != nil || res != journal.Fresh {
		t.Fatalf("the service's claim: %v %v", res, err)
	}
	a := pipeline.Approval{By: "directie", At: time.Now()}
	ans, err := s.store.Approve(context.Background(), sha, "web", a, s.approver(s.web))
	if err != nil || ans.State != Approved || !strings.Contains(ans.Note, "being processed") || len(s.published()) != 0 {
		t.Fatalf("approve while the service has the photo: %+v %v; web %v", ans, err, s.published())
	}
	if err := service.Release(rec); err != nil {
		t.Fatal(err)
	}
	ans, err = s.store.Approve(context.Background(), sha, "web", a, s.approver(s.web))
	if err != nil || ans.State != Published || len(s.published()) != 1 {
		t.Fatalf("approve once the service let go: %+v %v; web %v", ans, err, s.published())
	}
}
