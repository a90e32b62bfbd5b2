package dlib

import (
	"context"
	"errors"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"strings"

	face "github.com/Kagami/go-face"

	"github.com/photoguard/photoguard/detect"
	"github.com/photoguard/photoguard/detect/analyze"
)

// Detector names accepted in Config.Detector.
const (
	// HOG is dlib's frontal-face HOG detector: about 0.12 s of CPU per
	// megapixel it sees; finds frontal and three-quarter faces from about
	// 60 px wide in the copy it is given (hence Upsample).
	HOG = detect.DetectorHOG
	// CNN is dlib's MMOD CNN detector: finds more turned and blurred faces,
	// but only from about 75 px wide in the copy it is given, at 15-20 times
	// HOG's time per pixel and about 1 GB per megapixel.
	CNN = detect.DetectorCNN
	// HOGCNN runs both and merges their faces by overlap.
	HOGCNN = detect.DetectorHOGCNN
)

// Defaults applied by New to zero Config fields, from the measurements in
// MEASUREMENTS.md (measure_test.go): HOG sees the image enlarged 2x, up to a
// long side of 6144 px. On a 4032x3024 photo (enlarged 1.52x) it finds faces
// from 40 px wide (11 of 12 at 40 px, all from 50 px) in about 4 s of one
// core and 0.5 GB; on photos up to 3072 px, from about 30 px. CNN is not
// worth its cost on large photos: at 2016 px it finds only faces of 150 px.
const (
	DefaultDetector = HOG
	DefaultMaxSide  = 6144
	DefaultUpsample = 2
	DefaultWorkers  = 1
)

// Limits on Config fields: beyond them time or memory is out of proportion.
// They are detect's ranges (detect/ranges.go), which the configuration
// checks too, so that what `config check` accepts is what New accepts.
const (
	MinMaxSide    = detect.MinDetectMaxSide
	MaxMaxSide    = detect.MaxDetectMaxSide // HOG at 8064x6048: about 7 s and 1.7 GB
	MaxUpsample   = detect.MaxUpsample
	MaxWorkers    = detect.MaxWorkers
	MinCNNMaxSide = detect.MinCNNMaxSide
	// MaxCNNMaxSide bounds Config.CNNMaxSide (see detect.MaxCNNMaxSide).
	MaxCNNMaxSide = detect.MaxCNNMaxSide
	// DefaultCNNMaxSide is the default of Config.CNNMaxSide.
	DefaultCNNMaxSide = 1600
)

// Config selects the detector, the size of the image dlib sees and the number
// of workers. Zero fields take the Default* values.
//
// For an image whose long side is L pixels, the HOG pass sees a copy whose
// long side is min(L×Upsample, MaxSide) and the CNN pass one of
// min(L×Upsample, MaxSide, CNNMaxSide): images are enlarged only as far as
// those bounds allow, and shrunk when larger. So the CNN pass sees small
// photos enlarged (where it finds blurred and turned faces HOG misses, for a
// few seconds) and large ones at a size its memory allows. A face w pixels wide is then seen, and
// described, at w×min(Upsample, MaxSide/L) pixels by HOG, which finds faces
// from about 60 px; CNN needs about 75 px (MEASUREMENTS.md).
type Config struct {
	// ModelsDir holds the three model files go-face loads (see ModelFiles).
	ModelsDir string
	// Detector is HOG, CNN or HOGCNN.
	Detector string
	// MaxSide bounds the long side, in pixels, of every copy handed to dlib,
	// and so time and memory (HOG: about 0.12 s of CPU and 35 MB per
	// megapixel it sees, plus 27 ms per face for the descriptor).
	MaxSide int
	// Upsample is how many times HOG's copy may be enlarged (1 = never).
	// go-face's HOG does not upsample by itself.
	Upsample int
	// CNNMaxSide bounds the long side of the CNN pass's copy, and so its
	// memory and time (default 1600: about 2.2 GB and 5 s of CPU).
	CNNMaxSide int
	// Workers is the number of go-face recognizers, each holding all three
	// models (about 100 MB). One recognizer runs one Detect at a time, so
	// one worker is one core's worth of work; Detect calls beyond Workers
	// wait. On two cores, two workers doubled the throughput (with one
	// OpenBLAS thread each); each busy worker needs about 0.5 GB more for a
	// 12 MP photo at the default size.
	Workers int
	// MemoryBytes bounds the memory of one HOG pass of Faces (about 23
	// bytes per pixel it sees): a larger copy is seen in tiles. 0: no bound.
	MemoryBytes int64
}

// ModelFile names one model file go-face loads and where to get it.
type ModelFile struct {
	Name string
	Hint string
}

