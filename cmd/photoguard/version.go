package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/photoguard/photoguard/detect/dlib"
)

// Set at build time to override what the build info says, for example
//
//	go build -ldflags "-X main.version=1.4.0 -X main.commit=$(git rev-parse --short HEAD) \
//	    -X main.dlibVersion=$(dpkg-query -W -f='${Version}' libdlib-dev)" ./cmd/photoguard
var (
	version     string // the release; default: the module version Go stamped
	commit      string // the commit; default: vcs.revision (and "modified")
	dlibVersion string // the dlib package built against; default: the library loaded
)

// setVersion gives root its --version flag. The report is made only when
// it is asked for (it hashes the model files).
func setVersion(root *cobra.Command) {
	v, _ := buildVersion()
	root.Version = v
	cobra.AddTemplateFunc("photoguardVersion", func() string {
		var b strings.Builder
		writeVersion(&b, modelsDir())
		return b.String()
	})
	root.SetVersionTemplate("{{photoguardVersion}}")
}

// modelsDir is the configured models_dir, or "" when the configuration
// does not load.
func modelsDir() string {
	cfg, err := loadConfig()
	if err != nil {
		return ""
	}
	return cfg.ModelsDir
}

// buildVersion is the version and commit of this binary: the -ldflags
// values, else what Go recorded (the module version, vcs.revision, and
// "modified" for a build from a changed checkout).
func buildVersion() (ver, rev string) {
	ver, rev = version, commit
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return orUnknown(ver), orUnknown(rev)
	}
	if ver == "" {
		ver = bi.Main.Version
	}
	if rev == "" {
		var when string
		modified := false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
				if len(rev) > 12 {
					rev = rev[:12]
				}
			case "vcs.time":
				when = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
		if rev != "" && when != "" {
			rev += " of " + when
		}
		if modified {
			rev += ", modified"
		}
	}
	return orUnknown(ver), orUnknown(rev)
}

func orUnknown(s string) string {
	if s == "" || s == "(devel)" {
		return "unknown"
	}
	return s
}

// writeVersion writes the --version report: photoguard's version and
// commit, Go's, dlib's, and the models in dir with their checksums.
func writeVersion(w io.Writer, dir string) {
	ver, rev := buildVersion()
	fmt.Fprintf(w, "photoguard %s (commit %s)\n", ver, rev)
	fmt.Fprintf(w, "go:      %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(w, "dlib:    %s\n", dlibReport())
	if dir == "" {
		fmt.Fprintln(w, "models:  unknown (the configuration does not load)")
		return
	}
	id, err := dlib.ModelID(dir)
	if err != nil {
		fmt.Fprintf(w, "models:  %s: %v\n", dir, err)
	} else {
		fmt.Fprintf(w, "models:  %s, model id %s (what the consent store records with each reference)\n", dir, id)
	}
	for _, m := range modelFiles(dir) {
		fmt.Fprintf(w, "  %s\n", m)
	}
}

// dlibReport says which dlib this process runs with: the version recorded
// at build time (main.dlibVersion), else that of the shared library loaded
// (its file name, libdlib.so.19.24.0).
func dlibReport() string {
	if dlibVersion != "" {
		return dlibVersion + " (recorded at build)"
	}
	if lib := loadedLibrary("libdlib.so"); lib != "" {
		if _, v, ok := strings.Cut(filepath.Base(lib), ".so."); ok {
			return v + " (" + lib + ")"
		}
		return lib
	}
	return "unknown (not loaded as a shared library)"
}

// loadedLibrary is the path of the shared library whose file name starts
// with prefix in this process's memory map, or "".
func loadedLibrary(prefix string) string {
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 6 {
			continue
		}
		if p := fields[len(fields)-1]; strings.HasPrefix(filepath.Base(p), prefix) {
			return p
		}
	}
	return ""
}

// modelFiles lists the model files in dir (*.dat, *.onnx) with their
// SHA-256, as scripts/models.sha256 and scripts/finder.sha256 pin them,
// and where a link points.
func modelFiles(dir string) []string {
	var names []string
	for _, pat := range []string{"*.dat", "*.onnx"} {
		m, _ := filepath.Glob(filepath.Join(dir, pat))
		names = append(names, m...)
	}
	sort.Strings(names)
	var out []string
	for _, p := range names {
		line := filepath.Base(p)
		if target, err := os.Readlink(p); err == nil {
			line += " -> " + target
		}
		sum, err := fileSHA256(p)
		if err != nil {
			line += ": " + err.Error()
		} else {
			line += "  sha256 " + sum
		}
		out = append(out, line)
	}
	return out
}

func fileSHA256(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
