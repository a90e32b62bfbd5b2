package pipeline

// Crash safety (DESIGN.md guarantee 6): "An input is wiped only after its
// outcome is durable ... A crash at any point, followed by a restart, ends
// each input in exactly one outcome."
//
// The tests re-execute this test binary as a child process (TestCrashChild)
// that runs a batch Scan over an inbox the way `photoguard batch` does
// (Recover first, then one Scan with Wait). The child dies by a real SIGKILL:
// no deferred function, Close or flush runs, and the other worker dies
// wherever it is. Then a second child restarts on the same folders and the
// parent checks them as the school would find them:
//
//   - right after the kill (checkDurable): no input is gone from the inbox
//     unless its outcome is durable (its output complete at every target it
//     goes to, or the input in rejected/, quarantine/ or held/ next to its
//     reason.txt), and no target shows a partial, unclean or duplicate photo;
//   - after the restart (checkFinal): every input in exactly one outcome
//     (conservation), nothing left in the inbox, each content at each target
//     at most once (exactly once where it must be published), every moved
//     input byte-identical to what was dropped in the inbox, and every
//     journal record done and agreeing with the targets.
//
// Where the child dies:
//
//   - TestCrashAtEveryStep: at every step boundary (Options.Hook), at its
//     first, a middle and its last call in the batch, so also mid-batch with
//     the other worker busy. The boundaries are discovered from a run without
//     crash and checked against the p.hook("...") calls and the step list of
//     the package, so a new step is covered (or reported as unreachable by
//     these inputs) without editing this file.
//   - TestCrashAtEveryStepTwoTargets: the same with two destinations
//     ("website" and "portal"), which adds a crash between the two
//     publications of a photo.
//   - TestCrashPublishedToOneTargetHeldForTheOther: at the one boundary
//     where a photo that goes out to one target and is held for the other
//     has been published but not moved to held/ yet.
//   - TestCrashAtSystemCalls: under strace (skipped without it), as chosen
//     system calls between the boundaries are entered: the rename that
//     moves an input aside (the symbolic link has no hook and no journal
//     record at all), the rename of the dir target's temporary file to its
//     name, the unlink that wipes an input, a journal write.
//   - TestCrashRandomKills: killed by the parent at random moments, ten
//     times on the same state (a new batch of inputs before each kill), to
//     hit points between hooks (inside the dir target's write and rename,
//     inside journal writes, while moving aside, inside recovery itself).
//
// The inputs take every path: published photos, a duplicate under two
// names, a flagged folder (rejected), a flagged copy of published content,
// a truncated JPEG and a text file (quarantined), a symbolic link
// (quarantined without being read), a photo held for every target, and one
// published to "website" but held for "portal".
//
// The whole file takes about 15–20 s under -race on two cores (fewer crash
// points with -short). By hand: PHOTOGUARD_SOAK_CRASHES=N makes
// TestCrashRandomKills kill N times, and the step tests crash at every call
// of every boundary and at every boundary of every photo (minutes);
// PHOTOGUARD_TEST_CRASH_SEED replays the delays of a logged random run
// (timing still varies); PHOTOGUARD_TEST_CRASH_DIR puts the fixtures on a
// given file system (default /dev/shm, see crashTempDir).
//
// What the website picker must ignore: a crash inside the dir target's write
// leaves a hidden temporary file `.photoguard-<random>.tmp` in the target
// folder (photoguard removes it at a start more than an hour later). A
// picker must skip every name that starts with "."; every other file at the
// target is a complete, clean photo.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/photoguard/photoguard/detect"
	"github.com/photoguard/photoguard/pipeline/inbox"
	"github.com/photoguard/photoguard/pipeline/internal/fsync"
	"github.com/photoguard/photoguard/pipeline/journal"
	"github.com/photoguard/photoguard/pipeline/target/dir"
	"github.com/photoguard/photoguard/redact/decode"
	"github.com/photoguard/photoguard/redact/encode"
)

// The child's environment. Only PHOTOGUARD_TEST_* names (and the reserved
// PHOTOGUARD_SOAK_*): the configuration treats other PHOTOGUARD_* variables
// as config keys.
const (
	envCrashRoot    = "PHOTOGUARD_TEST_CRASH_ROOT"    // folder holding inbox/, state/ and the targets
	envCrashTargets = "PHOTOGUARD_TEST_CRASH_TARGETS" // comma-separated destination names
	envCrashStep    = "PHOTOGUARD_TEST_CRASH_STEP"    // boundary to die at ("" = run to the end)
	envCrashNth     = "PHOTOGUARD_TEST_CRASH_NTH"     // die at its nth call in this run
	envCrashPhoto   = "PHOTOGUARD_TEST_CRASH_PHOTO"   // count only the calls for this short hash
	envCrashTrace   = "PHOTOGUARD_TEST_CRASH_TRACE"   // file to append "boundary<TAB>short hash" to
	envCrashSeed    = "PHOTOGUARD_TEST_CRASH_SEED"    // replay TestCrashRandomKills
	envCrashDir     = "PHOTOGUARD_TEST_CRASH_DIR"     // where fixtures go
	envSoakCrashes  = "PHOTOGUARD_SOAK_CRASHES"       // by hand: many more crashes
)

