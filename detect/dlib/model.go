package dlib

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// descriptorModels are the model files that decide what a descriptor is:
// the landmark model aligns the face chip, the network describes it. (The
// CNN detector only finds faces; it does not change a descriptor.)
var descriptorModels = []string{
	"shape_predictor_5_face_landmarks.dat",
	"dlib_face_recognition_resnet_model_v1.dat",
}

// ModelID names the descriptor models in dir: the first 16 hex digits of a
// SHA-256 over the SHA-256 of each file in descriptorModels (links
// followed). Descriptors are comparable only when they were made with the
// same ModelID: the store records it with every reference, and the
// pipeline refuses to match against references made with another one.
// Hashing reads the files once (about 120 MB with Debian's 68-point
// landmark model).
func ModelID(dir string) (string, error) {
	all := sha256.New()
	for _, name := range descriptorModels {
		p := filepath.Join(dir, name)
		f, err := os.Open(p)
		if err != nil {
			return "", fmt.Errorf("dlib: model file %s: %w", p, err)
		}
		h := sha256.New()
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return "", fmt.Errorf("dlib: reading model file %s: %w", p, err)
		}
		fmt.Fprintf(all, "%s %x\n", name, h.Sum(nil))
	}
	return hex.EncodeToString(all.Sum(nil))[:16], nil
}
