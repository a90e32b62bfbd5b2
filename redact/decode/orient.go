package decode

import (
	"image"

	"github.com/disintegration/imaging"
)

// orient returns img transformed so that a stored image with EXIF
// orientation o (1-8) is upright. Orientation 1 and invalid values return
// img itself.
//
//	1 as stored            5 transpose: flip about the top-left to bottom-right diagonal
//	2 mirror left-right    6 rotate 90° clockwise
//	3 rotate 180°          7 transverse: flip about the top-right to bottom-left diagonal
//	4 mirror top-bottom    8 rotate 90° anti-clockwise
func orient(img *image.NRGBA, o int) *image.NRGBA {
	switch o {
	case 2:
		return imaging.FlipH(img)
	case 3:
		return imaging.Rotate180(img)
	case 4:
		return imaging.FlipV(img)
	case 5:
		return imaging.Transpose(img)
	case 6:
		return imaging.Rotate270(img) // imaging rotates anti-clockwise: 270° = 90° clockwise
	case 7:
		return imaging.Transverse(img)
	case 8:
		return imaging.Rotate90(img)
	}
	return img
}
