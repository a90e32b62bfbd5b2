// Package testchildren is what the tests that describe the shared children's
// photos (testdata/children: UTKFace crops, one child each) share: the
// folder, its photos, the age and ethnicity labels in their names, and the
// developer's cache file of their descriptors.
//
// Invariant: descriptors of the children are biometric data of real
// children. They are only written to the cache file the developer named
// (mode 0600, outside the repository), never to a log.
package testchildren

import (
	"encoding/gob"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/photoguard/photoguard/redact/testenv"
)

// Dir is the shared children's folder (testenv.SharedTestdata).
func Dir(t testing.TB) string {
	t.Helper()
	return filepath.Join(testenv.SharedTestdata(t), "children")
}

// Files lists the children's photos by base name, sorted. Finding none
// fails the test under CI and skips it elsewhere (testenv.Require).
func Files(t testing.TB) []string {
	t.Helper()
	dir := Dir(t)
	ents, err := os.ReadDir(dir)
	testenv.Require(t, err == nil, "children's photos: %v", err)
	var out []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".jpg") && e.Type().IsRegular() {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	testenv.Require(t, len(out) > 0, "no photos in %s", dir)
	return out
}

// Races are the dataset's ethnicity labels, by their code in a file name.
var Races = []string{"White", "Black", "Asian", "Indian", "Others"}

// Parse reads age and ethnicity from an UTKFace file name
// (age_gender_race_datetime.jpg.chip.jpg).
func Parse(name string) (age int, race string, ok bool) {
	parts := strings.Split(name, "_")
	if len(parts) < 4 {
		return 0, "", false
	}
	age, err1 := strconv.Atoi(parts[0])
	r, err2 := strconv.Atoi(parts[2])
	if err1 != nil || err2 != nil || r < 0 || r >= len(Races) {
		return 0, "", false
	}
	return age, Races[r], true
}

// LoadCache decodes the cache file at path into v and reports whether it
// did (false for no path, no file or a file that does not decode into v).
func LoadCache(path string, v any) bool {
	if path == "" {
		return false
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	return gob.NewDecoder(f).Decode(v) == nil
}

// SaveCache writes v to the cache file at path, readable by its owner only.
func SaveCache(path string, v any) (err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, f.Close()) }()
	return gob.NewEncoder(f).Encode(v)
}