// TestCrashChild is the process that is killed. It does nothing unless run
// by the crash tests.
func TestCrashChild(t *testing.T) {
	root := os.Getenv(envCrashRoot)
	if root == "" {
		t.Skip("the child process of the crash tests; runs only under them")
	}
	step, photo := os.Getenv(envCrashStep), os.Getenv(envCrashPhoto)
	nth, _ := strconv.Atoi(os.Getenv(envCrashNth))
	var trace *os.File
	if p := os.Getenv(envCrashTrace); p != "" {
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		trace = f
	}
	var mu sync.Mutex
	calls := map[string]int{}
	hook := func(name string, j *Job) {
		mu.Lock()
		defer mu.Unlock()
		if trace != nil {
			fmt.Fprintf(trace, "%s\t%s\n", name, short(j.SHA256))
		}
		if photo != "" && short(j.SHA256) != photo {
			return
		}
		calls[name]++
		if name == step && calls[name] == nth {
			fmt.Printf("crash: SIGKILL at %s #%d (photo %s)\n", name, nth, short(j.SHA256))
			// kill -9 of ourselves: nothing deferred runs, nothing is
			// closed or flushed.
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			for {
				time.Sleep(time.Hour)
			}
		}
	}

	fmt.Println(crashReady) // TestCrashRandomKills times its kills from here
	var dests []*Destination
	for _, name := range strings.Split(os.Getenv(envCrashTargets), ",") {
		tg, err := dir.New(crashTargetDir(root, name))
		if err != nil {
			t.Fatal(err)
		}
		dests = append(dests, &Destination{Name: name, Channel: name, Target: tg, Approval: name == approvalTarget})
	}
	state := filepath.Join(root, "state")
	jr, err := journal.Open(state)
	if err != nil {
		t.Fatal(err)
	}
	defer jr.Close() // only reached by a run that is not killed
	p, err := New(Options{
		StateDir:     state,
		Destinations: dests,
		Categories:   detect.NewCategories([]string{"zwemles", "gym"}),
		Limits:       decode.DefaultLimits(),
		MaxSide:      512,
		Quality:      85,
		Wipe:         true,
		Workers:      2,
		Journal:      jr,
		Faces:        crashFaces(2),
		Approvals:    crashApprovals{filepath.Join(state, "approval-test")},
		Log:          slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Hook:         hook,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// As `photoguard batch` and `photoguard run` do at start.
	if n, err := p.Recover(ctx); err != nil {
		t.Errorf("recover: %v", err)
	} else if n > 0 {
		fmt.Printf("recovered %d records\n", n)
	}
	in := NewIntake(p, func(it Item) {
		b, _ := json.Marshal(it)
		fmt.Printf("item: %s\n", b)
	})
	_, err = inbox.Batch(ctx, in, []inbox.Root{{Dir: filepath.Join(root, "inbox")}}, batchOptions(p, 3, 0))
	if err != nil {
		t.Fatalf("scan: %v", err)
	}
}

// crashReady is the line a child prints once the test binary is up, before
// it touches anything.
const crashReady = "crash child: ready"

func crashTargetDir(root, name string) string { return filepath.Join(root, "out-"+name) }

// approvalTarget is the crash tests' target that needs approval: what
// would go there waits, its original kept by crashApprovals.
const approvalTarget = "social"

// crashApprovals keeps what waits as a file per content hash (the real
// store, pipeline/approval, seals it; its own crash test covers approve).
type crashApprovals struct{ dir string }

func (a crashApprovals) Park(w Parked) error {
	if err := os.MkdirAll(a.dir, 0o700); err != nil {
		return err
	}
	return fsync.WriteFile(a.dir, w.SHA256, w.Data, 0o600, nil, nil)
}

// parked reports whether the content of in waits, kept whole.
func (f *crashFixture) parked(in crashInput) bool {
	data, err := os.ReadFile(filepath.Join(f.state, "approval-test", in.sha()))
	return err == nil && bytes.Equal(data, in.data)
}

// waits reports whether in must end waiting for approval.
func (f *crashFixture) waits(in crashInput) bool {
	return in.want == Published && slices.Contains(f.targets, approvalTarget)
}

// The crash child's faces. Its detector goes by the image's size, and in the
// output check it describes the face as somebody else than it was:
//   - in a photo of heldSize, pupil p1, who may be shown everywhere: the
//     check of the output finds p2 where p1 was shown and holds it for every
//     target;
//   - in a photo of mixedSize, pupil p2, who may be shown on the parent
//     portal only: published redacted to "website" (the pixels of the
//     redaction pass the check), held for "portal" (the face shown there is
//     described as p1).
var (
	heldSize  = image.Pt(96, 80)
	mixedSize = image.Pt(88, 72)
)

type seeThroughAnalyzer struct{}

var crashFace = image.Rect(20, 20, 68, 68)

func (seeThroughAnalyzer) Analyze(ctx context.Context, img *image.NRGBA, publishSide int) (*detect.Analysis, error) {
	a := &detect.Analysis{FloorPx: 20, PublishSide: publishSide}
	switch img.Bounds().Size() {
	case heldSize:
		a.Faces = []detect.Face{{Rect: crashFace, Descriptor: unit(0), Detector: "fake"}}
	case mixedSize:
		a.Faces = []detect.Face{{Rect: crashFace, Descriptor: unit(1), Detector: "fake"}}
	}
	return a, nil
}

func (seeThroughAnalyzer) Describe(ctx context.Context, img *image.NRGBA, boxes []image.Rectangle) ([]detect.Face, error) {
	out := make([]detect.Face, len(boxes))
	for i, b := range boxes {
		out[i] = detect.Face{Rect: b, Descriptor: unit(0), Detector: "fake"}
		if img.Bounds().Size() == heldSize {
			out[i].Descriptor = unit(1)
		}
	}
	return out, nil
}

func crashFaces(workers int) *FaceOptions {
	fo := noFaces(workers)
	fo.Analyzer = seeThroughAnalyzer{}
	reg := &fakeConsent{
		people: []detect.Person{
			{ID: "p1", Descriptors: []detect.Descriptor{unit(0)}},
			{ID: "p2", Descriptors: []detect.Descriptor{unit(1)}},
		},
		consent: map[string]map[string]bool{"p1": {"website": true, "portal": true, approvalTarget: true}, "p2": {"portal": true}},
	}
	fo.Consent = func() Consent { return reg }
	return fo
}

// crashInput is one entry dropped in the inbox and the outcome it must end
// in when nothing crashes.
type crashInput struct {
	rel  string
	data []byte // the file's bytes; nil for the link
	link string // the symbolic link's target
	want Outcome
	// heldFor: when a target of this name is configured, the photo is held
	// for it (moved to held/) and published to the others.
	heldFor string
}

func (in crashInput) sha() string {
	sum := sha256.Sum256(in.data)
	return hex.EncodeToString(sum[:])
}

// crashFixture is an inbox with an input for every path through the
// pipeline, a state folder and one folder per target.
type crashFixture struct {
	root, inbox, state string
	targets            []string
	inputs             []crashInput
	outside            string // what the link points to, outside the inbox
	// clean remembers target files already checked (path, size, mtime):
	// a published file is never rewritten in place.
	clean map[string]bool
}

var crashData struct {
	once    sync.Once
	outside []byte
	batch0  map[string][]byte
}

func newCrashFixture(t *testing.T, targets ...string) *crashFixture {
	t.Helper()
	crashData.once.Do(func() {
		crashData.outside = tinyPhoto(t, 99)
		crashData.batch0 = crashContent(t, 0)
	})
	root := crashTempDir(t)
	f := &crashFixture{root: root, inbox: filepath.Join(root, "inbox"), state: filepath.Join(root, "state"),
		targets: targets, clean: map[string]bool{}}
	f.outside = filepath.Join(root, "elsewhere", "IMG_link_target.jpg")
	if err := os.MkdirAll(filepath.Dir(f.outside), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.outside, crashData.outside, 0o644); err != nil {
		t.Fatal(err)
	}
	f.addBatch(t, 0)
	return f
}

// crashContent makes the contents of batch k, different from every other
// batch's.
func crashContent(t *testing.T, k int) map[string][]byte {
	s := 100 * k
	return map[string][]byte{
		"big":   photo(t, s+1),
		"bad":   photo(t, s+6)[:900],
		"held":  photoSized(t, s+8, heldSize.X, heldSize.Y),
		"mixed": photoSized(t, s+9, mixedSize.X, mixedSize.Y),
		"twice": tinyPhoto(t, s+7),
		"text":  []byte(fmt.Sprintf("boodschappen %d: melk, brood\n", k)),
		"2":     tinyPhoto(t, s+2),
		"3":     tinyPhoto(t, s+3),
		"4":     tinyPhoto(t, s+4),
		"5":     tinyPhoto(t, s+5),
	}
}

// addBatch drops batch k of inputs in the inbox (batch 0 at the top, the
// others each in a folder of their own).
func (f *crashFixture) addBatch(t *testing.T, k int) {
	t.Helper()
	c, dirPrefix := crashData.batch0, ""
	if k > 0 {
		c, dirPrefix = crashContent(t, k), fmt.Sprintf("ronde-%d/", k)
	}
	batch := []crashInput{
		{rel: "groep-5/IMG_0001.jpg", data: c["big"], want: Published},
		{rel: "groep-5/IMG_0002.jpg", data: c["2"], want: Published},
		{rel: "groep-6/Emma de Vries.jpg", data: c["3"], want: Published},
		{rel: "groep-6/dag-2/IMG_0004.jpg", data: c["4"], want: Published},
		{rel: "groep-5/zwemles/IMG_0005.jpg", data: c["5"], want: Rejected},
		// A flagged copy of content that is also published: rejected, not
		// reported as a duplicate, whichever copy is taken first.
		{rel: "groep-7/gym/IMG_0002 kopie.jpg", data: c["2"], want: Rejected},
		{rel: "groep-6/half.jpg", data: c["bad"], want: Quarantined},
		{rel: "groep-6/notes.jpg", data: c["text"], want: Quarantined},
		// The same content under two names: published once, both wiped.
		{rel: "groep-7/IMG_0007.jpg", data: c["twice"], want: Published},
		{rel: "groep-8/kopie van IMG_0007.jpg", data: c["twice"], want: Published},
		{rel: "groep-8/IMG_0008 p1.jpg", data: c["held"], want: Held},
		{rel: "groep-8/IMG_0009 p2.jpg", data: c["mixed"], want: Published, heldFor: "portal"},
		{rel: "groep-6/link.jpg", link: f.outside, want: Quarantined},
	}
	old := time.Now().Add(-time.Hour)
	for _, in := range batch {
		in.rel = dirPrefix + in.rel
		p := filepath.Join(f.inbox, filepath.FromSlash(in.rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if in.link != "" {
			if err := os.Symlink(in.link, p); err != nil {
				t.Fatal(err)
			}
		} else {
			if err := os.WriteFile(p, in.data, 0o644); err != nil {
				t.Fatal(err)
			}
			_ = os.Chtimes(p, old, old)
		}
		f.inputs = append(f.inputs, in)
	}
}

// aside is the folder outcome the input must end in ("" when it is
// published everywhere).
func (f *crashFixture) aside(in crashInput) Outcome {
	if in.heldFor != "" && slices.Contains(f.targets, in.heldFor) {
		return Held
	}
	if in.want == Published {
		return ""
	}
	return in.want
}

// publishedAt lists the targets the input's content must reach.
func (f *crashFixture) publishedAt(in crashInput) []string {
	if in.want != Published {
		return nil
	}
	var at []string
	for _, name := range f.targets {
		if name != in.heldFor && name != approvalTarget {
			at = append(at, name)
		}
	}
	return at
}

// crashTempDir is the fixture's folder: on tmpfs (/dev/shm) when there is
// one, or under PHOTOGUARD_TEST_CRASH_DIR. A SIGKILL loses nothing the
// kernel was given, so fsync plays no part in what these tests check (power
// loss would), and on tmpfs it costs nothing; on a disk the hundreds of
// fsyncs of every run make the suite several times slower.
func crashTempDir(t *testing.T) string {
	t.Helper()
	base := os.Getenv(envCrashDir)
	if base == "" {
		if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
			base = "/dev/shm"
		}
	}
	if base == "" {
		return t.TempDir()
	}
	d, err := os.MkdirTemp(base, "photoguard-crash-")
	if err != nil {
		return t.TempDir()
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// crashPoint is where a child dies: the nth call of a boundary, counting
// only the calls for one photo when photo is set. The zero value runs to
// the end.
type crashPoint struct {
	step  string
	nth   int
	photo string // short hash
	// Or, under strace: the first call of a system call of the set sys
	// (strace syntax) on the file path, named label.
	sys, path, label string
}

func (c crashPoint) String() string {
	if c.sys != "" {
		return c.label
	}
	if c.photo != "" {
		return fmt.Sprintf("%s@%s#%d", c.step, c.photo, c.nth)
	}
	return fmt.Sprintf("%s#%d", c.step, c.nth)
}

// childOutput collects a child's output and tells when it is ready.
type childOutput struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	ready chan struct{}
}

func (o *childOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.buf.Write(p)
	if o.ready != nil && bytes.Contains(o.buf.Bytes(), []byte(crashReady)) {
		close(o.ready)
		o.ready = nil
	}
	return len(p), nil
}

func (o *childOutput) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// child makes the command of a crash child on the fixture.
func (f *crashFixture) child(at crashPoint, trace string) (*exec.Cmd, *childOutput) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1", "-test.v", "-test.timeout=3m")
	if at.sys != "" {
		// strace kills the child with SIGKILL as the system call is
		// entered, before it takes effect. Injections are counted per
		// thread, so only the first call is a point that does not depend
		// on which thread the runtime used.
		args := []string{"-f", "-qq", "-o", "/dev/null", "-P", at.path, "-e", "trace=" + at.sys,
			"-e", "inject=" + at.sys + ":signal=KILL:when=1", "--"}
		cmd = exec.Command("strace", append(args, cmd.Args...)...)
	}
	cmd.Env = append(os.Environ(),
		envCrashRoot+"="+f.root,
		envCrashTargets+"="+strings.Join(f.targets, ","),
		envCrashStep+"="+at.step,
		envCrashNth+"="+strconv.Itoa(at.nth),
		envCrashPhoto+"="+at.photo,
		envCrashTrace+"="+trace,
		// Under -race a process sleeps 1 s at exit by default.
		"GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"),
	)
	out := &childOutput{ready: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = out, out
	return cmd, out
}

// startChild starts a child and waits until it is ready.
func (f *crashFixture) startChild(t *testing.T) (*exec.Cmd, *childOutput) {
	t.Helper()
	cmd, out := f.child(crashPoint{}, "")
	ready := out.ready
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ready:
	case <-time.After(time.Minute):
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("child not ready after a minute:\n%s", out)
	}
	return cmd, out
}

// run runs a child to its end or its crash and reports whether it was
// killed. Any other end (a failed test, a race report) fails t.
func (f *crashFixture) run(t *testing.T, at crashPoint, trace string) (killed bool) {
	t.Helper()
	cmd, out := f.child(at, trace)
	killed, err := childEnd(cmd.Run())
	if err != nil {
		t.Fatalf("child (crash at %v) failed: %v\n%s", at, err, out)
	}
	return killed
}

// childEnd tells a child killed by SIGKILL from one that ended by itself.
func childEnd(err error) (killed bool, _ error) {
	if err == nil {
		return false, nil
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			return true, nil
		}
	}
	return false, err
}

// restart is the run after the crash: it must end by itself.
func (f *crashFixture) restart(t *testing.T) {
	t.Helper()
	if f.run(t, crashPoint{}, "") {
		t.Fatal("restart was killed")
	}
}

// crashRoot starts the path of a crashPoint that is in the fixture.
const crashRoot = "$ROOT"

// crashAt is one whole scenario: crash, check, restart, check.
func (f *crashFixture) crashAt(t *testing.T, at crashPoint) {
	t.Helper()
	if rest, ok := strings.CutPrefix(at.path, crashRoot); ok {
		at.path = f.root + rest
	}
	switch killed := f.run(t, at, ""); {
	case !killed && at.sys != "":
		t.Errorf("%v: strace did not kill the child; is the path right?", at)
	case !killed:
		// Workers race: a boundary may be called fewer times than in the
		// discovery run.
		t.Logf("%v: called fewer times in this run; it ended without a crash", at)
	}
	f.checkDurable(t, "after the crash")
	f.restart(t)
	f.checkFinal(t, "after the restart")
}

var (
	outputNameRE = regexp.MustCompile(`^\d{8}-([0-9a-f]{12})\.jpg$`)
	staleTempRE  = regexp.MustCompile(`^\.photoguard-[0-9a-f]+\.tmp$`)
)

// targetView lists a target folder as the website's picker sees it and
// reports every file there that is not a complete, clean photo, and every
// content shown twice. It returns the names by short content hash and the
// number of stale hidden temporary files.
func (f *crashFixture) targetView(t *testing.T, when, name string) (bySHA map[string][]string, stale int) {
	t.Helper()
	d := crashTargetDir(f.root, name)
	bySHA = map[string][]string{}
	entries, err := os.ReadDir(d)
	if errors.Is(err, os.ErrNotExist) {
		return bySHA, 0 // killed before the target was opened
	}
	if err != nil {
		t.Fatalf("%s: target %s: %v", when, name, err)
	}
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, ".") {
			if staleTempRE.MatchString(n) && e.Type().IsRegular() {
				stale++ // a write cut short; hidden, so pickers skip it
				continue
			}
			t.Errorf("%s: target %s: unexpected hidden entry %s", when, name, n)
			continue
		}
		m := outputNameRE.FindStringSubmatch(n)
		if m == nil || !e.Type().IsRegular() {
			t.Errorf("%s: target %s: %s (%s) is not a published photo", when, name, n, e.Type())
			continue
		}
		bySHA[m[1]] = append(bySHA[m[1]], n)
		info, err := e.Info()
		if err != nil {
			t.Errorf("%s: target %s: %v", when, name, err)
			continue
		}
		key := fmt.Sprintf("%s/%s\x00%d\x00%d", name, n, info.Size(), info.ModTime().UnixNano())
		if f.clean[key] {
			continue
		}
		data, err := os.ReadFile(filepath.Join(d, n))
		if err != nil {
			t.Errorf("%s: target %s: %v", when, name, err)
			continue
		}
		if err := encode.VerifyClean(data); err != nil {
			t.Errorf("%s: target %s: %s is partial or not clean: %v", when, name, n, err)
			continue
		}
		if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
			t.Errorf("%s: target %s: %s does not decode completely: %v", when, name, n, err)
			continue
		}
		f.clean[key] = true
	}
	for sha, names := range bySHA {
		if len(names) > 1 {
			t.Errorf("%s: target %s: content %s published %d times: %v", when, name, sha, len(names), names)
		}
	}
	return bySHA, stale
}

