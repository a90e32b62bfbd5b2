// Package state owns the state folder (state_dir): its layout (Layout
// names every entry and the package that writes it), the run lock that keeps
// one service per folder, and Open, the one way a command opens the folder,
// in a named Mode.
//
// Invariant: a House opened ReadOnly or DryRun creates, writes and locks
// nothing in the folder; one opened Write or Service writes only inside it;
// only a Service house holds the run lock.
package state
