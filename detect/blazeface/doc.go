// Package blazeface is photoguard's second face box detector: MediaPipe
// BlazeFace (the "back camera" model for small and distant faces, as ONNX)
// run with onnxruntime over overlapping model-sized tiles of an enlarged
// copy of the image, so that faces a few dozen pixels wide are found fast.
//
// Invariant: this is the only package that binds onnxruntime (cgo, dlopen of
// libonnxruntime.so); everything else here (anchors, decoding, tiling,
// merging, contrast stretch) is pure Go and tested without the library.
// It finds boxes only; descriptors stay with detect/dlib.
//
// Use:
//
//	d, err := blazeface.New(blazeface.Config{ModelsDir: dir, Threshold: 0.3})
//	boxes, err := d.Detect(ctx, img, scale) // img upright; boxes in img's pixels
//
// scale is model pixels per image pixel: a face w pixels wide in img is
// seen w*scale pixels wide (MEASUREMENTS.md: sharp faces are found from
// about 12 model px at threshold 0.3, real crowd faces of 20 px at scale 1
// 71%, and every face up to 192 px in one tile). Dark or washed-out photos
// should be passed through Stretch first (or Config.TileStretch).
package blazeface
