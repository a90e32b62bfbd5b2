#!/usr/bin/env bash
# make-test-videos.sh OUTDIR [TESTDATA] — the project's own test videos
# (issue 21), made with Debian's ffmpeg from the shared group photos
# (../shared/testdata/faces/groups, never committed): for each photo a short
# clip that pans and zooms over it (zoompan), so faces move and change size,
# written as an iPad would (QuickTime .MOV, H.264) with a creation time, a
# GPS position, a make and model and a sound track (a tone; no voice: Debian
# has no speech synthesiser in the base packages).
#
# Beside each clip NAME.MOV it writes NAME.json: the source photo, the frame
# size, the rate and the motion (zoom and the crop's top-left corner in the
# photo's pixels, linear from the first frame to the last), from which the
# tests compute where every annotated face is in every frame.
#
# By default it writes the two clips CI runs (a pan, and a still clip with
# an unknown face at the edge); PHOTOGUARD_TEST_VIDEO_ALL=1 adds a zoom in
# and a zoom out; PHOTOGUARD_TEST_VIDEO_HD=1 writes only bench-1080p30.MOV:
# 30 s (PHOTOGUARD_TEST_VIDEO_HD_SECONDS) at 1920x1080, 30 fps, over
# photos/sample1.jpg (4-5 faces), for BENCHMARKS.md;
# PHOTOGUARD_TEST_VIDEO_CROWD=1 writes only two slow pans over WIDER FACE
# crowd photos (crowds/images, boxes in crowds/boxes.json) at 960 px and
# 25 fps, 6 s, where most faces are 20-40 px: the measurement of small
# faces in video (cmd/photoguard TestMeasureVideoCrowd, BENCHMARKS.md).
set -euo pipefail
out=${1:?usage: make-test-videos.sh OUTDIR [TESTDATA]}
td=${2:-${PHOTOGUARD_TESTDATA:-$(dirname "$0")/../../shared/testdata}}
mkdir -p "$out"
meta=(-metadata creation_time=2026-11-30T09:41:00Z
	-metadata "location=+37.3305-121.8968/"
	-metadata "com.apple.quicktime.location.ISO6709=+37.3305-121.8968+012.000/"
	-metadata "com.apple.quicktime.make=Apple"
	-metadata "com.apple.quicktime.model=iPad (10th generation)"
	-metadata "com.apple.quicktime.creationdate=2026-11-30T10:41:00+0100"
	-movflags use_metadata_tags)

# clip NAME PHOTO WIDTH FPS SECONDS Z0 Z1 X0 X1 Y0 Y1
clip() {
	local name=$1 photo=$2 w=$3 fps=$4 secs=$5 z0=$6 z1=$7 x0=$8 x1=$9 y0=${10} y1=${11}
	local size iw ih h frames
	size=$(ffprobe -v error -select_streams v:0 -show_entries stream=width,height -of csv=p=0 "$photo")
	iw=${size%,*} ih=${size#*,}
	h=$(( (w * ih / iw) / 2 * 2 ))
	frames=$(( fps * secs ))
	local k="(on/$(( frames > 1 ? frames - 1 : 1 )))"
	ffmpeg -v error -y -loop 1 -framerate "$fps" -i "$photo" \
		-f lavfi -i "sine=frequency=440:sample_rate=44100:duration=$secs" \
		-filter_complex "[0:v]zoompan=z='$z0+($z1-$z0)*$k':x='$x0+($x1-$x0)*$k':y='$y0+($y1-$y0)*$k':d=$frames:s=${w}x${h}:fps=$fps,format=yuv420p[v]" \
		-map '[v]' -map 1:a -frames:v "$frames" -c:v libx264 -preset veryfast -crf 18 -c:a aac \
		"${meta[@]}" "$out/$name.MOV"
	printf '{"photo": "%s", "width": %d, "height": %d, "photo_width": %d, "photo_height": %d, "fps": %d, "frames": %d, "zoom": [%s, %s], "x": [%s, %s], "y": [%s, %s]}\n' \
		"${photo#"$td"/}" "$w" "$h" "$iw" "$ih" "$fps" "$frames" "$z0" "$z1" "$x0" "$x1" "$y0" "$y1" >"$out/$name.json"
}

g=$td/faces/groups
if [[ ${PHOTOGUARD_TEST_VIDEO_HD:-} == 1 ]]; then
	clip bench-1080p30 "$td/photos/sample1.jpg" 1920 30 "${PHOTOGUARD_TEST_VIDEO_HD_SECONDS:-30}" 1.0 1.3 0 300 0 150
	exit 0
fi
if [[ ${PHOTOGUARD_TEST_VIDEO_CROWD:-} == 1 ]]; then
	c=$td/crowds/images
	# A dense crowd (faces 8-113 px in the photo, x1.17 in the clip): the
	# window's bottom, panned right.
	clip crowd-parade873 "$c/0_Parade_Parade_0_873.jpg" 960 25 6 1.25 1.25 0 205 137 137
	# A family group of 14 faces of 20-37 px (x1.03 in the clip), panned
	# right and down a little.
	clip crowd-family326 "$c/20_Family_Group_Family_Group_20_326.jpg" 960 25 6 1.1 1.1 0 93 0 40
	exit 0
fi
# Pan across a crop at 1.4x: every face moves right to left.
clip pan-bbt4 "$g/bbt4.jpg" 480 15 3 1.4 1.4 0 200 0 60
# The photo with an unknown background face at the edge, still.
clip still-bbt2 "$g/bbt2.jpg" 480 10 2 1.0 1.0 0 0 0 0
if [[ ${PHOTOGUARD_TEST_VIDEO_ALL:-} == 1 ]]; then
	# Zoom in from the whole photo towards its right half: faces grow 1.6x
	# and slide left; some leave the frame.
	clip zoom-in-bbt1 "$g/bbt1.jpg" 640 15 4 1.0 1.6 0 500 0 150
	# Zoom out: faces shrink.
	clip zoom-out-bbt5 "$g/bbt5.jpg" 640 15 3 1.5 1.0 150 0 80 0
fi