// asideEntry is one input found in state/<rejected|quarantine|held>/<dir>/.
type asideEntry struct {
	folder, dir, base string
	data              []byte
	link              string // set for a symbolic link
	reason            string // reason.txt of its folder; "" if missing
	used              bool
}

// matches: the entry is the input, moved with a reason file that names it.
func (e *asideEntry) matches(in crashInput) bool {
	if path.Base(in.rel) != e.base || !strings.Contains(e.reason, "photo:   "+in.rel+"\n") {
		return false
	}
	if in.link != "" {
		return e.link == in.link
	}
	return e.link == "" && bytes.Equal(e.data, in.data)
}

// asideView lists what was moved aside, and the folders that hold no input
// (a reason without its photo, or nothing at all).
func (f *crashFixture) asideView(t *testing.T, when string) (entries []*asideEntry, empty []string) {
	t.Helper()
	for _, folder := range []string{"rejected", "quarantine", "held"} {
		dirs, err := os.ReadDir(filepath.Join(f.state, folder))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		for _, d := range dirs {
			dp := filepath.Join(f.state, folder, d.Name())
			if !d.IsDir() {
				t.Errorf("%s: %s is not a folder", when, dp)
				continue
			}
			files, err := os.ReadDir(dp)
			if err != nil {
				t.Fatalf("%s: %v", when, err)
			}
			reason, _ := os.ReadFile(filepath.Join(dp, "reason.txt"))
			n := 0
			for _, fe := range files {
				if fe.Name() == "reason.txt" {
					continue
				}
				n++
				e := &asideEntry{folder: folder, dir: dp, base: fe.Name(), reason: string(reason)}
				fp := filepath.Join(dp, fe.Name())
				if fe.Type()&os.ModeSymlink != 0 {
					e.link, _ = os.Readlink(fp)
				} else if e.data, err = os.ReadFile(fp); err != nil {
					t.Errorf("%s: %v", when, err)
				}
				entries = append(entries, e)
			}
			if n == 0 {
				rel, _ := filepath.Rel(f.state, dp)
				empty = append(empty, fmt.Sprintf("%s (with reason.txt: %v)", rel, len(reason) > 0))
			}
		}
	}
	return entries, empty
}

