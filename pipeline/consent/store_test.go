package consent

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/photoguard/photoguard/detect"
	"github.com/photoguard/photoguard/pipeline/internal/fsync"
)

func dataPath(stateDir string) string { return filepath.Join(stateDir, dataDirName, dataFileName) }

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	k := testKey(t)
	s := openStore(t, dir, k)
	if s.Snapshot().Generation() != 0 || s.Snapshot().Len() != 0 {
		t.Fatalf("new store not empty")
	}
	p := person("1001", "Zoë", "Vries", true, "2025-09-01")
	p.Infix = "de"
	mustImport(t, s, p, person("1002", "Daan", "Dijk", false, ""))
	added := time.Date(2025, 9, 3, 8, 0, 0, 0, time.UTC)
	r1, r2 := ref(1), ref(2)
	r1.AddedAt = added
	if err := s.Enroll("1001", []Reference{r1, r2}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Revoke("1001", ChannelSocialMedia); err != nil {
		t.Fatal(err)
	}
	if err := s.Object(sha("photo"), "1002", "ouder wil niet"); err != nil {
		t.Fatal(err)
	}
	gen := s.Snapshot().Generation()
	if gen != 4 {
		t.Errorf("generation %d after 4 writes", gen)
	}

	re := openStore(t, dir, k)
	snap := re.Snapshot()
	if snap.Generation() != gen || snap.Len() != 2 {
		t.Fatalf("reopened: generation %d len %d", snap.Generation(), snap.Len())
	}
	got, ok := snap.Person("1001")
	if !ok || got.FirstName != "Zoë" || got.Infix != "de" || got.LastName != "Vries" || got.Group != "groep 5" || got.Role != RolePupil {
		t.Errorf("person not round-tripped: %q %q %q", got.FirstName, got.Infix, got.LastName)
	}
	if c := got.Consent[ChannelWebsite]; !c.Given || !c.ConfirmedOn.Equal(day("2025-09-01")) {
		t.Errorf("website consent %+v", c)
	}
	if c := got.Consent[ChannelSocialMedia]; !c.Revoked || !c.RevokedOn.Equal(day("2025-10-15")) || c.Given {
		t.Errorf("revocation %+v", c)
	}
	refs := snap.References("1001")
	if len(refs) != 2 || refs[0].Descriptor != desc(1) || refs[1].Descriptor != desc(2) || !refs[0].AddedAt.Equal(added) ||
		refs[0].SourceSHA256 != r1.SourceSHA256 {
		t.Errorf("references not round-tripped: %d", len(refs))
	}
	if !refs[1].AddedAt.Equal(testNow) {
		t.Errorf("zero AddedAt should become the clock's now, got %v", refs[1].AddedAt)
	}
	people := snap.People()
	if len(people) != 1 || people[0].ID != "1001" || len(people[0].Descriptors) != 2 || people[0].Descriptors[1] != desc(2) {
		t.Errorf("People() = %v", people)
	}
	if ids := snap.Objections(sha("photo")); len(ids) != 1 || ids[0] != "1002" {
		t.Errorf("objections %v", ids)
	}
	objs := snap.AllObjections()
	if len(objs) != 1 || objs[0].Note != "ouder wil niet" || !objs[0].At.Equal(testNow) {
		t.Errorf("objection record %+v", objs)
	}

	// Exact float bits survive (no text round trip).
	odd := Reference{SourceSHA256: sha("odd"), Descriptor: desc(3)}
	odd.Descriptor[0] = math.Float32frombits(0x00000001) // denormal
	odd.Descriptor[1] = float32(math.Copysign(0, -1))    // negative zero
	odd.Descriptor[2] = math.MaxFloat32
	if err := re.Enroll("1002", []Reference{odd}); err != nil {
		t.Fatal(err)
	}
	back := openStore(t, dir, k).Snapshot().References("1002")
	for i := range odd.Descriptor {
		if math.Float32bits(back[0].Descriptor[i]) != math.Float32bits(odd.Descriptor[i]) {
			t.Fatalf("descriptor element %d changed: %x -> %x", i, math.Float32bits(odd.Descriptor[i]), math.Float32bits(back[0].Descriptor[i]))
		}
	}
}

func TestSnapshotIsImmutable(t *testing.T) {
	s := openStore(t, t.TempDir(), testKey(t))
	mustImport(t, s, person("1", "A", "A", true, "2025-09-01"))
	if err := s.Enroll("1", []Reference{ref(1)}); err != nil {
		t.Fatal(err)
	}
	snap := s.Snapshot()
	people := snap.People()
	people[0].Descriptors[0][0] = 42
	p, _ := snap.Person("1")
	p.Consent[ChannelWebsite] = ChannelConsent{}
	p.FirstName = "X"
	if snap.People()[0].Descriptors[0] != desc(1) {
		t.Errorf("People() shares descriptor memory with the snapshot")
	}
	if q, _ := snap.Person("1"); q.FirstName != "A" || !q.Consent[ChannelWebsite].Given {
		t.Errorf("Person() shares memory with the snapshot")
	}
	// A later write does not change an older snapshot.
	if _, err := s.Revoke("1", ChannelWebsite); err != nil {
		t.Fatal(err)
	}
	if ok, _ := snap.Consent("1", ChannelWebsite, testNow); !ok {
		t.Errorf("old snapshot changed by a later write")
	}
	if ok, _ := s.Snapshot().Consent("1", ChannelWebsite, testNow); ok {
		t.Errorf("new snapshot misses the write")
	}
}

