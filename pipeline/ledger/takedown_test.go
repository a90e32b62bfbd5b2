package ledger

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/photoguard/photoguard/pipeline"
	"github.com/photoguard/photoguard/pipeline/audit"
	"github.com/photoguard/photoguard/pipeline/journal"
	"github.com/photoguard/photoguard/pipeline/target"
	"github.com/photoguard/photoguard/pipeline/target/dir"
)

// targetKind is one kind of target the takedown tests run against. The
// WebDAV and WordPress targets add their rows here (started by the test,
// on 127.0.0.1): list reports the names at the target.
type targetKind struct {
	name string
	open func(t *testing.T) (tg target.Target, list func() []string)
}

// testSealKey seals the ledger's lines in these tests.
var testSealKey = []byte("0123456789abcdef0123456789abcdef")

var targetKinds = []targetKind{
	{"dir", func(t *testing.T) (target.Target, func() []string) {
		p := filepath.Join(t.TempDir(), "website")
		tg, err := dir.New(p)
		if err != nil {
			t.Fatal(err)
		}
		return tg, func() []string {
			var names []string
			es, _ := os.ReadDir(p)
			for _, e := range es {
				if !strings.HasPrefix(e.Name(), ".") {
					names = append(names, e.Name())
				}
			}
			return names
		}
	}},
}

// fakeObjector is the consent store's objections; ids not in known are not
// in the consent store.
type fakeObjector struct {
	mu    sync.Mutex
	known map[string]bool
	got   []string // "sha id"
	err   error
}

var errNotInStore = errors.New("consent store: not in the store")

func (o *fakeObjector) Object(sha, id, note string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.err != nil {
		return o.err
	}
	if !o.known[id] {
		return fmt.Errorf("%w: id %s", errNotInStore, id)
	}
	o.got = append(o.got, short(sha)+" "+id)
	return nil
}

func sha256hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

type fakeAudit struct{ events []audit.Event }

func (a *fakeAudit) Record(e audit.Event) error { a.events = append(a.events, e); return nil }

// world is a state folder with a ledger, a journal and one target, and
// photos published the way the pipeline publishes them.
type world struct {
	t     *testing.T
	state string
	led   *Ledger
	j     *journal.Journal
	tg    target.Target
	list  func() []string
	obj   *fakeObjector
	aud   *fakeAudit
	now   time.Time
}

func newWorld(t *testing.T, k targetKind) *world {
	w := &world{t: t, state: t.TempDir(), obj: &fakeObjector{known: map[string]bool{"anna": true, "bram": true}}, aud: &fakeAudit{},
		now: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}
	var err error
	if w.led, err = Open(w.state, testSealKey); err != nil {
		t.Fatal(err)
	}
	w.led.SetClock(func() time.Time { return w.now })
	if w.j, err = journal.Open(w.state); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.j.Close() })
	w.tg, w.list = k.open(t)
	return w
}

// hash is a content hash starting with prefix.
func hash(prefix string, n int) string {
	s := prefix + fmt.Sprintf("%x", n)
	return s + strings.Repeat("0", 64-len(s))
}

// publish publishes content sha showing pupils, as the pipeline does:
// announced, sent, confirmed, and done in the journal.
func (w *world) publish(sha string, pupils ...string) string {
	w.t.Helper()
	ctx := context.Background()
	name := pipeline.OutputName(w.now, sha)
	pub := pipeline.Publication{SHA256: sha, Target: "website", Channel: "website", Name: name, Pupils: pupils}
	if err := w.led.Publishing(pub); err != nil {
		w.t.Fatal(err)
	}
	ref, err := w.tg.Publish(ctx, name, []byte("jpeg of "+sha))
	if err != nil {
		w.t.Fatal(err)
	}
	pub.Ref = ref
	if err := w.led.Published(pub); err != nil {
		w.t.Fatal(err)
	}
	rec := &journal.Record{SHA256: sha, State: journal.Done, Outcome: "published", Targets: []string{"website"},
		Deliveries: map[string]*journal.Delivery{"website": {Name: name, Published: true, Ref: ref, At: w.now}}}
	if err := w.j.Put(rec); err != nil {
		w.t.Fatal(err)
	}
	w.now = w.now.Add(time.Minute)
	return name
}

func (w *world) takedowner() *Takedowner {
	return &Takedowner{Ledger: w.led, StateDir: w.state, Key: testSealKey, Journal: w.j, Objections: w.obj, Audit: w.aud,
		NotInStore: func(err error) bool { return errors.Is(err, errNotInStore) },
		Target: func(name string) (target.Target, error) {
			if name != "website" {
				return nil, errors.New("not configured")
			}
			return w.tg, nil
		},
		Now: func() time.Time { return w.now }}
}