func (f *crashFixture) inInbox(in crashInput) bool {
	return exists(filepath.Join(f.inbox, filepath.FromSlash(in.rel)))
}

// checkDurable is the guarantee at the moment of the crash, before any
// recovery: an input is gone from the inbox only when its outcome is
// durable.
func (f *crashFixture) checkDurable(t *testing.T, when string) {
	t.Helper()
	views := map[string]map[string][]string{}
	for _, name := range f.targets {
		views[name], _ = f.targetView(t, when, name)
	}
	aside, _ := f.asideView(t, when)
	for _, in := range f.inputs {
		if f.inInbox(in) {
			continue
		}
		durable := false
		if f.aside(in) == "" {
			durable = !f.waits(in) || f.parked(in)
			for _, name := range f.publishedAt(in) {
				if len(views[name][in.sha()[:12]]) == 0 {
					durable = false
				}
			}
		}
		for _, e := range aside {
			if e.matches(in) {
				durable = true
			}
		}
		if !durable {
			t.Errorf("%s: %s is gone from the inbox without a durable outcome (not at every target, not moved aside with a reason)", when, in.rel)
		}
	}
	if t.Failed() {
		f.dump(t)
	}
}

// checkFinal is the guarantee after the restart: every input in exactly one
// outcome, every content at each target once, nothing lost.
func (f *crashFixture) checkFinal(t *testing.T, when string) {
	t.Helper()
	must := map[string]map[string]bool{} // target -> short hashes that must be there
	for _, name := range f.targets {
		must[name] = map[string]bool{}
	}
	for _, in := range f.inputs {
		for _, name := range f.publishedAt(in) {
			must[name][in.sha()[:12]] = true
		}
	}
	views := map[string]map[string][]string{}
	for _, name := range f.targets {
		var stale int
		views[name], stale = f.targetView(t, when, name)
		if stale > 0 {
			t.Logf("%s: target %s: %d stale hidden temporary file(s) (pickers skip hidden files)", when, name, stale)
		}
		for sha := range must[name] {
			if n := len(views[name][sha]); n != 1 {
				t.Errorf("%s: target %s: content %s is there %d times, want once", when, name, sha, n)
			}
		}
		for sha, names := range views[name] {
			if !must[name][sha] {
				t.Errorf("%s: target %s: %v is content that must not be published there", when, name, names)
			}
		}
	}

	_ = filepath.WalkDir(f.inbox, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(f.inbox, p)
			t.Errorf("%s: %s is left in the inbox", when, rel)
		}
		return nil
	})
	aside, empty := f.asideView(t, when)
	for _, e := range empty {
		t.Errorf("%s: aside folder %s holds no input: a reason without its photo", when, e)
	}
	for _, in := range f.inputs {
		var found []*asideEntry
		for _, e := range aside {
			if !e.used && e.matches(in) {
				e.used = true
				found = append(found, e)
			}
		}
		want := f.aside(in)
		switch {
		case want == "" && len(found) > 0:
			t.Errorf("%s: %s was published and also moved to %s", when, in.rel, found[0].dir)
		case want != "" && len(found) != 1:
			t.Errorf("%s: %s must be %s: found %d times in state/%s/, want once (input lost?)", when, in.rel, want, len(found), asideFolder(want))
		case want != "":
			e := found[0]
			if e.folder != asideFolder(want) {
				t.Errorf("%s: %s moved to %s/, want %s/", when, in.rel, e.folder, asideFolder(want))
			}
			if !strings.Contains(e.reason, "outcome: "+string(want)) {
				t.Errorf("%s: %s: reason file does not give its outcome:\n%s", when, in.rel, e.reason)
			}
		}
	}
	for _, e := range aside {
		if !e.used {
			t.Errorf("%s: %s/%s belongs to no input (a second copy? a reason file naming another photo?)", when, e.dir, e.base)
		}
	}
	for _, in := range f.inputs {
		if f.waits(in) && !f.parked(in) {
			t.Errorf("%s: %s waits for approval, but its original is not kept", when, in.rel)
		}
	}
	// The link was moved, never followed: what it points to is untouched.
	if data, err := os.ReadFile(f.outside); err != nil || !bytes.Equal(data, crashData.outside) {
		t.Errorf("%s: the link's target was touched: %v", when, err)
	}
	f.checkJournal(t, when, views)
	if t.Failed() {
		f.dump(t)
	}
}

