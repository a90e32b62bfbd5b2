package yunet

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
	ModelFile   = "yunet_n_dynamic.onnx"
	LibraryFile = "libonnxruntime.so.1"
)

// Hints name where the two files come from (scripts/setup.sh fetches both).
const (
	ModelHint = "run scripts/setup.sh, or download " + ModelFile +
		" from https://github.com/ShiqiYu/libfacedetection.train/raw/0047ac24afb1a50a0c6105001c89d1b5b805dbf1/onnx/" + ModelFile
	LibraryHint = "run scripts/setup.sh, or take package/bin/napi-v6/linux/x64/" + LibraryFile +
		" from the npm package onnxruntime-node@1.30.0 (npm pack onnxruntime-node@1.30.0)"
)

// Config says which model and library to load. Zero fields take defaults.
type Config struct {
	// ModelPath is the YuNet ONNX file. Default: ModelsDir/ModelFile.
	ModelPath string
	// LibraryPath is libonnxruntime.so. Default: ModelsDir/LibraryFile.
	// onnxruntime is loaded once per process: every Detector must name the
	// same library.
	LibraryPath string
	// ModelsDir is where ModelPath and LibraryPath default to.
	ModelsDir string
	// Threads is onnxruntime's intra-op thread count per run (default 1:
	// the workers are the parallelism).
	Threads int
}

func (c Config) withDefaults() Config {
	if c.ModelPath == "" {
		c.ModelPath = filepath.Join(c.ModelsDir, ModelFile)
	}
	if c.LibraryPath == "" {
		c.LibraryPath = filepath.Join(c.ModelsDir, LibraryFile)
	}
	if c.Threads <= 0 {
		c.Threads = 1
	}
	return c
}

// Check reports, without loading anything, whether the model and the
// library are there, with a hint on how to get a missing one.
func (c Config) Check() error {
	c = c.withDefaults()
	var errs []error
	if _, err := os.Stat(c.ModelPath); err != nil {
		errs = append(errs, fmt.Errorf("face finder: model %s: %w (%s)", c.ModelPath, err, ModelHint))
	}
	if _, err := os.Stat(c.LibraryPath); err != nil {
		errs = append(errs, fmt.Errorf("face finder: onnxruntime %s: %w (%s)", c.LibraryPath, err, LibraryHint))
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
			return fmt.Errorf("face finder: onnxruntime is already loaded from %s; cannot load %s too", envLib, lib)
		}
		return nil
	}
	if _, err := os.Stat(lib); err != nil {
		return fmt.Errorf("face finder: onnxruntime %s: %w (%s)", lib, err, LibraryHint)
	}
	ort.SetSharedLibraryPath(lib)
	if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
		return fmt.Errorf("face finder: onnxruntime %s: %w (%s)", lib, err, LibraryHint)
	}
	envLib = lib
	return nil
}

// outputNames are YuNet's outputs in the order run passes them: per stride
// (8, 16, 32) cls, obj, bbox, kps.
var outputNames = func() []string {
	var n []string
	for _, s := range strides {
		for _, k := range []string{"cls", "obj", "bbox", "kps"} {
			n = append(n, fmt.Sprintf("%s_%d", k, s))
		}
	}
	return n
}()

// Detector runs YuNet. It is safe for concurrent use: each run has its own
// tensors and onnxruntime sessions run concurrently.
type Detector struct {
	cfg Config

	mu      sync.RWMutex // Close waits for running calls
	session *ort.DynamicAdvancedSession
}

// ErrClosed is returned after Close.
var ErrClosed = errors.New("face finder: closed")

