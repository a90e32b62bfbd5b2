package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/photoguard/photoguard/detect"
	"github.com/photoguard/photoguard/pipeline/inbox"
	"github.com/photoguard/photoguard/pipeline/inbox/inboxtest"
	"github.com/photoguard/photoguard/pipeline/journal"
	"github.com/photoguard/photoguard/pipeline/target"
	"github.com/photoguard/photoguard/pipeline/target/dir"
	"github.com/photoguard/photoguard/redact/decode"
	"github.com/photoguard/photoguard/redact/encode"
	"github.com/photoguard/photoguard/redact/inspect"
	"github.com/photoguard/photoguard/redact/mask"
)

// env is a pipeline over a temporary inbox, state folder and dir target.
type env struct {
	t      *testing.T
	inbox  string
	state  string
	out    string
	p      *Pipeline
	j      *journal.Journal
	target target.Target
	// patience is the batch's least patience for files still being
	// written (0: inbox.Batch's default).
	patience time.Duration
	// clock is the daemon's and the pipeline's time in a daemon test
	// (daemonEnv), nil elsewhere.
	clock *inboxtest.Clock
}

type envOption func(*Options)

func newEnv(t *testing.T, opts ...envOption) *env {
	t.Helper()
	root := t.TempDir()
	e := &env{t: t, inbox: filepath.Join(root, "inbox"), state: filepath.Join(root, "state"), out: filepath.Join(root, "out")}
	if err := os.MkdirAll(e.inbox, 0o755); err != nil {
		t.Fatal(err)
	}
	tg, err := dir.New(e.out)
	if err != nil {
		t.Fatal(err)
	}
	e.target = tg
	o := Options{
		StateDir:     e.state,
		Destinations: []*Destination{{Name: "website", Channel: "website", Target: tg}},
		Categories:   detect.NewCategories([]string{"zwemles", "gym"}),
		Limits:       decode.DefaultLimits(),
		MaxSide:      512,
		Quality:      85,
		Wipe:         true,
		Workers:      2,
		Settle:       0,
		GiveUp:       0,
		Faces:        noFaces(2),
	}
	for _, opt := range opts {
		opt(&o)
	}
	e.build(o)
	return e
}

func (e *env) build(o Options) {
	e.t.Helper()
	if o.Journal == nil && !o.DryRun {
		j, err := journal.Open(e.state)
		if err != nil {
			e.t.Fatal(err)
		}
		e.t.Cleanup(func() { j.Close() })
		o.Journal = j
		e.j = j
	}
	p, err := New(o)
	if err != nil {
		e.t.Fatal(err)
	}
	e.p = p
}

// batch runs one batch scan and returns the items by input.
func (e *env) batch() map[string][]Item {
	e.t.Helper()
	got := map[string][]Item{}
	var mu sync.Mutex
	in := NewIntake(e.p, func(it Item) {
		mu.Lock()
		got[it.Input] = append(got[it.Input], it)
		mu.Unlock()
	})
	_, err := inbox.Batch(context.Background(), in, []inbox.Root{{Dir: e.inbox}}, batchOptions(e.p, 1, e.patience))
	if err != nil {
		e.t.Fatal(err)
	}
	return got
}

// batchOptions are the inbox options of a batch with p, as
// `photoguard batch` sets them: p's settle, give-up, workers and state
// folder, on the real clock.
func batchOptions(p *Pipeline, retries int, patience time.Duration) inbox.BatchOptions {
	return inbox.BatchOptions{
		Options:  p.InboxOptions(0),
		Workers:  p.opt.Workers,
		Retries:  retries,
		Patience: patience,
		Own:      []string{p.opt.StateDir},
	}
}

