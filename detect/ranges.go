package detect

// The names and ranges of the detection settings. config (config check, and
// every start, which validates the same way) and detect/dlib
// (dlib.Config.Normalize) both take them from here, so that the
// configuration accepts exactly what the detector then runs with. Beyond the
// ranges time or memory is out of proportion (detect/dlib/MEASUREMENTS.md).

// The detector names of faces.detector (dlib.Config.Detector): dlib's HOG,
// its CNN, or both.
const (
	DetectorHOG    = "hog"
	DetectorCNN    = "cnn"
	DetectorHOGCNN = "hog+cnn"
)

// Detectors lists the detector names.
func Detectors() []string { return []string{DetectorHOG, DetectorCNN, DetectorHOGCNN} }

const (
	// MinDetectMaxSide and MaxDetectMaxSide bound faces.detect_max_side
	// (dlib.Config.MaxSide): HOG at 8064x6048 takes about 7 s and 1.7 GB.
	MinDetectMaxSide = 320
	MaxDetectMaxSide = 8192
	// MinUpsample and MaxUpsample bound faces.upsample (dlib.Config.Upsample).
	MinUpsample = 1
	MaxUpsample = 3
	// MinCNNMaxSide and MaxCNNMaxSide bound faces.cnn_max_side
	// (dlib.Config.CNNMaxSide): the CNN detector's memory grows with the
	// pixels it sees (about 1 GB at 1000x750, 2.2 GB at 1600x1200, 3.3 GB at
	// 2016x1512, 7 GB at 3024x2268).
	MinCNNMaxSide = 400
	MaxCNNMaxSide = 3072
	// MinWorkers and MaxWorkers bound workers (dlib.Config.Workers): each
	// worker holds all three models and up to 2.2 GB while it detects.
	MinWorkers = 1
	MaxWorkers = 8
)