// New loads onnxruntime (once per process) and the model, and checks that
// the model has YuNet's input and outputs.
func New(cfg Config) (*Detector, error) {
	cfg = cfg.withDefaults()
	if _, err := os.Stat(cfg.ModelPath); err != nil {
		return nil, fmt.Errorf("face finder: model %s: %w (%s)", cfg.ModelPath, err, ModelHint)
	}
	if err := initEnv(cfg.LibraryPath); err != nil {
		return nil, err
	}
	ins, outs, err := ort.GetInputOutputInfo(cfg.ModelPath)
	if err != nil {
		return nil, fmt.Errorf("face finder: model %s: %w (%s)", cfg.ModelPath, err, ModelHint)
	}
	if err := checkIO(ins, outs); err != nil {
		return nil, fmt.Errorf("face finder: model %s is not YuNet: %w (%s)", cfg.ModelPath, err, ModelHint)
	}
	opts, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("face finder: %w", err)
	}
	defer opts.Destroy()
	if err := opts.SetIntraOpNumThreads(cfg.Threads); err != nil {
		return nil, fmt.Errorf("face finder: %w", err)
	}
	if err := opts.SetInterOpNumThreads(1); err != nil {
		return nil, fmt.Errorf("face finder: %w", err)
	}
	// The input size changes from run to run: no memory pattern to reuse.
	if err := opts.SetMemPattern(false); err != nil {
		return nil, fmt.Errorf("face finder: %w", err)
	}
	d := &Detector{cfg: cfg}
	d.session, err = ort.NewDynamicAdvancedSession(cfg.ModelPath, []string{"input"}, outputNames, opts)
	if err != nil {
		return nil, fmt.Errorf("face finder: model %s: %w (%s)", cfg.ModelPath, err, ModelHint)
	}
	return d, nil
}

// checkIO checks for one input "input" of N x 3 x H x W and the twelve
// outputs.
func checkIO(ins, outs []ort.InputOutputInfo) error {
	if len(ins) != 1 || ins[0].Name != "input" {
		return fmt.Errorf("want one input named input, the model has %d", len(ins))
	}
	if d := ins[0].Dimensions; len(d) != 4 || d[1] != 3 {
		return fmt.Errorf("want an input of N x 3 x H x W, the model has %v", d)
	}
	have := map[string]int{}
	for _, o := range outs {
		if len(o.Dimensions) == 3 {
			have[o.Name] = int(o.Dimensions[2])
		}
	}
	want := map[string]int{"cls": 1, "obj": 1, "bbox": 4, "kps": 10}
	for _, s := range strides {
		for k, n := range want {
			name := fmt.Sprintf("%s_%d", k, s)
			if have[name] != n {
				return fmt.Errorf("missing output %s (N x cells x %d)", name, n)
			}
		}
	}
	return nil
}

// Close releases the model. Calls still running finish first.
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

// run has the model look at region r of src seen at factor f (r in the
// scaled image's pixels) and returns the boxes of at least minScore, in the
// scaled image's pixels.
func (d *Detector) run(ctx context.Context, src *image.NRGBA, f float64, r image.Rectangle, minScore float64, buf *[]float32) ([]fbox, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	pw, ph := pad32(r.Dx()), pad32(r.Dy())
	n := 3 * pw * ph
	if cap(*buf) < n {
		*buf = make([]float32, n)
	}
	data := (*buf)[:n]
	fill(data, pw, ph, src, f, r)
	in, err := ort.NewTensor(ort.NewShape(1, 3, int64(ph), int64(pw)), data)
	if err != nil {
		return nil, fmt.Errorf("face finder: %w", err)
	}
	defer in.Destroy()
	outs := make([]ort.Value, len(outputNames))
	defer func() {
		for _, o := range outs {
			if o != nil {
				o.Destroy()
			}
		}
	}()
	d.mu.RLock()
	if d.session == nil {
		d.mu.RUnlock()
		return nil, ErrClosed
	}
	err = d.session.Run([]ort.Value{in}, outs)
	d.mu.RUnlock()
	if err != nil {
		return nil, fmt.Errorf("face finder: running %s: %w", d.cfg.ModelPath, err)
	}
	var decoded []output
	for i, s := range strides {
		o := output{stride: s}
		for k, dst := range []*[]float32{&o.cls, &o.obj, &o.bbox, &o.kps} {
			t, ok := outs[4*i+k].(*ort.Tensor[float32])
			if !ok {
				return nil, fmt.Errorf("face finder: output %s is not float32", outputNames[4*i+k])
			}
			*dst = t.GetData()
		}
		decoded = append(decoded, o)
	}
	boxes := decode(decoded, pw, ph, minScore)
	for i := range boxes {
		boxes[i] = boxes[i].scaled(1, float64(r.Min.X), float64(r.Min.Y))
	}
	return boxes, nil
}
