// Package blazeface is photoguard's second face box detector: MediaPipe
// BlazeFace (the "back camera" model for small and distant faces, as ONNX)
// run with onnxruntime over overlapping model-sized tiles of an enlarged
// copy of the image, so that faces a few dozen pixels wide are found fast.
//
// Invariant: this is the only package that binds onnxruntime (cgo, dlopen of
// libonnxruntime.so); everything else here (anchors, decoding, tiling,
// merging, contrast stretch) is pure Go and tested without the library.
// It finds boxes only; descriptors stay with detect/dlib.
package blazeface
