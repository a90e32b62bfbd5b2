# Sourced by setup.sh and test.sh: the environment photoguard builds and runs with.
#
# go-face's cgo flags contain -march=native, which makes a binary that may
# crash on an older CPU. Go puts CGO_CXXFLAGS before a package's own flags, so
# an -march there does not win; a compiler wrapper that rewrites the flag does.
_pg_scripts=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ -x "$_pg_scripts/portable-cxx.sh" ]; then
	export CXX="$_pg_scripts/portable-cxx.sh"
fi
# dlib's BLAS: one thread per process was as fast or faster on two cores.
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
export PATH="/usr/local/go/bin:$PATH"
unset _pg_scripts