// TestNoPlaintextOnDisk greps the raw files for names, ids, notes and the
// bytes of a descriptor, in every encoding a leak could take.
func TestNoPlaintextOnDisk(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, testKey(t))
	mustImport(t, s, person("leerling-778812", "Wilhelmina", "Oosterhuis", true, "2025-09-01"))
	r := ref(7)
	if err := s.Enroll("leerling-778812", []Reference{r}); err != nil {
		t.Fatal(err)
	}
	if err := s.Object(sha("p"), "leerling-778812", "bezwaar via mentor Jorinde"); err != nil {
		t.Fatal(err)
	}
	le := make([]byte, 4*detect.DescriptorLen)
	for i, f := range r.Descriptor {
		binary.LittleEndian.PutUint32(le[4*i:], math.Float32bits(f))
	}
	be := make([]byte, 4*detect.DescriptorLen)
	for i, f := range r.Descriptor {
		binary.BigEndian.PutUint32(be[4*i:], math.Float32bits(f))
	}
	needles := map[string][]byte{
		"first name":             []byte("Wilhelmina"),
		"last name":              []byte("Oosterhuis"),
		"id":                     []byte("778812"),
		"note":                   []byte("Jorinde"),
		"descriptor LE (16 B)":   le[:16],
		"descriptor LE (last)":   le[len(le)-16:],
		"descriptor BE (16 B)":   be[:16],
		"descriptor base64":      []byte(base64.StdEncoding.EncodeToString(le)[:24]),
		"descriptor as text":     []byte(strconv.FormatFloat(float64(r.Descriptor[5]), 'g', -1, 32)),
		"reference photo sha256": []byte(r.SourceSHA256[:16]),
		"json key":               []byte(`"first_name"`),
	}
	entries, err := os.ReadDir(filepath.Join(dir, dataDirName))
	if err != nil {
		t.Fatal(err)
	}
	files := 0
	for _, e := range entries {
		raw, err := os.ReadFile(filepath.Join(dir, dataDirName, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files++
		for what, n := range needles {
			if bytes.Contains(raw, n) {
				t.Errorf("%s: contains the %s in plaintext", e.Name(), what)
			}
		}
	}
	if files == 0 {
		t.Fatal("no files written")
	}
	// The needles must be findable when they are there: check the test itself.
	if !bytes.Contains(append([]byte("xx"), le...), le[:16]) {
		t.Fatal("needle self-check failed")
	}
}

func TestPermissions(t *testing.T) {
	old := unix.Umask(0) // the store must not rely on the umask
	defer unix.Umask(old)
	state := filepath.Join(t.TempDir(), "state")
	k, err := LoadKey(state)
	if err != nil {
		t.Fatal(err)
	}
	s := openStore(t, state, k)
	mustImport(t, s, person("1", "A", "A", true, "2025-09-01"))
	want := map[string]os.FileMode{
		state:                             0o700,
		filepath.Join(state, keyFileName): 0o600,
		filepath.Join(state, dataDirName): 0o700,
		dataPath(state):                   0o600,
		filepath.Join(state, dataDirName, lockFileName): 0o600,
	}
	for p, m := range want {
		st, err := os.Stat(p)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if st.Mode().Perm() != m {
			t.Errorf("%s has mode %04o, want %04o", p, st.Mode().Perm(), m)
		}
	}
	// No temp files left behind.
	m, _ := filepath.Glob(filepath.Join(state, dataDirName, fsync.TempPrefix+"*"))
	k2, _ := filepath.Glob(filepath.Join(state, fsync.TempPrefix+"*"))
	if len(m)+len(k2) > 0 {
		t.Errorf("temp files left: %v %v", m, k2)
	}
}

func TestInsecurePermissionsRefused(t *testing.T) {
	state := t.TempDir()
	k := testKey(t)
	s := openStore(t, state, k)
	mustImport(t, s, person("1", "A", "A", true, "2025-09-01"))

	if err := os.Chmod(dataPath(state), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Open(state, k)
	if !errors.Is(err, ErrInsecure) || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("world-readable data file: %v", err)
	}
	os.Chmod(dataPath(state), 0o600)

	if err := os.Chmod(filepath.Join(state, dataDirName), 0o750); err != nil {
		t.Fatal(err)
	}
	_, err = Open(state, k)
	if !errors.Is(err, ErrInsecure) || !strings.Contains(err.Error(), "chmod 700") {
		t.Errorf("group-readable data dir: %v", err)
	}
	os.Chmod(filepath.Join(state, dataDirName), 0o700)

	if err := os.Chmod(state, 0o777); err != nil {
		t.Fatal(err)
	}
	_, err = Open(state, k)
	if !errors.Is(err, ErrInsecure) {
		t.Errorf("world-writable state dir: %v", err)
	}
	os.Chmod(state, 0o700)
	if _, err := Open(state, k); err != nil {
		t.Errorf("after fixing modes: %v", err)
	}
}

func TestLoadKey(t *testing.T) {
	t.Setenv(KeyEnv, "")
	state := t.TempDir()
	k1, err := LoadKey(state)
	if err != nil {
		t.Fatal(err)
	}
	kf := filepath.Join(state, keyFileName)
	st, err := os.Stat(kf)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", err, st)
	}
	k2, err := LoadKey(state)
	if err != nil || k2.ID() != k1.ID() {
		t.Fatalf("second LoadKey gave another key: %v", err)
	}
	raw, _ := os.ReadFile(kf)
	if k3, err := parseKey(string(raw)); err != nil || k3.ID() != k1.ID() {
		t.Errorf("key file is not the base64 key: %v", err)
	}

	t.Run("0644 refused", func(t *testing.T) {
		if err := os.Chmod(kf, 0o644); err != nil {
			t.Fatal(err)
		}
		defer os.Chmod(kf, 0o600)
		_, err := LoadKey(state)
		if !errors.Is(err, ErrInsecure) || !strings.Contains(err.Error(), "chmod 600 "+kf) {
			t.Errorf("0644 key file: %v", err)
		}
		if strings.Contains(err.Error(), strings.TrimSpace(string(raw))) {
			t.Errorf("error shows the key")
		}
	})
	t.Run("0640 refused", func(t *testing.T) {
		os.Chmod(kf, 0o640)
		defer os.Chmod(kf, 0o600)
		if _, err := LoadKey(state); !errors.Is(err, ErrInsecure) {
			t.Errorf("0640 key file: %v", err)
		}
	})
	t.Run("env wins", func(t *testing.T) {
		k := testKey(t)
		t.Setenv(KeyEnv, k.encode())
		got, err := LoadKey(state)
		if err != nil || got.ID() != k.ID() {
			t.Errorf("env key not used: %v", err)
		}
		t.Setenv(KeyEnv, base64.RawURLEncoding.EncodeToString(k.b[:]))
		if got, err := LoadKey(state); err != nil || got.ID() != k.ID() {
			t.Errorf("unpadded url base64 env key: %v", err)
		}
	})
	t.Run("bad env is an error, not a fallback", func(t *testing.T) {
		for _, v := range []string{"not base64!", base64.StdEncoding.EncodeToString(make([]byte, 16))} {
			t.Setenv(KeyEnv, v)
			_, err := LoadKey(state)
			if !errors.Is(err, ErrBadKey) {
				t.Errorf("%q: %v", v, err)
			}
			if err != nil && strings.Contains(err.Error(), v) {
				t.Errorf("error repeats the key value")
			}
		}
	})
	t.Run("no new key over existing data", func(t *testing.T) {
		t.Setenv(KeyEnv, "")
		s := openStore(t, state, k1)
		mustImport(t, s, person("1", "A", "A", true, "2025-09-01"))
		os.Rename(kf, kf+".bak")
		defer os.Rename(kf+".bak", kf)
		_, err := LoadKey(state)
		if !errors.Is(err, ErrNoKey) {
			t.Errorf("missing key with data: %v", err)
		}
		if _, err := os.Stat(kf); err == nil {
			t.Errorf("a new key file was created over existing data")
		}
	})
	t.Run("concurrent first use agrees on one key", func(t *testing.T) {
		t.Setenv(KeyEnv, "")
		fresh := t.TempDir()
		ids := make([]string, 8)
		var wg sync.WaitGroup
		for i := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				k, err := LoadKey(fresh)
				if err != nil {
					t.Error(err)
					return
				}
				ids[i] = k.ID()
			}()
		}
		wg.Wait()
		for _, id := range ids {
			if id != ids[0] {
				t.Fatalf("different keys: %v", ids)
			}
		}
	})
	t.Run("zero key refused by Open", func(t *testing.T) {
		if _, err := Open(t.TempDir(), Key{}); !errors.Is(err, ErrBadKey) {
			t.Errorf("zero Key: %v", err)
		}
	})
}

