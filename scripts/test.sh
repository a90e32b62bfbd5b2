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
go test -race -timeout 30m ./... "$@"
