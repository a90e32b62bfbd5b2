package inbox

import (
	"testing"

	"github.com/photoguard/photoguard/internal/keyerr"
)

// The one set of skip rules: what photoguard never takes, and never counts
// as waiting.
func TestSkipRules(t *testing.T) {
	for _, c := range []struct {
		name string
		skip bool
	}{
		{"IMG_0001.HEIC", false},
		{"IMG_0001.JPG", false},
		{"IMG_0001.MOV", false}, // a video: taken, to be set aside with its own reason
		{"verjaardag Pietje.jpeg", false},
		{"IMG_0001.AAE", true}, // iOS Photos' edit file
		{"IMG_0001.aae", true},
		{"IMG_E0001.AAE", true},
		{".DS_Store", true},
		{"._IMG_0001.JPG", true},
		{".syncthing.IMG_0001.JPG.tmp", true},
		{"~syncthing~IMG_0001.JPG.tmp", true},
		{"~$verslag.docx", true},
		{"IMG_0001.JPG.partial", true},
		{"IMG_0001.JPG.crdownload", true},
		{"IMG_0001.JPG.part", true},
		{"IMG_0001.JPG.icloud", true},
		{"IMG_0001.JPG.!sync", true},
		{"Thumbs.db", true},
		{"desktop.ini", true},
		{"Icon\r", true},
		{"IMG_0001.JPG" + NoteSuffix, true},
		{".photoguard-0123abcd.tmp", true},
	} {
		if got := Ignored(c.name); got != c.skip {
			t.Errorf("Ignored(%q) = %v, want %v", c.name, got, c.skip)
		}
		if why := Skipped(c.name); (why != "") != c.skip {
			t.Errorf("Skipped(%q) = %q", c.name, why)
		}
	}
	if why := Skipped("IMG_0001.AAE"); why == "" || why == Skipped(".DS_Store") {
		t.Errorf("an .AAE is skipped for its own reason: %q", why)
	}
	for _, d := range []string{".stversions", ".dropbox.cache", ".Trash-1000", "@eaDir", "#recycle", "$RECYCLE.BIN", "lost+found"} {
		if !SkipDir(d) {
			t.Errorf("SkipDir(%q) = false", d)
		}
	}
	for _, d := range []string{"groep-5", "zwemles", "2024"} {
		if SkipDir(d) {
			t.Errorf("SkipDir(%q) = true", d)
		}
	}
}

func TestIsVideo(t *testing.T) {
	for _, n := range []string{"IMG_0001.MOV", "clip.mp4", "a.M4V", "x.3gp", "y.3g2", "z.avi", "w.mkv", "v.webm", "00001.MTS", "c.m2ts"} {
		if !IsVideo(n) {
			t.Errorf("IsVideo(%q) = false", n)
		}
	}
	for _, n := range []string{"IMG_0001.HEIC", "IMG_0001.JPG", "a.png", "movie.mov.jpg", "mov", "notes.txt"} {
		if IsVideo(n) {
			t.Errorf("IsVideo(%q) = true", n)
		}
	}
}

// The defaults are valid; each option out of range is named.
func TestOptionsValidate(t *testing.T) {
	if err := DefaultOptions().Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		opt  func(*Options)
		want string
	}{
		{func(o *Options) { o.Settle = -1 }, "settle"},
		{func(o *Options) { o.Settle = 2 * MaxSettle; o.GiveUp = 3 * MaxSettle }, "settle"},
		{func(o *Options) { o.Rescan = MinRescan / 2 }, "rescan"},
		{func(o *Options) { o.Rescan = 2 * MaxRescan }, "rescan"},
		{func(o *Options) { o.GiveUp = o.Settle / 2 }, "give_up"},
	} {
		o := DefaultOptions()
		c.opt(&o)
		err := o.Validate()
		es, ok := err.(keyerr.Errors)
		if !ok || len(es) != 1 || es[0].Key != c.want {
			t.Errorf("%+v: %v, want one error for %s", o, err, c.want)
		}
	}
}