func (e *env) write(rel string, data []byte) string {
	e.t.Helper()
	p := filepath.Join(e.inbox, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		e.t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	_ = os.Chtimes(p, old, old)
	return p
}

func (e *env) outputs() []string {
	e.t.Helper()
	entries, err := os.ReadDir(e.out)
	if err != nil {
		e.t.Fatal(err)
	}
	var names []string
	for _, en := range entries {
		names = append(names, en.Name())
	}
	sort.Strings(names)
	return names
}

// photo makes a small JPEG; seed makes different content.
func photo(t testing.TB, seed int) []byte { return photoSized(t, seed, 320, 240) }

// tinyPhoto is a photo small enough for bursts of a thousand.
func tinyPhoto(t testing.TB, seed int) []byte { return photoSized(t, seed, 64, 48) }

func photoSized(t testing.TB, seed, w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x + seed*7), uint8(y + seed*13), uint8(seed * 31), 255})
		}
	}
	// The seed's bytes in flat blocks along the top: different seeds,
	// different content, whatever the pattern repeats.
	for i := 0; i < 4; i++ {
		v := uint8(seed >> (8 * i))
		for y := 0; y < 8; y++ {
			for x := i * 8; x < i*8+8; x++ {
				img.Set(x, y, color.RGBA{v, v, v, 255})
			}
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func one(t *testing.T, items map[string][]Item, input string) Item {
	t.Helper()
	its := items[input]
	if len(its) != 1 {
		t.Fatalf("%s: %d items, want 1 (all: %+v)", input, len(its), items)
	}
	return its[0]
}

func exists(p string) bool { _, err := os.Lstat(p); return err == nil }

func TestBatchOutcomes(t *testing.T) {
	e := newEnv(t)
	good := e.write("groep-5/Emma de Vries verjaardag.jpg", photo(t, 1))
	swim := e.write("groep-5/zwemles/IMG_0002.jpg", photo(t, 2))
	gym := e.write("groep-6/IMG_0003 gym.jpg", photo(t, 3))
	trunc := e.write("groep-6/half.jpg", photo(t, 4)[:900])
	text := e.write("groep-6/notes.jpg", []byte("not a photo at all"))
	empty := e.write("groep-6/empty.jpg", nil)
	link := filepath.Join(e.inbox, "groep-6/link.jpg")
	if err := os.Symlink(good, link); err != nil {
		t.Fatal(err)
	}
	e.write("groep-6/.DS_Store", []byte("junk"))
	e.write("groep-6/.syncthing.IMG_9.jpg.tmp", photo(t, 9))
	e.write("groep-6/IMG_10.jpg.partial", photo(t, 10))
	e.write("groep-6/~$notes.docx", []byte("lock"))

	items := e.batch()

	if got := len(items); got != 7 {
		t.Errorf("%d inputs reported, want 7 (temporary and hidden files are not inputs): %v", got, items)
	}
	it := one(t, items, "groep-5/Emma de Vries verjaardag.jpg")
	if it.Outcome != Published || it.Output == "" || it.Target != "website" || len(it.SHA256) != 64 {
		t.Errorf("good photo: %+v", it)
	}
	// Output names carry nothing of the input's name.
	for _, word := range []string{"emma", "vries", "verjaardag", "groep"} {
		if strings.Contains(strings.ToLower(it.Output), word) {
			t.Errorf("output name %q carries %q from the input name", it.Output, word)
		}
	}
	if !strings.HasSuffix(it.Output, ".jpg") || !strings.HasPrefix(it.Output, time.Now().Format("20060102")+"-"+it.SHA256[:12]) {
		t.Errorf("output name %q is not date-hash.jpg", it.Output)
	}
	if exists(good) {
		t.Error("published input not wiped")
	}
	if got := e.outputs(); len(got) != 1 || got[0] != it.Output {
		t.Errorf("target holds %v, want only %s", got, it.Output)
	}

	for _, c := range []struct {
		input, path string
		want        Outcome
		reason      string
	}{
		{"groep-5/zwemles/IMG_0002.jpg", swim, Rejected, `category "zwemles"`},
		{"groep-6/IMG_0003 gym.jpg", gym, Rejected, `category "gym"`},
		{"groep-6/half.jpg", trunc, Quarantined, "truncated"},
		{"groep-6/notes.jpg", text, Quarantined, "not a photo"},
		{"groep-6/empty.jpg", empty, Quarantined, "empty"},
		{"groep-6/link.jpg", link, Quarantined, "symbolic link"},
	} {
		it := one(t, items, c.input)
		if it.Outcome != c.want || !strings.Contains(it.Reason, c.reason) {
			t.Errorf("%s: %s %q, want %s with %q", c.input, it.Outcome, it.Reason, c.want, c.reason)
		}
		if it.Output != "" {
			t.Errorf("%s: has an output %q", c.input, it.Output)
		}
		if exists(c.path) {
			t.Errorf("%s: still in the inbox", c.input)
		}
		moved := filepath.Join(it.Aside, filepath.Base(c.path))
		if !exists(moved) {
			t.Errorf("%s: not moved aside to %s", c.input, moved)
		}
		reason, err := os.ReadFile(filepath.Join(it.Aside, "reason.txt"))
		if err != nil || !strings.Contains(string(reason), c.reason) || !strings.Contains(string(reason), c.input) {
			t.Errorf("%s: reason file %q, %v", c.input, reason, err)
		}
		if !strings.HasPrefix(it.Aside, filepath.Join(e.state, asideFolder(c.want))) {
			t.Errorf("%s: moved to %s", c.input, it.Aside)
		}
	}
	// Folders stay (teachers' sync apps expect them); temporary files are untouched.
	for _, p := range []string{"groep-5", "groep-5/zwemles", "groep-6/.syncthing.IMG_9.jpg.tmp", "groep-6/IMG_10.jpg.partial"} {
		if !exists(filepath.Join(e.inbox, p)) {
			t.Errorf("%s was removed", p)
		}
	}
}

// The published file is freshly encoded and passes the allow-list, whatever
// the input carried.
func TestPublishedOutputIsClean(t *testing.T) {
	e := newEnv(t)
	dirty := insertAfterSOI(photo(t, 5),
		segment(0xE1, append([]byte("Exif\x00\x00"), []byte("MM\x00\x2a\x00\x00\x00\x08GPS-SECRET-52.3676N")...)),
		segment(0xFE, []byte("Jan Jansen groep 5")))
	dirty = append(dirty, []byte("TRAILER-after-EOI")...)
	e.write("a.jpg", dirty)
	it := one(t, e.batch(), "a.jpg")
	if it.Outcome != Published {
		t.Fatalf("%+v", it)
	}
	out, err := os.ReadFile(filepath.Join(e.out, it.Output))
	if err != nil {
		t.Fatal(err)
	}
	if err := encode.VerifyClean(out); err != nil {
		t.Errorf("published output fails the allow-list: %v", err)
	}
	for _, s := range []string{"GPS-SECRET", "Jan Jansen", "TRAILER", "Exif"} {
		if bytes.Contains(out, []byte(s)) {
			t.Errorf("published output contains %q", s)
		}
	}
	parsed, err := inspect.ParseJPEG(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range parsed.Segments {
		if s.Marker >= inspect.APP1 && s.Marker <= inspect.APP15 || s.Marker == inspect.COM {
			t.Errorf("published output has a %s segment", s.Name())
		}
	}
}

func TestDuplicatePublishedOnce(t *testing.T) {
	e := newEnv(t)
	data := photo(t, 6)
	e.write("groep-5/a.jpg", data)
	first := one(t, e.batch(), "groep-5/a.jpg")
	if first.Outcome != Published || first.Duplicate {
		t.Fatalf("first: %+v", first)
	}
	// The same content again, under another name, in a later run.
	again := e.write("groep-7/kopie van a.jpg", data)
	second := one(t, e.batch(), "groep-7/kopie van a.jpg")
	if second.Outcome != Published || !second.Duplicate || second.Output != first.Output || !strings.Contains(second.Reason, "duplicate") {
		t.Errorf("second: %+v", second)
	}
	if got := e.outputs(); len(got) != 1 {
		t.Errorf("target holds %v, want one photo", got)
	}
	if exists(again) {
		t.Error("duplicate input not wiped")
	}
	// The same content twice in one run: one publication.
	e.write("x/1.jpg", photo(t, 7))
	e.write("x/2.jpg", photo(t, 7))
	items := e.batch()
	dups := 0
	for _, in := range []string{"x/1.jpg", "x/2.jpg"} {
		if it := one(t, items, in); it.Duplicate {
			dups++
		}
	}
	if dups != 1 || len(e.outputs()) != 2 {
		t.Errorf("same content twice in one run: %d duplicates, outputs %v", dups, e.outputs())
	}
}

func TestKeepInputsAndDryRun(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Wipe = false })
	in := e.write("a.jpg", photo(t, 8))
	bad := e.write("b.jpg", []byte("garbage"))
	items := e.batch()
	if it := one(t, items, "a.jpg"); it.Outcome != Published || !it.Kept {
		t.Errorf("%+v", it)
	}
	if it := one(t, items, "b.jpg"); it.Outcome != Quarantined || !it.Kept || it.Aside != "" {
		t.Errorf("%+v", it)
	}
	if !exists(in) || !exists(bad) {
		t.Error("--keep-inputs removed or moved an input")
	}

	d := newEnv(t, func(o *Options) { o.DryRun = true; o.Journal = nil })
	in = d.write("a.jpg", photo(t, 9))
	items = d.batch()
	if it := one(t, items, "a.jpg"); it.Outcome != Published || !strings.Contains(it.Reason, "dry run") {
		t.Errorf("%+v", it)
	}
	if !exists(in) || len(d.outputs()) != 0 || exists(filepath.Join(d.state, "journal")) {
		t.Error("dry run wrote, moved or recorded something")
	}
}

// flaky is a target that fails until told otherwise.
type flaky struct {
	target.Target
	mu        sync.Mutex
	err       error
	publishes int
}

func (f *flaky) Publish(ctx context.Context, name string, data []byte) (string, error) {
	f.mu.Lock()
	err := f.err
	f.mu.Unlock()
	if err != nil {
		return "", err
	}
	f.mu.Lock()
	f.publishes++
	f.mu.Unlock()
	return f.Target.Publish(ctx, name, data)
}

type permErr struct{ error }

func (permErr) Permanent() bool { return true }

func TestTargetDown(t *testing.T) {
	fl := &flaky{err: syscall.ECONNREFUSED}
	e := newEnv(t, func(o *Options) {})
	fl.Target = e.target
	o := e.p.opt
	o.Destinations = []*Destination{{Name: "website", Channel: "website", Target: fl}}
	o.Journal = e.j
	e.build(o)
	in := e.write("a.jpg", photo(t, 11))

	it := one(t, e.batch(), "a.jpg")
	if it.Outcome != Held || !it.Kept || !strings.Contains(it.Reason, "not available") {
		t.Errorf("target down: %+v", it)
	}
	if !exists(in) {
		t.Fatal("input wiped or moved while the target was down")
	}
	if len(e.outputs()) != 0 {
		t.Fatal("something reached the target")
	}
	// The target comes back: published once.
	fl.mu.Lock()
	fl.err = nil
	fl.mu.Unlock()
	it = one(t, e.batch(), "a.jpg")
	if it.Outcome != Published || fl.publishes != 1 || exists(in) {
		t.Errorf("after recovery: %+v, %d publishes", it, fl.publishes)
	}

	// A permanent refusal: held, moved aside, never wiped.
	fl.mu.Lock()
	fl.err = permErr{errors.New("403 forbidden")}
	fl.mu.Unlock()
	e.write("b.jpg", photo(t, 12))
	it = one(t, e.batch(), "b.jpg")
	if it.Outcome != Held || it.Aside == "" || !strings.Contains(it.Reason, "refused") {
		t.Errorf("permanent: %+v", it)
	}
	if !exists(filepath.Join(it.Aside, "b.jpg")) {
		t.Error("held input not kept in held/")
	}
}

// In the daemon, a file that does not decode yet but changed recently is
// still being written: it is left alone, not quarantined.
func TestYoungBrokenFileIsNotQuarantined(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.GiveUp = time.Hour })
	p := filepath.Join(e.inbox, "half.jpg")
	if err := os.WriteFile(p, photo(t, 13)[:700], 0o644); err != nil {
		t.Fatal(err)
	}
	items, err := e.p.Process(context.Background(), e.inbox, p)
	if KindOf(err) != KindNotReady || len(items) != 0 {
		t.Fatalf("items %v, err %v (kind %v): want not ready", items, err, KindOf(err))
	}
	if !exists(p) {
		t.Fatal("file moved")
	}
	if recs, _ := e.j.List(); len(recs) != 0 {
		t.Errorf("claim not rolled back: %+v", recs[0])
	}
}

