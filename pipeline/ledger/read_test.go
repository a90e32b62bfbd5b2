package ledger

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/photoguard/photoguard/pipeline"
)

// rewriteLine replaces line n (from 1) of the ledger with what f makes of it.
func rewriteLine(t *testing.T, state string, n int, f func([]byte) []byte) {
	t.Helper()
	path := filepath.Join(state, Dir, FileName)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(data, []byte{'\n'})
	lines[n-1] = f(lines[n-1])
	if err := os.WriteFile(path, bytes.Join(lines, []byte{'\n'}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// Issue 19: one damaged line in the middle of the ledger stopped every
// takedown. It is skipped and counted, and a takedown by pupil still
// reaches every photo it can read.
func TestTakedownPastADamagedLine(t *testing.T) {
	w := newWorld(t, targetKinds[0])
	w.publish(hash("a1", 1), "anna")
	w.publish(hash("a2", 2), "anna", "bram")
	w.publish(hash("a3", 3), "anna")
	// Lines 3 and 4 are the second photo's announcement and confirmation.
	rewriteLine(t, w.state, 3, func([]byte) []byte { return []byte("\x00\x00\x00\x00 disk fault") })
	res, err := w.takedowner().Run(context.Background(), Request{Pupil: "anna"})
	if err != nil {
		t.Fatalf("takedown with a damaged line: %v", err)
	}
	if len(res.Removed) != 3 {
		// The second photo's confirmation (line 4) still names anna.
		t.Errorf("removed %d photos, want 3 (every photo a readable line names)", len(res.Removed))
	}
	if res.Ledger == nil || !reflect.DeepEqual(res.Ledger.Damaged, []int{3}) || !strings.Contains(res.Ledger.Problem(), "1 damaged line (line 3)") {
		t.Errorf("the takedown's reading: %+v", res.Ledger)
	}
	// The takedown's own entries were appended after the damage and read.
	rd, err := Read(w.state, testSealKey)
	if err != nil || len(rd.Entries) != rd.Lines-1 {
		t.Fatalf("%+v, %v", rd, err)
	}
	if got := w.live(); len(got) != 0 {
		t.Errorf("still live: %v", got)
	}
}

// A sealed line that was changed is found and not trusted; lines written
// before sealing are read; an unsealed line after a sealed one is a changed
// line (a line put in, or a seal taken off).
func TestSealedLines(t *testing.T) {
	state := t.TempDir()
	old, err := Open(state, nil) // photoguard before sealing
	if err != nil {
		t.Fatal(err)
	}
	pub := func(l *Ledger, n int, pupils ...string) {
		t.Helper()
		p := pipeline.Publication{SHA256: hash("c", n), Target: "website", Channel: "website", Name: pipeline.OutputName(time.Now(), hash("c", n)), Pupils: pupils}
		if err := l.Publishing(p); err != nil {
			t.Fatal(err)
		}
	}
	pub(old, 1, "anna")
	led, err := Open(state, testSealKey)
	if err != nil {
		t.Fatal(err)
	}
	pub(led, 2, "anna")
	pub(led, 3, "anna")
	pub(led, 4, "bram")
	rd, err := Read(state, testSealKey)
	if err != nil || len(rd.Entries) != 4 || rd.Unsealed != 1 || rd.Skipped() != 0 {
		t.Fatalf("clean ledger: %+v, %v", rd, err)
	}
	// Someone removes anna from line 3 (so that a takedown misses it).
	rewriteLine(t, state, 3, func(b []byte) []byte { return bytes.Replace(b, []byte(`"anna"`), []byte(`"zoe"`), 1) })
	// And puts in an unsealed line.
	f, _ := os.OpenFile(filepath.Join(state, Dir, FileName), os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString(`{"time":"2026-12-01T10:00:00Z","kind":"takedown","sha256":"` + hash("c", 2) + `","target":"website","name":"x","removed":true}` + "\n")
	f.Close()
	rd, err = Read(state, testSealKey)
	if err != nil || !reflect.DeepEqual(rd.Changed, []int{3, 5}) || len(rd.Entries) != 3 || len(rd.Suspect) != 2 {
		t.Fatalf("changed lines: %+v, %v", rd, err)
	}
	if !strings.Contains(rd.Problem(), "2 changed lines whose seal does not match (line 3, 5)") {
		t.Errorf("problem: %s", rd.Problem())
	}
	// Without the key the seals are not checked, and that is counted.
	if rd, _ := Read(state, nil); rd.Unchecked != 3 || rd.Skipped() != 0 {
		t.Errorf("without a key: %+v", rd)
	}
	// Another key: every sealed line is changed.
	if rd, _ := Read(state, []byte("another key, not the ledger's one")); len(rd.Changed) != 4 {
		t.Errorf("with another key: %+v", rd)
	}
}

// Repair keeps every readable, trusted entry (sealed again), puts the other
// lines aside, and leaves a ledger that reads clean and takes new entries.
func TestRepair(t *testing.T) {
	w := newWorld(t, targetKinds[0])
	w.publish(hash("a1", 1), "anna")
	w.publish(hash("a2", 2), "bram")
	rewriteLine(t, w.state, 2, func(b []byte) []byte { return b[:len(b)/2] })
	rewriteLine(t, w.state, 4, func(b []byte) []byte { return bytes.Replace(b, []byte("bram"), []byte("brom"), 1) })
	before, _ := Read(w.state, testSealKey)
	if before.Skipped() != 2 {
		t.Fatalf("before: %+v", before)
	}
	res, err := Repair(w.state, testSealKey, w.now)
	if err != nil || res.Kept != 2 || res.Set == "" {
		t.Fatalf("repair: %+v, %v", res, err)
	}
	aside, err := os.ReadFile(res.Set)
	if err != nil || !strings.HasPrefix(string(aside), "2\t") || !strings.Contains(string(aside), "\n4\t") {
		t.Errorf("lines put aside: %q, %v", aside, err)
	}
	if st, _ := os.Stat(res.Set); st.Mode().Perm() != 0o600 {
		t.Errorf("mode of %s: %v", res.Set, st.Mode())
	}
	after, err := Read(w.state, testSealKey)
	if err != nil || after.Skipped() != 0 || !reflect.DeepEqual(after.Entries, before.Entries) {
		t.Fatalf("after: %+v, %v", after, err)
	}
	w.publish(hash("a3", 3), "anna")
	if rd, _ := Read(w.state, testSealKey); rd.Skipped() != 0 || len(rd.Entries) != 4 {
		t.Errorf("appending after a repair: %+v", rd)
	}
	// A clean ledger: nothing put aside.
	if res, err := Repair(w.state, testSealKey, w.now); err != nil || res.Set != "" || res.Kept != 4 {
		t.Errorf("repair of a clean ledger: %+v, %v", res, err)
	}
}

// FuzzParseLine: any bytes are an entry, damaged or changed, never a panic;
// a line sealed with the key reads back as the same entry.
func FuzzParseLine(f *testing.F) {
	f.Add([]byte(`{"time":"2026-12-01T10:00:00Z","kind":"published","sha256":"ab","target":"website","name":"x.jpg","pupils":["anna"]}`))
	f.Add(sealLine(testSealKey, []byte(`{"kind":"publishing","sha256":"ab","target":"t","name":"n"}`)))
	f.Add([]byte(`{"kind":"x","seal":"00"}`))
	f.Add([]byte("\x00\xff{"))
	f.Fuzz(func(t *testing.T, line []byte) {
		e, st := ParseLine(line, testSealKey)
		if st == LineDamaged {
			return
		}
		if e.Kind == "" || e.SHA256 == "" || e.Target == "" {
			t.Fatalf("state %d without kind, hash or target", st)
		}
		js, _ := unseal(line)
		sealed := sealLine(testSealKey, js)
		if e2, st2 := ParseLine(sealed, testSealKey); st2 != LineOK || !reflect.DeepEqual(e, e2) {
			t.Fatalf("sealed again: %d %+v, was %+v", st2, e2, e)
		}
	})
}