// checkJournal: every record is done and agrees with the targets.
func (f *crashFixture) checkJournal(t *testing.T, when string, views map[string]map[string][]string) {
	t.Helper()
	j, err := journal.Open(f.state)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := j.List()
	j.Close()
	if err != nil {
		t.Errorf("%s: journal: %v", when, err)
	}
	// What each content's record must say: published when one of its
	// inputs was published everywhere, else the outcome of its input.
	type want struct {
		outcome Outcome
		at      map[string]bool
		// or: content that waits is not a duplicate for a flagged copy
		// of it (only published content is), so the copy taken last
		// gives the record its outcome.
		or Outcome
	}
	wants := map[string]*want{}
	for _, in := range f.inputs {
		if in.data == nil {
			continue // not hashed, no record
		}
		w := wants[in.sha()]
		if w == nil {
			w = &want{at: map[string]bool{}}
			wants[in.sha()] = w
		}
		out := f.aside(in)
		if out == "" {
			out = Published
			if f.waits(in) {
				out = Waiting
			}
		}
		switch {
		case w.outcome == Waiting:
			w.or = out
		case out == Waiting && w.outcome != "":
			w.or, w.outcome = w.outcome, out
		case w.outcome != Published:
			w.outcome = out
		}
		for _, name := range f.publishedAt(in) {
			w.at[name] = true
		}
	}
	for _, r := range recs {
		w, ok := wants[r.SHA256]
		if !ok {
			t.Errorf("%s: journal holds a record of content that is no input: %+v", when, r)
			continue
		}
		delete(wants, r.SHA256)
		if r.State != journal.Done || r.Outcome != string(w.outcome) && (w.or == "" || r.Outcome != string(w.or)) {
			t.Errorf("%s: journal: %s is %s/%s, want done/%s", when, short(r.SHA256), r.State, r.Outcome, w.outcome)
		}
		for name := range w.at {
			d, at := r.Deliveries[name], views[name][r.SHA256[:12]]
			if d == nil || !d.Published || len(at) != 1 || at[0] != d.Name {
				t.Errorf("%s: journal: %s delivery to %s is %+v; the target holds %v", when, short(r.SHA256), name, d, at)
			}
		}
	}
	for sha := range wants {
		t.Errorf("%s: journal has no record of %s", when, short(sha))
	}
}

