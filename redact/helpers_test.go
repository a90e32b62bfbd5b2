package redact_test

import (
	"context"
	"image"

	"github.com/photoguard/photoguard/redact/decode"
	"github.com/photoguard/photoguard/redact/encode"
)

// sanitize is the pipeline's path through the redact packages: decode (long
// side at most maxSide) and encode.
func sanitize(data []byte, lim decode.Limits, maxSide int) ([]byte, *image.NRGBA, decode.Source, error) {
	img, src, err := decode.Decode(context.Background(), data, lim, maxSide)
	if err != nil {
		return nil, nil, src, err
	}
	out, err := encode.JPEG(img, 85)
	return out, img, src, err
}