func TestFolderOverlapRefusedByScanner(t *testing.T) {
	// state_dir inside the inbox is never scanned.
	e := newEnv(t)
	e.p.opt.StateDir = filepath.Join(e.inbox, "state")
	e.write("state/journal/x.jpg", photo(t, 14))
	e.write("a.jpg", photo(t, 15))
	items := e.batch()
	if len(items) != 1 {
		t.Errorf("items %v: the state folder was scanned", items)
	}
}

func redactDefaults() mask.Options { return mask.DefaultOptions() }

func insertAfterSOI(jpg []byte, segs ...[]byte) []byte {
	out := append([]byte{}, jpg[:2]...)
	for _, s := range segs {
		out = append(out, s...)
	}
	return append(out, jpg[2:]...)
}

func segment(marker byte, payload []byte) []byte {
	n := len(payload) + 2
	return append([]byte{0xFF, marker, byte(n >> 8), byte(n)}, payload...)
}

func TestTeacherNote(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.TeacherNotes = true })
	e.write("groep-5/zwemles/IMG_0002.JPG", photo(t, 30))
	it := one(t, e.batch(), "groep-5/zwemles/IMG_0002.JPG")
	if it.Outcome != Rejected {
		t.Fatalf("%+v", it)
	}
	note, err := os.ReadFile(filepath.Join(e.inbox, "groep-5", "zwemles", "IMG_0002.JPG"+NoteSuffix))
	if err != nil || !strings.Contains(string(note), "zwemles") || !strings.Contains(string(note), "nooit gepubliceerd") {
		t.Fatalf("note %q, %v", note, err)
	}
	// The note is never taken as a photo.
	if items := e.batch(); len(items) != 0 {
		t.Errorf("the note was processed: %v", items)
	}
}

