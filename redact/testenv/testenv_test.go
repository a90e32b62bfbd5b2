package testenv

import (
	"slices"
	"testing"
)

func TestUncleanExifToolKeys(t *testing.T) {
	tags := map[string]any{
		"SourceFile": "x.jpg", "File:FileSize": "1 kB", "JFIF:JFIFVersion": 1.01, "Composite:ImageSize": "2x2",
		"EXIF:GPSLatitude": "52 deg", "File:Comment": "hi", "File:ExifByteOrder": "MM",
		"ExifTool:Warning": "trailer", "APP14:DCTEncodeVersion": 100, "Composite:GPSPosition": "52, 4",
	}
	got := UncleanExifToolKeys(tags)
	want := []string{`APP14:DCTEncodeVersion=100`, `Composite:GPSPosition="52, 4"`, `EXIF:GPSLatitude="52 deg"`,
		`ExifTool:Warning="trailer"`, `File:Comment="hi"`, `File:ExifByteOrder="MM"`}
	if !slices.Equal(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

func TestRequire(t *testing.T) {
	t.Setenv("CI", "")
	ok := t.Run("skips outside CI", func(t *testing.T) { Require(t, false, "missing") })
	if !ok {
		t.Error("Require failed outside CI instead of skipping")
	}
}
