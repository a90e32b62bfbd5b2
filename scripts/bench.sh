#!/usr/bin/env bash
# Throughput of a batch run on tablet-sized photos: the shared sample photos
# (3-5 adults each) scaled to 4032x3024, several copies each, published to a
# folder with every face checked, blurred (nobody is enrolled, so every face
# is redacted: the most work) and verified.
#
#   scripts/bench.sh [COPIES]      (default 4 copies of the 6 photos = 24)
#
# Environment: PHOTOGUARD_TESTDATA (default ../shared/testdata), and any
# PHOTOGUARD_* override, e.g. PHOTOGUARD_WORKERS=1 or PHOTOGUARD_FACES_DETECTOR=cnn.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
copies=${1:-4}
testdata=${PHOTOGUARD_TESTDATA:-../shared/testdata}
[ -x bin/photoguard ] || go build -trimpath -o bin/photoguard ./cmd/photoguard
work=$(mktemp -d)
trap '[ -n "${PHOTOGUARD_BENCH_KEEP:-}" ] || rm -rf "$work"' EXIT
echo "bench: working in $work"
go run ./scripts/benchphotos -src "$testdata/photos" -out "$work/inbox/bench" -copies "$copies"
cat >"$work/photoguard.yaml" <<YAML
inbox: $work/inbox
state_dir: $work/state
watch:
  settle: 0s
targets:
  website:
    type: dir
    path: $work/out
    channel: website
    approval: none
    individual: allowed
YAML
touch -d '1 hour ago' "$work"/inbox/bench/*
n=$(ls "$work/inbox/bench" | wc -l)
echo "bench: $n photos, $(nproc) cores, workers ${PHOTOGUARD_WORKERS:-2 (default)}, detector ${PHOTOGUARD_FACES_DETECTOR:-default}"
start=$(date +%s.%N)
bin/photoguard --config "$work/photoguard.yaml" batch --report "$work/report.json" "$work/inbox" >/dev/null || true
end=$(date +%s.%N)
python3 - "$work/report.json" "$start" "$end" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
s = r["summary"]; secs = float(sys.argv[3]) - float(sys.argv[2])
faces = sum((it.get("faces") or {}).get("found", 0) for it in r["items"])
assert s["duplicates"] == 0, "copies were taken for duplicates: the bench would measure nothing"
print(f"bench: {s['inputs']} photos in {secs:.1f} s: {60*s['inputs']/secs:.0f} photos/minute, "
      f"{secs/s['inputs']:.2f} s per photo; published {s['published']}, held {s['held']}, quarantined {s['quarantined']}; "
      f"{faces} faces found and blurred")
PY

# The children's false-show rate at the default settings, in full
# (detect/MEASUREMENTS-children.md; about 6 minutes of one core). Skip it with
# PHOTOGUARD_BENCH_CHILDREN=0.
if [ "${PHOTOGUARD_BENCH_CHILDREN:-1}" != 0 ]; then
	echo "bench: children's false-show rate (go test ./detect/dlib -run TestMeasureChildren)"
	PHOTOGUARD_MEASURE=1 go test -trimpath -count=1 -timeout 30m ./detect/dlib -run 'TestMeasureChildren$' -v
fi
