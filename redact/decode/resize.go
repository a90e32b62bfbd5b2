package decode

import (
	"image"
	"math"
	"runtime"
	"sync"
)

// resize scales an opaque NRGBA image whose bounds start at the origin to
// w x h with a triangle filter widened by the scale factor when shrinking,
// so every source pixel contributes (the same filter as imaging.Linear). It
// works in fixed point, in two separable passes, in parallel over rows.
//
// It exists because imaging.Resize took 113-177 ms (Box to Lanczos) to take
// a DCT-scaled 2520x1890 photo to 2048x1536 on the 2-core target, more than
// decoding and encoding together; this takes about a tenth of that (see
// BenchmarkStages). TestResizeMatchesImaging holds it to imaging.Linear.
func resize(src *image.NRGBA, w, h int) *image.NRGBA {
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	if w == sw && h == sh {
		return src
	}
	xs := filterWeights(sw, w)
	ys := filterWeights(sh, h)

	// Horizontal pass: sh rows of w RGB pixels, 16 bits per channel
	// (8 extra bits of precision).
	tmp := make([]uint16, 3*w*sh)
	n := xs.n
	parallelRows(sh, func(y0, y1 int) {
		for y := y0; y < y1; y++ {
			row := src.Pix[y*src.Stride : y*src.Stride+4*sw]
			out := tmp[3*w*y : 3*w*(y+1)]
			switch n {
			case 3: // the common case when shrinking by less than 1.5
				for x := 0; x < w; x++ {
					s := 4 * xs.start[x]
					p := row[s : s+12 : s+12]
					ws := xs.w[3*x : 3*x+3 : 3*x+3]
					w0, w1, w2 := ws[0], ws[1], ws[2]
					r := w0*int32(p[0]) + w1*int32(p[4]) + w2*int32(p[8])
					g := w0*int32(p[1]) + w1*int32(p[5]) + w2*int32(p[9])
					b := w0*int32(p[2]) + w1*int32(p[6]) + w2*int32(p[10])
					o := out[3*x : 3*x+3 : 3*x+3]
					o[0] = uint16((r + 1<<5) >> 6)
					o[1] = uint16((g + 1<<5) >> 6)
					o[2] = uint16((b + 1<<5) >> 6)
				}
			default:
				for x := 0; x < w; x++ {
					s := 4 * xs.start[x]
					p := row[s : s+4*n]
					ws := xs.w[x*n : x*n+n]
					var r, g, b int32
					for k, wt := range ws {
						q := p[4*k : 4*k+3 : 4*k+3]
						r += wt * int32(q[0])
						g += wt * int32(q[1])
						b += wt * int32(q[2])
					}
					o := out[3*x : 3*x+3 : 3*x+3]
					o[0] = uint16((r + 1<<5) >> 6)
					o[1] = uint16((g + 1<<5) >> 6)
					o[2] = uint16((b + 1<<5) >> 6)
				}
			}
		}
	})

	// Vertical pass, accumulating whole rows.
	dst := image.NewNRGBA(image.Rect(0, 0, w, h))
	m := ys.n
	stride := 3 * w
	parallelRows(h, func(y0, y1 int) {
		acc := make([]int32, stride)
		for y := y0; y < y1; y++ {
			start := ys.start[y]
			ws := ys.w[y*m : y*m+m]
			// First tap initialises, the others add (two at a time).
			row := tmp[stride*start : stride*(start+1)]
			acc := acc[:len(row)]
			w0 := ws[0]
			for i, v := range row {
				acc[i] = w0 * int32(v)
			}
			k := 1
			for ; k+1 < m; k += 2 {
				r1 := tmp[stride*(start+k) : stride*(start+k+1)]
				r2 := tmp[stride*(start+k+1) : stride*(start+k+2)]
				r1 = r1[:len(acc)]
				r2 = r2[:len(acc)]
				w1, w2 := ws[k], ws[k+1]
				for i := range acc {
					acc[i] += w1*int32(r1[i]) + w2*int32(r2[i])
				}
			}
			if k < m {
				r1 := tmp[stride*(start+k) : stride*(start+k+1)]
				r1 = r1[:len(acc)]
				w1 := ws[k]
				for i := range acc {
					acc[i] += w1 * int32(r1[i])
				}
			}
			out := dst.Pix[y*dst.Stride : y*dst.Stride+4*w]
			for x := 0; x < w; x++ {
				a := acc[3*x : 3*x+3 : 3*x+3]
				o := out[4*x : 4*x+4 : 4*x+4]
				o[0] = clamp8((a[0] + 1<<21) >> 22)
				o[1] = clamp8((a[1] + 1<<21) >> 22)
				o[2] = clamp8((a[2] + 1<<21) >> 22)
				o[3] = 0xFF
			}
		}
	})
	return dst
}

func clamp8(v int32) uint8 {
	switch {
	case v < 0:
		return 0
	case v > 255:
		return 255
	}
	return uint8(v)
}

// kernel holds, for each output pixel i, the source pixels
// start[i]..start[i]+n-1 and their weights w[i*n:(i+1)*n], which sum to
// 1<<14. Every output has n taps (zero weights pad the short ones), and the
// window always lies inside the source.
type kernel struct {
	n     int
	start []int
	w     []int32
}

func filterWeights(srcLen, dstLen int) kernel {
	scale := float64(srcLen) / float64(dstLen)
	support := math.Max(scale, 1) // triangle of half-width 1, widened when shrinking
	window := func(i int) (center float64, lo, hi int) {
		center = (float64(i)+0.5)*scale - 0.5
		lo = max(0, int(math.Ceil(center-support)))
		hi = min(srcLen-1, int(math.Floor(center+support)))
		return
	}
	n := 1
	for i := 0; i < dstLen; i++ {
		_, lo, hi := window(i)
		n = max(n, hi-lo+1)
	}
	n = min(n, srcLen)
	k := kernel{n: n, start: make([]int, dstLen), w: make([]int32, dstLen*n)}
	buf := make([]float64, n)
	for i := 0; i < dstLen; i++ {
		center, lo, hi := window(i)
		start := max(0, min(lo, srcLen-n)) // window of n taps inside the source
		clear(buf)
		sum := 0.0
		for j := lo; j <= hi && j-start < n; j++ {
			v := 1 - math.Abs(float64(j)-center)/support
			if v > 0 {
				buf[j-start] = v
				sum += v
			}
		}
		if sum == 0 { // the nearest pixel, should the window be empty
			buf[max(0, min(n-1, int(math.Round(center))-start))] = 1
			sum = 1
		}
		ws := k.w[i*n : (i+1)*n]
		total, big := int32(0), 0
		for j := range ws {
			ws[j] = int32(math.Round(buf[j] / sum * (1 << 14)))
			total += ws[j]
			if ws[j] > ws[big] {
				big = j
			}
		}
		ws[big] += 1<<14 - total // exact normalisation
		k.start[i] = start
	}
	return k
}

// parallelRows splits [0, n) into one band per CPU.
func parallelRows(n int, f func(y0, y1 int)) {
	procs := min(runtime.GOMAXPROCS(0), max(1, n/16))
	if procs <= 1 {
		f(0, n)
		return
	}
	var wg sync.WaitGroup
	for p := 0; p < procs; p++ {
		y0, y1 := n*p/procs, n*(p+1)/procs
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(y0, y1)
		}()
	}
	wg.Wait()
}