// dump logs the fixture's folders and journal (on failure).
func (f *crashFixture) dump(t *testing.T) {
	t.Helper()
	var b strings.Builder
	_ = filepath.WalkDir(f.root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, ".lock") {
			return nil
		}
		rel, _ := filepath.Rel(f.root, p)
		info, _ := d.Info()
		fmt.Fprintf(&b, "  %s (%d bytes)\n", rel, info.Size())
		if strings.HasSuffix(p, ".json") {
			data, _ := os.ReadFile(p)
			fmt.Fprintf(&b, "    %s\n", bytes.ReplaceAll(data, []byte("\n"), []byte("\n    ")))
		}
		return nil
	})
	t.Logf("folders:\n%s", b.String())
}

// discovery is what a run without crash called: the boundaries in
// first-call order, how often each was called, and for which photos.
type discovery struct {
	names  []string
	count  map[string]int
	photos map[string][]string // boundary -> short hashes, first-call order
}

// discoverSteps runs the child without a crash on a fresh fixture, checks
// that run, and returns what it called.
func discoverSteps(t *testing.T, targets ...string) *discovery {
	t.Helper()
	f := newCrashFixture(t, targets...)
	trace := filepath.Join(t.TempDir(), "trace")
	if f.run(t, crashPoint{}, trace) {
		t.Fatal("clean run was killed")
	}
	f.checkFinal(t, "run without crash")
	if t.Failed() {
		t.FailNow()
	}
	fh, err := os.Open(trace)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	d := &discovery{count: map[string]int{}, photos: map[string][]string{}}
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		name, photo, _ := strings.Cut(sc.Text(), "\t")
		if d.count[name] == 0 {
			d.names = append(d.names, name)
		}
		d.count[name]++
		if !slices.Contains(d.photos[name], photo) {
			d.photos[name] = append(d.photos[name], photo)
		}
	}
	// Every boundary the code has must be reached by these inputs, or the
	// crash tests silently skip it.
	for _, want := range sourceHooks(t) {
		if want == "parked" && !slices.Contains(targets, approvalTarget) {
			continue // TestCrashAtEveryStepApproval reaches it
		}
		if d.count[want] == 0 {
			t.Errorf("step boundary %q is never reached by the crash inputs; add an input that takes that path", want)
		}
	}
	parts := make([]string, len(d.names))
	for i, n := range d.names {
		parts[i] = fmt.Sprintf("%s×%d", n, d.count[n])
	}
	t.Logf("step boundaries (calls in a run without crash): %s", strings.Join(parts, " "))
	return d
}

