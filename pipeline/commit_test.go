package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// A dry run commits nothing on every path a job can end by, also the ones
// that end outside Process (an entry that is not a regular file goes
// straight to settle): nothing is moved, wiped, noted, published or
// recorded, and each outcome is still told.
func TestDryRunCommitsNothingOnAnyPath(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.DryRun = true; o.Journal = nil; o.Wipe = true; o.TeacherNotes = true })
	inputs := []string{
		e.write("a.jpg", photo(t, 21)),
		e.write("b.jpg", []byte("garbage")),
		e.write("groep-5/zwemles/c.jpg", photo(t, 22)),
	}
	link := filepath.Join(e.inbox, "link.jpg")
	must(t, os.Symlink(inputs[0], link))
	items, err := e.p.ProcessSpecial(context.Background(), e.inbox, link, "a symbolic link")
	if err != nil || len(items) != 1 || items[0].Outcome != Quarantined || items[0].Aside != "" {
		t.Fatalf("special entry: %+v, %v", items, err)
	}
	got := e.batch()
	for rel, want := range map[string]Outcome{"a.jpg": Published, "b.jpg": Quarantined, "groep-5/zwemles/c.jpg": Rejected} {
		if it := one(t, got, rel); it.Outcome != want || it.Aside != "" {
			t.Errorf("%s: %+v, want %s", rel, it, want)
		}
	}
	for _, in := range append(inputs, link) {
		if _, err := os.Lstat(in); err != nil {
			t.Errorf("%s: %v", in, err)
		}
		if exists(in + NoteSuffix) {
			t.Errorf("a dry run left a note for %s", in)
		}
	}
	if n, err := e.p.Recover(context.Background()); n != 0 || err != nil {
		t.Errorf("a dry run recovered %d (%v)", n, err)
	}
	if len(e.outputs()) != 0 || exists(e.state) {
		t.Errorf("a dry run published %v or created state_dir (%v)", e.outputs(), exists(e.state))
	}
}
