#!/bin/sh
# portable-cxx.sh — a C++ compiler wrapper for building photoguard binaries
# that run on any x86-64 CPU of the chosen level, not only on the build host.
#
# Why: github.com/Kagami/go-face hard-codes `-march=native` in its
# `#cgo CXXFLAGS`. The go command puts $CGO_CXXFLAGS BEFORE a package's own
# #cgo flags (cmd/go/internal/work/exec.go, buildFlags), and with GCC the last
# -march wins, so CGO_CXXFLAGS=-march=... cannot override it. This wrapper
# rewrites the flag on the compiler's command line instead, without forking
# go-face. dlib's HOG scanner and network layers are header templates
# compiled into go-face's objects, so this flag decides which instructions
# they use: with -march=native a binary built on an AVX-512 machine dies with
# SIGILL on an older CPU. Cost at x86-64-v2: HOG about 20 % slower, the
# descriptor network unchanged (detect/dlib/MEASUREMENTS.md, section 6).
#
# Use (the path must be absolute: cgo runs the compiler in the module dir):
#
#   CXX="$PWD/scripts/portable-cxx.sh" go build -o bin/photoguard ./cmd/photoguard
#
# Default level x86-64-v2 (SSE4.2/POPCNT: Nehalem, 2008, and later). For a
# faster build that needs AVX2/FMA (Haswell, 2013, and later):
#
#   CXX="$PWD/scripts/portable-cxx.sh --march=x86-64-v3" go build ...
#
# The go command puts the whole CXX string into its build-cache key, so builds
# with and without the wrapper (or with different --march) never share cached
# objects. It does not hash this file's contents: after editing this script,
# run `go clean -cache`.
#
# Set PORTABLE_CXX_LOG=/some/file to append every rewritten command line there.
# PORTABLE_CXX_REAL (default g++) names the real compiler; like this file's
# contents it is not part of the cache key.
set -eu

march=x86-64-v2
case "${1:-}" in
--march=*)
	march=${1#--march=}
	shift
	;;
esac
real=${PORTABLE_CXX_REAL:-g++}

# Rebuild "$@" with -march=native / -mtune=native replaced. POSIX sh has no
# arrays; rotate the positional parameters once through the list.
n=$#
while [ "$n" -gt 0 ]; do
	a=$1
	shift
	case "$a" in
	-march=native) a="-march=$march" ;;
	-mtune=native) a="-mtune=generic" ;;
	esac
	set -- "$@" "$a"
	n=$((n - 1))
done

if [ -n "${PORTABLE_CXX_LOG:-}" ]; then
	printf '%s' "$real" >>"$PORTABLE_CXX_LOG"
	printf ' %s' "$@" >>"$PORTABLE_CXX_LOG"
	printf '\n' >>"$PORTABLE_CXX_LOG"
fi
exec "$real" "$@"