// sourceHooks lists the step boundaries the package has: the named p.hook
// calls in its source and the step list.
func sourceHooks(t *testing.T) []string {
	t.Helper()
	seen := map[string]bool{}
	files, _ := filepath.Glob("*.go")
	re := regexp.MustCompile(`\.hook\("([^"]+)"`)
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllSubmatch(src, -1) {
			seen[string(m[1])] = true
		}
	}
	p, err := New(Options{Destinations: []*Destination{{Name: "x"}}, DryRun: true, Faces: crashFaces(1)})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range p.Steps() {
		seen[s] = true
	}
	if len(seen) < 5 {
		t.Fatalf("found only %d step boundaries in the source: %v", len(seen), seen)
	}
	var names []string
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// points picks where to crash: for every boundary its first call (nothing
// of its kind done yet), one in the middle and its last call (mid-batch,
// the other worker busy); first and last under -short. Under
// PHOTOGUARD_SOAK_CRASHES: every call, and every boundary of every photo.
func (d *discovery) points() []crashPoint {
	var pts []crashPoint
	for _, name := range d.names {
		n := d.count[name]
		picks := []int{1}
		switch {
		case soakCrashes() > 0:
			picks = nil
			for i := 1; i <= n; i++ {
				picks = append(picks, i)
			}
		case !testing.Short() && n >= 3:
			picks = append(picks, (n+1)/2, n)
		case n >= 2:
			picks = append(picks, n)
		}
		for _, i := range picks {
			pts = append(pts, crashPoint{step: name, nth: i})
		}
		if soakCrashes() > 0 {
			for _, photo := range d.photos[name] {
				if photo != "unhashed" {
					pts = append(pts, crashPoint{step: name, nth: 1, photo: photo})
				}
			}
		}
	}
	return pts
}

func soakCrashes() int {
	n, _ := strconv.Atoi(os.Getenv(envSoakCrashes))
	return n
}

func TestCrashAtEveryStep(t *testing.T) {
	crashAtEveryStep(t, "website")
}

// With two targets, a crash between the website's and the portal's
// publication leaves one delivery done and one not: the restart publishes
// the missing one, never the done one again.
func TestCrashAtEveryStepTwoTargets(t *testing.T) {
	crashAtEveryStep(t, "website", "portal")
}

// With a target that needs approval, every photo that may go there waits:
// a crash at any point leaves its input in the inbox until its original is
// kept, and the restart never publishes it there.
func TestCrashAtEveryStepApproval(t *testing.T) {
	crashAtEveryStep(t, "website", approvalTarget)
}

func crashAtEveryStep(t *testing.T, targets ...string) {
	crashAtPoints(t, discoverSteps(t, targets...).points(), targets...)
}

