#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it (.ci/run calls this after
# scripts/setup.sh). Extra arguments go to `go test` (e.g. -run TestX -v).
#
# Face tests need the dlib models (PHOTOGUARD_MODELS_DIR, default
# /usr/local/share/photoguard/models) and the shared test photos
# (PHOTOGUARD_TESTDATA, default ../shared/testdata). On a developer machine
# they skip without them; under CI=true a missing asset fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/env.sh
. scripts/env.sh
export PHOTOGUARD_MODELS_DIR=${PHOTOGUARD_MODELS_DIR:-/usr/local/share/photoguard/models}
if [ -z "${PHOTOGUARD_TESTDATA:-}" ] && [ -d ../shared/testdata ]; then
	export PHOTOGUARD_TESTDATA=$(cd ../shared/testdata && pwd)
fi
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
	echo "gofmt would change: $unformatted" >&2
	exit 1
fi
go vet ./...
# Two runs. Everything that does not link dlib runs under the race detector
# (the pipeline, journal, daemon and target code, where the concurrency
# lives). The packages that link dlib run without it: the race detector
# cannot see into dlib's C++, it makes them take twice as long (measured:
# 700 s instead of 420 s for cmd/photoguard), and a race build would compile
# dlib's wrapper a second time. -trimpath matches scripts/setup.sh, so the
# wrapper compiled there is reused here. detect/yunet runs the face finder
# over the shared photos (pure-Go pixel loops: many times slower under race).
dlib_pkgs=(./cmd/photoguard ./detect/dlib ./detect/yunet)
mapfile -t race_pkgs < <(go list ./... | grep -v -e '/cmd/photoguard$' -e '/detect/dlib$' -e '/detect/yunet$')
go test -race -timeout 30m "${race_pkgs[@]}" "$@"
go test -trimpath -timeout 30m "${dlib_pkgs[@]}" "$@"
