package consent

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
)

func TestNegatives(t *testing.T) {
	dir := t.TempDir()
	k := testKey(t)
	s := openStore(t, dir, k)
	mustImport(t, s, person("1001", "Zoë", "Vries", true, "2025-09-01"), person("1002", "Daan", "Dijk", false, ""))
	if got, err := s.Negatives(); err != nil || len(got) != 0 {
		t.Fatalf("new store: %v %v", got, err)
	}
	n := Negative{Descriptor: desc(7), PhotoSHA256: sha("group"), Model: "m1"}
	if err := s.AddNegative("1001", n); err != nil {
		t.Fatal(err)
	}
	if err := s.AddNegative("1001", n); err != nil { // the same again replaces
		t.Fatal(err)
	}
	if err := s.AddNegative("9999", n); !errors.Is(err, ErrNotInStore) {
		t.Errorf("unknown id: %v, want ErrNotInStore", err)
	}
	bad := n
	bad.Descriptor[3] = float32(math.NaN())
	if err := s.AddNegative("1001", bad); !errors.Is(err, ErrInvalid) {
		t.Errorf("NaN descriptor: %v, want ErrInvalid", err)
	}

	// Read back by another Store: encrypted on disk, 0600, the descriptor intact.
	re := openStore(t, dir, k)
	got, err := re.Negatives()
	if err != nil {
		t.Fatal(err)
	}
	if len(got["1001"]) != 1 || got["1001"][0].Descriptor != n.Descriptor || got["1001"][0].Model != "m1" {
		t.Fatalf("negatives read back: %d for 1001", len(got["1001"]))
	}
	path := filepath.Join(dir, dataDirName, negativesFileName)
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("negatives file: %v mode %v", err, st.Mode())
	}
	raw, _ := os.ReadFile(path)
	b := make([]byte, 4)
	binary.LittleEndian.PutUint32(b, math.Float32bits(n.Descriptor[0]))
	if bytes.Contains(raw, []byte("1001")) || bytes.Contains(raw, b) {
		t.Error("the negatives file holds the id or descriptor in plaintext")
	}

	// Tampering is detected, not ignored.
	raw[len(raw)-1] ^= 1
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := re.Negatives(); !errors.Is(err, ErrCorrupt) {
		t.Errorf("tampered negatives: %v, want ErrCorrupt", err)
	}
	raw[len(raw)-1] ^= 1
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}

	// The register file cannot stand in for the negatives file.
	reg, _ := os.ReadFile(dataPath(dir))
	if err := os.WriteFile(path, reg, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := re.Negatives(); err == nil {
		t.Error("the register file was read as the negatives file")
	}
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}

	// A pupil who left takes their corrections along.
	mustImport(t, s, person("1002", "Daan", "Dijk", false, ""))
	if got, err := s.Negatives(); err != nil || len(got) != 0 {
		t.Errorf("after 1001 left: %d ids with negatives, %v", len(got), err)
	}
}