// crashAtPoints runs one subtest per crash point, each on a fresh fixture.
func crashAtPoints(t *testing.T, points []crashPoint, targets ...string) {
	// The children mostly wait (on the disk, on each other): run more of
	// them at once than -test.parallel (GOMAXPROCS) would.
	sem := make(chan struct{}, max(4, 2*runtime.GOMAXPROCS(0)))
	var wg sync.WaitGroup
	for _, at := range points {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			t.Run(at.String(), func(t *testing.T) {
				newCrashFixture(t, targets...).crashAt(t, at)
			})
		}()
	}
	wg.Wait()
}

// A photo that may be shown on the website but must be held for the portal
// (pupil p2 has consent for the website only, and the face check of the
// portal's redacted output fails) is published to the website, then moved
// to held/. A crash after the website's publication and before the move
// must still end with the input in held/ (or processed again), not wiped as
// if it had been published everywhere.
func TestCrashPublishedToOneTargetHeldForTheOther(t *testing.T) {
	f := newCrashFixture(t, "website", "portal")
	var mixed crashInput
	for _, in := range f.inputs {
		if in.heldFor != "" {
			mixed = in
		}
	}
	f.crashAt(t, crashPoint{step: "publish", nth: 1, photo: short(mixed.sha())})
}

// Kills at chosen system calls between the step boundaries, with strace
// (skipped where it is not installed or may not trace): as a move aside,
// a publication, a wipe or a journal write is about to take effect.
func TestCrashAtSystemCalls(t *testing.T) {
	if out, err := exec.Command("strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=/^rename", "true").CombinedOutput(); err != nil {
		t.Skipf("needs strace that may trace: %v %s", err, out)
	}
	// The fixtures differ only in their root, for which crashRoot stands.
	root := crashRoot
	byRel := map[string]crashInput{}
	for _, in := range newCrashFixture(t, "website").inputs {
		byRel[in.rel] = in
	}
	inbox := func(rel string) string { return root + "/inbox/" + rel }
	good := byRel["groep-5/IMG_0001.jpg"]
	points := []crashPoint{
		// The link is the one input moved aside with neither a hook nor a
		// journal record (it is not read, so it has no hash).
		{label: "moving-the-link-aside", sys: "/^rename", path: inbox("groep-6/link.jpg")},
		{label: "moving-a-broken-file-aside", sys: "/^rename", path: inbox("groep-6/half.jpg")},
		{label: "moving-a-flagged-copy-aside", sys: "/^rename", path: inbox("groep-7/gym/IMG_0002 kopie.jpg")},
		// The dir target's temporary file is written and synced, not
		// renamed to its name yet.
		{label: "renaming-into-the-target", sys: "/^rename", path: crashTargetDir(root, "website") + "/" + OutputName(time.Now(), good.sha())},
		{label: "wiping-an-input", sys: "/^unlink", path: inbox(good.rel)},
		{label: "first-journal-write", sys: "/^rename", path: root + "/state/journal/" + good.sha() + ".json"},
	}
	crashAtPoints(t, points, "website")
}

// Kills at random moments rather than at step boundaries: inside a target's
// write or rename, inside a journal write, while moving aside, inside
// recovery. Several kills land on the same state before a restart that is
// let finish; before each kill a new batch of inputs is dropped in the inbox,
// so that every run has work to be killed in.
func TestCrashRandomKills(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s, err := strconv.ParseUint(os.Getenv(envCrashSeed), 10, 64); err == nil {
		seed = s
	}
	kills := 10
	if testing.Short() {
		kills = 5
	}
	if n := soakCrashes(); n > 0 {
		kills = n
	}
	const perRound = 10
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	t.Logf("seed %d (replay with %s=%d), %d kills", seed, envCrashSeed, seed, kills)

	// How long the work of a run takes here (race detector, a busy
	// machine), from the child's ready mark: the kills are spread over that,
	// not over a fixed 0–300 ms that on a fast machine mostly lands in the
	// process start or after the end.
	probe := newCrashFixture(t, "website", "portal")
	cmd, out := probe.startChild(t)
	start := time.Now()
	if _, err := childEnd(cmd.Wait()); err != nil {
		t.Fatalf("child failed: %v\n%s", err, out)
	}
	work := time.Since(start)
	window := max(work*5/4, 20*time.Millisecond)
	probe.checkFinal(t, "run without crash")
	t.Logf("the work of a run takes %s here; kills within 0–%s of the child's ready mark",
		work.Round(time.Millisecond), window.Round(time.Millisecond))

	landed := 0
	for round := 0; kills > 0; round++ {
		n := min(kills, perRound)
		kills -= n
		f := newCrashFixture(t, "website", "portal")
		var delays []string
		for i := 0; i < n; i++ {
			if i > 0 {
				f.addBatch(t, i)
			}
			d := time.Duration(rng.Int64N(int64(window)))
			delays = append(delays, d.Round(time.Millisecond).String())
			cmd, out := f.startChild(t)
			time.Sleep(d)
			_ = cmd.Process.Signal(syscall.SIGKILL) // kill -9
			killed, err := childEnd(cmd.Wait())
			if err != nil {
				t.Fatalf("round %d kill %d: child failed: %v\n%s", round, i, err, out)
			}
			if killed {
				landed++
			}
			f.checkDurable(t, fmt.Sprintf("round %d, after kill %d at %s", round, i, d.Round(time.Millisecond)))
			if t.Failed() {
				t.Fatalf("seed %d, kills so far: %v", seed, delays)
			}
		}
		f.restart(t)
		f.checkFinal(t, fmt.Sprintf("round %d, after %d kills at %v and a restart", round, n, delays))
		if t.Failed() {
			t.Fatalf("seed %d", seed)
		}
	}
	t.Logf("%d kills landed before the child had finished", landed)
}
