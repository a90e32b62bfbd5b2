#!/usr/bin/env bash
# Cost of the face analysis, side by side with ImageMagick and exiftool on the
# same photos, as a markdown table for BENCHMARKS.md:
#   - 12 MP: the shared sample photos scaled to 4032x3024 (3-5 faces each),
#   - 640x480: the same photos made small,
#   - crowds: the 18 WIDER FACE crowd photos (1024 px wide).
# Each set runs through `photoguard batch` with 1 and 2 workers, nobody
# enrolled (every face is redacted: the most work). CPU is user+system of the
# whole process (getrusage via /usr/bin/time) less that of an empty batch
# (loading the models), per photo; RSS is the process's peak. The stage
# shares come from the report's per-pass times.
#
#   scripts/bench-faces.sh [COPIES]   (default 2 copies of the 6 photos per set)
#
# PHOTOGUARD_BENCH_BIN names another photoguard binary to measure (for example one
# built from an older commit, to compare side by side on the same photos).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
copies=${1:-2}
testdata=${PHOTOGUARD_TESTDATA:-../shared/testdata}
bin=${PHOTOGUARD_BENCH_BIN:-bin/photoguard}
[ -n "${PHOTOGUARD_BENCH_BIN:-}" ] || [ -x bin/photoguard ] || go build -trimpath -o bin/photoguard ./cmd/photoguard
command -v convert >/dev/null && command -v exiftool >/dev/null || { echo "bench-faces: needs ImageMagick and exiftool (scripts/setup.sh)" >&2; exit 1; }
work=$(mktemp -d)
trap '[ -n "${PHOTOGUARD_BENCH_KEEP:-}" ] || rm -rf "$work"' EXIT

go run ./scripts/benchphotos -src "$testdata/photos" -out "$work/sets/12mp" -copies "$copies" >/dev/null
mkdir -p "$work/sets/640" "$work/sets/crowds" "$work/sets/empty"
i=0
for f in "$work"/sets/12mp/*.jpg; do
	i=$((i + 1))
	convert "$f" -resize 640x480! -quality 92 "$work/sets/640/small-$i.jpg"
done
cp "$testdata"/crowds/images/*.jpg "$work/sets/crowds/"

cpu_of() { # /usr/bin/time -f output file -> "user+sys maxrss"
	tail -n 1 "$1" | awk '{print $1+$2, $3}'
}

run_batch() { # set workers -> prints "cpu rss n"
	local set=$1 workers=$2 d="$work/run-$1-$2"
	rm -rf "$d"
	mkdir -p "$d"
	cp -r "$work/sets/$set" "$d/in"
	cat >"$d/cfg.yaml" <<YAML
inbox: $d/inbox
state_dir: $d/state
workers: $workers
watch:
  settle: 0s
targets:
  website:
    type: dir
    path: $d/out
    channel: website
    approval: none
    individual: allowed
YAML
	touch -d '1 hour ago' "$d"/in/* 2>/dev/null || true
	/usr/bin/time -f '%U %S %M' -o "$d/time" "$bin" --config "$d/cfg.yaml" batch --keep-inputs --report "$d/report.json" "$d/in" >/dev/null 2>&1 || true
	echo "$d"
}

declare -A base
for w in 1 2; do
	d=$(run_batch empty $w)
	base[$w]=$(cpu_of "$d/time" | cut -d' ' -f1)
done

echo "| set | photos | workers | CPU s per photo (photoguard) | peak RSS MB | convert -auto-orient -strip, CPU s per photo | exiftool -all=, CPU s per photo | photoguard / convert | photoguard / exiftool | analysis stages (share of wall time): finder, describe | output check as share of detection | published / held |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
for set in 12mp 640 crowds; do
	n=$(ls "$work/sets/$set" | wc -l)
	# The tools, on the same photos, one process per photo as photoguard does one batch.
	/usr/bin/time -f '%U %S %M' -o "$work/t-convert" sh -c "for f in '$work/sets/$set'/*.jpg; do convert \"\$f\" -auto-orient -strip '$work/c.jpg'; done"
	mkdir -p "$work/ex" && rm -f "$work"/ex/*
	cp "$work/sets/$set"/*.jpg "$work/ex/"
	/usr/bin/time -f '%U %S %M' -o "$work/t-exif" exiftool -q -all= -overwrite_original "$work/ex"
	conv=$(cpu_of "$work/t-convert" | awk -v n="$n" '{printf "%.3f", $1/n}')
	exif=$(cpu_of "$work/t-exif" | awk -v n="$n" '{printf "%.3f", $1/n}')
	for w in 1 2; do
		d=$(run_batch "$set" $w)
		read -r cpu rss < <(cpu_of "$d/time")
		python3 - "$d/report.json" "$set" "$n" "$w" "$cpu" "${base[$w]}" "$rss" "$conv" "$exif" <<'PY'
import json, sys
rep, name, n, w, cpu, base, rss, conv, exif = sys.argv[1:]
r = json.load(open(rep))
n, cpu, base, conv, exif = int(n), float(cpu), float(base), float(conv), float(exif)
per = (cpu - base) / n
stages = {"finder": 0, "describe": 0}
det = chk = 0
for it in r["items"]:
    f = it.get("faces") or {}
    det += f.get("detect_ms", 0); chk += f.get("check_ms", 0)
    for p in f.get("passes", []):
        k = "describe" if p["name"] == "describe" else "finder"
        stages[k] += p["ms"]
tot = sum(stages.values()) or 1
s = r["summary"]
print(f"| {name} | {n} | {w} | {per:.2f} | {int(rss)//1024} | {conv:.3f} | {exif:.3f} | {per/max(conv,1e-9):.0f}x | {per/max(exif,1e-9):.0f}x | "
      f"{100*stages['finder']/tot:.0f} % / {100*stages['describe']/tot:.0f} % | "
      f"{100*chk/max(det,1):.1f} % | {s['published']} / {s['held']} |")
PY
	done
done
