package consent

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/photoguard/photoguard/pipeline/audit"
)

// school is a store with eight pupils, six of them enrolled (19 references,
// as in the reported case), and an audit log.
func school(t *testing.T, opts ...Option) (*Store, string) {
	t.Helper()
	state := t.TempDir()
	log, err := audit.Open(state, audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := openStore(t, state, testKey(t), append([]Option{WithAudit(log)}, opts...)...)
	var people []Person
	for i := 1; i <= 8; i++ {
		people = append(people, person(fmt.Sprint(100200+i), "Wilhelmina", "Oosterhuis", true, "2025-09-01"))
	}
	mustImport(t, s, people...)
	refs := 0
	for i := 3; i <= 8; i++ {
		n := 3
		if i == 8 {
			n = 4
		}
		var rs []Reference
		for k := 0; k < n; k++ {
			rs = append(rs, ref(10*i+k))
		}
		if err := s.Enroll(fmt.Sprint(100200+i), rs); err != nil {
			t.Fatal(err)
		}
		refs += n
	}
	if refs != 19 {
		t.Fatalf("%d references", refs)
	}
	return s, state
}

// The reported case: a two-row export would remove six pupils with 19
// references. It is refused, listing them, and nothing changes, also as a
// dry run; with AllowRemove it goes through, keeps a backup and reports who
// lost how many references.
func TestImportRefusesRemovingMany(t *testing.T) {
	s, state := school(t)
	gen := s.Snapshot().Generation()
	two := []Person{person("100201", "A", "A", true, "2025-09-01"), person("100202", "B", "B", true, "2025-09-01")}
	wantRemoved := []Removal{{"100203", RolePupil, 3}, {"100204", RolePupil, 3}, {"100205", RolePupil, 3},
		{"100206", RolePupil, 3}, {"100207", RolePupil, 3}, {"100208", RolePupil, 4}}

	for name, run := range map[string]func() (ImportReport, error){
		"import":  func() (ImportReport, error) { return s.ImportConsent(two, ImportOptions{MaxRemove: 5}) },
		"dry run": func() (ImportReport, error) { return s.DiffImport(two, ImportOptions{MaxRemove: 5}) },
	} {
		rep, err := run()
		if !errors.Is(err, ErrTooManyRemovals) || !strings.Contains(err.Error(), "removes 6, at most 5") {
			t.Fatalf("%s: %v, want ErrTooManyRemovals", name, err)
		}
		if !reflect.DeepEqual(rep.RemovedPeople, wantRemoved) || rep.ReferencesRemoved != 19 || rep.PeopleUnenrolled != 6 {
			t.Errorf("%s: removed %+v (%d references)", name, rep.RemovedPeople, rep.ReferencesRemoved)
		}
		if s.Changed() || s.Snapshot().Generation() != gen || s.Snapshot().Len() != 8 || len(s.Backups()) != 0 {
			t.Fatalf("%s: a refused import changed the store", name)
		}
	}
	// Within the limit it needs no flag.
	if _, err := s.DiffImport(two[:1], ImportOptions{MaxRemove: 7}); err != nil {
		t.Errorf("7 removals with max 7: %v", err)
	}

	before, err := os.ReadFile(dataPath(state))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := s.ImportConsent(two, ImportOptions{MaxRemove: 5, AllowRemove: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Removed != 6 || s.Snapshot().Len() != 2 || len(s.Snapshot().People()) != 0 {
		t.Fatalf("allowed import: %+v, %d people left", rep, s.Snapshot().Len())
	}
	// The backup is the previous file, byte for byte, 0600, beside it.
	if rep.Backup == "" || filepath.Dir(rep.Backup) != filepath.Join(state, dataDirName) {
		t.Fatalf("backup %q", rep.Backup)
	}
	got, err := os.ReadFile(rep.Backup)
	if err != nil || string(got) != string(before) {
		t.Fatalf("backup differs from the previous store file (%v)", err)
	}
	if st, _ := os.Stat(rep.Backup); st.Mode().Perm() != 0o600 {
		t.Errorf("backup mode %04o", st.Mode().Perm())
	}
	old, _, err := open(s.key, got)
	if err != nil || len(old.people) != 8 || len(old.people["100208"].refs) != 4 {
		t.Errorf("the backup does not hold the previous store: %v", err)
	}

	// The audit log has the import by id and counts, never names.
	events, err := audit.Read(state)
	if err != nil {
		t.Fatal(err)
	}
	var imports []audit.Event
	for _, e := range events {
		if strings.Contains(fmt.Sprintf("%+v", e), "Wilhelmina") || strings.Contains(fmt.Sprintf("%+v", e), "Oosterhuis") {
			t.Errorf("audit event with a name: %+v", e)
		}
		if e.Kind == audit.ConsentImport {
			imports = append(imports, e)
		}
	}
	if len(imports) != 1+1+6 { // the first import, this one, one per pupil removed with references
		t.Fatalf("%d import events: %+v", len(imports), imports)
	}
	if e := imports[1]; e.Count != 2 || strings.Join(e.Pupils, ",") != "100203,100204,100205,100206,100207,100208" ||
		!strings.Contains(e.Detail, "6 removed with 19 enrolled references") {
		t.Errorf("import event %+v", e)
	}
	if e := imports[7]; e.Count != 4 || strings.Join(e.Pupils, ",") != "100208" {
		t.Errorf("removal event %+v", e)
	}
}

// Consent that was valid and is not after an import is a withdrawal; a yes
// that stays, a no that stays and a new person are not.
func TestImportWithdrawals(t *testing.T) {
	s := openStore(t, t.TempDir(), testKey(t))
	a := person("1", "A", "A", true, "2025-09-01")
	b := person("2", "B", "B", false, "")
	mustImport(t, s, a, person("2", "B", "B", false, ""))
	a.Consent[ChannelSocialMedia] = ChannelConsent{Given: false, ConfirmedOn: day("2025-10-01")}
	a.Consent[ChannelWebsite] = ChannelConsent{Given: true, ConfirmedOn: day("2024-09-01")} // last school year: expired
	rep, err := s.ImportConsent([]Person{a, b, person("3", "C", "C", true, "2025-09-01")}, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []Withdrawal{{"1", ChannelWebsite}, {"1", ChannelSocialMedia}}
	if !reflect.DeepEqual(rep.Withdrawals, want) {
		t.Errorf("withdrawals %+v, want %+v", rep.Withdrawals, want)
	}
}

func TestRevokeWithdrawsAndAudits(t *testing.T) {
	s, state := school(t)
	w, err := s.Revoke("100203", ChannelWebsite, ChannelNewsletter)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(w, []Withdrawal{{"100203", ChannelWebsite}, {"100203", ChannelNewsletter}}) {
		t.Errorf("withdrawals %+v", w)
	}
	for _, ch := range []string{ChannelWebsite, ChannelNewsletter} {
		if ok, why := s.Snapshot().Consent("100203", ch, testNow); ok || why != ReasonRevoked {
			t.Errorf("%s: %v %s", ch, ok, why)
		}
	}
	if ok, _ := s.Snapshot().Consent("100203", ChannelSocialMedia, testNow); !ok {
		t.Errorf("a channel not revoked lost its consent")
	}
	events, _ := audit.Read(state)
	n := 0
	for _, e := range events {
		if e.Kind == audit.ConsentRevoke && strings.Join(e.Pupils, ",") == "100203" {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d revoke events, want one per channel: %+v", n, events)
	}
	if _, err := s.Revoke("100203"); !errors.Is(err, ErrInvalid) {
		t.Errorf("revoke without a channel: %v", err)
	}
}

// Backups hold the descriptors of pupils who left: they are removed once
// older than the backup age, at the next write.
func TestBackupsPruned(t *testing.T) {
	clock := testNow
	state := t.TempDir()
	k := testKey(t)
	s := openStore(t, state, k, WithClock(func() time.Time { return clock }), WithBackupAge(30*24*time.Hour))
	mustImport(t, s, person("1", "A", "A", true, "2025-09-01"))
	rep := mustImport(t, s, person("2", "B", "B", true, "2025-09-01"))
	if rep.Backup == "" || len(s.Backups()) != 1 {
		t.Fatalf("backups %v", s.Backups())
	}
	clock = clock.Add(10 * 24 * time.Hour)
	rep2 := mustImport(t, s, person("3", "C", "C", true, "2025-09-01"))
	if len(s.Backups()) != 2 {
		t.Fatalf("a young backup was pruned: %v", s.Backups())
	}
	clock = clock.Add(25 * 24 * time.Hour)
	if _, err := s.Revoke("3", ChannelWebsite); err != nil {
		t.Fatal(err)
	}
	if b := s.Backups(); len(b) != 1 || b[0] != rep2.Backup {
		t.Errorf("after 35 days: backups %v, want only %s", b, rep2.Backup)
	}
	if _, err := os.Stat(rep.Backup); err == nil {
		t.Errorf("old backup %s kept", rep.Backup)
	}
}

// Undoing an import: the backup's people and references come back, but a
// revocation and an objection made since stay; the store as it was before
// the restore is kept too; a dry run changes nothing.
func TestRestoreBackup(t *testing.T) {
	s, _ := school(t)
	two := []Person{person("100201", "A", "A", true, "2025-09-01"), person("100202", "B", "B", true, "2025-09-01")}
	rep, err := s.ImportConsent(two, ImportOptions{AllowRemove: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Revoke("100201", ChannelWebsite); err != nil {
		t.Fatal(err)
	}
	if err := s.Object(sha("photo"), "100202", "parent asked"); err != nil {
		t.Fatal(err)
	}
	gen := s.Snapshot().Generation()
	diff, kept, err := s.RestoreBackup(rep.Backup, true)
	if err != nil || kept != "" || s.Snapshot().Generation() != gen || s.Snapshot().Len() != 2 {
		t.Fatalf("dry run: %v, kept %q, generation %d->%d", err, kept, gen, s.Snapshot().Generation())
	}
	if strings.Join(diff.PeopleBack, ",") != "100203,100204,100205,100206,100207,100208" {
		t.Errorf("dry run lists %v", diff.PeopleBack)
	}
	diff, kept, err = s.RestoreBackup(rep.Backup, false)
	if err != nil {
		t.Fatal(err)
	}
	snap := s.Snapshot()
	if snap.Len() != 8 || len(snap.References("100208")) != 4 || len(snap.People()) != 6 || diff.Accepted != snap.Generation() {
		t.Errorf("after the restore: %d people, %d enrolled", snap.Len(), len(snap.People()))
	}
	if ok, why := snap.Consent("100201", ChannelWebsite, testNow); ok || why != ReasonRevoked {
		t.Errorf("the restore brought back revoked consent: %v %s", ok, why)
	}
	if got := snap.Objections(sha("photo")); len(got) != 1 || got[0] != "100202" {
		t.Errorf("the restore dropped an objection: %v", got)
	}
	if kept == "" || len(s.Backups()) != 2 {
		t.Errorf("the store before the restore was not kept: %q %v", kept, s.Backups())
	}
	// A file of another key is refused.
	other := openStore(t, t.TempDir(), testKey(t))
	if _, _, err := other.RestoreBackup(rep.Backup, false); !errors.Is(err, ErrWrongKey) {
		t.Errorf("a backup of another key: %v", err)
	}
}
