package held

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSelect: a held photo is named by its folder, its short hash or any
// prefix of 6 characters or more; an ambiguous prefix is refused with the
// candidates, a short or unknown one with what to do.
func TestSelect(t *testing.T) {
	photos := []Photo{
		{Name: "20261201-c1656a168077", Short: "c1656a168077", SHA256: "c1656a168077" + strings.Repeat("0", 52), Reason: "target website refused the photo"},
		{Name: "20261130-c1656a99aaaa", Short: "c1656a99aaaa", SHA256: "c1656a99aaaa" + strings.Repeat("1", 52), Reason: "face detection failed"},
	}
	for _, name := range []string{"c1656a168077", "C1656A1680", "20261201-c1656a168077", photos[0].SHA256} {
		got, err := Select(photos, []string{name})
		if err != nil || len(got) != 1 || got[0].Name != photos[0].Name {
			t.Errorf("%s: %+v, %v", name, got, err)
		}
	}
	_, err := Select(photos, []string{"c1656a"})
	if err == nil || !strings.Contains(err.Error(), photos[0].Name) || !strings.Contains(err.Error(), photos[1].Name) {
		t.Errorf("ambiguous: %v", err)
	}
	for _, bad := range []string{"c165", "ffffff"} {
		if _, err := Select(photos, []string{bad}); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	if got, err := Select(photos, []string{"c1656a99", "c1656a99aaaa"}); err != nil || len(got) != 1 {
		t.Errorf("named twice: %+v, %v", got, err)
	}
}

// TestStagedRel: the inbox path from the reason file is rebuilt only when
// it is a plain relative path ending in the original's name; anything else
// (a path climbing out, an absolute one, another name) stages the original
// under its own name.
func TestStagedRel(t *testing.T) {
	for rel, want := range map[string]string{
		"groep-5/zwemles/IMG_1.jpg": "groep-5/zwemles/IMG_1.jpg",
		"IMG_1.jpg":                 "IMG_1.jpg",
		"../../etc/IMG_1.jpg":       "IMG_1.jpg",
		"/etc/IMG_1.jpg":            "IMG_1.jpg",
		"groep-5/other.jpg":         "IMG_1.jpg",
		"":                          "IMG_1.jpg",
	} {
		if got := stagedRel(Photo{File: "/state/held/x/IMG_1.jpg", Rel: rel}); got != filepath.FromSlash(want) {
			t.Errorf("%q: %q, want %q", rel, got, want)
		}
	}
}

// TestList: folders with a reason file are held photos (with the original
// beside it, or none when it is gone); anything else in held/ is not.
func TestList(t *testing.T) {
	state := t.TempDir()
	mk := func(name string, files map[string]string) {
		dir := filepath.Join(state, Folder, name)
		os.MkdirAll(dir, 0o700)
		for f, text := range files {
			os.WriteFile(filepath.Join(dir, f), []byte(text), 0o600)
		}
	}
	mk("20261201-aaaaaaaaaaaa", map[string]string{"reason.txt": "photo:   groep-5/a.jpg\noutcome: held\nreason:  target website refused the photo: 403\nsha256:  " + strings.Repeat("a", 64) + "\n", "a.jpg": "x"})
	mk("20261201-bbbbbbbbbbbb", map[string]string{"reason.txt": "photo:   b.jpg\n"})
	mk("stray", map[string]string{"notes.txt": "x"})
	photos, err := List(state)
	if err != nil || len(photos) != 2 {
		t.Fatalf("%+v, %v", photos, err)
	}
	for _, ph := range photos {
		switch ph.Short {
		case "aaaaaaaaaaaa":
			if ph.Rel != "groep-5/a.jpg" || ph.Reason != "target website refused the photo: 403" || ph.SHA256 != strings.Repeat("a", 64) || filepath.Base(ph.File) != "a.jpg" {
				t.Errorf("%+v", ph)
			}
		case "bbbbbbbbbbbb":
			if ph.File != "" {
				t.Errorf("original gone, File %q", ph.File)
			}
		default:
			t.Errorf("%+v", ph)
		}
	}
}
