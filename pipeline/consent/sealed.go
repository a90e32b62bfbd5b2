package consent

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"io"
)

// Sealed files: other personal data the state folder keeps at rest under the
// store's key (the originals of photos waiting for approval). The layout is
// the store file's header (format.go) under the magic sealMagic, with its own
// subkey, and the label (what the file is, for example a photo's content
// hash) in the additional data, so that a sealed file can stand in neither
// for the store nor for another sealed file.
const sealMagic = "PGSEAL\x00\x00"

func sealAEAD(k Key) (cipher.AEAD, error) {
	sk, err := hkdf.Key(sha256.New, k.b[:], nil, "photoguard sealed file v1 aes-256-gcm", 32)
	if err != nil {
		return nil, err
	}
	defer clear(sk)
	block, err := aes.NewCipher(sk)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// Seal encrypts data with the store's key k, bound to label.
func Seal(k Key, label string, data []byte) ([]byte, error) {
	if !k.set {
		return nil, fmt.Errorf("%w: no key", ErrBadKey)
	}
	h := header{version: formatVersion, alg: algAES256GCM}
	copy(h.keyID[:], k.keyID())
	if _, err := io.ReadFull(rand.Reader, h.nonce[:]); err != nil {
		return nil, fmt.Errorf("sealing: nonce: %w", err)
	}
	aead, err := sealAEAD(k)
	if err != nil {
		return nil, err
	}
	hb := h.marshal(sealMagic)
	return aead.Seal(hb, h.nonce[:], data, append(hb[:headerLen:headerLen], label...)), nil
}

// Unseal decrypts what Seal made with the same key and label. A file made
// with another key is ErrWrongKey; one changed, damaged or sealed for
// another label is ErrCorrupt.
func Unseal(k Key, label string, sealed []byte) ([]byte, error) {
	h, err := parseHeaderAs(sealed, sealMagic)
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare(h.keyID[:], k.keyID()) != 1 {
		return nil, fmt.Errorf("%w: the file was sealed with key id %x, this key has id %s (check $%s or %s)",
			ErrWrongKey, h.keyID, k.ID(), KeyEnv, keyFileName)
	}
	aead, err := sealAEAD(k)
	if err != nil {
		return nil, err
	}
	plain, err := aead.Open(nil, h.nonce[:], sealed[headerLen:], append(sealed[:headerLen:headerLen], label...))
	if err != nil {
		return nil, fmt.Errorf("%w: authentication failed (the sealed file was changed, damaged or is not the one asked for)", ErrCorrupt)
	}
	return plain, nil
}
