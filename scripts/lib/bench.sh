# Shared by the benchmark scripts (sourced): a release build, a ministack of their own on a
# free loopback port, projects, and timing helpers. Expects ROOT (the repository) and RUNS.

cargo build --quiet --release --locked
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/deploy"
WORK="$(mktemp -d)"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
ENDPOINT="http://127.0.0.1:$PORT"
BIND_HOST=127.0.0.1 GATEWAY_PORT="$PORT" ministack >"$WORK/ministack.log" 2>&1 &
MS_PID=$!
trap 'kill $MS_PID 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 1 200); do
  curl -sf "$ENDPOINT/_ministack/health" >/dev/null && break
  sleep 0.05
done
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1

# config DIR ENVIRONMENT [EXTRA TOML] [CONTRACTS ROOT]: a project in DIR deploying ENVIRONMENT.
config() {
  mkdir -p "$1"
  local contracts="${4:-$ROOT}"
  cat >"$1/deploy.toml" <<TOML
[project]
environment = "$2"
[aws]
endpoint_url = "$ENDPOINT"
[schemas]
registry = false
dir = "$contracts/schemas"
examples_dir = "$contracts/examples"
[terraform]
dir = "$ROOT/terraform"
[lambdas.event-logger]
source = "$ROOT/lambdas/event-logger"
[lambdas.dead-letter-processor]
source = "$ROOT/lambdas/dead-letter-processor"
${3:-}
TOML
  # The checked-in hub (event types and routes).
  sed -n '/^# ---- The hub:/,$p' "$ROOT/deploy.toml" >>"$1/deploy.toml"
}

# One timed run of "$@"; prints milliseconds.
ms() {
  local start end
  start=$(date +%s%N)
  "$@" || { echo "failed: $*" >&2; exit 1; }
  end=$(date +%s%N)
  echo $(((end - start) / 1000000))
}

# RUNS timed runs after one warm-up; prints "min median max" in milliseconds.
series() {
  "$@" || true
  local t=()
  for _ in $(seq 1 "$RUNS"); do t+=("$(ms "$@")"); done
  printf '%s\n' "${t[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%d %d %d", a[1], a[int((NR+1)/2)], a[NR]}'
}

row() { printf '| %-58s | %5s | %8s | %8s | %8s |\n' "$1" "$2" "$3" "$4" "$5"; }
