package dlib

/*
#cgo linux LDFLAGS: -ldl
#define _GNU_SOURCE
#include <dlfcn.h>

// OpenBLAS, if it is the BLAS dlib was linked with, exports this; other
// BLAS libraries do not, and then nothing happens.
static int pg_openblas_set_num_threads(int n) {
	void (*f)(int) = (void (*)(int))dlsym(RTLD_DEFAULT, "openblas_set_num_threads");
	if (f == NULL) return 0;
	f(n);
	return 1;
}
*/
import "C"

import (
	"os"
	"sync"
)

var blasOnce sync.Once

// singleThreadBLAS makes OpenBLAS use one thread unless the environment
// says otherwise. dlib's networks call BLAS from each worker; on two cores
// OpenBLAS's own threads only compete with the workers (MEASUREMENTS.md:
// 1.3 times the CPU time with one worker, half the throughput with two).
// It reports whether the setting was applied.
func singleThreadBLAS() (applied bool) {
	blasOnce.Do(func() {
		if _, set := os.LookupEnv("OPENBLAS_NUM_THREADS"); set {
			return
		}
		applied = C.pg_openblas_set_num_threads(1) == 1
	})
	return applied
}
