package consent

import (
	"bytes"
	"errors"
	"testing"
)

// A sealed file opens only with its key and its label, and any change to it
// is refused.
func TestSealUnseal(t *testing.T) {
	k, other := testKey(t), testKey(t)
	data := []byte("the original photo's bytes")
	sealed, err := Seal(k, "photo-a", data)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, data) {
		t.Fatal("the sealed file holds the plain bytes")
	}
	got, err := Unseal(k, "photo-a", sealed)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("unseal: %q, %v", got, err)
	}
	if _, err := Unseal(other, "photo-a", sealed); !errors.Is(err, ErrWrongKey) {
		t.Errorf("another key: %v, want ErrWrongKey", err)
	}
	if _, err := Unseal(k, "photo-b", sealed); !errors.Is(err, ErrCorrupt) {
		t.Errorf("another label: %v, want ErrCorrupt", err)
	}
	bad := bytes.Clone(sealed)
	bad[len(bad)-20] ^= 1
	if _, err := Unseal(k, "photo-a", bad); !errors.Is(err, ErrCorrupt) {
		t.Errorf("a changed byte: %v, want ErrCorrupt", err)
	}
	if _, err := Seal(Key{}, "photo-a", data); err == nil {
		t.Error("sealed with no key")
	}
	if _, _, err := open(k, sealed); err == nil {
		t.Error("a sealed file opened as the store")
	}
}
