package approval

// Crash safety of approve (DESIGN.md guarantee 6, issue 20): the child
// process (TestApproveCrashChild, this test binary run again) approves every
// photo that waits, as `photoguard approve --all` does, and dies by a real
// SIGKILL at a chosen step boundary: the store's (approved, staged,
// answered) and the pipeline's (read, claim, ..., publish, wipe, done). The
// parent checks what the school would find right after the kill (every
// photo at the website whole and at most once, or still kept sealed), runs
// the child again to its end, and checks that every photo is published
// exactly once, answered, its original and its staged copy gone, and its
// journal record done. The boundaries are discovered from a run without
// crash, so a new one is covered without editing this file.

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/photoguard/photoguard/pipeline"
	"github.com/photoguard/photoguard/pipeline/consent"
	"github.com/photoguard/photoguard/pipeline/journal"
	"github.com/photoguard/photoguard/pipeline/target/dir"
	"github.com/photoguard/photoguard/redact/decode"
	"github.com/photoguard/photoguard/redact/encode"
)

const (
	envRoot  = "PHOTOGUARD_TEST_APPROVE_ROOT"
	envStep  = "PHOTOGUARD_TEST_APPROVE_STEP"
	envNth   = "PHOTOGUARD_TEST_APPROVE_NTH"
	envTrace = "PHOTOGUARD_TEST_APPROVE_TRACE"
)

// crashPhotos is how many photos wait in each fixture.
const crashPhotos = 3

// crashPipeline is the pipeline of the fixture at root: "web" needs
// approval (approved: publishes), with hook at every step boundary.
func crashPipeline(root string, j *journal.Journal, store *Store, approved *pipeline.Approval, hook func(string, *pipeline.Job)) (*pipeline.Pipeline, error) {
	web, err := dir.New(filepath.Join(root, "out-web"))
	if err != nil {
		return nil, err
	}
	d := &pipeline.Destination{Name: "web", Channel: "website", Target: web, Approval: approved == nil, Approved: approved, ClosedOnly: true}
	return pipeline.New(pipeline.Options{StateDir: filepath.Join(root, "state"), Destinations: []*pipeline.Destination{d},
		Limits: decode.DefaultLimits(), MaxSide: 512, Quality: 85, Wipe: true, Workers: 1, Journal: j,
		Faces: faceOptions(&fakeAnalyzer{}, newRegister(1, "website")), Approvals: store, Hook: hook})
}

func openCrash(t *testing.T, root string) (*journal.Journal, *Store) {
	state := filepath.Join(root, "state")
	if err := os.MkdirAll(state, 0o700); err != nil {
		t.Fatal(err)
	}
	j, err := journal.Open(state)
	if err != nil {
		t.Fatal(err)
	}
	key, err := consent.LoadKey(state)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(state, key, nil)
	if err != nil {
		t.Fatal(err)
	}
	return j, s
}

// TestApproveCrashChild is the process that is killed; it does nothing
// unless run by TestCrashApprove.
func TestApproveCrashChild(t *testing.T) {
	root := os.Getenv(envRoot)
	if root == "" {
		t.Skip("the child process of TestCrashApprove")
	}
	step := os.Getenv(envStep)
	nth, _ := strconv.Atoi(os.Getenv(envNth))
	var trace *os.File
	if p := os.Getenv(envTrace); p != "" {
		var err error
		if trace, err = os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	calls := map[string]int{}
	at := func(name string) {
		mu.Lock()
		defer mu.Unlock()
		if trace != nil {
			fmt.Fprintln(trace, name)
		}
		calls[name]++
		if name == step && calls[name] == nth {
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			for {
				time.Sleep(time.Hour)
			}
		}
	}
	j, s := openCrash(t, root)
	defer j.Close()
	s.Hook = func(step, sha string) { at(step) }
	// As `photoguard approve --all`.
	if err := s.CleanStaging(j); err != nil {
		t.Fatal(err)
	}
	photos, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	for _, ph := range photos {
		ans, err := s.Approve(context.Background(), ph.SHA256, "web", pipeline.Approval{By: "directie", At: time.Now()},
			func(a pipeline.Approval) (Processor, error) {
				return crashPipeline(root, j, s, &a, func(name string, _ *pipeline.Job) { at(name) })
			})
		if err != nil {
			t.Fatalf("approve %s: %v", ph.Short(), err)
		}
		fmt.Printf("approve %s: %s %s\n", ph.Short(), ans.State, ans.Note)
	}
}

// newCrashFixture parks crashPhotos photos for "web" (in this process).
func newCrashFixture(t *testing.T) (root string, shas []string) {
	root = t.TempDir()
	j, s := openCrash(t, root)
	defer j.Close()
	p, err := crashPipeline(root, j, s, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	inbox := filepath.Join(root, "inbox")
	for i := 0; i < crashPhotos; i++ {
		path := filepath.Join(inbox, "groep-5", fmt.Sprintf("IMG_%04d.jpg", i))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, photoWith(t, 160, 120, 10+i, nil), 0o644); err != nil {
			t.Fatal(err)
		}
		items, err := p.Process(context.Background(), inbox, path)
		if err != nil || len(items) != 1 || items[0].Outcome != pipeline.Waiting {
			t.Fatalf("parking: %+v %v", items, err)
		}
		shas = append(shas, items[0].SHA256)
	}
	return root, shas
}

// child runs the child on root; killed reports a SIGKILL.
func child(t *testing.T, root, step string, nth int, trace string) (killed bool) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestApproveCrashChild$", "-test.count=1", "-test.v", "-test.timeout=2m")
	cmd.Env = append(os.Environ(), envRoot+"="+root, envStep+"="+step, envNth+"="+strconv.Itoa(nth), envTrace+"="+trace,
		"GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	out, err := cmd.CombinedOutput()
	if err == nil {
		return false
	}
	if ee, ok := err.(*exec.ExitError); ok {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			return true
		}
	}
	t.Fatalf("child (crash at %s #%d) failed: %v\n%s", step, nth, err, out)
	return false
}

