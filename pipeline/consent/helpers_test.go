package consent

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/photoguard/photoguard/detect"
)

// testNow is a fixed "now" for store tests: school year 2025/26.
var testNow = time.Date(2025, 10, 15, 14, 0, 0, 0, time.FixedZone("CEST", 2*3600))

func fixedClock(t time.Time) Option { return WithClock(func() time.Time { return t }) }

func testKey(t testing.TB) Key {
	t.Helper()
	k, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func openStore(t testing.TB, dir string, k Key, opts ...Option) *Store {
	t.Helper()
	s, err := Open(dir, k, append([]Option{fixedClock(testNow)}, opts...)...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

// person makes a register row with the same consent on every channel.
func person(id, first, last string, given bool, confirmed string) Person {
	p := Person{ID: id, FirstName: first, LastName: last, Group: "groep 5", Role: RolePupil, Consent: map[string]ChannelConsent{}}
	for _, ch := range Channels() {
		c := ChannelConsent{Given: given}
		if confirmed != "" {
			c.ConfirmedOn = day(confirmed)
		}
		p.Consent[ch] = c
	}
	return p
}

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// desc makes a recognisable descriptor.
func desc(seed int) detect.Descriptor {
	var d detect.Descriptor
	for i := range d {
		d[i] = float32(seed)*0.001 + float32(i)*0.0137 - 0.8
	}
	return d
}

func ref(seed int) Reference {
	return Reference{Descriptor: desc(seed), SourceSHA256: sha(fmt.Sprint("ref", seed))}
}

func mustImport(t testing.TB, s *Store, people ...Person) ImportReport {
	t.Helper()
	rep, err := s.ImportConsent(people, ImportOptions{AllowRemove: true})
	if err != nil {
		t.Fatalf("ImportConsent: %v", err)
	}
	return rep
}

func exampleExport(t testing.TB) []Person {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "testdata", "registry", "consent-export-nl.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	people, err := parsePeople(f)
	if err != nil {
		t.Fatal(err)
	}
	return people
}
