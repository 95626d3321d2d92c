#!/usr/bin/env bash
# Bring docker-compose.yml up on this machine, run a short job through it,
# check that a learned policy reaches the serve's session, and tear it all
# down. The image builds offline: with a Go toolchain image made from the
# host's Go and the modules vendored into a copy of the source (vendoring,
# on the host, fetches what the module cache lacks from the module proxy).
#
#   deploy/compose-smoke.sh            # exit status 0: it ran as documented
#
# Environment:
#   DOCKER_HOST   an existing daemon to use; without one that answers, a
#                 daemon is started by hand with networking off (no bridge,
#                 no iptables: services use the host's network on loopback)
#                 and stopped at the end.
#   GO_IMAGE      the build stage's toolchain image (default: imported from
#                 /usr/local/go as tandem-go:<version>, no network needed).
#   SMOKE_DIR     scratch directory (default /tmp/tandem-compose-smoke).
#   KEEP=1        leave the services up (and the daemon running).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
dir=${SMOKE_DIR:-/tmp/tandem-compose-smoke}
project=tandemsmoke
mkdir -p "$dir"
log() { printf '%s compose-smoke: %s\n' "$(date +%T)" "$*"; }

# Ports away from the defaults, so a real deployment on this machine is
# left alone; behaviour cloning on reach trains in seconds.
export NATS_PORT_1=14222 NATS_PORT_2=14223 NATS_PORT_3=14224
export NATS_ROUTE_1=16222 NATS_ROUTE_2=16223 NATS_ROUTE_3=16224
export TANDEM_ADDR=127.0.0.1:18080 TANDEM_TOKEN=compose-smoke-token
export TANDEM_TASK=reach TANDEM_MODE=auto TANDEM_ALGO=bc
export TANDEM_LEARN_MIN_EPISODES=3 TANDEM_LEARN_EVAL_EPISODES=10 TANDEM_LEARN_PROMOTE_MIN=0
export TANDEM_IMAGE=tandem:smoke NATS_MAX_STORE=8GiB
nats="nats://127.0.0.1:$NATS_PORT_1,nats://127.0.0.1:$NATS_PORT_2,nats://127.0.0.1:$NATS_PORT_3"
base="http://$TANDEM_ADDR"

# 1. A Docker daemon.
dockerd_pid=""
if ! docker info >/dev/null 2>&1; then
  command -v dockerd >/dev/null || { echo "no dockerd: apt-get install docker.io docker-compose" >&2; exit 1; }
  mkdir -p "$dir/docker"
  log "starting dockerd (networking off) in $dir/docker"
  dockerd --storage-driver=vfs --bridge=none --iptables=false --ip6tables=false \
    --ip-forward=false --ip-masq=false \
    --data-root "$dir/docker/root" --exec-root "$dir/docker/exec" \
    --pidfile "$dir/docker/dockerd.pid" --host "unix://$dir/docker/docker.sock" \
    >"$dir/docker/dockerd.log" 2>&1 &
  dockerd_pid=$!
  export DOCKER_HOST="unix://$dir/docker/docker.sock"
  for _ in $(seq 100); do docker info >/dev/null 2>&1 && break; sleep 0.2; done
  docker info >/dev/null 2>&1 || { tail -20 "$dir/docker/dockerd.log"; exit 1; }
fi
compose() { docker-compose -p "$project" -f "$repo/docker-compose.yml" --project-directory "$repo" "$@"; }
cleanup() {
  status=$?
  if [ "${KEEP:-}" = 1 ]; then log "KEEP=1: left running (DOCKER_HOST=$DOCKER_HOST)"; exit $status; fi
  if [ $status -ne 0 ]; then compose logs --tail 30 2>/dev/null || true; fi
  log "tearing down"
  compose down -v --remove-orphans >/dev/null 2>&1 || true
  if [ -n "$dockerd_pid" ]; then
    kill "$dockerd_pid" 2>/dev/null || true
    wait "$dockerd_pid" 2>/dev/null || true
    sleep 1
    # dockerd leaves its default network namespace mounted.
    umount "$dir/docker/exec/netns/default" 2>/dev/null || true
    rm -rf "$dir/docker" 2>/dev/null || true
  fi
  rm -rf "$dir/context" "$dir/goimg"
  exit $status
}
trap cleanup EXIT

# 2. The image: the Dockerfile's multi-stage build, offline.
if [ -z "${GO_IMAGE:-}" ]; then
  GO_IMAGE="tandem-go:$(go env GOVERSION)"
  if ! docker image inspect "$GO_IMAGE" >/dev/null 2>&1; then
    log "importing the host's Go toolchain as $GO_IMAGE"
    mkdir -p "$dir/goimg/tmp" && chmod 1777 "$dir/goimg/tmp"
    tar -c -C / usr/local/go -C "$dir/goimg" tmp |
      docker import --change 'ENV PATH=/usr/local/go/bin' --change 'ENV HOME=/tmp' - "$GO_IMAGE" >/dev/null
  fi
fi
export GO_IMAGE
ctx="$dir/context"
log "build context with vendored modules in $ctx"
rm -rf "$ctx" && mkdir -p "$ctx"
git ls-files -co --exclude-standard | tar -T - -c | tar -x -C "$ctx"
# Vendoring wants every platform's imports (cobra's Windows-only mousetrap,
# nats-server's TPM code): a Linux build never put those in the module
# cache, so they come from the module proxy here, on the host.
(cd "$ctx" && GOFLAGS=-mod=mod go mod vendor)
log "docker-compose build (GO_IMAGE=$GO_IMAGE, tags ${TANDEM_TAGS:-none})"
start=$(date +%s)
docker-compose -p "$project" -f "$ctx/docker-compose.yml" --project-directory "$ctx" build serve
log "built $TANDEM_IMAGE in $(( $(date +%s) - start )) s: $(docker image inspect -f '{{.Size}}' "$TANDEM_IMAGE" | awk '{printf "%.1f MB", $1/1e6}')"

# 3. Up, as docs/deploy.md says (with the image just built).
compose config -q
log "docker-compose up -d --scale work=2"
compose up -d --no-build --scale work=2
for _ in $(seq 150); do curl -fs "$base/api/health" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fs "$base/api/health" >/dev/null || { echo "serve did not come up" >&2; exit 1; }
log "serve is up at $base"

# 4. A learned version reaches the serve's session.
version=""
for _ in $(seq 300); do
  version=$(curl -fs "$base/api/sessions" | sed -n 's/.*"policy_version":"\(reach-bc-[0-9]*\)".*/\1/p')
  [ -n "$version" ] && break
  sleep 0.5
done
[ -n "$version" ] || { echo "no learned version reached the serve's session within 150 s" >&2; exit 1; }
log "the serve's session runs $version, learned by the learn service"

# 5. A short job through the workers (submitted from inside a work
# container: `docker-compose run` cannot start a host-network container
# for a service with dependencies).
log "jobs eval through the work service"
compose exec -T work /tandem jobs eval --nats "$nats" --task reach --policy current --episodes 40 --chunk 5
log "jobs rollout through the work service"
compose exec -T work /tandem jobs rollout --nats "$nats" --task reach --policy expert --episodes 6 --chunk 3 --seed 7
compose ps
log "ok"
