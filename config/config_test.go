package config

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/photoguard/photoguard/detect"
)

func TestDefaultIsValid(t *testing.T) {
	cfg, err := Parse(nil, "/base", nil)
	if err != nil {
		t.Fatalf("embedded default does not validate: %v", err)
	}
	if cfg.Output.MaxSide != 2048 || cfg.Limits.MaxPixels != 50_000_000 || cfg.Limits.MaxFileMB != 50 || cfg.Limits.MaxSide != 16384 {
		t.Errorf("defaults changed: %+v %+v", cfg.Output, cfg.Limits)
	}
	if !cfg.WipeInputs {
		t.Error("wipe_inputs should default to true")
	}
	if len(cfg.Targets) != 1 || cfg.Targets["website"].Channel != "website" {
		t.Errorf("default targets: %+v", cfg.Targets)
	}
	if cfg.Limits.DecodeTimeout != 30*time.Second {
		t.Errorf("decode_timeout = %v", cfg.Limits.DecodeTimeout)
	}
	for _, want := range []string{"zwemles", "gym", "swimming", "douchen"} {
		found := false
		for _, c := range cfg.Categories.Reject {
			found = found || c == want
		}
		if !found {
			t.Errorf("default categories.reject lacks %q", want)
		}
	}
}

// The contract keys keep their names (issue 2).
func TestContractKeys(t *testing.T) {
	known := strings.Join(knownKeys(), " ")
	for _, k := range []string{"inbox", "state_dir", "models_dir", "targets.*.type", "targets.*.path",
		"targets.*.channel", "categories.reject", "output.max_side", "output.quality", "limits.max_pixels", "limits.max_file_mb"} {
		if !strings.Contains(" "+known+" ", " "+k+" ") {
			t.Errorf("contract key %q missing from %s", k, known)
		}
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		name    string
		yaml    string
		env     []string
		wantKey string
		wantMsg string
	}{
		{"typo in key", "output:\n  qualty: 80\n", nil, "output.qualty", `did you mean "output.quality"`},
		{"unknown top-level key", "inbx: /x\n", nil, "inbx", `did you mean "inbox"`},
		{"unknown target key", "targets:\n  web:\n    type: dir\n    path: /p\n    channel: website\n    chanel: x\n", nil, "targets.web.chanel", "unknown key"},
		{"quality too high", "output:\n  quality: 150\n", nil, "output.quality", "out of range"},
		{"quality not a number", "output:\n  quality: high\n", nil, "quality", ""},
		{"max_side too small", "output:\n  max_side: 10\n", nil, "output.max_side", "out of range"},
		{"pixels too many", "limits:\n  max_pixels: 9000000000\n", nil, "limits.max_pixels", "out of range"},
		{"bad channel", "targets:\n  web:\n    type: dir\n    path: /p\n    channel: facebook\n", nil, "targets.web.channel", "not a channel"},
		{"bad type", "targets:\n  web:\n    type: ftp\n    path: /p\n    channel: website\n", nil, "targets.web.type", "not a target type"},
		{"missing path", "targets:\n  web:\n    type: dir\n    channel: website\n", nil, "targets.web.path", "must be set"},
		{"default target unknown", "default_target: nope\n", nil, "default_target", "not one of the targets"},
		{"env typo", "", []string{"PHOTOGUARD_OUTPUT_QUALTY=80"}, "PHOTOGUARD_OUTPUT_QUALTY", "PHOTOGUARD_OUTPUT_QUALITY"},
		{"env out of range", "", []string{"PHOTOGUARD_OUTPUT_QUALITY=5"}, "output.quality", "out of range"},
		{"bad duration", "limits:\n  decode_timeout: soon\n", nil, "decode_timeout", ""},
		{"give_up below settle", "watch:\n  settle: 1m\n  give_up: 10s\n", nil, "watch.give_up", "shorter"},
		{"not yaml", "output: [\n", nil, "", "YAML"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml), "/base", tc.env)
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tc.wantKey) || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("error %q does not name %q / %q", err, tc.wantKey, tc.wantMsg)
			}
		})
	}
}

func TestAllProblemsListed(t *testing.T) {
	_, err := Parse([]byte("output:\n  quality: 0\n  max_side: 1\nworkers: 0\n"), "/b", nil)
	if err == nil {
		t.Fatal("accepted")
	}
	for _, k := range []string{"output.quality", "output.max_side", "workers"} {
		if !strings.Contains(err.Error(), k) {
			t.Errorf("%q missing from %v", k, err)
		}
	}
}

