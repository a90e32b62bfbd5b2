package decode

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/photoguard/photoguard/redact/inspect"
)

// Source describes a decoded (or probed) input.
type Source struct {
	Format Format
	// Width and Height are the image's size as stored, before orientation.
	Width, Height int
	// Orientation is the EXIF orientation (1-8) that Decode applies, 1 if
	// none. For a HEIC with HEIF transforms (irot, imir) it is the
	// orientation equivalent to them, which libheif applies, and an EXIF
	// orientation inside is ignored, as the HEIF specification requires (no
	// double rotation); for a HEIC without transforms it is the EXIF
	// orientation of its Exif item, which Decode applies after libheif (some
	// camera apps store the pixels sideways with only an EXIF orientation).
	Orientation int
	// DisplayP3 is set when the input's colour profile is Display P3 (as
	// iPads and iPhones write); Decode converts such pixels to sRGB.
	DisplayP3 bool
}

// MaxJPEGScans bounds the number of scans (SOS segments) of a JPEG. Real
// progressive JPEGs have about 10; thousands of tiny scans each make libjpeg
// walk every block again (a known denial of service).
const MaxJPEGScans = 100

// header is what Probe learns from the header, plus what Decode needs later.
type header struct {
	Source
	jpeg *inspect.JPEG
	png  *inspect.PNG
	heif *inspect.HEIF
	icc  []byte // ICC profile, reassembled; nil if none
	// truncated is the parse error of a JPEG or PNG whose header is usable
	// but whose data ends early (Decode refuses it after the limits check).
	truncated error
	p3        bool // colour primaries are Display P3 (ICC or nclx)
	// exifOrientation is the orientation Decode applies to the decoded
	// pixels itself: Orientation, except for a HEIC whose HEIF transforms
	// libheif applies (then 1).
	exifOrientation int
}

// Probe returns the format, stored size and orientation from the header only,
// without decoding pixels and without applying any limits. Errors are
// *InputError.
func Probe(data []byte) (Source, error) {
	h, err := probe(data)
	if err != nil {
		return Source{}, err
	}
	return h.Source, nil
}

// probe runs the header parsers under recover: they are fuzzed, but a bug in
// one must quarantine a file, not stop the daemon.
func probe(data []byte) (h *header, err error) {
	defer func() {
		if r := recover(); r != nil {
			h, err = nil, inputErrorf(fmt.Errorf("panic: %v", r), "the file's header cannot be read")
		}
	}()
	f, err := Sniff(data[:min(len(data), SniffLen)])
	if err != nil {
		return nil, err
	}
	switch f {
	case JPEG:
		h, err = probeJPEG(data)
	case PNG:
		h, err = probePNG(data)
	default:
		h, err = probeHEIC(data)
	}
	if err != nil {
		return nil, err
	}
	h.DisplayP3 = h.p3 || isDisplayP3(h.icc)
	if f != HEIC {
		h.exifOrientation = h.Orientation
	}
	return h, nil
}

func probeJPEG(data []byte) (*header, error) {
	j, err := inspect.ParseJPEG(data)
	h := &header{Source: Source{Format: JPEG, Orientation: 1}, jpeg: j}
	if j.Frame == nil {
		if err != nil {
			return nil, jpegInputError(err)
		}
		return nil, inputErrorf(nil, "damaged JPEG: no frame header (SOF)")
	}
	h.Width, h.Height = j.Frame.Width, j.Frame.Height
	if err != nil {
		if !inspect.IsTruncated(err) {
			return nil, jpegInputError(err)
		}
		h.truncated = err // the header is usable; Decode refuses the file
	}
	if exif := j.App(inspect.APP1, "Exif"); len(exif) > 0 { // only the first counts, as in every viewer
		if o := inspect.ExifOrientation(exif[0]); o != 0 {
			h.Orientation = o
		}
	}
	h.icc = jpegICC(j)
	return h, nil
}