// ModelFiles are the files go-face loads from ModelsDir, all three, whichever
// detector is configured.
var ModelFiles = []ModelFile{
	{"shape_predictor_5_face_landmarks.dat",
		"download http://dlib.net/files/shape_predictor_5_face_landmarks.dat.bz2 and bunzip2 it, " +
			"or on Debian link this name to /usr/share/dlib/shape_predictor_68_face_landmarks.dat (package libdlib-data)"},
	{"dlib_face_recognition_resnet_model_v1.dat",
		"download http://dlib.net/files/dlib_face_recognition_resnet_model_v1.dat.bz2 and bunzip2 it"},
	{"mmod_human_face_detector.dat",
		"download http://dlib.net/files/mmod_human_face_detector.dat.bz2 and bunzip2 it"},
}

// ErrClosed is returned by Detect after Close.
var ErrClosed = errors.New("dlib: detector closed")

// Recognizer finds faces and computes their descriptors. It is safe for
// concurrent use; at most Config.Workers calls run at once.
type Recognizer struct {
	cfg    Config
	passes []pass
	pool   *pool[*face.Recognizer] // Config.Workers recognizers
	model  string                  // ModelID of the models loaded
}

// pass is one detector run over the image.
type pass struct {
	name    string  // "hog" or "cnn", reported in detect.Face.Detector
	enlarge float64 // largest factor the image may be enlarged by
	maxSide int     // longest side of the copy
}

// Normalize fills zero fields with defaults and checks the rest.
func (c Config) Normalize() (Config, error) {
	if c.Detector == "" {
		c.Detector = DefaultDetector
	}
	if c.MaxSide == 0 {
		c.MaxSide = DefaultMaxSide
	}
	if c.Upsample == 0 {
		c.Upsample = DefaultUpsample
	}
	if c.Workers == 0 {
		c.Workers = DefaultWorkers
	}
	if c.CNNMaxSide == 0 {
		c.CNNMaxSide = DefaultCNNMaxSide
	}
	if c.CNNMaxSide < MinCNNMaxSide || c.CNNMaxSide > MaxCNNMaxSide {
		return c, fmt.Errorf("dlib: CNN max side %d out of range [%d, %d]", c.CNNMaxSide, MinCNNMaxSide, MaxCNNMaxSide)
	}
	switch c.Detector {
	case HOG, CNN, HOGCNN:
	default:
		return c, fmt.Errorf("dlib: unknown detector %q (want %q, %q or %q)", c.Detector, HOG, CNN, HOGCNN)
	}
	if c.MaxSide < MinMaxSide || c.MaxSide > MaxMaxSide {
		return c, fmt.Errorf("dlib: max side %d out of range [%d, %d]", c.MaxSide, MinMaxSide, MaxMaxSide)
	}
	if c.Upsample < detect.MinUpsample || c.Upsample > MaxUpsample {
		return c, fmt.Errorf("dlib: upsample %d out of range [%d, %d]", c.Upsample, detect.MinUpsample, MaxUpsample)
	}
	if c.Workers < detect.MinWorkers || c.Workers > MaxWorkers {
		return c, fmt.Errorf("dlib: workers %d out of range [%d, %d]", c.Workers, detect.MinWorkers, MaxWorkers)
	}
	if c.ModelsDir == "" {
		return c, errors.New("dlib: models directory not set")
	}
	return c, nil
}

// CheckModels reports the first model file missing from dir (or unreadable),
// naming it and where to get it. The error wraps the os error, so
// errors.Is(err, fs.ErrNotExist) holds for a missing file.
func CheckModels(dir string) error {
	for _, m := range ModelFiles {
		p := filepath.Join(dir, m.Name)
		f, err := os.Open(p) // follows links: a dangling link is missing too
		if err != nil {
			return fmt.Errorf("dlib: model file %s missing or unreadable in %s (%s; or run scripts/setup.sh): %w",
				m.Name, dir, m.Hint, err)
		}
		st, err := f.Stat()
		f.Close()
		if err != nil {
			return fmt.Errorf("dlib: model file %s: %w", p, err)
		}
		if !st.Mode().IsRegular() || st.Size() == 0 {
			return fmt.Errorf("dlib: model file %s is not a non-empty regular file (%s)", p, m.Hint)
		}
	}
	return nil
}

