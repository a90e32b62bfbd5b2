package consent

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/photoguard/photoguard/detect"
)

// File format, version 1:
//
//	off len
//	  0   8  magic "PGREG\x00\x00\x00"
//	  8   2  format version (big endian), 1
//	 10   2  algorithm, 1 = AES-256-GCM with an HKDF-SHA256 subkey
//	 12   4  flags, 0
//	 16   8  key id (HKDF of the master key; tells "wrong key" from damage)
//	 24   8  generation (big endian), +1 on every write
//	 32  12  GCM nonce (random per write)
//	 44   …  GCM ciphertext and 16-byte tag of the JSON payload
//
// Additional data is the whole 44-byte header.
const (
	fileMagic = "PGREG\x00\x00\x00"
	// seenMagic starts the generation record (seen.go): the same layout
	// under another magic, so that neither file can stand in for the other.
	seenMagic     = "PGSEEN\x00\x00"
	formatVersion = 1
	algAES256GCM  = 1
	headerLen     = 44
	nonceLen      = 12
	maxFileSize   = 256 << 20
	payloadSchema = 1
)

type header struct {
	version    uint16
	alg        uint16
	flags      uint32
	keyID      [8]byte
	generation uint64
	nonce      [nonceLen]byte
}

func (h *header) marshal(magic string) []byte {
	b := make([]byte, headerLen)
	copy(b[0:8], magic)
	binary.BigEndian.PutUint16(b[8:10], h.version)
	binary.BigEndian.PutUint16(b[10:12], h.alg)
	binary.BigEndian.PutUint32(b[12:16], h.flags)
	copy(b[16:24], h.keyID[:])
	binary.BigEndian.PutUint64(b[24:32], h.generation)
	copy(b[32:44], h.nonce[:])
	return b
}

func parseHeader(b []byte) (header, error) { return parseHeaderAs(b, fileMagic) }

func parseHeaderAs(b []byte, magic string) (header, error) {
	var h header
	if len(b) < headerLen || string(b[0:8]) != magic {
		return h, fmt.Errorf("%w: not a photoguard consent store file (bad magic or too short)", ErrCorrupt)
	}
	h.version = binary.BigEndian.Uint16(b[8:10])
	h.alg = binary.BigEndian.Uint16(b[10:12])
	h.flags = binary.BigEndian.Uint32(b[12:16])
	copy(h.keyID[:], b[16:24])
	h.generation = binary.BigEndian.Uint64(b[24:32])
	copy(h.nonce[:], b[32:44])
	if h.version != formatVersion {
		return h, fmt.Errorf("%w: file format version %d, this build reads version %d", ErrVersion, h.version, formatVersion)
	}
	if h.alg != algAES256GCM || h.flags != 0 {
		return h, fmt.Errorf("%w: algorithm %d flags %d, this build knows algorithm %d", ErrVersion, h.alg, h.flags, algAES256GCM)
	}
	return h, nil
}

