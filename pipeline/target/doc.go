// Package target holds what all publishing targets share: the conformance
// suite every target implementation runs. The implementations live in
// sub-packages (dir, ...).
package target
