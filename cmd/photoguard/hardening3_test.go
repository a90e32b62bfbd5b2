package main

// Tests of issue 19 (hardening, third round) at the level of the commands.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/photoguard/photoguard/config"
	"github.com/photoguard/photoguard/pipeline"
	"github.com/photoguard/photoguard/pipeline/consent"
	"github.com/photoguard/photoguard/pipeline/journal"
	"github.com/photoguard/photoguard/pipeline/ledger"
	"github.com/photoguard/photoguard/pipeline/target/webdav/webdavtest"
)

// explain --out, review --out and tune --out share one rule: not into the
// inbox, not into a folder target (also through a linked folder), not
// through a link, not over a file photoguard did not write; a file it wrote
// may be replaced.
func TestPrivateOutputRule(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"inbox/groep-7", "out", "state", "mine"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	cfg := writeConfig(t, dir, "inbox: "+dir+"/inbox\nstate_dir: "+dir+"/state\ntargets:\n"+
		"  website:\n    type: dir\n    path: "+dir+"/out\n    channel: website\n"+
		"  news:\n    type: dir\n    path: "+dir+"/out2\n    channel: newsletter\n")
	if err := os.Symlink(filepath.Join(dir, "inbox", "groep-7"), filepath.Join(dir, "to-inbox")); err != nil {
		t.Fatal(err)
	}
	notes := filepath.Join(dir, "mine", "notes.txt")
	if err := os.WriteFile(notes, []byte("my notes"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(notes, filepath.Join(dir, "mine", "link.png")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "mine", "other.txt"), []byte("other"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(filepath.Join(dir, "mine", "other.txt"), filepath.Join(dir, "mine", "hard.png")); err != nil {
		t.Fatal(err)
	}
	j := &pipeline.Job{Image: image.NewNRGBA(image.Rect(0, 0, 64, 48))}
	for _, c := range []struct {
		out, want string
	}{
		{"inbox/groep-7/x.png", "inside the inbox"},
		{"to-inbox/x.png", "inside the inbox"},
		{"out/x.png", "inside target website"},
		{"mine/link.png", "a link"},
		{"mine/hard.png", "hard link"},
		{"mine/notes.txt", "not written by photoguard"},
		{"nowhere/x.png", "does not exist"},
	} {
		out := filepath.Join(dir, c.out)
		for _, kind := range []privateKind{privatePNG, privateHTML} {
			if err := checkPrivateOut(cfg, out, kind); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s (%d): %v, want %q", c.out, kind, err, c.want)
			}
		}
		if err := writeAnnotated(cfg, out, j); err == nil {
			t.Errorf("explain --out %s: written", c.out)
		}
	}
	if got, _ := os.ReadFile(notes); string(got) != "my notes" {
		t.Fatalf("a refused --out changed another file: %q", got)
	}
	if ents, _ := os.ReadDir(filepath.Join(dir, "inbox", "groep-7")); len(ents) != 0 {
		t.Fatalf("something was written into the inbox: %v", ents)
	}
	// A file photoguard wrote may be written again (explain's PNG, a page).
	own := filepath.Join(dir, "mine", "check.png")
	for i := 0; i < 2; i++ {
		if err := writeAnnotated(cfg, own, j); err != nil {
			t.Fatalf("writing %s (time %d): %v", own, i+1, err)
		}
	}
	page := filepath.Join(dir, "mine", "review.html")
	html := []byte("<!DOCTYPE html>\n<html><head>" + string(pageMark) + "</head></html>")
	for i := 0; i < 2; i++ {
		if err := writePrivate(cfg, page, html, privateHTML); err != nil {
			t.Fatalf("writing %s (time %d): %v", page, i+1, err)
		}
	}
	// In the state folder (review's default place) every file is
	// photoguard's: a page of an older version is replaced.
	old := filepath.Join(dir, "state", "review.html")
	if err := os.WriteFile(old, []byte("<html>older page</html>"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := writePrivate(cfg, old, html, privateHTML); err != nil {
		t.Errorf("a page in the state folder: %v", err)
	}
	// But a page is not a PNG and the other way round.
	if err := checkPrivateOut(cfg, page, privatePNG); err == nil {
		t.Error("a page may be replaced by an annotated PNG")
	}
}

// explain refuses --out into the inbox before it looks at the photo (the
// issue: the daemon published the annotated copy).
func TestExplainOutIntoTheInbox(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "inbox", "groep-7"), 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := writeConfig(t, dir, "inbox: "+dir+"/inbox\nstate_dir: "+dir+"/state\ntargets:\n"+
		"  website:\n    type: dir\n    path: "+dir+"/out\n    channel: website\n")
	err := explain(context.Background(), io.Discard, cfg, filepath.Join(dir, "IMG.jpg"), "", filepath.Join(dir, "inbox", "groep-7", "x.png"))
	if err == nil || !strings.Contains(err.Error(), "inside the inbox") {
		t.Fatalf("explain --out into the inbox: %v", err)
	}
	for _, f := range []func() error{
		func() error {
			return reviewPage(io.Discard, cfg, reviewFlags{out: filepath.Join(dir, "inbox", "r.html")}, time.Now())
		},
		func() error {
			return tuneRun(context.Background(), io.Discard, io.Discard, cfg, tuneFlags{out: filepath.Join(dir, "inbox", "t.html")}, time.Now())
		},
	} {
		if err := f(); err == nil || !strings.Contains(err.Error(), "inside the inbox") {
			t.Errorf("a page into the inbox: %v", err)
		}
	}
}

// A damaged line of the ledger is said by every command that reads it:
// status (exit 2, also in --json), published (exit 2), the takedown lists of
// consent revoke; ledger check names it (exit 2), ledger repair keeps every
// readable entry and the ledger then checks clean.
func TestLedgerDamageIsSaid(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "inbox: "+dir+"/inbox\nstate_dir: "+dir+"/state\ntargets:\n"+
		"  website:\n    type: dir\n    path: "+dir+"/out\n    channel: website\n")
	led := sealedLedger(t, cfg)
	for i, sha := range []string{strings.Repeat("a", 64), strings.Repeat("b", 64), strings.Repeat("c", 64)} {
		p := pipeline.Publication{SHA256: sha, Target: "website", Channel: "website", Name: pipeline.OutputName(time.Now(), sha), Pupils: []string{"anna"}, Ref: fmt.Sprint(i)}
		if err := led.Publishing(p); err != nil {
			t.Fatal(err)
		}
		if err := led.Published(p); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(cfg.StateDir, ledger.Dir, ledger.FileName)
	data, _ := os.ReadFile(path)
	lines := strings.SplitAfter(string(data), "\n")
	lines[2] = "not an entry\n"
	if err := os.WriteFile(path, []byte(strings.Join(lines, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	isExit2 := func(err error) bool {
		var ee exitError
		return errors.As(err, &ee) && ee.code == exitAttention
	}
	var out bytes.Buffer
	if err := printStatus(&out, cfg, 5); !isExit2(err) || !strings.Contains(out.String(), "ledger:   the publication ledger") || !strings.Contains(out.String(), "1 damaged line (line 3)") {
		t.Errorf("status: %v\n%s", err, out.String())
	}
	out.Reset()
	if err := printStatusJSON(&out, cfg, 5); !isExit2(err) || !strings.Contains(out.String(), `"damaged_lines": 1`) {
		t.Errorf("status --json: %v\n%s", err, out.String())
	}
	out.Reset()
	if err := printPublished(&out, cfg, ledger.Query{Pupil: "anna"}, false); !isExit2(err) || !strings.Contains(out.String(), "3 outputs") {
		t.Errorf("published: %v\n%s", err, out.String())
	}
	out.Reset()
	printTakedowns(&out, cfg, []consent.Withdrawal{{ID: "anna", Channel: "website"}})
	if !strings.Contains(out.String(), "warning: the publication ledger") || !strings.Contains(out.String(), "3 photos published") {
		t.Errorf("consent revoke:\n%s", out.String())
	}
	out.Reset()
	if err := ledgerCheck(&out, cfg); !isExit2(err) || !strings.Contains(out.String(), "line 3 is damaged") {
		t.Errorf("ledger check: %v\n%s", err, out.String())
	}
	out.Reset()
	if err := ledgerRepair(&out, cfg, time.Now()); err != nil || !strings.Contains(out.String(), "5 entries kept; 1 line moved to") {
		t.Errorf("ledger repair: %v\n%s", err, out.String())
	}
	out.Reset()
	if err := ledgerCheck(&out, cfg); err != nil || !strings.Contains(out.String(), "OK") {
		t.Errorf("ledger check after the repair: %v\n%s", err, out.String())
	}
	out.Reset()
	if err := printStatus(&out, cfg, 5); err != nil || strings.Contains(out.String(), "ledger:") {
		t.Errorf("status after the repair: %v\n%s", err, out.String())
	}
}

// Issue 19, item 5: names, folder names and ids from outside reach the
// terminal escaped (one rule, internal/display): tune --labelled's folder
// names, an unknown id given to enroll, the names consent list prints, and
// every error message.
func TestTerminalEscapesOutsideText(t *testing.T) {
	cfg, dir := consentSchool(t)
	evilID := "\x1b]0;pwned\x07\x1b[2J"
	raw := func(s string) bool { return strings.ContainsAny(s, "\x1b\x07\u202e") }

	// A register name with a bidi override (a control character is
	// refused at import; U+202E is not a control character).
	csv := strings.Replace(demoConsent(time.Now()), ",Penny,", ",\u202eynneP,", 1)
	var out bytes.Buffer
	if err := consentImport(&out, cfg, writeCSV(t, dir, "evil.csv", csv), false, ""); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	out.Reset()
	if err := consentListAs(&out, cfg, "", false); err != nil || raw(out.String()) || !strings.Contains(out.String(), `\u202eynneP`) {
		t.Errorf("consent list: %v\n%q", err, out.String())
	}
	out.Reset()
	if err := enrollRemove(&out, cfg, evilID); err == nil || raw(err.Error()) {
		t.Errorf("enroll --remove of an unknown id: %q", err)
	}
	out.Reset()
	printError(&out, errors.New(evilID+" is not in the consent register\nsecond line \u202eok"))
	if raw(out.String()) || strings.Count(out.String(), "\n") != 2 {
		t.Errorf("error message: %q", out.String())
	}
	// tune --labelled DIR with a folder named with ESC sequences.
	labelled := filepath.Join(dir, "labelled")
	if err := os.MkdirAll(filepath.Join(labelled, evilID), 0o700); err != nil {
		t.Fatal(err)
	}
	store, err := openStore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	out.Reset()
	_, _, err = tuneLabelled(context.Background(), &out, nil, store.Snapshot(), nil, nil, labelled, matchConfig(cfg), false)
	if raw(out.String()) || !strings.Contains(out.String(), `\x1b]0;pwned\x07`) || err == nil {
		t.Errorf("tune --labelled: %v\n%q", err, out.String())
	}
}

// object --sha takes the hashes every other command takes: the sha256, an
// unambiguous prefix of 6 or more characters (from the journal or the
// ledger), an output name; an ambiguous or unknown prefix is an error.
func TestObjectShaPrefixes(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "inbox: "+dir+"/inbox\nstate_dir: "+dir+"/state\ntargets:\n"+
		"  website:\n    type: dir\n    path: "+dir+"/out\n    channel: website\n")
	j, err := journal.Open(cfg.StateDir)
	if err != nil {
		t.Fatal(err)
	}
	a1, a2 := "abcdef01"+strings.Repeat("1", 56), "abcdef02"+strings.Repeat("2", 56)
	for _, sha := range []string{a1, a2} {
		if err := j.Put(&journal.Record{SHA256: sha, State: journal.Done, Outcome: "published"}); err != nil {
			t.Fatal(err)
		}
	}
	j.Close()
	for _, c := range []struct{ in, want, err string }{
		{a1, a1, ""},
		{strings.ToUpper(a2[:10]), a2, ""},
		{"20261201-" + a1[:12] + ".jpg", a1, ""},
		{"abcdef0", "", "names 2 photos"},
		{"abc", "", "at least 6"},
		{"fedcba98", "", "no photo photoguard processed"},
		{"Sanne", "", "not a hash"},
	} {
		got, err := resolveHash(cfg, c.in)
		if c.err == "" && (err != nil || got != c.want) || c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)) {
			t.Errorf("resolveHash(%q) = %q, %v", c.in, got, err)
		}
	}
	var help bytes.Buffer
	cmd := objectCmd()
	cmd.SetOut(&help)
	_ = cmd.Help()
	if strings.Contains(help.String(), "inbox again") || !strings.Contains(help.String(), "photoguard takedown PHOTO --pupil ID") {
		t.Errorf("object's help:\n%s", help.String())
	}
}

// README "First run" step 4, batch --dry-run without --target, works when
// two targets are configured: it tries every target. Publishing still needs
// a choice.
func TestBatchDryRunWithTwoTargets(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "inbox: "+dir+"/inbox\nstate_dir: "+dir+"/state\ntargets:\n"+
		"  website:\n    type: dir\n    path: "+dir+"/out\n    channel: website\n"+
		"  news:\n    type: dir\n    path: "+dir+"/out2\n    channel: newsletter\n")
	if got, err := batchTargets(cfg, batchFlags{dryRun: true, keepInputs: true}); err != nil || strings.Join(got, ",") != "news,website" {
		t.Errorf("dry run: %v, %v", got, err)
	}
	if got, err := batchTargets(cfg, batchFlags{dryRun: true, target: "news"}); err != nil || strings.Join(got, ",") != "news" {
		t.Errorf("dry run --target news: %v, %v", got, err)
	}
	if _, err := batchTargets(cfg, batchFlags{}); err == nil || !strings.Contains(err.Error(), "choose one with --target") {
		t.Errorf("a batch that publishes: %v", err)
	}
}

// photoguard target test writes, finds and removes a probe on each target
// and says in plain words what is wrong: a wrong password (it will not pass
// by itself), a server that is down (it may), settings start refuses.
func TestTargetTest(t *testing.T) {
	dir := t.TempDir()
	srv := webdavtest.New(t, t.TempDir())
	for name, pw := range map[string]string{"good.pw": webdavtest.Password, "bad.pw": "wrong"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(pw+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	dav := func(name, url, pw string) string {
		return "  " + name + ":\n    type: webdav\n    url: " + url + "\n    path: /photos\n    user: " + webdavtest.User + "\n    password_file: " + dir + "/" + pw + "\n    channel: newsletter\n"
	}
	cfg := writeConfig(t, dir, "inbox: "+dir+"/inbox\nstate_dir: "+dir+"/state\ntargets:\n"+
		"  website:\n    type: dir\n    path: "+dir+"/out\n    channel: website\n"+
		dav("share", srv.URL, "good.pw")+dav("wrongpw", srv.URL, "bad.pw")+dav("down", "http://127.0.0.1:1/", "good.pw"))
	var out bytes.Buffer
	err := testTargets(context.Background(), &out, cfg, cfg.TargetNames(), time.Now())
	if code := exitCode(err); code != exitAttention {
		t.Errorf("exit %d (%v), want 2", code, err)
	}
	got := out.String()
	for _, want := range []string{
		"target website (dir, " + dir + "/out):\n  OK: connected, wrote a test photo, found it, removed it",
		"target share (webdav, " + srv.URL + "):\n  OK:",
		"target wrongpw (webdav, " + srv.URL + "):\n  FAILED: could not write a test photo: ",
		"the server refused the user or password",
		"this will not pass by itself",
		"target down (webdav, http://127.0.0.1:1/):\n  FAILED: could not write a test photo: ",
		"this may pass",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, webdavtest.Password) {
		t.Error("the password was printed")
	}
	for _, d := range []string{filepath.Join(dir, "out"), filepath.Join(srv.Dir, "photos")} {
		if ents, _ := os.ReadDir(d); len(ents) != 0 {
			t.Errorf("the probe was left in %s: %v", d, ents)
		}
	}
	// The one named.
	out.Reset()
	if err := testTargets(context.Background(), &out, cfg, []string{"share"}, time.Now()); err != nil || strings.Contains(out.String(), "website") {
		t.Errorf("target test share: %v\n%s", err, out.String())
	}
}

// The service sweeps leftover temporary uploads periodically, not only at
// start; purge removes them too (issue 19, item 3).
func TestLeftoversSweptDuringRunAndByPurge(t *testing.T) {
	dir := t.TempDir()
	share := t.TempDir()
	srv := webdavtest.New(t, share)
	if err := os.WriteFile(filepath.Join(dir, "dav.pw"), []byte(webdavtest.Password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := writeConfig(t, dir, "inbox: "+dir+"/inbox\nstate_dir: "+dir+"/state\ntargets:\n"+
		"  share:\n    type: webdav\n    url: "+srv.URL+"\n    path: /site\n    user: "+webdavtest.User+"\n    password_file: "+dir+"/dav.pw\n    channel: website\n")
	if err := os.MkdirAll(filepath.Join(share, "site"), 0o755); err != nil {
		t.Fatal(err)
	}
	led := sealedLedger(t, cfg)
	if j, err := journal.Open(cfg.StateDir); err != nil {
		t.Fatal(err)
	} else {
		j.Close()
	}
	land := func(n int) string {
		t.Helper()
		sha := fmt.Sprintf("%02x", n) + strings.Repeat("0", 62)
		name := pipeline.OutputName(time.Now(), sha)
		pub := pipeline.Publication{SHA256: sha, Target: "share", Channel: "website", Name: name, Pupils: []string{"anna"}, Temp: "." + "photoguard-" + name + ".tmp"}
		if err := led.Publishing(pub); err != nil {
			t.Fatal(err)
		}
		if err := led.Withdrawn(pub); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(share, "site", pub.Temp)
		if err := os.WriteFile(p, []byte("a late upload"), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	gone := func(p string) bool {
		_, err := os.Stat(p)
		return os.IsNotExist(err)
	}

	defer func(d time.Duration) { sweepEvery = d }(sweepEvery)
	sweepEvery = 20 * time.Millisecond
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { sweepLeftovers(ctx, cfg, log); close(done) }()
	time.Sleep(100 * time.Millisecond)
	first := land(1) // after the first sweep, while the service runs
	deadline := time.Now().Add(5 * time.Second)
	for !gone(first) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	<-done
	if !gone(first) {
		t.Fatal("a temporary upload that landed while the service ran was not swept")
	}

	second := land(2)
	var out bytes.Buffer
	if err := printStatus(&out, cfg, 5); err != nil || !strings.Contains(out.String(), "ledger:   2 temporary uploads a target may have taken") {
		t.Errorf("status with a leftover: %v\n%s", err, out.String())
	}
	out.Reset()
	if err := runPurge(context.Background(), &out, cfg, true); err != nil || gone(second) || !strings.Contains(out.String(), "would remove the temporary upload") {
		t.Fatalf("purge --dry-run: %v\n%s", err, out.String())
	}
	out.Reset()
	if err := runPurge(context.Background(), &out, cfg, false); err != nil || !gone(second) || !strings.Contains(out.String(), "removed the temporary upload") {
		t.Fatalf("purge: %v\n%s", err, out.String())
	}
}

// sealedLedger is the ledger of cfg's state folder, sealed as the service
// seals it.
func sealedLedger(t *testing.T, cfg *config.Config) *ledger.Ledger {
	t.Helper()
	if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
		t.Fatal(err)
	}
	key, err := ledgerKey(cfg, true)
	if err != nil {
		t.Fatal(err)
	}
	led, err := ledger.Open(cfg.StateDir, key)
	if err != nil {
		t.Fatal(err)
	}
	return led
}

// config check refuses a password_env that is not set, as a start does;
// other commands load the same configuration without reading the secret.
func TestConfigCheckReadsTheSecret(t *testing.T) {
	dir := t.TempDir()
	os.Unsetenv("PG_UNSET_PASSWORD_19")
	yaml := "inbox: " + dir + "/inbox\nstate_dir: " + dir + "/state\ntargets:\n" +
		"  share:\n    type: webdav\n    url: https://cloud.school.nl/dav/\n    user: u\n    password_env: PG_UNSET_PASSWORD_19\n    channel: website\n"
	cfg := writeConfig(t, dir, yaml) // loads: the other commands work
	path := filepath.Join(dir, "photoguard.yaml")
	cmd := configCmd()
	cmd.SetArgs([]string{"check", path})
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	if err := cmd.Execute(); exitCode(err) != exitUsage {
		t.Errorf("config check with password_env unset: %v", err)
	}
	if _, err := openTarget("share", cfg.Targets["share"]); err == nil || !strings.Contains(err.Error(), "PG_UNSET_PASSWORD_19 is not set") {
		t.Errorf("start: %v", err)
	}
}
