package pipeline

import (
	"context"
	"fmt"
	"image"
	"strings"
	"time"

	"github.com/photoguard/photoguard/redact/decode"
	"github.com/photoguard/photoguard/redact/encode"
)

// sideOf and qualityOf are a destination's output settings: its own, or the
// pipeline's.
func (p *Pipeline) sideOf(d *Destination) int {
	if d.MaxSide > 0 {
		return d.MaxSide
	}
	return p.opt.MaxSide
}

func (p *Pipeline) qualityOf(d *Destination) int {
	if d.Quality > 0 {
		return d.Quality
	}
	return p.opt.Quality
}

// largestSide is the largest side any destination publishes at: faces are
// analysed for it, which covers every smaller output (a face of the
// coverage floor there is smaller still elsewhere, and was looked for).
func (p *Pipeline) largestSide() int {
	side := 0
	for _, d := range p.opt.Destinations {
		side = max(side, p.sideOf(d))
	}
	return side
}

func longSide(img *image.NRGBA) int { return max(img.Rect.Dx(), img.Rect.Dy()) }

// prepare gives each delivery its neutral output name and the photo at the
// size its destination publishes at (Base, made once per size), with the
// faces mapped onto it.
func (p *Pipeline) prepare(ctx context.Context, j *Job) error {
	date := p.opt.Now()
	if j.Record != nil && !j.Record.ClaimedAt.IsZero() {
		date = j.Record.ClaimedAt.Local()
	}
	bySide := map[int]*Delivery{}
	for _, d := range j.live() {
		d.Name = OutputName(date, j.SHA256)
		asked := p.sideOf(d.Dest)
		side := min(asked, longSide(j.Image))
		d.smaller = j.smaller && side < asked
		if same := bySide[side]; same != nil {
			d.Base, d.Faces, d.FloorPx = same.Base, same.Faces, same.FloorPx
			continue
		}
		bySide[side] = d
		d.Base, d.Faces, d.FloorPx = j.Image, j.Faces, j.Analysis.FloorPx
		if side < longSide(j.Image) {
			d.Base = decode.Fit(j.Original, side)
			d.Faces = scaleFaces(j.Faces, j.Image.Rect, d.Base.Rect)
			d.FloorPx = j.Analysis.FloorPx * float64(longSide(d.Base)) / float64(longSide(j.Image))
		}
	}
	return nil
}

// publishedSide is the long side delivery d is published at, and whether
// that is smaller than its destination asked (so that the coverage floor
// holds).
func publishedSide(j *Job, d *Delivery) (int, bool) {
	switch {
	case d.Base != nil:
		return longSide(d.Base), d.smaller
	case j.Image != nil:
		return longSide(j.Image), j.smaller
	}
	return 0, false
}

// OutputName is the neutral name a photo is published under: the date and a
// short content hash, never anything of the input's name (which may hold a
// child's name).
func OutputName(date time.Time, sha string) string {
	return date.Format("20060102") + "-" + sha[:12] + ".jpg"
}

// encode encodes each delivery's image, once per distinct size, quality and
// set of redacted faces: deliveries that publish the same pixels the same
// way share the bytes.
func (p *Pipeline) encode(ctx context.Context, j *Job) error {
	done := map[string]*Delivery{}
	for _, d := range j.live() {
		key := encodeKey(d, p.qualityOf(d.Dest))
		if same := done[key]; same != nil {
			d.Output = same.Output
			continue
		}
		out, err := encode.JPEG(d.Image, p.qualityOf(d.Dest))
		if err != nil {
			d.Err = Hold(err, "encoding the output failed")
			continue
		}
		d.Output = out
		done[key] = d
	}
	return nil
}

// encodeKey says which deliveries have the same output: the same size,
// quality and faces redacted.
func encodeKey(d *Delivery, quality int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%dx%d q%d ", d.Image.Rect.Dx(), d.Image.Rect.Dy(), quality)
	for _, dec := range d.Decisions {
		if dec.Show {
			b.WriteByte('s')
		} else {
			b.WriteByte('r')
		}
	}
	return b.String()
}

// verify checks each output, what will be published, not what we meant to
// write: the encoded bytes are parsed against the allow-list and decoded
// back at the size that was encoded.
func (p *Pipeline) verify(ctx context.Context, j *Job) error {
	for _, d := range j.live() {
		if err := encode.VerifyClean(d.Output); err != nil {
			d.Err = Hold(err, "the output failed the metadata check")
			continue
		}
		src, err := decode.Probe(d.Output)
		b := d.Image.Bounds()
		if err != nil || src.Width != b.Dx() || src.Height != b.Dy() {
			d.Err = Hold(err, "the output does not read back as the image that was encoded")
		}
	}
	return nil
}
