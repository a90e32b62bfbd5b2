package pipeline

// Tests of issue 8: defects found when photoguard was attacked as an outsider
// would (links planted in the inbox, graceful stops, names in logs).

import (
	"bytes"
	"context"
	"errors"
	"image"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/photoguard/photoguard/detect"
	"github.com/photoguard/photoguard/pipeline/inbox"
	"github.com/photoguard/photoguard/pipeline/journal"
)

// A link planted under a note's name must not make photoguard write what it
// points to (symbolic links, dangling ones, and hard links: a regular file
// with a second name). Like a file photoguard did not write, such an entry
// is left as it is and no note is written; photoguard's own note is
// replaced.
func TestTeacherNoteNeverFollowsALink(t *testing.T) {
	for _, kind := range []string{"symlink", "hardlink", "foreign file", "own note", "dangling symlink"} {
		t.Run(kind, func(t *testing.T) {
			e := newEnv(t, func(o *Options) { o.TeacherNotes = true })
			secret := filepath.Join(e.state, "consent.key")
			if err := os.MkdirAll(e.state, 0o700); err != nil {
				t.Fatal(err)
			}
			const key = "c2VjcmV0IGtleSBvZiB0aGUgcmVnaXN0ZXIgMTIzNDU2Nzg=\n"
			if err := os.WriteFile(secret, []byte(key), 0o600); err != nil {
				t.Fatal(err)
			}
			note := filepath.Join(e.inbox, "b.jpg"+NoteSuffix)
			foreign := "a teacher's own file\n"
			switch kind {
			case "symlink":
				err := os.Symlink(secret, note)
				must(t, err)
			case "dangling symlink":
				must(t, os.Symlink(filepath.Join(e.state, "new-file"), note))
			case "hardlink":
				must(t, os.Link(secret, note))
			case "foreign file":
				must(t, os.WriteFile(note, []byte(foreign), 0o644))
			case "own note":
				e.write("b.jpg", []byte("broken"))
				e.batchNotes(t)
			}
			e.write("b.jpg", photo(t, 1)[:700]) // broken: quarantined
			e.batchNotes(t)
			if got, err := os.ReadFile(secret); err != nil || string(got) != key {
				t.Fatalf("the key was changed through the planted %s: %q, %v", kind, got, err)
			}
			if exists(filepath.Join(e.state, "new-file")) {
				t.Fatal("a file was created through a dangling link")
			}
			st, err := os.Lstat(note)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(note)
			switch kind {
			case "own note":
				if !st.Mode().IsRegular() || !strings.HasPrefix(string(got), noteMarker) {
					t.Errorf("photoguard's own note was not replaced: mode %s, %q", st.Mode(), got)
				}
			case "foreign file":
				if string(got) != foreign {
					t.Errorf("a file photoguard did not write was replaced: %q", got)
				}
			case "symlink", "dangling symlink":
				if st.Mode()&os.ModeSymlink == 0 {
					t.Errorf("the planted link was replaced: mode %s", st.Mode())
				}
			}
			entries, _ := os.ReadDir(e.inbox)
			for _, en := range entries {
				if strings.HasPrefix(en.Name(), ".") {
					t.Errorf("temporary file left in the inbox: %s", en.Name())
				}
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// batchNotes runs a batch that leaves teacher notes (the service's setting).
func (e *env) batchNotes(t *testing.T) {
	t.Helper()
	e.batch()
}

// Notes follow the folder's group, for a sync client running as another
// user of that group: readable by it when the folder is, never writable by
// it, never readable by others.
func TestTeacherNoteMode(t *testing.T) {
	for _, c := range []struct {
		dirMode os.FileMode
		want    os.FileMode
	}{
		{0o700, 0o600},
		{0o750, 0o640},
		{0o770, 0o640},
		{0o2775, 0o640},
	} {
		e := newEnv(t, func(o *Options) { o.TeacherNotes = true })
		dir := filepath.Join(e.inbox, "groep-5")
		must(t, os.MkdirAll(dir, 0o700))
		must(t, os.Chmod(dir, c.dirMode))
		e.write("groep-5/b.jpg", []byte("not a photo"))
		e.batch()
		st, err := os.Stat(filepath.Join(dir, "b.jpg"+NoteSuffix))
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Mode().Perm(); got != c.want {
			t.Errorf("folder %04o: note has mode %04o, want %04o", c.dirMode, got, c.want)
		}
	}
}

// A teacher's note says a short, fixed reason: no path of the state folder,
// no pupil id, no consent state.
func TestTeacherNoteSaysAFixedReason(t *testing.T) {
	det := classFaces()
	bram := unit(1)
	det.becomes = &bram // anna's shown face reads as bram in the output: held with anna's id
	e := faceEnv(t, detect.PolicyConsent, det, nil)
	o := e.p.opt
	o.TeacherNotes = true
	e.build(o)
	e.write("IMG_1.jpg", classPhoto(t))
	it := one(t, e.batch(), "IMG_1.jpg")
	if it.Outcome != Held || !strings.Contains(it.Reason, "anna") {
		t.Fatalf("want held with the pupil id in the coordinator's reason: %+v", it)
	}
	note, err := os.ReadFile(filepath.Join(e.inbox, "IMG_1.jpg"+NoteSuffix))
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"bram", "anna", e.state, "consent", "distance", "/state", "registry"} {
		if strings.Contains(string(note), bad) {
			t.Errorf("the note says %q:\n%s", bad, note)
		}
	}
}

// A graceful stop (SIGTERM: the context ends with the signal as its cause)
// while a photo is in hand rolls the claim back: the input stays where it
// is, nothing is held, no note is left, and the next run publishes it.
func TestStopRollsBackThePhotoInHand(t *testing.T) {
	for _, when := range []string{"before the first step", "while detecting faces"} {
		t.Run(when, func(t *testing.T) {
			block := &blockingAnalyzer{entered: make(chan struct{}, 1)}
			e := newEnv(t, func(o *Options) {
				o.TeacherNotes = true
				o.Faces.Analyzer = block
			})
			in := e.write("groep-5/IMG_0001.jpg", photo(t, 7))
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGUSR1)
			defer stop()
			if when == "before the first step" {
				must(t, syscall.Kill(os.Getpid(), syscall.SIGUSR1))
				<-ctx.Done()
			} else {
				go func() {
					<-block.entered
					_ = syscall.Kill(os.Getpid(), syscall.SIGUSR1)
				}()
			}
			items, err := e.p.Process(ctx, e.inbox, in)
			if KindOf(err) != KindRetry || len(items) != 0 {
				t.Fatalf("stopped %s: items %+v, err %v (kind %s), want a retry", when, items, err, KindOf(err))
			}
			if !exists(in) || exists(filepath.Join(e.state, "held")) || exists(in+NoteSuffix) {
				t.Fatalf("stopped %s: input there %v, held/ %v, note %v", when, exists(in),
					exists(filepath.Join(e.state, "held")), exists(in+NoteSuffix))
			}
			sum := sha(photo(t, 7))
			if _, err := e.j.Get(sum); !errors.Is(err, journal.ErrNotFound) {
				t.Errorf("the claim was not rolled back: %v", err)
			}
			block.pass = true
			items, err = e.p.Process(context.Background(), e.inbox, in)
			if err != nil || len(items) != 1 || items[0].Outcome != Published {
				t.Fatalf("the next run: %+v, %v", items, err)
			}
		})
	}
}

// Only the photo's own time limit holds it, and the reason says so truly.
func TestOverrunHoldsAndSaysWhen(t *testing.T) {
	block := &blockingAnalyzer{entered: make(chan struct{}, 1)}
	e := newEnv(t, func(o *Options) {
		o.PhotoTimeout = 50 * time.Millisecond
		o.Faces.Analyzer = block
	})
	in := e.write("IMG_0001.jpg", photo(t, 8))
	items, err := e.p.Process(context.Background(), e.inbox, in)
	if err != nil || len(items) != 1 {
		t.Fatalf("%+v, %v", items, err)
	}
	if it := items[0]; it.Outcome != Held || it.Reason != "processing took longer than 50ms (while detecting faces)" {
		t.Errorf("%s: %q", it.Outcome, it.Reason)
	}
}

// blockingAnalyzer waits for its context to end, unless pass is set.
type blockingAnalyzer struct {
	entered chan struct{}
	pass    bool
}

func (b *blockingAnalyzer) Analyze(ctx context.Context, img *image.NRGBA, side int) (*detect.Analysis, error) {
	if b.pass {
		return &detect.Analysis{FloorPx: 20, PublishSide: side}, nil
	}
	select {
	case b.entered <- struct{}{}:
	default:
	}
	<-ctx.Done()
	return nil, ctx.Err()
}

func (b *blockingAnalyzer) Describe(ctx context.Context, img *image.NRGBA, boxes []image.Rectangle) ([]detect.Face, error) {
	return make([]detect.Face, len(boxes)), nil
}

// Log lines above debug level name photos by a short hash, never by their
// path (which may hold a child's name), also when an error carries it:
// "cannot read the file: open …/Pietje Puk verjaardag.jpg: permission denied".
func TestLogsNameNoPath(t *testing.T) {
	var info, debug bytes.Buffer
	e := newEnv(t, func(o *Options) {
		o.Log = slog.New(levelSplit{info: slog.NewJSONHandler(&info, nil),
			debug: slog.NewJSONHandler(&debug, &slog.HandlerOptions{Level: slog.LevelDebug})})
	})
	in := e.write("groep-5/Pietje Puk verjaardag.jpg", photo(t, 9))
	denied := &fs.PathError{Op: "open", Path: in, Err: syscall.EACCES}
	// What the inbox warns about: a passing failure, an unreadable entry.
	entry := inbox.Entry{Root: e.inbox, Path: in, Rel: "groep-5/Pietje Puk verjaardag.jpg"}
	s := NewIntake(e.p, nil)
	s.Warn(entry, "photo kept in the inbox, will retry", Retry(denied, "cannot read the file"))
	s.Warn(entry, "cannot read folder entry", denied)
	moved := &os.LinkError{Op: "rename", Old: in, New: filepath.Join(e.state, "held", "x", filepath.Base(in)), Err: syscall.EXDEV}
	e.p.logOutcome(&Job{Path: in, Rel: "groep-5/Pietje Puk verjaardag.jpg"}, Held, Hold(errors.Join(moved, denied), "could not move"))
	if n := strings.Count(info.String(), "permission denied"); n != 3 {
		t.Fatalf("want three warnings with the error, got %d:\n%s", n, info.String())
	}
	if strings.Contains(info.String(), "Pietje") {
		t.Errorf("a log line above debug names the file:\n%s", info.String())
	}
	if !strings.Contains(debug.String(), "Pietje") {
		t.Errorf("the debug lines do not name the file:\n%s", debug.String())
	}
}

// levelSplit sends debug records to one handler and the rest to another.
type levelSplit struct{ info, debug slog.Handler }

func (l levelSplit) Enabled(context.Context, slog.Level) bool { return true }
func (l levelSplit) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < slog.LevelInfo {
		return l.debug.Handle(ctx, r)
	}
	return l.info.Handle(ctx, r)
}
func (l levelSplit) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l levelSplit) WithGroup(string) slog.Handler      { return l }

// WriteFile (explain --out, batch --report) replaces a regular file and
// refuses a link, never writing what it points to.
func TestWriteFileNeverThroughALink(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "consent.key")
	must(t, os.WriteFile(victim, []byte("key"), 0o600))
	for _, c := range []struct {
		name  string
		plant func(p string) error
		ok    bool
	}{
		{"new", func(string) error { return nil }, true},
		{"regular", func(p string) error { return os.WriteFile(p, []byte("old"), 0o644) }, true},
		{"symlink", func(p string) error { return os.Symlink(victim, p) }, false},
		{"dangling symlink", func(p string) error { return os.Symlink(filepath.Join(dir, "nowhere"), p) }, false},
		{"hardlink", func(p string) error { return os.Link(victim, p) }, false},
		{"folder", func(p string) error { return os.Mkdir(p, 0o700) }, false},
	} {
		p := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+".png")
		must(t, c.plant(p))
		err := WriteFile(p, []byte("annotated"), 0o600)
		if (err == nil) != c.ok {
			t.Errorf("%s: %v", c.name, err)
		}
		if got, _ := os.ReadFile(victim); string(got) != "key" {
			t.Fatalf("%s: written through: the key is now %q", c.name, got)
		}
		if exists(filepath.Join(dir, "nowhere")) {
			t.Fatalf("%s: a file was created through a dangling link", c.name)
		}
		if got, _ := os.ReadFile(p); c.ok && string(got) != "annotated" {
			t.Errorf("%s: %q", c.name, got)
		}
	}
}