func (w *world) live() []string {
	w.t.Helper()
	rd, err := Read(w.state, testSealKey)
	if err != nil {
		w.t.Fatal(err)
	}
	var names []string
	for _, r := range Select(Fold(rd.Entries), Query{}) {
		names = append(names, r.Name)
	}
	sort.Strings(names)
	return names
}

// TestTakedownPupil: after anna's consent is revoked, takedown --pupil anna
// removes exactly the photos in which anna is visible, from every target
// kind, and leaves the rest; her objection is recorded for each, so that a
// re-delivered copy is published with her redacted (the journal no longer
// counts the delivery as published); the ledger and the audit log have
// each removal; a second run finds nothing.
func TestTakedownPupil(t *testing.T) {
	for _, k := range targetKinds {
		t.Run(k.name, func(t *testing.T) {
			w := newWorld(t, k)
			both := w.publish(hash("aa", 1), "anna", "bram")
			bram := w.publish(hash("bb", 2), "bram")
			anna := w.publish(hash("cc", 3), "anna")
			none := w.publish(hash("dd", 4))

			dry, err := w.takedowner().Run(context.Background(), Request{Pupil: "anna", DryRun: true})
			if err != nil || len(dry.Selected) != 2 || len(w.list()) != 4 || len(w.obj.got) != 0 {
				t.Fatalf("dry run: %+v, %v; at the target %v, objections %v", dry, err, w.list(), w.obj.got)
			}

			res, err := w.takedowner().Run(context.Background(), Request{Pupil: "anna"})
			if err != nil {
				t.Fatal(err)
			}
			want := []string{bram, none}
			sort.Strings(want)
			if got := w.list(); !reflect.DeepEqual(got, want) {
				t.Errorf("at the target %v, want %v", got, want)
			}
			if got := w.live(); !reflect.DeepEqual(got, want) {
				t.Errorf("ledger live %v, want %v", got, want)
			}
			if len(res.Removed) != 2 || len(res.Manual) != 0 || res.Republish != 2 {
				t.Errorf("result %+v", res)
			}
			if want := []string{"aa1000000000 anna", "cc3000000000 anna"}; !reflect.DeepEqual(w.obj.got, want) {
				t.Errorf("objections %v, want %v", w.obj.got, want)
			}
			for _, name := range []string{both, anna} {
				sha := hash("aa", 1)
				if name == anna {
					sha = hash("cc", 3)
				}
				rec, err := w.j.Get(sha)
				if err != nil {
					t.Fatal(err)
				}
				if d := rec.Deliveries["website"]; d.Published || d.TakenDown.IsZero() || rec.PublishedTo([]string{"website"}) {
					t.Errorf("journal of %s: %+v", name, d)
				}
			}
			if rec, _ := w.j.Get(hash("bb", 2)); !rec.Deliveries["website"].Published {
				t.Error("bram's photo no longer published in the journal")
			}
			var kinds []string
			for _, e := range w.aud.events {
				kinds = append(kinds, e.Kind)
			}
			if want := []string{audit.Delete, audit.Delete, audit.Takedown}; !reflect.DeepEqual(kinds, want) {
				t.Errorf("audit %v, want %v", kinds, want)
			}
			again, err := w.takedowner().Run(context.Background(), Request{Pupil: "anna"})
			if err != nil || len(again.Selected) != 0 {
				t.Errorf("second run: %+v, %v", again, err)
			}
		})
	}
}