func newAEAD(k Key) (cipher.AEAD, error) {
	fk := k.fileKey()
	defer clear(fk)
	block, err := aes.NewCipher(fk)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// seal encrypts st as generation gen of the store file.
func seal(k Key, st *state, gen uint64) ([]byte, error) { return sealAs(k, fileMagic, st, gen) }

func sealAs(k Key, magic string, st *state, gen uint64) ([]byte, error) {
	plain, err := encodeState(st)
	if err != nil {
		return nil, err
	}
	defer clear(plain)
	h := header{version: formatVersion, alg: algAES256GCM, generation: gen}
	copy(h.keyID[:], k.keyID())
	if _, err := io.ReadFull(rand.Reader, h.nonce[:]); err != nil {
		return nil, fmt.Errorf("consent store: nonce: %w", err)
	}
	aead, err := newAEAD(k)
	if err != nil {
		return nil, err
	}
	hb := h.marshal(magic)
	return aead.Seal(hb, h.nonce[:], plain, hb), nil
}

// open decrypts and decodes a whole store file.
func open(k Key, file []byte) (*state, header, error) { return openAs(k, fileMagic, file) }

func openAs(k Key, magic string, file []byte) (*state, header, error) {
	h, err := parseHeaderAs(file, magic)
	if err != nil {
		return nil, h, err
	}
	if subtle.ConstantTimeCompare(h.keyID[:], k.keyID()) != 1 {
		return nil, h, fmt.Errorf("%w: the consent store was written with key id %x, this key has id %s (check $%s or %s)",
			ErrWrongKey, h.keyID, k.ID(), KeyEnv, keyFileName)
	}
	aead, err := newAEAD(k)
	if err != nil {
		return nil, h, err
	}
	plain, err := aead.Open(nil, h.nonce[:], file[headerLen:], file[:headerLen])
	if err != nil {
		return nil, h, fmt.Errorf("%w: authentication failed (the file was changed or damaged); restore it from a backup", ErrCorrupt)
	}
	defer clear(plain)
	st, err := decodeState(plain)
	if err != nil {
		return nil, h, err
	}
	st.generation = h.generation
	st.nonce = h.nonce
	return st, h, nil
}

// state is the decrypted store.
type state struct {
	generation uint64
	nonce      [nonceLen]byte
	people     map[string]*personRec
	objections []Objection
}

func newState() *state { return &state{people: map[string]*personRec{}} }

type personRec struct {
	Person
	refs []Reference
}

func (p *personRec) clone() *personRec {
	return &personRec{Person: p.Person.clone(), refs: append([]Reference(nil), p.refs...)}
}

func (st *state) clone() *state {
	c := &state{generation: st.generation, nonce: st.nonce, people: make(map[string]*personRec, len(st.people))}
	for id, p := range st.people {
		c.people[id] = p.clone()
	}
	c.objections = make([]Objection, len(st.objections))
	for i, o := range st.objections {
		c.objections[i] = o
		if o.Takedown != nil {
			td := *o.Takedown
			td.Targets = append([]string(nil), td.Targets...)
			c.objections[i].Takedown = &td
		}
	}
	return c
}

// JSON payload types. Kept separate from the API types so that the API can
// redact (Person.MarshalJSON) and the file format can evolve on its own.

type filePayload struct {
	Schema     int          `json:"schema"`
	WrittenAt  time.Time    `json:"written_at"`
	People     []filePerson `json:"people"`
	Objections []fileObj    `json:"objections,omitempty"`
}

type filePerson struct {
	ID         string                 `json:"id"`
	FirstName  string                 `json:"first_name"`
	Infix      string                 `json:"infix,omitempty"`
	LastName   string                 `json:"last_name"`
	Group      string                 `json:"group,omitempty"`
	Role       Role                   `json:"role"`
	Consent    map[string]fileConsent `json:"consent,omitempty"`
	References []fileRef              `json:"references,omitempty"`
}

type fileConsent struct {
	Given       bool   `json:"given"`
	ConfirmedOn string `json:"confirmed_on,omitempty"`
	Revoked     bool   `json:"revoked,omitempty"`
	RevokedOn   string `json:"revoked_on,omitempty"`
}

type fileRef struct {
	SourceSHA256 string         `json:"source_sha256"`
	AddedAt      time.Time      `json:"added_at"`
	Model        string         `json:"model,omitempty"`
	Source       string         `json:"source,omitempty"`
	Descriptor   fileDescriptor `json:"descriptor"`
}

type fileObj struct {
	PhotoSHA256 string        `json:"photo_sha256"`
	ID          string        `json:"id"`
	Note        string        `json:"note,omitempty"`
	At          time.Time     `json:"at"`
	Takedown    *fileTakedown `json:"takedown,omitempty"`
}

type fileTakedown struct {
	RequestedAt time.Time `json:"requested_at"`
	Targets     []string  `json:"targets,omitempty"`
	CompletedAt time.Time `json:"completed_at,omitzero"`
}

// fileDescriptor is a descriptor as base64 of its 128 little-endian float32s.
type fileDescriptor detect.Descriptor

func (d fileDescriptor) MarshalJSON() ([]byte, error) {
	b := make([]byte, 4*detect.DescriptorLen)
	for i, f := range d {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(f))
	}
	return json.Marshal(base64.StdEncoding.EncodeToString(b))
}

func (d *fileDescriptor) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return err
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != 4*detect.DescriptorLen {
		return errors.New("bad descriptor encoding")
	}
	for i := range d {
		d[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return nil
}

const dateLayout = "2006-01-02"

func fmtDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(dateLayout)
}

func parseDate(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.Parse(dateLayout, s)
}

