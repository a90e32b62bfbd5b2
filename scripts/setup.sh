#!/usr/bin/env bash
# Set up photoguard on a Debian 12 machine: system packages, Go (if missing),
# the binary (bin/photoguard), the dlib models and the face finder. Safe to run again: a second
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
#   PHOTOGUARD_FINDER_FROM=DIR  a folder holding the face finder's model
#                           (yunet_n_dynamic.onnx) and/or libonnxruntime.so.1
#                           (no download; see step 5)
#   PHOTOGUARD_SKIP_FINDER=1    do not install them
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
# ImageMagick and python3 with numpy, scipy and Pillow (the judges of the
# shared photos: ../shared/testdata/crowds/recall.py and
# ../shared/testdata/falseblur.py, and the contrast stretch of the dark-photo test).
# The wordpress target's tests: Debian's WordPress (with its default theme,
# only a Recommends), MariaDB and php-cli, started by scripts/wordpress-server.sh.
packages=(build-essential pkg-config curl ca-certificates bzip2 unzip
	libdlib-dev libdlib-data libatlas-base-dev libopenblas-dev liblapack-dev
	libjpeg62-turbo-dev libheif-dev libheif-examples libimage-exiftool-perl strace
	imagemagick python3 python3-numpy python3-scipy python3-pil ffmpeg)
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

# --- 5. The face finder: YuNet and onnxruntime (detect/yunet) ----------------
# YuNet-n (ShiqiYu/libfacedetection.train, Apache-2.0, 323 KB ONNX) finds the
# faces; onnxruntime runs it (MIT; npm onnxruntime-node@1.30.0 ships
# libonnxruntime.so.1 for linux x64 (46 MB) and arm64 (25 MB) under
# package/bin/napi-v6/linux/). The model comes from PHOTOGUARD_FINDER_FROM or
# PHOTOGUARD_MODELS_FROM when it is there, else from its pinned URL; the
# library from the same folders, else `npm pack` (npm checks the tarball's
# registry integrity). Every file must match scripts/finder.sha256.
#   PHOTOGUARD_FINDER_FROM=DIR   a folder holding yunet_n_dynamic.onnx and/or
#                                libonnxruntime.so.1 (no download)
#   PHOTOGUARD_SKIP_FINDER=1     skip this step
fd_sums="$here/finder.sha256"
fd_model=yunet_n_dynamic.onnx
fd_model_url=https://github.com/ShiqiYu/libfacedetection.train/raw/0047ac24afb1a50a0c6105001c89d1b5b805dbf1/onnx/$fd_model
fd_lib=libonnxruntime.so.1
fd_ort_pkg=onnxruntime-node@1.30.0

fd_pinned() { # file -> 0 if its checksum is pinned for its name
	grep -qx "$(sha256sum "$1" | cut -d' ' -f1)  $(basename "$1")" "$fd_sums"
}

fd_install() { # src (its name is the installed name)
	local src=$1 dst
	dst="$models_dir/$(basename "$1")"
	if [ -f "$dst" ] && cmp -s "$src" "$dst"; then
		return
	fi
	fd_pinned "$src" || die "$src: its SHA-256 ($(sha256sum "$src" | cut -d' ' -f1)) is not pinned in scripts/finder.sha256"
	as_root install -m 0644 "$src" "$dst.tmp"
	as_root mv -f "$dst.tmp" "$dst"
	say "finder: installed $(basename "$src") from $src"
}

fd_from() { # name -> prints a local folder holding it, if any
	local d
	for d in "${PHOTOGUARD_FINDER_FROM:-}" "$models_from"; do
		if [ -n "$d" ] && [ -f "$d/$1" ]; then
			echo "$d"
			return
		fi
	done
}

if [ "${PHOTOGUARD_SKIP_FINDER:-}" != 1 ]; then
	as_root mkdir -p "$models_dir"
	# The model.
	if d=$(fd_from "$fd_model") && [ -n "$d" ]; then
		fd_install "$d/$fd_model"
	elif [ -f "$models_dir/$fd_model" ] && fd_pinned "$models_dir/$fd_model"; then
		: # there and known
	else
		fd_tmp=$(mktemp -d)
		say "finder: downloading $fd_model"
		curl -fsSL -o "$fd_tmp/$fd_model" "$fd_model_url" ||
			die "could not download $fd_model_url (no internet? use PHOTOGUARD_FINDER_FROM=DIR)"
		fd_install "$fd_tmp/$fd_model"
		rm -rf "$fd_tmp"
	fi
	# The onnxruntime library.
	if d=$(fd_from "$fd_lib") && [ -n "$d" ]; then
		fd_install "$d/$fd_lib"
	elif [ -f "$models_dir/$fd_lib" ] && fd_pinned "$models_dir/$fd_lib"; then
		: # there and known
	else
		case "$(uname -m)" in
		x86_64) fd_arch=x64 ;;
		aarch64) fd_arch=arm64 ;;
		*) die "onnxruntime-node ships no library for $(uname -m); put $fd_lib in PHOTOGUARD_FINDER_FROM" ;;
		esac
		if ! command -v npm >/dev/null; then
			[ "${PHOTOGUARD_SKIP_APT:-}" != 1 ] || die "npm is needed to fetch $fd_ort_pkg (or use PHOTOGUARD_FINDER_FROM=DIR)"
			say "installing npm"
			as_root apt-get update -qq
			as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm
		fi
		fd_tmp=$(mktemp -d)
		say "finder: fetching $fd_ort_pkg (about 100 MB) with npm pack"
		(cd "$fd_tmp" && npm pack --silent "$fd_ort_pkg" >/dev/null) ||
			die "npm pack $fd_ort_pkg failed (no registry? use PHOTOGUARD_FINDER_FROM=DIR)"
		mkdir "$fd_tmp/o"
		tar -xzf "$fd_tmp/onnxruntime-node-1.30.0.tgz" -C "$fd_tmp/o" "package/bin/napi-v6/linux/$fd_arch/$fd_lib"
		fd_install "$fd_tmp/o/package/bin/napi-v6/linux/$fd_arch/$fd_lib"
		rm -rf "$fd_tmp"
	fi
	say "finder: $fd_model and $fd_lib in $models_dir: ok"
fi
say "done. Try: bin/photoguard demo"
