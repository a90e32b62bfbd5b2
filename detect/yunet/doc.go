// Package yunet is photoguard's face finder: YuNet-n (libfacedetection.train,
// Apache-2.0, an ONNX model of 75k parameters with a dynamic input size) run
// with onnxruntime over the photo at the scales the analysis plans, so that
// every face down to the coverage floor is seen at a size the model finds.
//
// Invariant: this is the only package that binds onnxruntime (cgo, dlopen of
// libonnxruntime.so); everything else here (pixel sampling, decoding, tiling,
// merging, the pass plan) is pure Go and tested without the library. It finds
// boxes and five landmarks only; descriptors stay with detect/dlib.
//
// Use:
//
//	d, err := yunet.New(yunet.Config{ModelsDir: dir})
//	f := yunet.NewFinder(d)                 // an analyze.Finder
//	boxes, err := f.Find(ctx, img, minFace) // img upright; boxes in img's pixels
//	// A video's frames between those looked at everywhere: the second
//	// look only around the small faces followed (analyze.FocusFinder).
//	boxes, err = f.FindFocus(ctx, img, minFace, analyze.Focus{Partial: true, Regions: rs})
//
// The measurements behind the plan and the score rules are in
// MEASUREMENTS.md beside this file.
package yunet
