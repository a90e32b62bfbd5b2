package inspect_test

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/photoguard/photoguard/redact/fixture"
	"github.com/photoguard/photoguard/redact/inspect"
	"github.com/rwcarlsen/goexif/exif"
)

func TestParseTIFFFixture(t *testing.T) {
	for _, order := range []binary.ByteOrder{binary.BigEndian, binary.LittleEndian} {
		thumb := fixture.ThumbnailJPEG()
		b := fixture.Exif(fixture.ExifOptions{Order: order, Orientation: 6, GPS: true, Thumbnail: thumb, MakerNote: true})
		tf, err := inspect.ParseTIFF(b)
		if err != nil {
			t.Fatal(err)
		}
		if len(tf.Problems) > 0 {
			t.Errorf("%v: problems %v", order, tf.Problems)
		}
		if tf.Orientation() != 6 {
			t.Errorf("%v: orientation %d", order, tf.Orientation())
		}
		if !tf.HasGPS() || !tf.HasMakerNote() {
			t.Errorf("%v: GPS %v MakerNote %v", order, tf.HasGPS(), tf.HasMakerNote())
		}
		if !bytes.Equal(tf.Thumbnail(), thumb) {
			t.Errorf("%v: thumbnail of %d bytes, want the fixture's %d", order, len(tf.Thumbnail()), len(thumb))
		}
		if s, _ := tf.String(tf.IFD0, inspect.TagMake); s != fixture.CameraMake {
			t.Errorf("%v: Make %q", order, s)
		}
		lat, ok := tf.GPS.Get(inspect.TagGPSLatitude)
		if !ok || !bytes.Equal(lat.Value, fixture.Rationals(order, fixture.GPSLatitude)) {
			t.Errorf("%v: GPSLatitude %x", order, lat.Value)
		}
	}
}

// The fixture's EXIF is read the same way by an independent reader
// (goexif), so the fixture and this package cannot share a mistake.
func TestExifFixtureAgreesWithGoexif(t *testing.T) {
	for o := 1; o <= 8; o++ {
		seg := fixture.Exif(fixture.ExifOptions{Orientation: o, GPS: true, Thumbnail: fixture.ThumbnailJPEG(), MakerNote: true})
		x, err := exif.Decode(bytes.NewReader(append([]byte("Exif\x00\x00"), seg...)))
		if err != nil {
			t.Fatalf("goexif: %v", err)
		}
		tag, err := x.Get(exif.Orientation)
		if err != nil {
			t.Fatalf("goexif orientation: %v", err)
		}
		v, _ := tag.Int(0)
		if v != o || inspect.ExifOrientation(seg) != o {
			t.Errorf("orientation %d: goexif %d, inspect %d", o, v, inspect.ExifOrientation(seg))
		}
		lat, long, err := x.LatLong()
		if err != nil || lat < 52.37 || lat > 52.38 || long < 4.89 || long > 4.90 {
			t.Errorf("goexif GPS %v %v %v", lat, long, err)
		}
	}
}

func TestParseTIFFDamaged(t *testing.T) {
	tf, err := inspect.ParseTIFF(fixture.CorruptExif())
	if err != nil {
		t.Fatal(err)
	}
	if tf.Orientation() != 0 {
		t.Errorf("orientation 9 read as %d, want 0 (invalid)", tf.Orientation())
	}
	if len(tf.Problems) == 0 {
		t.Error("no problems reported for a corrupt EXIF block")
	}
	for _, b := range [][]byte{nil, []byte("MM\x00*"), []byte("XX\x00*\x00\x00\x00\x08")} {
		if _, err := inspect.ParseTIFF(b); err == nil {
			t.Errorf("ParseTIFF(%q) succeeded", b)
		}
	}
	// An IFD chain that loops back to itself.
	loop := []byte("II*\x00\x08\x00\x00\x00\x00\x00\x08\x00\x00\x00")
	tf, err = inspect.ParseTIFF(loop)
	if err != nil || tf.IFD1 != nil || len(tf.Problems) == 0 {
		t.Errorf("loop: %v IFD1 %v problems %v", err, tf.IFD1, tf.Problems)
	}
	// A value offset far outside the data.
	b := []byte("MM\x00*\x00\x00\x00\x08\x00\x01\x01\x0F\x00\x02\x00\x00\x00\x20\xFF\xFF\xFF\x00\x00\x00\x00\x00")
	tf, err = inspect.ParseTIFF(b)
	if err != nil {
		t.Fatal(err)
	}
	if e, ok := tf.IFD0.Get(inspect.TagMake); !ok || e.Value != nil {
		t.Errorf("out-of-range value: %+v", e)
	}
}

func TestExifOrientationPrefix(t *testing.T) {
	seg := fixture.Exif(fixture.ExifOptions{Orientation: 3})
	if inspect.ExifOrientation(seg) != 3 || inspect.ExifOrientation(append([]byte("Exif\x00\x00"), seg...)) != 3 {
		t.Error("orientation with and without the Exif prefix")
	}
	if inspect.ExifOrientation([]byte("garbage")) != 0 {
		t.Error("garbage has an orientation")
	}
}
