package testchildren

import (
	"os"
	"path/filepath"
	"testing"
)

func TestParse(t *testing.T) {
	for _, c := range []struct {
		name string
		age  int
		race string
		ok   bool
	}{
		{"9_1_2_20161219203650636.jpg.chip.jpg", 9, "Asian", true},
		{"12_0_0_20170110224238891.jpg.chip.jpg", 12, "White", true},
		{"4_0_4_20170103213057382.jpg.chip.jpg", 4, "Others", true},
		{"4_0_5_20170103213057382.jpg.chip.jpg", 0, "", false}, // no such code
		{"x_0_1_20170103213057382.jpg.chip.jpg", 0, "", false},
		{"4_0_1.jpg", 0, "", false},
	} {
		age, race, ok := Parse(c.name)
		if age != c.age || race != c.race || ok != c.ok {
			t.Errorf("Parse(%q) = %d, %q, %v; want %d, %q, %v", c.name, age, race, ok, c.age, c.race, c.ok)
		}
	}
}

// The cache file is the owner's alone and gives back what was saved; no
// file, or one of another shape, is no cache.
func TestCache(t *testing.T) {
	p := filepath.Join(t.TempDir(), "descriptors")
	if LoadCache("", new(int)) || LoadCache(p, new(int)) {
		t.Fatal("a cache without a file")
	}
	type entry struct{ File string }
	if err := SaveCache(p, []entry{{"a"}, {"b"}}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("cache file %v %v, want mode 0600", fi, err)
	}
	var got []entry
	if !LoadCache(p, &got) || len(got) != 2 || got[1].File != "b" {
		t.Errorf("loaded %v", got)
	}
	var other struct{ Model int }
	if LoadCache(p, &other) {
		t.Error("a cache of another shape decoded")
	}
}