func TestFileTargetsReplaceDefault(t *testing.T) {
	cfg, err := Parse([]byte("targets:\n  portal:\n    type: dir\n    path: out/portal\n    channel: parent_portal\n"), "/etc/pg", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Targets) != 1 {
		t.Fatalf("targets = %v, want only portal", cfg.Targets)
	}
	if got := cfg.Targets["portal"].Path; got != "/etc/pg/out/portal" {
		t.Errorf("relative path resolved to %q", got)
	}
	name, err := cfg.ResolveTarget("")
	if err != nil || name != "portal" {
		t.Errorf("ResolveTarget = %q, %v", name, err)
	}
	if _, err := cfg.ResolveTarget("website"); err == nil {
		t.Error("unknown target accepted")
	}
}

func TestEnvOverrides(t *testing.T) {
	cfg, err := Parse([]byte("output:\n  quality: 70\n"), "/b", []string{
		"PHOTOGUARD_OUTPUT_QUALITY=91",
		"PHOTOGUARD_STATE_DIR=/tmp/st",
		"PHOTOGUARD_CATEGORIES_REJECT=Zwemles,sportdag",
		"PHOTOGUARD_TARGETS_WEBSITE_PATH=/srv/web",
		"PHOTOGUARD_KEY=not-a-key-but-reserved",
		"PHOTOGUARD_TESTDATA=/x",
		"OTHER=1",
	})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Output.Quality != 91 {
		t.Errorf("quality = %d, env should win over the file", cfg.Output.Quality)
	}
	if cfg.StateDir != "/tmp/st" {
		t.Errorf("state_dir = %q", cfg.StateDir)
	}
	if strings.Join(cfg.Categories.Reject, ",") != "zwemles,sportdag" {
		t.Errorf("categories = %v", cfg.Categories.Reject)
	}
	if cfg.Targets["website"].Path != "/srv/web" {
		t.Errorf("target path = %q", cfg.Targets["website"].Path)
	}
}

func TestLoadFileAndExample(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "photoguard.yaml")
	// The example is the documentation of every key: it must load as is.
	if err := os.WriteFile(p, Example(), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(p); err != nil {
		t.Fatalf("example does not load: %v", err)
	}
	if err := os.WriteFile(p, []byte("output:\n  qualty: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(p)
	if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "output.qualty") {
		t.Errorf("error should name the file and the key: %v", err)
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Error("missing file accepted")
	}
}

func TestWatch(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "pg.yaml")
	write := func(s string) {
		// Save as editors do: a new file renamed over the old one.
		tmp := p + ".swp"
		if err := os.WriteFile(tmp, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, p); err != nil {
			t.Fatal(err)
		}
	}
	write("output:\n  quality: 70\n")
	type change struct {
		cfg *Config
		err error
	}
	got := make(chan change, 10)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go WatchFile(ctx, p, 5*time.Second, func(c *Config, err error) { got <- change{c, err} })
	time.Sleep(200 * time.Millisecond)

	next := func() change {
		select {
		case c := <-got:
			return c
		case <-time.After(4 * time.Second):
			t.Fatal("no change noticed")
		}
		return change{}
	}
	write("output:\n  quality: 80\n")
	if c := next(); c.err != nil || c.cfg.Output.Quality != 80 {
		t.Fatalf("valid change: %+v", c)
	}
	write("output:\n  quality: 800\n")
	if c := next(); c.err == nil || !strings.Contains(c.err.Error(), "output.quality") {
		t.Fatalf("invalid change not refused: %+v", c)
	}
	// Removed and written again (some editors do that): still watched.
	os.Remove(p)
	time.Sleep(100 * time.Millisecond)
	write("output:\n  quality: 90\n")
	if c := next(); c.err != nil || c.cfg.Output.Quality != 90 {
		t.Fatalf("after remove: %+v", c)
	}
}

