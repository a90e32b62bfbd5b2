package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/photoguard/photoguard/config"
	"github.com/photoguard/photoguard/redact/fixture"
	"github.com/photoguard/photoguard/redact/inspect"
)

// demoConfig is the built-in demo's configuration; the paths are filled in
// for the demo's folder.
const demoConfig = `# photoguard demo configuration (made by photoguard demo)
inbox: %[1]s/inbox
state_dir: %[1]s/state
models_dir: %[2]s
targets:
  website:
    type: dir
    path: %[1]s/published/website
    channel: website
    # The demo publishes at once. A school's website waits for the
    # direction's approval and keeps photos of one pupil to the parent
    # portal (the defaults: approval: direction, individual: closed_only).
    approval: none
    individual: allowed
watch:
  settle: 0s
`

func demoCmd() *cobra.Command {
	var dir, testdata string
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run a batch over a built-in demo inbox and show what came out",
		Long: `Make a demo school in a new folder and run the main job on it:
a consent register (seven people with consent for the website, one without),
the people enrolled from reference photos, and an inbox with group photos,
camera photos that still carry GPS, a photo full of metadata, a rotated
photo, a swimming-lesson photo and a broken file. Then a batch publishes to
the website target, and every published file is checked for metadata again.

The photos come from the shared test photos ($PHOTOGUARD_TESTDATA, or
../shared/testdata); without them the demo uses generated pictures only.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDemo(cmd.Context(), os.Stdout, os.Stderr, dir, testdata)
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "folder for the demo (default: a new folder under /tmp)")
	cmd.Flags().StringVar(&testdata, "testdata", "", "the shared test photos (default: $PHOTOGUARD_TESTDATA or ../shared/testdata)")
	return cmd
}

func findTestdata(flag string) string {
	for _, p := range []string{flag, os.Getenv("PHOTOGUARD_TESTDATA"), "../shared/testdata"} {
		if p == "" {
			continue
		}
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			abs, _ := filepath.Abs(p)
			return abs
		}
	}
	return ""
}

func runDemo(ctx context.Context, stdout, stderr io.Writer, dir, testdataFlag string) error {
	var err error
	if dir == "" {
		if dir, err = os.MkdirTemp("", "photoguard-demo-"); err != nil {
			return err
		}
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	models := os.Getenv("PHOTOGUARD_MODELS_DIR")
	if models == "" {
		def, err := config.Parse(nil, dir, nil)
		if err != nil {
			return err
		}
		models = def.ModelsDir
	}
	cfgPath := filepath.Join(dir, "photoguard.yaml")
	if err := os.WriteFile(cfgPath, []byte(fmt.Sprintf(demoConfig, dir, models)), 0o600); err != nil {
		return err
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return err
	}
	inbox := cfg.Inbox
	for _, p := range []string{inbox, cfg.StateDir} {
		if err := os.MkdirAll(p, 0o700); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "photoguard demo in %s\n\n", dir)

	td := findTestdata(testdataFlag)
	var groups []string
	if td != "" {
		// The consent register and the enrolled faces.
		if _, err := os.Stat(filepath.Join(td, "faces", "identities")); err == nil {
			csv := filepath.Join(dir, "consent.csv")
			if err := os.WriteFile(csv, []byte(demoConsent(time.Now())), 0o600); err != nil {
				return err
			}
			fmt.Fprintln(stdout, "1. Consent register: 8 people; sheldon has no consent for the website.")
			if err := consentImport(indented(stdout), cfg, csv, false, ""); err != nil {
				return err
			}
			fmt.Fprintln(stdout, "2. Enrolling everyone from 5 reference photos each:")
			if err := enrollDir(ctx, indented(stdout), cfg, enrollFlags{dir: filepath.Join(td, "faces", "identities")}); err != nil {
				return err
			}
			groups, _ = filepath.Glob(filepath.Join(td, "faces", "groups", "*.jpg"))
			for _, g := range groups {
				if err := copyFile(g, filepath.Join(inbox, "groep-8", filepath.Base(g))); err != nil {
					return err
				}
			}
		}
		samples, _ := filepath.Glob(filepath.Join(td, "photos", "*.jpg"))
		for _, s := range samples {
			if err := copyFile(s, filepath.Join(inbox, "groep-6", filepath.Base(s))); err != nil {
				return err
			}
		}
		if len(samples) > 0 {
			// A teacher drops the same photo twice.
			if err := copyFile(samples[0], filepath.Join(inbox, "groep-7", "kopie van "+filepath.Base(samples[0]))); err != nil {
				return err
			}
		}
	} else {
		fmt.Fprintln(stdout, "(no shared test photos found: the demo uses generated pictures only)")
	}
	// Generated photos: full of metadata, rotated, a swimming lesson, broken.
	dirty := fixture.DirtyJPEG(6)
	gen := map[string][]byte{
		"groep-5/IMG_0001.JPG":         dirty,
		"groep-5/zwemles/IMG_0002.JPG": fixture.DirtyJPEG(1),
		"groep-5/IMG_0003.JPG":         dirty[:len(dirty)/3],
		"groep-5/verslag.jpg":          []byte("this is not a photo\n"),
	}
	if heic, err := fixture.HeifEnc(dir, "heic-src", fixture.DirtyJPEG(1)); err == nil {
		gen["groep-5/IMG_0004.HEIC"] = heic
	}
	for rel, data := range gen {
		p := filepath.Join(inbox, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return err
		}
	}
	// Whatever the clock says, these files are complete.
	old := time.Now().Add(-time.Hour)
	_ = filepath.Walk(inbox, func(p string, info os.FileInfo, err error) error {
		if err == nil {
			_ = os.Chtimes(p, old, old)
		}
		return nil
	})

	fmt.Fprintf(stdout, "\n3. photoguard batch %s (report in %s):\n", inbox, filepath.Join(dir, "report.json"))
	berr := runBatch(ctx, cfg, inbox, batchFlags{report: filepath.Join(dir, "report.json")}, stdout, stderr)
	var ee exitError
	if berr != nil && !(errors.As(berr, &ee) && ee.code == exitAttention) {
		return berr
	}

	out := cfg.Targets["website"].Path
	fmt.Fprintf(stdout, "\n4. Every published file checked again, by photoguard's own parser")
	files, _ := filepath.Glob(filepath.Join(out, "*.jpg"))
	dirtyFiles := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		rep, err := inspect.Scan(data)
		if err != nil || len(rep.Findings) > 0 {
			dirtyFiles++
			fmt.Fprintf(stdout, "\n   %s: %v %v", filepath.Base(f), rep.Kinds(), err)
		}
	}
	if exiftool, err := exec.LookPath("exiftool"); err == nil && len(files) > 0 {
		fmt.Fprint(stdout, " and by exiftool")
		args := append([]string{"-G", "-s", "-GPS:all", "-EXIF:all", "-XMP:all", "-IPTC:all", "-ICC_Profile:all"}, files...)
		o, _ := exec.Command(exiftool, args...).CombinedOutput()
		if strings.Contains(string(o), "[GPS]") || strings.Contains(string(o), "[EXIF]") || strings.Contains(string(o), "[XMP") {
			dirtyFiles++
			fmt.Fprintf(stdout, "\n%s", o)
		}
	}
	fmt.Fprintf(stdout, ":\n   %d published, %d with any metadata (GPS, EXIF, XMP, IPTC, ICC, comments, trailers)\n", len(files), dirtyFiles)

	if len(groups) > 0 {
		fmt.Fprintf(stdout, "\n5. Annotated previews of the group photos (green = shown, red = redacted) in %s\n", filepath.Join(dir, "previews"))
		if err := demoPreviews(ctx, cfg, groups, filepath.Join(dir, "previews")); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "\nLook at the published photos in %s; the photos that were not published wait in %s\n"+
		"with a reason.txt each. Try:\n  bin/photoguard --config %s status\n  bin/photoguard --config %s consent list\n",
		out, cfg.StateDir, cfgPath, cfgPath)
	if dirtyFiles > 0 {
		return errors.New("a published file carries metadata")
	}
	return nil
}

// demoConsent is a consent register (the school's export) with seven people who may be on the website and
// one (sheldon) who may not, confirmed this school year.
func demoConsent(now time.Time) string {
	var b strings.Builder
	b.WriteString("pupil_id,first_name,last_name,group,website,social_media,newsletter,parent_portal,confirmed_on\n")
	date := now.Format("2006-01-02")
	for _, n := range []string{"amy", "bernadette", "howard", "leonard", "penny", "raj", "sheldon", "stuart"} {
		web := "yes"
		if n == "sheldon" {
			web = "no"
		}
		fmt.Fprintf(&b, "%s,%s,Demo,groep 8,%s,no,yes,yes,%s\n", n, strings.ToUpper(n[:1])+n[1:], web, date)
	}
	return b.String()
}

func demoPreviews(ctx context.Context, cfg *config.Config, photos []string, dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	log, _ := newLogger(slog.LevelError)
	st, err := openPipeline(cfg, log, runMode{targets: cfg.TargetNames(), dryRun: true, batch: true})
	if err != nil {
		return err
	}
	defer st.Close()
	for _, p := range photos {
		j, _ := st.p.Explain(ctx, filepath.Dir(p), p)
		if j == nil || j.Image == nil {
			continue
		}
		name := strings.TrimSuffix(filepath.Base(p), filepath.Ext(p)) + ".png"
		if err := writeAnnotated(cfg, filepath.Join(dir, name), j); err != nil {
			return err
		}
	}
	return nil
}

func copyFile(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return os.WriteFile(dst, data, 0o644)
}

// indented writes every line with two spaces in front.
type indentWriter struct{ w io.Writer }

func indented(w io.Writer) io.Writer { return indentWriter{w} }

func (i indentWriter) Write(p []byte) (int, error) {
	s := strings.TrimRight(string(p), "\n")
	lines := strings.Split(s, "\n")
	for k, l := range lines {
		lines[k] = "   " + l
	}
	_, err := io.WriteString(i.w, strings.Join(lines, "\n")+"\n")
	return len(p), err
}