var outputRE = regexp.MustCompile(`^\d{8}-([0-9a-f]{12})\.jpg$`)

// atWeb lists the website by short hash, checking every file is a
// complete, clean photo.
func atWeb(t *testing.T, root, when string) map[string]int {
	t.Helper()
	got := map[string]int{}
	entries, _ := os.ReadDir(filepath.Join(root, "out-web"))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue // a write cut short: hidden, pickers skip it
		}
		m := outputRE.FindStringSubmatch(e.Name())
		data, err := os.ReadFile(filepath.Join(root, "out-web", e.Name()))
		if m == nil || err != nil || encode.VerifyClean(data) != nil {
			t.Errorf("%s: %s at the website is not a complete, clean photo (%v)", when, e.Name(), err)
			continue
		}
		got[m[1]]++
	}
	return got
}

func TestCrashApprove(t *testing.T) {
	// Discover the boundaries.
	root, _ := newCrashFixture(t)
	trace := filepath.Join(t.TempDir(), "trace")
	if child(t, root, "", 0, trace) {
		t.Fatal("the run without crash was killed")
	}
	check(t, root, nil, "run without crash")
	fh, err := os.Open(trace)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	var names []string
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		if count[sc.Text()] == 0 {
			names = append(names, sc.Text())
		}
		count[sc.Text()]++
	}
	fh.Close()
	for _, want := range []string{"approved", "staged", "answered", "claim", "journal-publishing", "publish", "wipe", "done"} {
		if count[want] == 0 {
			t.Errorf("boundary %q is never reached by approve", want)
		}
	}
	t.Logf("boundaries: %v", count)
	// Between the transform's steps nothing is written: their first calls
	// suffice; the others also die at their last call (a later photo, with
	// earlier ones published).
	p, err := pipeline.New(pipeline.Options{Destinations: []*pipeline.Destination{{Name: "x"}}, DryRun: true,
		Faces: faceOptions(&fakeAnalyzer{}, newRegister(1))})
	if err != nil {
		t.Fatal(err)
	}
	transform := map[string]bool{}
	for _, s := range p.Steps() {
		transform[s] = true
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for _, name := range names {
		picks := []int{1}
		if n := count[name]; n > 1 && !testing.Short() && !transform[name] {
			picks = append(picks, n)
		}
		for _, nth := range picks {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				t.Run(fmt.Sprintf("%s#%d", name, nth), func(t *testing.T) {
					root, shas := newCrashFixture(t)
					if !child(t, root, name, nth, "") {
						t.Logf("%s #%d was not reached in this run", name, nth)
					}
					checkDurable(t, root, shas)
					if child(t, root, "", 0, "") {
						t.Fatal("the restart was killed")
					}
					check(t, root, shas, "after the restart")
				})
			}()
		}
	}
	wg.Wait()
}

// checkDurable: right after the kill, each photo is at the website at most
// once, and where it is not, its original is still kept.
func checkDurable(t *testing.T, root string, shas []string) {
	t.Helper()
	web := atWeb(t, root, "after the crash")
	for _, sha := range shas {
		switch n := web[sha[:12]]; {
		case n > 1:
			t.Errorf("after the crash: %s is at the website %d times", sha[:12], n)
		case n == 0:
			if _, err := os.Lstat(filepath.Join(root, "state", Folder, sha, originalFile)); err != nil {
				t.Errorf("after the crash: %s is neither published nor kept: %v", sha[:12], err)
			}
		}
	}
}

// check: every photo published exactly once and answered, nothing of it
// kept, nothing left in staging, every journal record done.
func check(t *testing.T, root string, shas []string, when string) {
	t.Helper()
	j, s := openCrash(t, root)
	defer j.Close()
	photos, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	if shas == nil {
		for _, ph := range photos {
			shas = append(shas, ph.SHA256)
		}
	}
	if len(photos) != crashPhotos || len(shas) != crashPhotos {
		t.Fatalf("%s: %d photos in the store, want %d", when, len(photos), crashPhotos)
	}
	web := atWeb(t, root, when)
	for _, sha := range shas {
		if web[sha[:12]] != 1 {
			t.Errorf("%s: %s is at the website %d times, want once", when, sha[:12], web[sha[:12]])
		}
		ph, err := s.Get(sha)
		if err != nil || ph.Targets["web"].State != Published || ph.Targets["web"].By != "directie" {
			t.Errorf("%s: %s in the store: %+v %v", when, sha[:12], ph, err)
		}
		if _, err := os.Lstat(filepath.Join(root, "state", Folder, sha, originalFile)); err == nil {
			t.Errorf("%s: the original of %s is still kept", when, sha[:12])
		}
		rec, err := j.Get(sha)
		if err != nil || rec.State != journal.Done || rec.Outcome != string(pipeline.Published) {
			t.Errorf("%s: journal of %s: %+v %v", when, sha[:12], rec, err)
		}
	}
	entries, _ := os.ReadDir(filepath.Join(root, "state", Folder, stagingDir))
	for _, e := range entries {
		t.Errorf("%s: staging still holds %s", when, e.Name())
	}
}
