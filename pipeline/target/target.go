package target

import "context"

// Target is where approved photos go: the one declaration. The pipeline
// publishes, checks and takes down through it, open builds one per
// configured target, and internal/targettest's Conformance is the behaviour
// each implementation (dir, webdav, wordpress, sftp) must have. It lives in
// this small leaf, below the pipeline and the configuration, so that
// neither links the other (the pipeline links libjpeg and libheif) and
// neither repeats it.
type Target interface {
	// Publish stores data under name (a plain file name) atomically: once it
	// returns nil the whole file is at the target and survives a crash;
	// before that the target shows nothing under that name. Publishing the
	// same name again replaces it. It returns the target's own reference to
	// the file (a WordPress media id; the name itself for file-like targets),
	// which the publication ledger keeps and Remove accepts.
	Publish(ctx context.Context, name string, data []byte) (ref string, err error)
	// Exists reports whether name is complete at the target, and its
	// reference when it is.
	Exists(ctx context.Context, name string) (ref string, ok bool, err error)
	// Remove takes down what ref names; removing what is not there is no
	// error.
	Remove(ctx context.Context, ref string) error
}

// TempNamer is a Target that uploads under a temporary name before it
// renames the upload to its name (WebDAV). TempName is that name for name,
// the same for every attempt: the publication ledger records it before the
// upload, because an upload the target gave up on may still land under it
// later, and a takedown or a sweep must be able to reach it.
type TempNamer interface {
	TempName(name string) string
}

// TempRemover removes a temporary upload (a name TempName made); what is
// gone is no error.
type TempRemover interface {
	RemoveTemp(ctx context.Context, temp string) error
}
