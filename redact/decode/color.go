package decode

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"image"
	"io"
	"math"
	"sync"
)

// maxICC bounds the size of an ICC profile Decode reads (to recognise Display
// P3); larger profiles are ignored.
const maxICC = 4 << 20

// inflateICCP returns the profile inside a PNG iCCP chunk (name, NUL,
// method 0, zlib data), nil if it cannot be read.
func inflateICCP(b []byte) []byte {
	i := bytes.IndexByte(b, 0)
	if i < 0 || i+2 > len(b) || b[i+1] != 0 {
		return nil
	}
	zr, err := zlib.NewReader(bytes.NewReader(b[i+2:]))
	if err != nil {
		return nil
	}
	out, err := io.ReadAll(io.LimitReader(zr, maxICC+1))
	if err != nil || len(out) > maxICC {
		return nil
	}
	return out
}

// Display P3 colorants as they appear in ICC profiles (D50-adapted XYZ, as in
// Apple's "Display P3" profile), and a tolerance well above rounding to
// s15Fixed16 but far below the distance to sRGB's or Adobe RGB's colorants.
var p3Colorants = [3][3]float64{
	{0.5151, 0.2412, -0.0011}, // rXYZ
	{0.2920, 0.6922, 0.0419},  // gXYZ
	{0.1571, 0.0666, 0.7841},  // bXYZ
}

const p3Tolerance = 0.003

var colorantTags = map[string]int{"rXYZ": 0, "gXYZ": 1, "bXYZ": 2}

// isDisplayP3 reports whether an ICC profile is an RGB matrix profile with
// Display P3 colorants. (Its tone curves are assumed to be sRGB's, as Display
// P3's are.)
func isDisplayP3(icc []byte) bool {
	if len(icc) < 132 || len(icc) > maxICC || string(icc[36:40]) != "acsp" || string(icc[16:20]) != "RGB " {
		return false
	}
	n := int(binary.BigEndian.Uint32(icc[128:]))
	if n > 100 || 132+12*n > len(icc) {
		return false
	}
	var got [3][3]float64
	found := 0
	for i := 0; i < n; i++ {
		e := icc[132+12*i:]
		off, size := int(binary.BigEndian.Uint32(e[4:])), int(binary.BigEndian.Uint32(e[8:]))
		idx, ok := colorantTags[string(e[:4])]
		if !ok {
			continue
		}
		if size < 20 || off < 0 || off > len(icc)-20 || string(icc[off:off+4]) != "XYZ " {
			return false
		}
		for c := 0; c < 3; c++ {
			got[idx][c] = float64(int32(binary.BigEndian.Uint32(icc[off+8+4*c:]))) / 65536
		}
		found |= 1 << idx
	}
	if found != 7 {
		return false
	}
	for i := range got {
		for c := range got[i] {
			if math.Abs(got[i][c]-p3Colorants[i][c]) > p3Tolerance {
				return false
			}
		}
	}
	return true
}

// p3Matrix converts linear Display P3 to linear sRGB (both D65): the inverse
// of sRGB's RGB-to-XYZ matrix times Display P3's, computed from the
// primaries' chromaticities.
var p3Matrix = sync.OnceValue(func() [3][3]float64 {
	srgb := rgbToXYZ([2]float64{0.64, 0.33}, [2]float64{0.30, 0.60}, [2]float64{0.15, 0.06})
	p3 := rgbToXYZ([2]float64{0.680, 0.320}, [2]float64{0.265, 0.690}, [2]float64{0.150, 0.060})
	return mul3(inv3(srgb), p3)
})

