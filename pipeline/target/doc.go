// Package target declares Target, what every publishing target is. The
// implementations live in sub-packages (dir, webdav, wordpress, sftp), open
// builds them from the configuration, and internal/targettest holds the
// conformance suite each of them runs.
//
// Invariant: Target is declared here and nowhere else; this package links
// nothing but the standard library.
package target
