// Package video is a video's way through photoguard, outside photoguard's
// own memory: Debian's ffprobe reads the header and ffmpeg decodes the
// frames and encodes the published file, each as a child process with a
// deadline and bounded output; no byte of a video is parsed in this process
// except the published file's box structure (CheckClean).
//
// Invariant: a published video is ffmpeg's H.264 encoding of frames this
// process gave it (and, only when asked, the input's audio re-encoded), with
// no metadata: CheckClean refuses any box, stream or tag outside an
// allow-list.
package video