// rgbToXYZ returns the RGB-to-XYZ matrix for primaries with white D65.
func rgbToXYZ(r, g, b [2]float64) [3][3]float64 {
	xyz := func(c [2]float64) [3]float64 { return [3]float64{c[0] / c[1], 1, (1 - c[0] - c[1]) / c[1]} }
	R, G, B := xyz(r), xyz(g), xyz(b)
	m := [3][3]float64{{R[0], G[0], B[0]}, {R[1], G[1], B[1]}, {R[2], G[2], B[2]}}
	w := xyz([2]float64{0.3127, 0.3290})
	s := mulVec(inv3(m), w)
	for i := 0; i < 3; i++ {
		for j := 0; j < 3; j++ {
			m[i][j] *= s[j]
		}
	}
	return m
}

func mul3(a, b [3][3]float64) (m [3][3]float64) {
	for i := 0; i < 3; i++ {
		for j := 0; j < 3; j++ {
			for k := 0; k < 3; k++ {
				m[i][j] += a[i][k] * b[k][j]
			}
		}
	}
	return m
}

func mulVec(a [3][3]float64, v [3]float64) (r [3]float64) {
	for i := 0; i < 3; i++ {
		r[i] = a[i][0]*v[0] + a[i][1]*v[1] + a[i][2]*v[2]
	}
	return r
}

func inv3(m [3][3]float64) [3][3]float64 {
	a, b, c := m[0][0], m[0][1], m[0][2]
	d, e, f := m[1][0], m[1][1], m[1][2]
	g, h, i := m[2][0], m[2][1], m[2][2]
	det := a*(e*i-f*h) - b*(d*i-f*g) + c*(d*h-e*g)
	return [3][3]float64{
		{(e*i - f*h) / det, (c*h - b*i) / det, (b*f - c*e) / det},
		{(f*g - d*i) / det, (a*i - c*g) / det, (c*d - a*f) / det},
		{(d*h - e*g) / det, (b*g - a*h) / det, (a*e - b*d) / det},
	}
}

// srgbToLinear and linearToSRGB are the sRGB transfer function (IEC
// 61966-2-1), which Display P3 shares.
func srgbToLinear(v float64) float64 {
	if v <= 0.04045 {
		return v / 12.92
	}
	return math.Pow((v+0.055)/1.055, 2.4)
}

// linearToSRGB is the inverse of srgbToLinear.
func linearToSRGB(v float64) float64 {
	if v <= 0.0031308 {
		return v * 12.92
	}
	return 1.055*math.Pow(v, 1/2.4) - 0.055
}

const linBits = 14 // resolution of the linear-light lookup table

var colorLUTs = sync.OnceValues(func() (toLin [256]float32, toSRGB [1<<linBits + 1]uint8) {
	for i := range toLin {
		toLin[i] = float32(srgbToLinear(float64(i) / 255))
	}
	for i := range toSRGB {
		toSRGB[i] = uint8(math.Round(linearToSRGB(float64(i)/(1<<linBits)) * 255))
	}
	return
})

// p3ToSRGB converts Display P3 pixels to sRGB in place: undo the transfer
// curve, apply the 3x3 matrix in linear light, clip to the sRGB gamut and
// apply the curve again.
func p3ToSRGB(img *image.NRGBA) {
	toLin, toSRGB := colorLUTs()
	m64 := p3Matrix()
	var m [3][3]float32
	for i := range m {
		for j := range m[i] {
			m[i][j] = float32(m64[i][j])
		}
	}
	enc := func(v float32) uint8 {
		switch {
		case v <= 0:
			return 0
		case v >= 1:
			return 255
		}
		return toSRGB[int(v*(1<<linBits)+0.5)]
	}
	w, h := img.Rect.Dx(), img.Rect.Dy()
	for y := 0; y < h; y++ {
		row := img.Pix[y*img.Stride:][:4*w]
		for i := 0; i < len(row); i += 4 {
			r, g, b := toLin[row[i]], toLin[row[i+1]], toLin[row[i+2]]
			row[i+0] = enc(m[0][0]*r + m[0][1]*g + m[0][2]*b)
			row[i+1] = enc(m[1][0]*r + m[1][1]*g + m[1][2]*b)
			row[i+2] = enc(m[2][0]*r + m[2][1]*g + m[2][2]*b)
		}
	}
}