func encodeState(st *state) ([]byte, error) {
	p := filePayload{Schema: payloadSchema, WrittenAt: time.Now().UTC().Truncate(time.Second)}
	for _, id := range sortedIDs(st.people) {
		r := st.people[id]
		fp := filePerson{ID: r.ID, FirstName: r.FirstName, Infix: r.Infix, LastName: r.LastName, Group: r.Group, Role: r.Role}
		if len(r.Consent) > 0 {
			fp.Consent = make(map[string]fileConsent, len(r.Consent))
			for ch, c := range r.Consent {
				fp.Consent[ch] = fileConsent{Given: c.Given, ConfirmedOn: fmtDate(c.ConfirmedOn), Revoked: c.Revoked, RevokedOn: fmtDate(c.RevokedOn)}
			}
		}
		for _, ref := range r.refs {
			fp.References = append(fp.References, fileRef{SourceSHA256: ref.SourceSHA256, AddedAt: ref.AddedAt.UTC(), Model: ref.Model, Source: ref.Source, Descriptor: fileDescriptor(ref.Descriptor)})
		}
		p.People = append(p.People, fp)
	}
	for _, o := range st.objections {
		fo := fileObj{PhotoSHA256: o.PhotoSHA256, ID: o.ID, Note: o.Note, At: o.At.UTC()}
		if o.Takedown != nil {
			fo.Takedown = &fileTakedown{RequestedAt: o.Takedown.RequestedAt.UTC(), Targets: o.Takedown.Targets, CompletedAt: o.Takedown.CompletedAt.UTC()}
		}
		p.Objections = append(p.Objections, fo)
	}
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(&p); err != nil {
		return nil, fmt.Errorf("consent store: encoding: %w", err)
	}
	return buf.Bytes(), nil
}

func decodeState(plain []byte) (*state, error) {
	var p filePayload
	dec := json.NewDecoder(bytes.NewReader(plain))
	if err := dec.Decode(&p); err != nil {
		// The JSON decoder's error can quote a piece of the payload; keep it out.
		return nil, fmt.Errorf("%w: the decrypted store is not valid JSON", ErrCorrupt)
	}
	if p.Schema != payloadSchema {
		return nil, fmt.Errorf("%w: store schema %d, this build reads schema %d", ErrVersion, p.Schema, payloadSchema)
	}
	st := newState()
	for i, fp := range p.People {
		if !validID(fp.ID) || !fp.Role.valid() {
			return nil, fmt.Errorf("%w: person #%d has an invalid id or role", ErrCorrupt, i)
		}
		if _, dup := st.people[fp.ID]; dup {
			return nil, fmt.Errorf("%w: id %s appears twice", ErrCorrupt, fp.ID)
		}
		r := &personRec{Person: Person{ID: fp.ID, FirstName: fp.FirstName, Infix: fp.Infix, LastName: fp.LastName, Group: fp.Group, Role: fp.Role,
			Consent: make(map[string]ChannelConsent, len(fp.Consent))}}
		for ch, c := range fp.Consent {
			conf, err1 := parseDate(c.ConfirmedOn)
			rev, err2 := parseDate(c.RevokedOn)
			if err1 != nil || err2 != nil || !KnownChannel(ch) {
				return nil, fmt.Errorf("%w: bad consent record for id %s", ErrCorrupt, fp.ID)
			}
			r.Consent[ch] = ChannelConsent{Given: c.Given, ConfirmedOn: conf, Revoked: c.Revoked, RevokedOn: rev}
		}
		for _, fr := range fp.References {
			r.refs = append(r.refs, Reference{Descriptor: detect.Descriptor(fr.Descriptor), SourceSHA256: fr.SourceSHA256, AddedAt: fr.AddedAt, Model: fr.Model, Source: fr.Source})
		}
		st.people[fp.ID] = r
	}
	for _, fo := range p.Objections {
		o := Objection{PhotoSHA256: fo.PhotoSHA256, ID: fo.ID, Note: fo.Note, At: fo.At}
		if fo.Takedown != nil {
			o.Takedown = &Takedown{RequestedAt: fo.Takedown.RequestedAt, Targets: fo.Takedown.Targets, CompletedAt: fo.Takedown.CompletedAt}
		}
		st.objections = append(st.objections, o)
	}
	return st, nil
}
