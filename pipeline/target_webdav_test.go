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

// Issue 19: a WebDAV share slower than the answer timeout. The photo is not
// published, the reason says what happened ("the server did not answer
// within …"), and the ledger had the temporary name before the upload, so
// that the upload landing later (a complete output) can be reached by a
// takedown or a sweep (pipeline/ledger).
func TestWebDAVSlowShare(t *testing.T) {
	share := t.TempDir()
	srv := webdavtest.New(t, share)
	tg, err := webdav.New(webdav.Options{URL: srv.URL, Path: "website", User: webdavtest.User, Password: webdavtest.Password,
		Timeout: 5 * time.Second, AnswerTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	led := &fakeLedger{}
	e := newEnv(t)
	o := e.p.opt
	o.Destinations = []*Destination{{Name: "website", Channel: "website", Target: tg}}
	o.Journal, o.Ledger = e.j, led
	e.build(o)
	e.write("groep-5/a.jpg", photo(t, 21))
	srv.DelayUploads(400 * time.Millisecond)
	it := one(t, e.batch(), "groep-5/a.jpg")
	srv.WaitLate()
	if it.Outcome == Published || !strings.Contains(it.Reason, "the server did not answer within 0.2 s") {
		t.Fatalf("slow share: %+v", it)
	}
	if len(led.pubs) < 2 || led.calls[0] != "publishing website  " {
		t.Fatalf("ledger calls %q", led.calls)
	}
	temp := webdav.TempName(led.pubs[0].Name)
	if led.pubs[0].Temp != temp {
		t.Errorf("the announcement has temp %q, want %q", led.pubs[0].Temp, temp)
	}
	if _, err := os.Stat(filepath.Join(share, "website", temp)); err != nil {
		t.Errorf("the late upload is not under the recorded name: %v", err)
	}
}
