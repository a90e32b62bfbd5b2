package consent

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/photoguard/photoguard/pipeline/internal/fsync"
)

// KeyEnv is the environment variable that holds the key (base64 of 32
// bytes). When set, it wins over the key file.
const KeyEnv = "PHOTOGUARD_KEY"

// keyFileName is the key file inside state_dir, used when KeyEnv is not set.
const keyFileName = "registry.key"

// keySize is the size of the master key in bytes.
const keySize = 32

// Key is the master key of the consent store. It prints as "[redacted]".
type Key struct {
	b   [keySize]byte
	set bool
}

// NewKey returns a fresh random key.
func NewKey() (Key, error) {
	var k Key
	if _, err := io.ReadFull(rand.Reader, k.b[:]); err != nil {
		return Key{}, fmt.Errorf("consent store: generating key: %w", err)
	}
	k.set = true
	return k, nil
}

// parseKey decodes a base64 (standard or URL alphabet, padded or not) key of
// 32 bytes. The error never repeats the input.
func parseKey(s string) (Key, error) {
	s = strings.TrimSpace(s)
	var raw []byte
	var err error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		raw, err = enc.DecodeString(s)
		if err == nil {
			break
		}
	}
	if err != nil {
		return Key{}, fmt.Errorf("%w: not base64", ErrBadKey)
	}
	if len(raw) != keySize {
		return Key{}, fmt.Errorf("%w: %d bytes, want %d", ErrBadKey, len(raw), keySize)
	}
	var k Key
	copy(k.b[:], raw)
	k.set = true
	clear(raw)
	return k, nil
}

// ID is a short public fingerprint of the key (not the key), for telling
// keys apart in messages.
func (k Key) ID() string { return hex.EncodeToString(k.keyID()) }

func (k Key) keyID() []byte {
	id, err := hkdf.Key(sha256.New, k.b[:], nil, "photoguard registry key id", 8)
	if err != nil {
		panic(err) // cannot happen for these lengths
	}
	return id
}

func (k Key) fileKey() []byte {
	fk, err := hkdf.Key(sha256.New, k.b[:], nil, "photoguard registry v1 aes-256-gcm", 32)
	if err != nil {
		panic(err)
	}
	return fk
}

// LedgerSealKey is the key that seals the lines of the publication ledger
// (pipeline/ledger): derived from the consent store's key, so that the ledger has
// no key of its own to lose, and not the key itself.
func (k Key) LedgerSealKey() []byte {
	lk, err := hkdf.Key(sha256.New, k.b[:], nil, "photoguard ledger v1 hmac-sha256", 32)
	if err != nil {
		panic(err)
	}
	return lk
}

func (k Key) encode() string { return base64.StdEncoding.EncodeToString(k.b[:]) }

// String redacts the key.
func (k Key) String() string { return "consent.Key([redacted])" }

// GoString redacts the key.
func (k Key) GoString() string { return k.String() }

// Format redacts the key for every verb.
func (k Key) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, k.String()) }

// LogValue redacts the key.
func (k Key) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// LoadKey returns the consent store's key: from $PHOTOGUARD_KEY when it is set (an
// invalid value is an error, not a fall-back), otherwise from
// state_dir/registry.key, which is created (0600, crypto/rand) on first use.
// A key file that group or others can read or write is refused. A new key is
// not created when an encrypted store already exists, because it could
// never open it.
func LoadKey(stateDir string) (Key, error) {
	if v, ok := os.LookupEnv(KeyEnv); ok && strings.TrimSpace(v) != "" {
		k, err := parseKey(v)
		if err != nil {
			return Key{}, fmt.Errorf("consent store: $%s: %w", KeyEnv, err)
		}
		return k, nil
	}
	if stateDir == "" {
		return Key{}, errors.New("consent store: state_dir is empty")
	}
	if err := ensureDir(stateDir, false); err != nil {
		return Key{}, err
	}
	path := filepath.Join(stateDir, keyFileName)
	k, err := readKeyFile(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return k, err
	}
	// No key yet. Refuse to make one if there is data it cannot open (the
	// store, or the generation record of one).
	if Exists(stateDir) {
		return Key{}, NoKeyError(stateDir)
	}
	return createKeyFile(stateDir, path)
}

// NoKeyError is the error (ErrNoKey) for a store in stateDir whose key is
// missing.
func NoKeyError(stateDir string) error {
	return fmt.Errorf("%w: %s is missing but %s (or %s) exists; restore the key from your backup or set $%s",
		ErrNoKey, filepath.Join(stateDir, keyFileName), filepath.Join(stateDir, dataDirName, dataFileName), filepath.Join(stateDir, seenFileName), KeyEnv)
}

// ExistingKey is LoadKey for a reader: it never creates a key, and returns
// an error matching fs.ErrNotExist when there is none yet.
func ExistingKey(stateDir string) (Key, error) {
	if v, ok := os.LookupEnv(KeyEnv); ok && strings.TrimSpace(v) != "" {
		return LoadKey(stateDir)
	}
	return readKeyFile(filepath.Join(stateDir, keyFileName))
}

func readKeyFile(path string) (Key, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return Key{}, err
		}
		return Key{}, fmt.Errorf("consent store: key file: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Key{}, fmt.Errorf("consent store: key file: %w", err)
	}
	if !st.Mode().IsRegular() {
		return Key{}, fmt.Errorf("%w: key file %s is not a regular file", ErrInsecure, path)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return Key{}, fmt.Errorf("%w: key file %s has mode %04o, so group or others can read it; run: chmod 600 %s",
			ErrInsecure, path, perm, path)
	}
	buf, err := io.ReadAll(io.LimitReader(f, 1024))
	if err != nil {
		return Key{}, fmt.Errorf("consent store: key file: %w", err)
	}
	defer clear(buf)
	k, err := parseKey(string(buf))
	if err != nil {
		return Key{}, fmt.Errorf("consent store: key file %s: %w", path, err)
	}
	return k, nil
}

// createKeyFile writes a new key through fsync.WriteFile, which takes the
// name by link(2) and never replaces one: two processes starting at once
// agree on one key, and no reader ever sees a half-written key file.
func createKeyFile(dir, path string) (Key, error) {
	k, err := NewKey()
	if err != nil {
		return Key{}, err
	}
	data := []byte(k.encode() + "\n")
	defer clear(data)
	err = writePrivate(dir, filepath.Base(path), data, func(fs.FileInfo) bool { return false })
	if errors.Is(err, fsync.ErrInTheWay) {
		return readKeyFile(path) // another process won the race
	}
	if err != nil {
		return Key{}, fmt.Errorf("consent store: creating the key file: %w", err)
	}
	return k, nil
}