// jpegInputError turns a parse error into the reason a person reads.
func jpegInputError(err error) error {
	var pe *inspect.Error
	if errors.As(err, &pe) {
		if pe.Truncated {
			return inputErrorf(err, "truncated JPEG: %s", pe.Reason)
		}
		return inputErrorf(err, "damaged JPEG: %s", pe.Reason)
	}
	return inputErrorf(err, "damaged JPEG")
}

// jpegICC reassembles an ICC profile from its APP2 chunks ("ICC_PROFILE\0",
// sequence number, count, data); nil if absent or inconsistent.
func jpegICC(j *inspect.JPEG) []byte {
	chunks := j.App(inspect.APP2, "ICC_PROFILE")
	if len(chunks) == 0 || len(chunks) > 255 {
		return nil
	}
	parts := make([][]byte, len(chunks))
	for _, c := range chunks {
		if len(c) < 14 {
			return nil
		}
		seq, n := int(c[12]), int(c[13])
		if n != len(chunks) || seq < 1 || seq > n || parts[seq-1] != nil {
			return nil
		}
		parts[seq-1] = c[14:]
	}
	return bytes.Join(parts, nil)
}

func probePNG(data []byte) (*header, error) {
	p, err := inspect.ParsePNG(data)
	h := &header{Source: Source{Format: PNG, Orientation: 1}, png: p}
	if p.Width == 0 {
		if err == nil {
			err = errors.New("no IHDR")
		}
		return nil, pngInputError(err)
	}
	h.Width, h.Height = p.Width, p.Height
	if err != nil {
		if !inspect.IsTruncated(err) {
			return nil, pngInputError(err)
		}
		h.truncated = err
	}
	if c, ok := p.Chunk("eXIf"); ok {
		if o := inspect.ExifOrientation(c.Data); o != 0 {
			h.Orientation = o
		}
	}
	if c, ok := p.Chunk("iCCP"); ok {
		h.icc = inflateICCP(c.Data)
	}
	return h, nil
}

func pngInputError(err error) error {
	var pe *inspect.Error
	if errors.As(err, &pe) {
		if pe.Truncated {
			return inputErrorf(err, "truncated PNG: %s", pe.Reason)
		}
		return inputErrorf(err, "damaged PNG: %s", pe.Reason)
	}
	return inputErrorf(err, "damaged PNG")
}

func probeHEIC(data []byte) (*header, error) {
	hf, err := inspect.ParseHEIF(data)
	h := &header{Source: Source{Format: HEIC, Orientation: 1}, heif: hf}
	if err != nil {
		var pe *inspect.Error
		if errors.As(err, &pe) && pe.Truncated {
			return nil, inputErrorf(err, "truncated HEIC: %s", pe.Reason)
		}
		return nil, inputErrorf(err, "damaged HEIC")
	}
	if !hf.HasMeta {
		return nil, inputErrorf(nil, "not a photo: an HEIF file without images (brand %q)", hf.MajorBrand)
	}
	it := hf.PrimaryItem()
	if it == nil {
		return nil, inputErrorf(nil, "damaged HEIC: no primary image")
	}
	switch it.Type {
	case "hvc1", "grid", "iden", "iovl", "jpeg":
	case "av01":
		return nil, unsupported("AVIF")
	default:
		return nil, inputErrorf(nil, "unsupported HEIF image type %q", it.Type)
	}
	w, ht, ok := hf.PrimarySize()
	if !ok {
		return nil, inputErrorf(nil, "damaged HEIC: the primary image has no size (ispe)")
	}
	h.Width, h.Height = w, ht
	o, byExif := hf.DisplayOrientation()
	h.Orientation = o
	if byExif {
		h.exifOrientation = o
	}
	for _, p := range hf.ItemProps(it) {
		if p.Type != "colr" {
			continue
		}
		if p.ICC != nil {
			h.icc = p.ICC
		}
		if p.ColourType == "nclx" && p.Primaries == 12 {
			h.p3 = true
		}
	}
	return h, nil
}
