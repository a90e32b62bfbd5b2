package pipeline

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/photoguard/photoguard/pipeline/target/webdav"
	"github.com/photoguard/photoguard/pipeline/target/webdav/webdavtest"
)

// A WebDAV share that dies mid-upload: the photo is not published, nothing
// partial is visible under its name, the input is kept where it was, and the
// next run (the share is back) publishes it once.
func TestWebDAVDiesMidUpload(t *testing.T) {
	share := t.TempDir()
	srv := webdavtest.New(t, share)
	tg, err := webdav.New(webdav.Options{URL: srv.URL, Path: "website", User: webdavtest.User, Password: webdavtest.Password, Timeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	o := e.p.opt
	o.Destinations = []*Destination{{Name: "website", Channel: "website", Target: tg}}
	o.Journal = e.j
	e.build(o)
	in := e.write("groep-5/a.jpg", photo(t, 21))

	published := func() []string {
		entries, _ := os.ReadDir(filepath.Join(share, "website"))
		var names []string
		for _, en := range entries {
			if !strings.HasPrefix(en.Name(), ".") {
				names = append(names, en.Name())
			}
		}
		return names
	}

	srv.DieOnUpload()
	it := one(t, e.batch(), "groep-5/a.jpg")
	if it.Outcome != Held || !it.Kept || it.Aside != "" {
		t.Fatalf("share died mid-upload: %+v", it)
	}
	if !exists(in) {
		t.Fatal("input wiped or moved while the share was down")
	}
	if got := published(); len(got) != 0 {
		t.Fatalf("visible on the share after the failed upload: %v", got)
	}
	partial, _ := filepath.Glob(filepath.Join(share, "website", ".*"))
	if len(partial) == 0 {
		t.Fatal("the fault did not happen: no partial upload on the share")
	}

	srv.Revive()
	it = one(t, e.batch(), "groep-5/a.jpg")
	if it.Outcome != Published || exists(in) {
		t.Fatalf("after the share came back: %+v", it)
	}
	got := published()
	if len(got) != 1 {
		t.Fatalf("published on the share: %v", got)
	}
	data, err := os.ReadFile(filepath.Join(share, "website", got[0]))
	if err != nil || len(data) < 1000 || data[0] != 0xFF || data[1] != 0xD8 || data[len(data)-2] != 0xFF || data[len(data)-1] != 0xD9 {
		t.Fatalf("published file is not a whole JPEG: %d bytes, %v", len(data), err)
	}
}
