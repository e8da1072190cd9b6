# Runs the end-to-end test binaries of the workspace, JOBS at a time (sourced by scripts/test).
# They spend most of their time waiting on terraform and the emulator, each binary with an
# emulator of its own, so running a few side by side shortens the suite without more CPU.
# Each binary's output goes to a log, printed whole when it fails; the slowest start first.

# The e2e binaries, slowest first (those not named here follow in build order).
SLOW_FIRST="faults plan_artifact under_load drift identity change infrastructure ownership_tags teardown"

e2e_binaries() {
  cargo test --workspace --locked --no-run --message-format=json 2>/dev/null | python3 -c '
import json, sys
slow = sys.argv[1].split()
found = {}
for line in sys.stdin:
    try:
        m = json.loads(line)
    except ValueError:
        continue
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["kind"] == ["test"]:
        found[m["target"]["name"]] = m["executable"]
order = [n for n in slow if n in found] + [n for n in found if n not in slow]
for n in order:
    print(n, found[n])
' "$SLOW_FIRST"
}

run_binary() {
  local name="$1" exe="$2" log="$LOGS/$1.log" start end
  start=$(date +%s)
  if "$exe" >"$log" 2>&1; then
    end=$(date +%s)
    echo "ok   $name ($((end - start)) s): $(grep '^test result' "$log" | tail -1)"
  else
    echo "FAIL $name — its output:"
    cat "$log"
    return 1
  fi
}

run_e2e() {
  LOGS="$(mktemp -d)"
  export LOGS
  export -f run_binary
  e2e_binaries | xargs -P "${JOBS:-3}" -n 2 bash -c 'run_binary "$@"' _
}