func TestWrongKey(t *testing.T) {
	state := t.TempDir()
	s := openStore(t, state, testKey(t))
	mustImport(t, s, person("1", "A", "A", true, "2025-09-01"))
	_, err := Open(state, testKey(t))
	if !errors.Is(err, ErrWrongKey) {
		t.Fatalf("wrong key: %v", err)
	}
	if !strings.Contains(err.Error(), "wrong key") {
		t.Errorf("message: %v", err)
	}
}

func TestTamperedFileRejected(t *testing.T) {
	state := t.TempDir()
	k := testKey(t)
	s := openStore(t, state, k)
	mustImport(t, s, person("1", "A", "A", true, "2025-09-01"))
	orig, err := os.ReadFile(dataPath(state))
	if err != nil {
		t.Fatal(err)
	}
	write := func(b []byte) {
		if err := os.WriteFile(dataPath(state), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// Every single-bit flip anywhere in the file is an error, never garbage.
	for i := range orig {
		b := bytes.Clone(orig)
		b[i] ^= 0x01
		write(b)
		if _, err := Open(state, k); err == nil {
			t.Fatalf("flip at byte %d of %d not detected", i, len(orig))
		} else if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrWrongKey) && !errors.Is(err, ErrVersion) {
			t.Fatalf("flip at byte %d: unexpected error kind: %v", i, err)
		}
	}
	for name, b := range map[string][]byte{
		"truncated":       orig[:len(orig)-1],
		"header only":     orig[:headerLen],
		"short":           orig[:10],
		"empty":           {},
		"appended":        append(bytes.Clone(orig), 0),
		"plaintext JSON":  []byte(`{"schema":1,"people":[]}`),
		"newer version":   func() []byte { b := bytes.Clone(orig); b[9] = 2; return b }(),
		"older gen, same": func() []byte { b := bytes.Clone(orig); b[31]--; return b }(),
	} {
		write(b)
		if _, err := Open(state, k); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	write(func() []byte { b := bytes.Clone(orig); b[headerLen+3] ^= 0x80; return b }())
	_, err = Open(state, k)
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "tampered") {
		t.Errorf("ciphertext flip message: %v", err)
	}
	write(orig)
	if _, err := Open(state, k); err != nil {
		t.Errorf("original no longer opens: %v", err)
	}
}

func TestChangedReload(t *testing.T) {
	state := t.TempDir()
	k := testKey(t)
	daemon := openStore(t, state, k)
	if daemon.Changed() {
		t.Errorf("Changed on an empty, unwritten register")
	}
	coord := openStore(t, state, k)
	mustImport(t, coord, person("1", "A", "A", true, "2025-09-01"))
	if !daemon.Changed() {
		t.Fatalf("daemon does not notice the import")
	}
	if err := daemon.reload(); err != nil {
		t.Fatal(err)
	}
	if daemon.Changed() {
		t.Errorf("Changed after reload")
	}
	if ok, _ := daemon.Snapshot().Consent("1", ChannelWebsite, testNow); !ok {
		t.Errorf("reloaded snapshot misses the import")
	}
	// A write that Changed must see even if the generation were equal: the
	// nonce differs on every write.
	if _, err := coord.Revoke("1", ChannelWebsite); err != nil {
		t.Fatal(err)
	}
	if !daemon.Changed() {
		t.Errorf("revocation not noticed")
	}
	daemon.reload()
	if ok, why := daemon.Snapshot().Consent("1", ChannelWebsite, testNow); ok || why != ReasonRevoked {
		t.Errorf("revocation not loaded: %v %q", ok, why)
	}

	// Fail closed: a damaged file empties the daemon's snapshot.
	b, _ := os.ReadFile(dataPath(state))
	b[len(b)-1] ^= 1
	os.WriteFile(dataPath(state), b, 0o600)
	// Same header: Changed cannot see the damage; a forced header change can.
	b[25] ^= 1
	os.WriteFile(dataPath(state), b, 0o600)
	if !daemon.Changed() {
		t.Fatalf("changed header not noticed")
	}
	if err := daemon.reload(); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("reload of a damaged file: %v", err)
	}
	snap := daemon.Snapshot()
	if snap.Err() == nil || snap.People() != nil || snap.Len() != 0 {
		t.Errorf("failed reload still serves people")
	}
	if ok, why := snap.Consent("1", ChannelNewsletter, testNow); ok || why != ReasonUnavailable {
		t.Errorf("failed reload: Consent = %v %q", ok, why)
	}
	if !daemon.Changed() {
		t.Errorf("after a failed reload Changed must stay true so the daemon retries")
	}
	// Writers refuse to overwrite a damaged file.
	if _, err := coord.Revoke("1", ChannelNewsletter); !errors.Is(err, ErrCorrupt) {
		t.Errorf("write over a damaged file: %v", err)
	}
	// Deleting the file is noticed too, and refused like an older file: an
	// import into an empty register would bring back revoked consent.
	os.Remove(dataPath(state))
	if err := daemon.reload(); !errors.Is(err, ErrRolledBack) || daemon.Snapshot().Len() != 0 || daemon.Snapshot().Err() == nil {
		t.Errorf("reload after delete: %v", err)
	}
}