// TestTakedownNamesAPhoto: a photo is named by its published file, its
// output name, the 12 characters status shows, any longer or shorter
// unambiguous prefix, or the original; an ambiguous prefix is refused with
// the candidates, and nothing is removed.
func TestTakedownNamesAPhoto(t *testing.T) {
	w := newWorld(t, targetKinds[0])
	a := hash("c1656a168077", 1)
	b := hash("c1656a168078", 2)
	c := hash("c1656a99", 3)
	na := w.publish(a, "anna")
	w.publish(b)
	w.publish(c)

	_, err := w.takedowner().Run(context.Background(), Request{Photos: []string{"c1656a"}, DryRun: true})
	var amb *AmbiguousError
	if !errors.As(err, &amb) || len(amb.Candidates) != 3 || !strings.Contains(err.Error(), na) {
		t.Fatalf("ambiguous prefix: %v", err)
	}
	if len(w.list()) != 3 {
		t.Fatal("something was removed")
	}
	// The original: its content is the input's.
	orig := filepath.Join(t.TempDir(), "IMG_0001.JPG")
	if err := os.WriteFile(orig, []byte("original"), 0o600); err != nil {
		t.Fatal(err)
	}
	d := w.publish(sha256hex([]byte("original")))
	for _, name := range []string{"c1656a168077", "C1656A1680771", a, na, strings.TrimSuffix(na, ".jpg"), "publish/website/" + na, orig} {
		res, err := w.takedowner().Run(context.Background(), Request{Photos: []string{name}, DryRun: true})
		if err != nil || len(res.Selected) != 1 {
			t.Errorf("%s: %+v, %v", name, res, err)
			continue
		}
		if want := a; name == orig {
			if res.Selected[0].Name != d {
				t.Errorf("%s: selected %s", name, res.Selected[0].Name)
			}
		} else if res.Selected[0].SHA256 != want {
			t.Errorf("%s: selected %s", name, res.Selected[0].SHA256)
		}
	}
	for _, bad := range []string{"c165", "ffffff", "notahash", "20261201-ffffffffffff.jpg"} {
		if _, err := w.takedowner().Run(context.Background(), Request{Photos: []string{bad}}); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}

	// By photo, without --pupil: removed, anna's objection recorded (she
	// was visible in it).
	res, err := w.takedowner().Run(context.Background(), Request{Photos: []string{"c1656a168077"}})
	if err != nil || len(res.Removed) != 1 || !reflect.DeepEqual(w.obj.got, []string{"c1656a168077 anna"}) {
		t.Fatalf("%+v, %v, objections %v", res, err, w.obj.got)
	}
	if _, err := w.takedowner().Run(context.Background(), Request{Photos: []string{"c1656a168077"}}); err == nil {
		t.Error("a photo taken down already was taken down again")
	}
	// A photo and --pupil: the photo goes whole, even though the matcher
	// did not see bram in it (his parent did); his objection is recorded.
	unseen := w.publish(hash("123456", 5))
	// A pupil id that is not one (a name typed by mistake), or that is
	// neither in the consent store nor in the photo: refused, nothing removed.
	for _, bad := range []string{"Pietje Puk", "nobody"} {
		if res, err := w.takedowner().Run(context.Background(), Request{Pupil: bad, Photos: []string{unseen}}); err == nil {
			t.Errorf("--pupil %q accepted: %+v", bad, res)
		}
	}
	if len(w.list()) != 4 {
		t.Fatalf("a refused takedown removed something: %v", w.list())
	}
	res, err = w.takedowner().Run(context.Background(), Request{Pupil: "bram", Photos: []string{unseen}})
	if err != nil || len(res.Removed) != 1 || !contains(w.obj.got, "123456500000 bram") {
		t.Fatalf("photo and pupil: %+v, %v, objections %v", res, err, w.obj.got)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestTakedownManualAndUnknown: an output whose target cannot remove it is
// listed for removal by hand and stays live in the ledger; a pupil no
// longer in the consent store gets no objection, and the delivery stays
// published in the journal (a copy is a duplicate, not published again); a
// store that cannot record objections stops the takedown before anything
// is removed.
func TestTakedownManualAndUnknown(t *testing.T) {
	w := newWorld(t, targetKinds[0])
	gone := w.publish(hash("ee", 1), "left")
	// Published to a target that is no longer configured.
	sha := hash("ff", 2)
	pub := pipeline.Publication{SHA256: sha, Target: "oldsite", Channel: "website", Name: pipeline.OutputName(w.now, sha), Ref: "77", Pupils: []string{"anna"}}
	if err := w.led.Published(pub); err != nil {
		t.Fatal(err)
	}

	w.obj.err = errors.New("registry: lock timeout")
	if _, err := w.takedowner().Run(context.Background(), Request{Photos: []string{gone}}); err == nil || len(w.list()) != 1 {
		t.Fatalf("store failing: %v, at the target %v", err, w.list())
	}
	w.obj.err = nil

	res, err := w.takedowner().Run(context.Background(), Request{Photos: []string{gone}})
	if err != nil || len(res.Removed) != 1 || !reflect.DeepEqual(res.Unknown, []string{"left"}) || res.Republish != 0 {
		t.Fatalf("%+v, %v", res, err)
	}
	if rec, _ := w.j.Get(hash("ee", 1)); !rec.Deliveries["website"].Published || rec.Deliveries["website"].TakenDown.IsZero() {
		t.Errorf("journal %+v", rec.Deliveries["website"])
	}

	res, err = w.takedowner().Run(context.Background(), Request{Pupil: "anna"})
	if err != nil || len(res.Manual) != 1 || !strings.Contains(res.Manual[0].Problem, "oldsite") {
		t.Fatalf("%+v, %v", res, err)
	}
	rd, _ := Read(w.state, testSealKey)
	recs := Select(Fold(rd.Entries), Query{Pupil: "anna"})
	if len(recs) != 1 || recs[0].Problem == "" {
		t.Errorf("ledger after a failed removal: %+v", recs)
	}
}

// TestLegacyJournalOutputs: an output published before the ledger existed
// is found in the journal by its name or hash (not by pupil: who is in it
// is not known) and taken down; it stays published in the journal.
func TestLegacyJournalOutputs(t *testing.T) {
	w := newWorld(t, targetKinds[0])
	sha := hash("69a2f5949b21", 9)
	name := pipeline.OutputName(w.now, sha)
	if _, err := w.tg.Publish(context.Background(), name, []byte("x")); err != nil {
		t.Fatal(err)
	}
	rec := &journal.Record{SHA256: sha, State: journal.Done, Outcome: "published",
		Deliveries: map[string]*journal.Delivery{"website": {Name: name, Published: true, At: w.now}}}
	if err := w.j.Put(rec); err != nil {
		t.Fatal(err)
	}
	if res, err := w.takedowner().Run(context.Background(), Request{Pupil: "anna"}); err != nil || len(res.Selected) != 0 {
		t.Fatalf("by pupil: %+v, %v", res, err)
	}
	res, err := w.takedowner().Run(context.Background(), Request{Photos: []string{"publish/website/" + name}})
	if err != nil || len(res.Removed) != 1 || len(w.list()) != 0 {
		t.Fatalf("%+v, %v, %v", res, err, w.list())
	}
	if got, _ := w.j.Get(sha); !got.Deliveries["website"].Published {
		t.Error("a legacy output no longer counts as published: a copy would be published with everyone in it")
	}
	if _, err := w.takedowner().Run(context.Background(), Request{Photos: []string{name}}); err == nil {
		t.Error("taken down twice")
	}
}

// TestAnnouncedOnly: a crash between sending an output and confirming it
// leaves only the announcement; the output is still found by pupil and
// removed (its reference asked from the target by name). An announcement
// the target never took (withdrawn) is no publication.
func TestAnnouncedOnly(t *testing.T) {
	w := newWorld(t, targetKinds[0])
	sha := hash("ab", 1)
	pub := pipeline.Publication{SHA256: sha, Target: "website", Channel: "website", Name: pipeline.OutputName(w.now, sha), Pupils: []string{"anna"}}
	if err := w.led.Publishing(pub); err != nil {
		t.Fatal(err)
	}
	if _, err := w.tg.Publish(context.Background(), pub.Name, []byte("x")); err != nil {
		t.Fatal(err)
	}
	refused := pipeline.Publication{SHA256: hash("ac", 2), Target: "website", Channel: "website", Name: "20261201-ac2000000000.jpg", Pupils: []string{"anna"}}
	if err := w.led.Publishing(refused); err != nil {
		t.Fatal(err)
	}
	if err := w.led.Withdrawn(refused); err != nil {
		t.Fatal(err)
	}
	if got := w.live(); !reflect.DeepEqual(got, []string{pub.Name}) {
		t.Fatalf("live %v", got)
	}
	res, err := w.takedowner().Run(context.Background(), Request{Pupil: "anna"})
	if err != nil || len(res.Removed) != 1 || len(w.list()) != 0 || len(w.live()) != 0 {
		t.Fatalf("%+v, %v, at the target %v", res, err, w.list())
	}
}

// TestReadIgnoresACutShortLine: a write a crash cut short is not an entry;
// a damaged line in the middle is skipped and counted, naming the line.
func TestReadIgnoresACutShortLine(t *testing.T) {
	w := newWorld(t, targetKinds[0])
	w.publish(hash("ab", 1), "anna")
	path := filepath.Join(w.state, Dir, FileName)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"kind":"publishing","sha256":"ab`)
	f.Close()
	if got := w.live(); len(got) != 1 {
		t.Fatalf("live %v", got)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("ledger mode %v", st.Mode())
	}
	if err := os.WriteFile(path, []byte("{}\nnot json\n{}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if rd, err := Read(w.state, testSealKey); err != nil || !reflect.DeepEqual(rd.Damaged, []int{1, 2, 3}) || !strings.Contains(rd.Problem(), "line 1, 2, 3") {
		t.Errorf("damaged lines: %+v, %v", rd, err)
	}
	// Never through a link.
	os.Remove(path)
	if err := os.Symlink(filepath.Join(t.TempDir(), "elsewhere"), path); err != nil {
		t.Fatal(err)
	}
	if err := w.led.Published(pipeline.Publication{SHA256: hash("ab", 1), Target: "website", Name: "x"}); err == nil {
		t.Error("appended through a link")
	}
}