func TestFacesValidation(t *testing.T) {
	for _, tc := range []struct{ yaml, key string }{
		{"faces:\n  threshold: 0.9\n", "faces.threshold"},
		{"faces:\n  threshold: -1\n", "faces.threshold"},
		{"faces:\n  treshold: 0.4\n", `did you mean "faces.threshold"`},
		{"faces:\n  policy: everyone\n", "faces.policy"},
		{"faces:\n  detector: yolo\n", "faces.detector"},
		{"faces:\n  redact:\n    mode: smudge\n", "faces.redact.mode"},
		{"faces:\n  redact:\n    mask_scale: 0.8\n", "faces.redact.mask_scale"},
		// redact/mask's own vocabulary and range, with config's key.
		{"faces:\n  redact:\n    mode: smudge\n", `faces.redact.mode: "smudge" is not one of blur, pixelate, fill`},
		{"faces:\n  redact:\n    shape: circle\n", `faces.redact.shape: "circle" is not one of ellipse, box`},
		{"faces:\n  redact:\n    mask_scale: 3.5\n", "faces.redact.mask_scale: 3.5 is out of range (1 to 3)"},
		{"consent:\n  school_year_start: 31-08\n", "consent.school_year_start"},
	} {
		if _, err := Parse([]byte(tc.yaml), "/b", nil); err == nil || !strings.Contains(err.Error(), tc.key) {
			t.Errorf("%q: error %v does not name %s", tc.yaml, err, tc.key)
		}
	}
	cfg, err := Parse([]byte("faces:\n  policy: Objections\n  threshold: 0.45\n"), "/b", []string{"PHOTOGUARD_FACES_MARGIN=0.1"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Faces.Policy != "objections" || cfg.Faces.Threshold != 0.45 || cfg.Faces.Margin != 0.1 {
		t.Errorf("%+v", cfg.Faces)
	}
	if m, d, _ := cfg.Consent.SchoolYearStartMD(); m != time.August || d != 1 {
		t.Errorf("school year start %v %d", m, d)
	}
}

// Values the service refuses at start are refused by config check too (it
// validates the same way): workers above what dlib runs, a school year that
// starts on a day not every year has.
func TestStartupRangesRefused(t *testing.T) {
	for _, c := range []struct{ yaml, key string }{
		{"workers: 12\n", "workers: 12 is out of range (1 to 8)"},
		{"workers: 9\n", "workers"},
		{"faces:\n  cnn_max_side: 300\n", "faces.cnn_max_side"},
		{"faces:\n  detect_max_side: 9000\n", "faces.detect_max_side"},
		{"faces:\n  upsample: 4\n", "faces.upsample"},
		{"consent:\n  school_year_start: 02-29\n", "consent.school_year_start"},
	} {
		if _, err := Parse([]byte(c.yaml), "/base", nil); err == nil || !strings.Contains(err.Error(), c.key) {
			t.Errorf("%q: %v, want an error naming %q", c.yaml, err, c.key)
		}
	}
	if _, err := Parse([]byte("workers: 8\n"), "/base", nil); err != nil {
		t.Errorf("workers: 8 refused: %v", err)
	}
}

// A target inside state_dir would publish the key, the consent store and the
// unredacted originals; the inbox and the targets must not overlap either,
// in either direction, also through a link.
func TestFoldersApart(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "state"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(root, "state"), filepath.Join(root, "www")); err != nil {
		t.Fatal(err)
	}
	folders := func(inbox, state, target string) string {
		return "inbox: " + inbox + "\nstate_dir: " + state +
			"\ntargets:\n  website:\n    type: dir\n    path: " + target + "\n    channel: website\n"
	}
	for _, c := range []struct {
		name, yaml, want string
	}{
		{"target inside state_dir", folders("/srv/in", "/var/lib/pg", "/var/lib/pg/publish"), "targets.website.path"},
		{"target is state_dir", folders("/srv/in", "/var/lib/pg", "/var/lib/pg"), "targets.website.path"},
		{"state_dir inside the target", folders("/srv/in", "/srv/www/state", "/srv/www"), "targets.website.path"},
		{"target inside the inbox", folders("/srv/in", "/var/lib/pg", "/srv/in/published"), "targets.website.path"},
		{"inbox inside the target", folders("/srv/www/in", "/var/lib/pg", "/srv/www"), "targets.website.path"},
		{"state_dir inside the inbox", folders("/srv/in", "/srv/in/state", "/srv/www"), "state_dir"},
		{"target linked into state_dir", folders("/srv/in", root+"/state", root+"/www/site"), "targets.website.path"},
		{"relative target into state_dir", folders("/srv/in", "/base/state", "state/site"), "targets.website.path"},
	} {
		_, err := Parse([]byte(c.yaml), "/base", nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error naming %s", c.name, err, c.want)
		}
	}
	if _, err := Parse([]byte(folders("/srv/pg/inbox", "/var/lib/pg", "/srv/pg/publish/website")), "/base", nil); err != nil {
		t.Errorf("separate folders refused: %v", err)
	}
}

// The default categories catch what staff write (issue 8: "douchen", and
// "zwem les" with a space).
func TestDefaultCategoriesMatch(t *testing.T) {
	cfg, err := Parse(nil, "/base", nil)
	if err != nil {
		t.Fatal(err)
	}
	c := detect.NewCategories(cfg.Categories.Reject)
	for _, rel := range []string{"groep-5/zwem les/IMG_0001.jpg", "groep-5/IMG_0002 douchen.jpg", "groep-5/Zwem-Les 3/a.jpg",
		"groep-5/kleed kamer.jpg", "groep-5/changing room/a.jpg", "groep-5/school_zwemmen.heic"} {
		if _, ok := c.Match(rel); !ok {
			t.Errorf("%s is not in a default category", rel)
		}
	}
	for _, rel := range []string{"groep-5/gymnasium.jpg", "groep-5/IMG_0001.jpg", "groep-5/zwemlesson.jpg"} {
		if cat, ok := c.Match(rel); ok {
			t.Errorf("%s is in category %q", rel, cat)
		}
	}
}

// A target's own max_side and quality are checked like the global ones; unset
// they are 0 and the global settings apply.
func TestTargetOutputSettings(t *testing.T) {
	targets := "targets:\n  website:\n    type: dir\n    path: /srv/www\n    channel: website\n" +
		"  portal:\n    type: dir\n    path: /srv/portal\n    channel: parent_portal\n    max_side: 1024\n    quality: 75\n"
	cfg, err := Parse([]byte(targets), "/b", nil)
	if err != nil {
		t.Fatal(err)
	}
	if p, w := cfg.Targets["portal"], cfg.Targets["website"]; p.MaxSide != 1024 || p.Quality != 75 || w.MaxSide != 0 || w.Quality != 0 {
		t.Errorf("portal %+v, website %+v", p, w)
	}
	if p, w := cfg.OutputOf("portal"), cfg.OutputOf("website"); p != (Output{1024, 75}) || w != cfg.Output {
		t.Errorf("output of portal %+v, of website %+v (global %+v)", p, w, cfg.Output)
	}
	for _, c := range []struct{ extra, key string }{
		{"    max_side: 100\n", "targets.portal.max_side: 100 is out of range (256 to 8192)"},
		{"    quality: 101\n", "targets.portal.quality: 101 is out of range (40 to 100)"},
	} {
		yaml := "targets:\n  portal:\n    type: dir\n    path: /srv/portal\n    channel: parent_portal\n" + c.extra
		if _, err := Parse([]byte(yaml), "/b", nil); err == nil || !strings.Contains(err.Error(), c.key) {
			t.Errorf("%q: %v, want %q", c.extra, err, c.key)
		}
	}
}

// A reload keeps every restart-only setting as it is in force, says which
// changed, and takes the rest.
func TestKeepRestartOnly(t *testing.T) {
	running, err := Parse(nil, "/b", nil)
	if err != nil {
		t.Fatal(err)
	}
	next, err := Parse([]byte("inbox: /elsewhere\nworkers: 3\nfaces:\n  memory_mb: 2048\n  finder: none\n  threshold: 0.45\n"+
		"consent:\n  school_year_start: \"09-01\"\noutput:\n  quality: 70\n"+
		"targets:\n  portal:\n    type: dir\n    path: /srv/portal\n    channel: parent_portal\n"), "/b", nil)
	if err != nil {
		t.Fatal(err)
	}
	changed := next.KeepRestartOnly(running)
	want := []string{"inbox", "targets", "workers", "faces.memory_mb", "faces.finder", "consent.school_year_start"}
	if strings.Join(changed, " ") != strings.Join(want, " ") {
		t.Errorf("changed %q, want %q", changed, want)
	}
	if next.Inbox != running.Inbox || next.Workers != running.Workers || next.Faces.MemoryMB != running.Faces.MemoryMB ||
		next.Faces.Finder != running.Faces.Finder || next.Consent != running.Consent || len(next.Targets) != 1 || next.Targets["website"].Path == "" {
		t.Errorf("a restart-only setting was taken over: %+v", next)
	}
	if next.Faces.Threshold != 0.45 || next.Output.Quality != 70 {
		t.Errorf("the rest was not taken: threshold %v, quality %d", next.Faces.Threshold, next.Output.Quality)
	}
	if again := next.KeepRestartOnly(running); len(again) != 0 {
		t.Errorf("nothing differs any more, yet %q", again)
	}
	// Every key in the list is a key (or section) of the configuration.
	for _, k := range RestartOnly() {
		ok := false
		for _, known := range knownKeys() {
			ok = ok || known == k || strings.HasPrefix(known, k+".")
		}
		if !ok {
			t.Errorf("restart-only %q is not a configuration key", k)
		}
	}
}

// config composes the options of the packages that own them but links no
// native code (DESIGN.md: cgo confined to one small package each): nothing it
// depends on has cgo files.
func TestNoCgoBelowConfig(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool on PATH")
	}
	out, err := exec.Command(goTool, "list", "-deps", "-f", "{{.ImportPath}} {{len .CgoFiles}}", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, n, _ := strings.Cut(line, " ")
		if n != "0" && pkg != "runtime/cgo" && !strings.HasPrefix(pkg, "net") && !strings.HasPrefix(pkg, "os/user") {
			t.Errorf("config depends on %s, which has cgo files", pkg)
		}
	}
}