func TestImportReplacesRegister(t *testing.T) {
	s := openStore(t, t.TempDir(), testKey(t))
	rep := mustImport(t, s,
		person("1", "A", "A", true, "2025-09-01"),
		person("2", "B", "B", true, "2025-09-01"),
		person("3", "C", "C", true, "2025-09-01"),
	)
	if rep.People != 3 || rep.Added != 3 || rep.Removed+rep.Updated+rep.Unchanged != 0 {
		t.Errorf("first import %+v", rep)
	}
	for i, id := range []string{"1", "2", "3"} {
		if err := s.Enroll(id, []Reference{ref(10 * i), ref(10*i + 1)}); err != nil {
			t.Fatal(err)
		}
	}
	staff := person("T1", "Karin", "Meijer", true, "2025-09-01")
	staff.Role = RoleStaff
	if _, err := s.ImportConsent([]Person{staff}, ImportOptions{Scope: []Role{RoleStaff}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Enroll("T1", []Reference{ref(99)}); err != nil {
		t.Fatal(err)
	}

	changed := person("2", "B", "B", false, "2025-09-20")
	rep, err := s.ImportConsent([]Person{person("1", "A", "A", true, "2025-09-01"), changed, person("4", "D", "D", true, "2025-09-01")}, ImportOptions{Scope: []Role{RolePupil}, MaxRemove: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := ImportReport{People: 4, Added: 1, Updated: 1, Unchanged: 1, Removed: 1, ReferencesRemoved: 2, PeopleUnenrolled: 1,
		RemovedPeople: []Removal{{ID: "3", Role: RolePupil, References: 2}},
		Withdrawals:   []Withdrawal{{"2", ChannelWebsite}, {"2", ChannelSocialMedia}, {"2", ChannelNewsletter}, {"2", ChannelParentPortal}}}
	rep.Backup = ""
	if !reflect.DeepEqual(rep, want) {
		t.Errorf("pupil import report %+v, want %+v", rep, want)
	}
	snap := s.Snapshot()
	if _, ok := snap.Person("3"); ok || snap.References("3") != nil {
		t.Errorf("pupil who left is still in the store")
	}
	if len(snap.References("1")) != 2 || len(snap.References("2")) != 2 || len(snap.References("T1")) != 1 {
		t.Errorf("references of people who stay were lost")
	}
	for _, e := range snap.People() {
		if e.ID == "3" {
			t.Errorf("descriptors of a removed pupil still given to the matcher")
		}
	}
	if ok, why := snap.Consent("2", ChannelWebsite, testNow); ok || why != "no consent for website" {
		t.Errorf("updated consent: %v %q", ok, why)
	}

	// Whole-register import (no scope) removes staff missing from it too.
	rep, err = s.ImportConsent([]Person{person("1", "A", "A", true, "2025-09-01")}, ImportOptions{AllowRemove: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Removed != 3 || rep.ReferencesRemoved != 3 || rep.People != 1 {
		t.Errorf("whole import report %+v", rep)
	}

	// Scope mismatch is refused.
	if _, err := s.ImportConsent([]Person{staff}, ImportOptions{Scope: []Role{RolePupil}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("staff row in a pupil-scoped import: %v", err)
	}

	// DiffImport writes nothing.
	gen := s.Snapshot().Generation()
	d, err := s.DiffImport([]Person{person("9", "Z", "Z", true, "2025-09-01")}, ImportOptions{AllowRemove: true})
	if err != nil || d.Added != 1 || d.Removed != 1 || d.ReferencesRemoved != 2 {
		t.Errorf("DiffImport %+v %v", d, err)
	}
	if s.Changed() || s.Snapshot().Generation() != gen {
		t.Errorf("DiffImport wrote")
	}
}

func TestRejectedImportChangesNothing(t *testing.T) {
	state := t.TempDir()
	s := openStore(t, state, testKey(t))
	mustImport(t, s, person("1", "A", "A", true, "2025-09-01"), person("2", "B", "B", true, "2025-09-01"))
	if err := s.Enroll("1", []Reference{ref(1)}); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(dataPath(state))
	gen := s.Snapshot().Generation()

	bad := []struct {
		name   string
		people []Person
	}{
		{"empty", nil},
		{"duplicate id", []Person{person("1", "A", "A", true, "2025-09-01"), person("1", "B", "B", true, "2025-09-01")}},
		{"invalid id", []Person{person("a b", "A", "A", true, "2025-09-01")}},
		{"no role", []Person{{ID: "5", FirstName: "X"}}},
		{"unknown channel", []Person{{ID: "5", FirstName: "X", Role: RolePupil, Consent: map[string]ChannelConsent{"tiktok": {}}}}},
		{"yes without date", []Person{{ID: "5", FirstName: "X", Role: RolePupil, Consent: map[string]ChannelConsent{ChannelWebsite: {Given: true}}}}},
	}
	for _, tc := range bad {
		if _, err := s.ImportConsent(tc.people, ImportOptions{AllowRemove: true}); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
	// A CSV with problems yields no people, so there is nothing to import.
	people, err := parsePeople(strings.NewReader(enHeader + "\n1,A,B,g,ja,nee,ja,ja,2025-09-01\n3,C,D,g,ja,huh,ja,ja,2025-09-01\n"))
	if err == nil || people != nil {
		t.Fatalf("bad CSV accepted")
	}
	after, _ := os.ReadFile(dataPath(state))
	if !bytes.Equal(before, after) || s.Snapshot().Generation() != gen {
		t.Errorf("a rejected import changed the register file")
	}
	if len(s.Snapshot().References("1")) != 1 || s.Snapshot().Len() != 2 {
		t.Errorf("a rejected import changed the snapshot")
	}
}

func TestEnroll(t *testing.T) {
	s := openStore(t, t.TempDir(), testKey(t))
	mustImport(t, s, person("1", "A", "A", true, "2025-09-01"), person("2", "B", "B", false, ""))

	err := s.Enroll("77", []Reference{ref(1)})
	if !errors.Is(err, ErrNotInStore) || !strings.Contains(err.Error(), "import") {
		t.Errorf("enrolling an unknown id: %v", err)
	}
	if err := s.Enroll("1", []Reference{ref(1), ref(2), ref(1)}); err != nil {
		t.Fatal(err)
	}
	if n := len(s.Snapshot().References("1")); n != 2 {
		t.Errorf("duplicates in one call kept: %d", n)
	}
	gen := s.Snapshot().Generation()
	up := ref(2)
	up.SourceSHA256 = strings.ToUpper(up.SourceSHA256)
	if err := s.Enroll("1", []Reference{up}); err != nil {
		t.Fatal(err)
	}
	if n := len(s.Snapshot().References("1")); n != 2 || s.Snapshot().Generation() != gen {
		t.Errorf("re-enrolling the same source (other case) added a reference or wrote: n=%d", n)
	}
	if err := s.Enroll("1", []Reference{ref(3)}); err != nil {
		t.Fatal(err)
	}
	if n := len(s.Snapshot().References("1")); n != 3 {
		t.Errorf("references %d, want 3", n)
	}
	// Invalid references.
	nan := ref(4)
	nan.Descriptor[3] = float32(math.NaN())
	zero := Reference{SourceSHA256: sha("z")}
	noSHA := ref(5)
	noSHA.SourceSHA256 = "abc"
	for name, r := range map[string]Reference{"NaN": nan, "zero": zero, "bad sha": noSHA} {
		if err := s.Enroll("1", []Reference{r}); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// Limit.
	many := make([]Reference, maxReferences)
	for i := range many {
		many[i] = ref(100 + i)
	}
	if err := s.Enroll("2", many); err != nil {
		t.Fatal(err)
	}
	if err := s.Enroll("2", []Reference{ref(1000)}); !errors.Is(err, ErrInvalid) {
		t.Errorf("beyond maxReferences: %v", err)
	}

	list, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != "1" || list[0].References != 3 || list[1].References != maxReferences || list[0].FirstName != "A" {
		t.Errorf("List = %+v", list)
	}
	if st := list[0].Consent[ChannelWebsite]; !st.Valid || st.Why != ReasonConsent {
		t.Errorf("List consent %+v", st)
	}
	if st := list[1].Consent[ChannelWebsite]; st.Valid || st.Why != ReasonNoConsent {
		t.Errorf("List consent %+v", st)
	}

	if n, err := s.Unenroll("1"); err != nil || n != 3 {
		t.Fatalf("Unenroll: %d, %v", n, err)
	}
	if s.Snapshot().References("1") != nil {
		t.Errorf("Unenroll kept references")
	}
	for _, e := range s.Snapshot().People() {
		if e.ID == "1" {
			t.Errorf("unenrolled person still given to the matcher")
		}
	}
	if _, ok := s.Snapshot().Person("1"); !ok {
		t.Errorf("Unenroll removed the register row")
	}
	if _, err := s.Unenroll("1"); !errors.Is(err, ErrNotEnrolled) {
		t.Errorf("second Unenroll: %v", err)
	}
	if _, err := s.Unenroll("nobody"); !errors.Is(err, ErrNotInStore) {
		t.Errorf("Unenroll unknown: %v", err)
	}
}

func TestObjections(t *testing.T) {
	s := openStore(t, t.TempDir(), testKey(t))
	mustImport(t, s, person("1", "A", "A", true, "2025-09-01"), person("2", "B", "B", true, "2025-09-01"), person("3", "C", "C", true, "2025-09-01"))
	photo, other := sha("sports day 1"), sha("sports day 2")
	if err := s.Object(photo, "2", "ouder belde"); err != nil {
		t.Fatal(err)
	}
	if err := s.Object(strings.ToUpper(photo), "1", ""); err != nil {
		t.Fatal(err)
	}
	if err := s.Object(photo, "1", "again"); err != nil {
		t.Fatal(err)
	}
	if err := s.Object(other, "3", ""); err != nil {
		t.Fatal(err)
	}
	snap := s.Snapshot()
	if got := snap.Objections(photo); fmt.Sprint(got) != "[1 2]" {
		t.Errorf("Objections(photo) = %v", got)
	}
	if got := snap.Objections(strings.ToUpper(photo)); fmt.Sprint(got) != "[1 2]" {
		t.Errorf("upper-case hash: %v", got)
	}
	if got := snap.Objections(other); fmt.Sprint(got) != "[3]" {
		t.Errorf("Objections(other) = %v", got)
	}
	if got := snap.Objections(sha("nothing")); len(got) != 0 {
		t.Errorf("unrelated photo: %v", got)
	}
	if got := snap.Objections("not a hash"); got != nil {
		t.Errorf("bad hash: %v", got)
	}
	// The objection stands whatever the register says: consent is still yes,
	// and the caller must redact ids in Objections regardless.
	if ok, _ := snap.Consent("2", ChannelWebsite, testNow); !ok {
		t.Errorf("objection should not change register consent")
	}
	if err := s.Object(photo, "99", ""); !errors.Is(err, ErrNotInStore) {
		t.Errorf("objection for unknown id: %v", err)
	}
	if err := s.Object("xyz", "1", ""); !errors.Is(err, ErrInvalid) {
		t.Errorf("objection with bad hash: %v", err)
	}
	if err := s.RemoveObjection(photo, "2"); err != nil {
		t.Fatal(err)
	}
	if got := s.Snapshot().Objections(photo); fmt.Sprint(got) != "[1]" {
		t.Errorf("after RemoveObjection: %v", got)
	}
	// Forget removes the person, references and objections.
	if err := s.Forget("3"); err != nil {
		t.Fatal(err)
	}
	if got := s.Snapshot().Objections(other); len(got) != 0 {
		t.Errorf("Forget kept objections: %v", got)
	}
	if _, ok := s.Snapshot().Person("3"); ok {
		t.Errorf("Forget kept the person")
	}
	// Objections survive an import that keeps the person.
	mustImport(t, s, person("1", "A", "A", true, "2025-09-01"))
	if got := s.Snapshot().Objections(photo); fmt.Sprint(got) != "[1]" {
		t.Errorf("objection lost by import: %v", got)
	}
}

// TestConcurrentWriters: goroutines with their own Store (as separate
// processes would have) and one shared Store all add objections at once;
// none may be lost.
func TestConcurrentWriters(t *testing.T) {
	state := t.TempDir()
	k := testKey(t)
	seed := openStore(t, state, k)
	mustImport(t, seed, person("1", "A", "A", true, "2025-09-01"))
	const workers, each = 6, 15
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := seed
			if w%2 == 0 {
				st = openStore(t, state, k)
			}
			for i := 0; i < each; i++ {
				if err := st.Object(sha(fmt.Sprintf("g%d-%d", w, i)), "1", ""); err != nil {
					t.Error(err)
					return
				}
				_ = st.Snapshot().Objections(sha("x"))
				_ = st.Changed()
			}
		}()
	}
	// A reader reloading all the while.
	stop := make(chan struct{})
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		r := openStore(t, state, k)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if err := r.reload(); err != nil {
				t.Errorf("reader saw a broken register: %v", err)
				return
			}
		}
	}()
	wg.Wait()
	close(stop)
	<-readerDone
	final := openStore(t, state, k).Snapshot()
	if n := len(final.AllObjections()); n != workers*each {
		t.Errorf("%d objections, want %d: updates were lost", n, workers*each)
	}
	if final.Generation() != uint64(1+workers*each) {
		t.Errorf("generation %d, want %d", final.Generation(), 1+workers*each)
	}
}

const helperEnv = "PHOTOGUARD_REGISTRY_TEST_HELPER"

// TestHelperWriter is not a test: it is the child process of
// TestConcurrentProcesses.
func TestHelperWriter(t *testing.T) {
	spec := os.Getenv(helperEnv)
	if spec == "" {
		t.Skip("helper process only")
	}
	parts := strings.SplitN(spec, ":", 3) // dir:prefix:count
	n, _ := strconv.Atoi(parts[2])
	k, err := LoadKey(parts[0]) // via $PHOTOGUARD_KEY
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(parts[0], k)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		if err := s.Object(sha(fmt.Sprintf("%s-%d", parts[1], i)), "1", ""); err != nil {
			t.Fatal(err)
		}
	}
}

func TestConcurrentProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	state := t.TempDir()
	k := testKey(t)
	seed := openStore(t, state, k)
	mustImport(t, seed, person("1", "A", "A", true, "2025-09-01"))
	const procs, each, local = 2, 20, 20
	var cmds []*exec.Cmd
	var outs []*bytes.Buffer
	for p := 0; p < procs; p++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperWriter$", "-test.count=1")
		cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s:proc%d:%d", helperEnv, state, p, each), KeyEnv+"="+k.encode())
		out := new(bytes.Buffer)
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds, outs = append(cmds, cmd), append(outs, out)
	}
	for i := 0; i < local; i++ {
		if err := seed.Object(sha(fmt.Sprintf("local-%d", i)), "1", ""); err != nil {
			t.Fatal(err)
		}
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("child %d: %v\n%s", i, err, outs[i])
		}
		if !strings.Contains(outs[i].String(), "PASS") || strings.Contains(outs[i].String(), "SKIP") {
			t.Fatalf("child %d did not run:\n%s", i, outs[i])
		}
	}
	if err := seed.reload(); err != nil {
		t.Fatal(err)
	}
	if n := len(seed.Snapshot().AllObjections()); n != procs*each+local {
		t.Errorf("%d objections, want %d: updates were lost across processes", n, procs*each+local)
	}
}

func TestStaleTempFilesRemoved(t *testing.T) {
	state := t.TempDir()
	s := openStore(t, state, testKey(t))
	stale := filepath.Join(state, dataDirName, fsync.TempPrefix+"crashed.tmp")
	if err := os.WriteFile(stale, []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustImport(t, s, person("1", "A", "A", true, "2025-09-01"))
	if _, err := os.Stat(stale); err == nil {
		t.Errorf("stale temp file not removed")
	}
}

func TestLockTimeout(t *testing.T) {
	state := t.TempDir()
	s := openStore(t, state, testKey(t), WithLockTimeout(50*time.Millisecond))
	lk, err := lockFile(filepath.Join(state, dataDirName, lockFileName), filepath.Join(state, dataDirName), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.ImportConsent([]Person{person("1", "A", "A", true, "2025-09-01")}, ImportOptions{AllowRemove: true})
	lk.unlock()
	if !errors.Is(err, ErrLocked) {
		t.Errorf("write while locked: %v", err)
	}
	mustImport(t, s, person("1", "A", "A", true, "2025-09-01"))
}

func TestUnchangedImportNotWritten(t *testing.T) {
	s := openStore(t, t.TempDir(), testKey(t))
	people := exampleExport(t)
	mustImport(t, s, people...)
	gen := s.Snapshot().Generation()
	rep := mustImport(t, s, people...)
	if rep.Unchanged != len(people) || rep.Added+rep.Updated+rep.Removed != 0 {
		t.Errorf("re-import report %+v", rep)
	}
	if s.Snapshot().Generation() != gen || s.Changed() {
		t.Errorf("an import without changes was written")
	}
}

// TestEnrollModels: references carry the model that made them, across a
// reopen; enrolling with a new model replaces the person's references of the
// old one (and only theirs); one call cannot mix models.
func TestEnrollModels(t *testing.T) {
	dir, key := t.TempDir(), testKey(t)
	s := openStore(t, dir, key)
	mustImport(t, s, person("1", "A", "A", true, "2025-09-01"), person("2", "B", "B", true, "2025-09-01"))
	withModel := func(seed int, model string) Reference {
		r := ref(seed)
		r.Model = model
		return r
	}
	if err := s.Enroll("1", []Reference{withModel(1, "old"), withModel(2, "old")}); err != nil {
		t.Fatal(err)
	}
	if err := s.Enroll("2", []Reference{withModel(3, "old")}); err != nil {
		t.Fatal(err)
	}
	if got := s.Snapshot().Models(); len(got) != 1 || got["old"] != 3 {
		t.Fatalf("Models = %v, want old:3", got)
	}

	// The same photo enrolled again under a new model is a new reference,
	// and the old model's references of this person go.
	if err := s.Enroll("1", []Reference{withModel(1, "new")}); err != nil {
		t.Fatal(err)
	}
	refs := s.Snapshot().References("1")
	if len(refs) != 1 || refs[0].Model != "new" || refs[0].SourceSHA256 != ref(1).SourceSHA256 {
		t.Errorf("after enrolling with the new model: %v", refs)
	}
	if got := s.Snapshot().Models(); got["old"] != 1 || got["new"] != 1 || len(got) != 2 {
		t.Errorf("Models = %v, want old:1 new:1", got)
	}

	// Kept in the file.
	s2 := openStore(t, dir, key)
	if refs := s2.Snapshot().References("2"); len(refs) != 1 || refs[0].Model != "old" {
		t.Errorf("after reopening: %v", refs)
	}
	if refs := s2.Snapshot().References("1"); len(refs) != 1 || refs[0].Model != "new" {
		t.Errorf("after reopening: %v", refs)
	}

	// One call, two models: refused, nothing changes.
	gen := s2.Snapshot().Generation()
	err := s2.Enroll("2", []Reference{withModel(4, "new"), withModel(5, "old")})
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("mixed models in one call: %v", err)
	}
	if s2.Snapshot().Generation() != gen || len(s2.Snapshot().References("2")) != 1 {
		t.Error("a refused enrollment changed the store")
	}
}