// New checks the configuration and the model files; the models are loaded
// once per worker when first needed (under a second and about 150 MB
// each). Unless
// OPENBLAS_NUM_THREADS is set, it also tells OpenBLAS to use one thread (see
// singleThreadBLAS).
func New(cfg Config) (*Recognizer, error) {
	cfg, err := cfg.Normalize()
	if err != nil {
		return nil, err
	}
	if err := CheckModels(cfg.ModelsDir); err != nil {
		return nil, err
	}
	model, err := ModelID(cfg.ModelsDir)
	if err != nil {
		return nil, err
	}
	singleThreadBLAS()
	d := &Recognizer{cfg: cfg, model: model}
	// Each worker's recogniser (about 0.5 s and 150 MB to load) is loaded
	// when a photo first needs it.
	d.pool = newPool(cfg.Workers, func() (*face.Recognizer, error) {
		rec, err := face.NewRecognizer(cfg.ModelsDir)
		if err != nil {
			return nil, fmt.Errorf("dlib: loading models from %s: %w", cfg.ModelsDir, err)
		}
		return rec, nil
	})
	if strings.HasPrefix(cfg.Detector, HOG) {
		d.passes = append(d.passes, pass{HOG, float64(cfg.Upsample), cfg.MaxSide})
	}
	if strings.HasSuffix(cfg.Detector, CNN) {
		d.passes = append(d.passes, pass{CNN, float64(cfg.Upsample), min(cfg.MaxSide, cfg.CNNMaxSide)})
	}
	return d, nil
}

// Warm loads one worker's recogniser now, so that model files dlib cannot
// read are an error at start rather than at the first photo with a face
// (the service calls it; a batch or explain of photos without faces never
// pays for the models).
func (d *Recognizer) Warm(ctx context.Context) error {
	_, release, err := d.borrow(ctx)
	if err != nil {
		return err
	}
	release()
	return nil
}

// ModelID is the ModelID of the models this detector loaded: the
// descriptors it returns are comparable only with descriptors made under
// the same id.
func (d *Recognizer) ModelID() string { return d.model }

// Config returns the configuration in use, defaults filled in.
func (d *Recognizer) Config() Config { return d.cfg }

// Close waits for running Detect calls and frees the models. It is safe to
// call more than once.
func (d *Recognizer) Close() error {
	d.pool.close(func(rec *face.Recognizer) { rec.Close() })
	return nil
}

// borrow lends a recognizer until release is called.
func (d *Recognizer) borrow(ctx context.Context) (rec *face.Recognizer, release func(), err error) {
	rec, err = d.pool.get(ctx)
	if err != nil {
		return nil, nil, err
	}
	return rec, func() { d.pool.put(rec) }, nil
}

// Detect finds the faces in img, which must be upright. The returned boxes
// are in img's coordinates (clipped to its bounds), each face has a
// descriptor, and faces found by more than one pass are returned once.
//
// The context is checked while waiting for a worker, before each dlib pass
// and after the last; a pass already running in C is not interrupted. At
// the defaults a pass takes up to about 4 s of CPU (a 12 MP photo, HOG on
// a 6144x4608 copy, plus 28 ms per face); a CNN pass can take 10 s.
func (d *Recognizer) Detect(ctx context.Context, img image.Image) ([]detect.Face, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b := img.Bounds()
	if b.Empty() {
		return nil, nil
	}
	rec, release, err := d.borrow(ctx)
	if err != nil {
		return nil, err
	}
	defer release()

	var faces []detect.Face
	var enc *encoded
	for _, p := range d.passes {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if s := scaleFor(b, p.maxSide, p.enlarge); enc == nil || enc.scale != s {
			enc, err = encodeScaled(img, s)
			if err != nil {
				return nil, err
			}
		}
		var found []face.Face
		if p.name == CNN {
			found, err = rec.RecognizeCNN(enc.jpeg)
		} else {
			found, err = rec.Recognize(enc.jpeg)
		}
		if err != nil {
			return nil, fmt.Errorf("dlib: %s pass: %w", p.name, err)
		}
		var these []detect.Face
		for _, f := range found {
			if r := enc.toSource(f.Rectangle); !r.Empty() {
				these = append(these, detect.Face{Rect: r, Descriptor: detect.Descriptor(f.Descriptor), Detector: p.name})
			}
		}
		faces = mergePasses(faces, these)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	detect.SortFaces(faces)
	return faces, nil
}

// mergePasses returns the faces of the earlier passes and those of a later
// pass that are not among them (analyze.SameFace). Faces within one pass are
// not merged: dlib has already removed overlapping boxes there, and two
// overlapping faces must both stay. The earlier pass's face is kept (passes
// run HOG first: the landmark model expects HOG-like boxes).
func mergePasses(earlier, later []detect.Face) []detect.Face {
	out := earlier[:len(earlier):len(earlier)] // appending never writes into earlier's array
	for _, f := range later {
		dup := false
		for _, g := range earlier {
			if analyze.SameFace(g.Rect, f.Rect) {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, f)
		}
	}
	return out
}

// IoU is the intersection over union of two rectangles.
func IoU(a, b image.Rectangle) float64 { return analyze.IoU(a, b) }