// A batch that runs longer than the patience for files still being written
// must not give up on a file that only waited for another worker busy with
// the same content.
func TestLongBatchKeepsDuplicatesWaiting(t *testing.T) {
	slow := &slowAnalyzer{delay: 300 * time.Millisecond}
	e := newEnv(t, func(o *Options) {
		o.Faces = noFaces(2)
		o.Faces.Analyzer = slow
		o.GiveUp = 0
		o.Settle = 0
	})
	e.patience = 100 * time.Millisecond
	// Many copies of one content and a few others: the copies wait on the
	// claim while the first is processed.
	for i := 0; i < 6; i++ {
		e.write(fmt.Sprintf("same-%d.jpg", i), photo(t, 50))
	}
	items := e.batch()
	for in, its := range items {
		if its[0].Outcome != Published {
			t.Errorf("%s: %s (%s)", in, its[0].Outcome, its[0].Reason)
		}
	}
}

type slowAnalyzer struct{ delay time.Duration }

func (s *slowAnalyzer) Analyze(ctx context.Context, img *image.NRGBA, side int) (*detect.Analysis, error) {
	time.Sleep(s.delay)
	return &detect.Analysis{FloorPx: 20, PublishSide: side}, nil
}

func (s *slowAnalyzer) Describe(ctx context.Context, img *image.NRGBA, boxes []image.Rectangle) ([]detect.Face, error) {
	return make([]detect.Face, len(boxes)), nil
}
