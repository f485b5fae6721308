#!/usr/bin/env bash
# Builds the test cluster's binaries (kube-apiserver, kube-controller-manager, kubectl, etcd, and
# helm for the chart suite) from Go modules and caches them outside the clone, keyed by version.
#
#   test/cluster/build.sh            build what is missing, print the bin folder on the last line
#   FREEHOLD_CACHE_DIR=/x build.sh   cache somewhere else (default ~/.cache/freehold)
#
# The first build takes many minutes on two cores; later runs return at once.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
kube_version=$(awk '$1=="require" && $2=="k8s.io/kubernetes" {print $3}' "$here/kube/go.mod")
etcd_version=$(awk '$1=="require" && $2=="go.etcd.io/etcd/server/v3" {print $3}' "$here/etcd/go.mod")
helm_version=$(awk '$1=="require" && $2=="helm.sh/helm/v4" {print $3}' "$here/helm/go.mod")
cache_root=${FREEHOLD_CACHE_DIR:-$HOME/.cache/freehold}
# Bump build_revision when the build itself changes (flags), so caches keyed by version are rebuilt.
build_revision=2
bin_dir="$cache_root/cluster/kubernetes-$kube_version-etcd-$etcd_version-r$build_revision/bin"

log() { printf '[cluster] %s\n' "$*" >&2; }

if ! command -v go >/dev/null 2>&1; then
  log "error: go is not on PATH; the test cluster is built from Go modules (Go >= 1.26 is needed)"
  exit 1
fi

# Builds one or more commands of a wrapper module, printing a progress line every 100 packages.
build() {
  local module_dir=$1 out=$2 ldflags=$3; shift 3
  local started=$SECONDS
  log "building $(basename "$out") from $module_dir (first time: several minutes)"
  (
    cd "$module_dir"
    CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-mod=mod \
      go build -v -trimpath -ldflags="-s -w $ldflags" -o "$out.partial" "$@" 2>&1
  ) | awk -v name="$(basename "$out")" '
      /^go: downloading/ { next }
      /^[a-zA-Z0-9._\/-]+$/ { n++; if (n % 100 == 0) { printf "[cluster]   %s: %d packages compiled\n", name, n > "/dev/stderr"; fflush("/dev/stderr") } next }
      { print > "/dev/stderr" }'
  local status=${PIPESTATUS[0]}
  if [ "$status" -ne 0 ] || [ ! -x "$out.partial" ]; then
    log "error: building $(basename "$out") failed (exit $status); the lines above say why"
    exit 1
  fi
  mv "$out.partial" "$out"
  log "built $(basename "$out") in $((SECONDS - started))s"
}

mkdir -p "$bin_dir"
# One build at a time: a second run (another test project) waits, then finds the binaries built.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$bin_dir/.build.lock"
  flock 9
fi
[ -x "$bin_dir/etcd" ] || build "$here/etcd" "$bin_dir/etcd" "" .
minor=$(echo "$kube_version" | cut -d. -f2)
version_flags=""
for package in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  version_flags="$version_flags -X $package.gitVersion=$kube_version -X $package.gitMajor=1 -X $package.gitMinor=$minor"
  version_flags="$version_flags -X $package.gitTreeState=clean"
done
for command in kube-apiserver kubectl kube-controller-manager; do
  [ -x "$bin_dir/$command" ] || build "$here/kube" "$bin_dir/$command" "$version_flags" "k8s.io/kubernetes/cmd/$command"
done
# helm lives in the same folder; it is rebuilt when the version it reports differs from helm/go.mod's.
if [ ! -x "$bin_dir/helm" ] || [ "$("$bin_dir/helm" version --template '{{.Version}}' 2>/dev/null)" != "$helm_version" ]; then
  rm -f "$bin_dir/helm"
  build "$here/helm" "$bin_dir/helm" "-X helm.sh/helm/v4/internal/version.version=$helm_version -X helm.sh/helm/v4/internal/version.gitTreeState=clean" helm.sh/helm/v4/cmd/helm
fi
log "kubernetes $kube_version, etcd $etcd_version and helm $helm_version ready in $bin_dir"
echo "$bin_dir"