// A dry run tells what a run would do with content the journal knows: a
// photo published already is a duplicate, not "would be published", also
// when another record is damaged; a photo whose own record is damaged is
// not "would be published" either (a run could not claim it).
func TestDryRunKnowsWhatWasPublished(t *testing.T) {
	e := newEnv(t)
	e.write("a.jpg", photo(t, 21))
	e.write("b.jpg", photo(t, 22))
	for in, its := range e.batch() {
		if its[0].Outcome != Published {
			t.Fatalf("%s: %+v", in, its[0])
		}
	}
	// One damaged record (a disk error, a hand edit).
	must(t, os.WriteFile(filepath.Join(e.state, "journal", sha(photo(t, 22))+".json"), []byte("{\"sha256\": \"trunc"), 0o600))
	d := newEnv(t, func(o *Options) { o.DryRun = true; o.Journal = journal.ReadOnly(e.state) })
	d.write("again/a.jpg", photo(t, 21))
	d.write("again/b.jpg", photo(t, 22))
	d.write("new.jpg", photo(t, 23))
	items := d.batch()
	if it := one(t, items, "again/a.jpg"); it.Outcome != Published || !it.Duplicate || !strings.Contains(it.Reason, "already published") {
		t.Errorf("a photo published already, in a dry run: %+v", it)
	}
	if it := one(t, items, "again/b.jpg"); it.Outcome == Published || !strings.Contains(it.Reason, "journal record") {
		t.Errorf("a photo with a damaged record, in a dry run: %+v", it)
	}
	if it := one(t, items, "new.jpg"); it.Outcome != Published || it.Duplicate || it.Reason != "dry run: would be published" {
		t.Errorf("a new photo, in a dry run: %+v", it)
	}
	if len(d.outputs()) != 0 || !exists(filepath.Join(d.inbox, "again", "a.jpg")) {
		t.Error("the dry run published or wiped")
	}
}
