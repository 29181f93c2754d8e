#!/usr/bin/env bash
# Real-systemd e2e: boot a Debian rootfs with systemd-nspawn, install units/, and check start, status, activation, restart, watchdog, stop.
#
# Needs root, a built tree (npm run build) with node_modules, and network for the first run (debootstrap;
# the rootfs is cached in $QATMGR_E2E_ROOTFS, default /var/cache/qatmgr-e2e/rootfs).
# Prints "N passed, N failed" and exits non-zero when a check fails.
set -euo pipefail

REPO="$(cd "$(dirname "$0")/../.." && pwd)"
ROOTFS="${QATMGR_E2E_ROOTFS:-/var/cache/qatmgr-e2e/rootfs}"
NAME="qatmgr-e2e-$$"
NODE_BIN="$(readlink -f "$(command -v node)")"
SIM=/var/lib/qatmgr-sim/host
SOCK=/run/qat/qatmgr.sock
WATCHDOG_SEC=3
LOG="$(mktemp -d /tmp/qatmgr-e2e.XXXXXX)"
T0=$(date +%s.%N)

passed=0
failed=0
pass() { passed=$((passed + 1)); printf '  ok   %s\n' "$1"; }
fail() { failed=$((failed + 1)); printf '  FAIL %s\n' "$1"; [ $# -lt 2 ] || printf '       %s\n' "$2" | head -n 20; }
ms_since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%d", (b - a) * 1000 }'; }

[ "$(id -u)" = 0 ] || { echo "systemd e2e: must run as root" >&2; exit 1; }
[ -f "$REPO/dist/daemon/qatmgr.js" ] || { echo "systemd e2e: build first (npm run build)" >&2; exit 1; }
# one run at a time per rootfs (another worktree's `npm test` may be booting it right now)
mkdir -p "$(dirname "$ROOTFS")"
exec 9>"$ROOTFS.lock"
flock -w 900 9 || { echo "systemd e2e: $ROOTFS.lock stayed busy for 15 min" >&2; exit 1; }
"$REPO/scripts/e2e-rootfs.sh"

# --- install the units and wrappers into the rootfs (idempotent; the rootfs is reused) -------------------
install -d "$ROOTFS/etc/systemd/system/qat.service.d" "$ROOTFS/etc/sysusers.d" "$ROOTFS/etc/tmpfiles.d" "$ROOTFS/opt/qatmgr"
install -m 0644 "$REPO/units/qat.service" "$REPO/units/qat.socket" "$ROOTFS/etc/systemd/system/"
install -m 0644 "$REPO/units/qat.sysusers" "$ROOTFS/etc/sysusers.d/qat.conf"
install -m 0644 "$REPO/units/qat.tmpfiles" "$ROOTFS/etc/tmpfiles.d/qat.conf"
for bin in qatmgr qatctl; do
  printf '#!/bin/sh\nexec /usr/bin/node /opt/qatmgr/dist/daemon/%s.js "$@"\n' "$bin" >"$ROOTFS/usr/bin/$bin"
  chmod 0755 "$ROOTFS/usr/bin/$bin"
done
# The container has no QAT hardware: the daemon and the unit's root pre-step (qatctl provision) work on a
# simulated host generated inside the container with SR-IOV off, so provisioning has real work to do
# (enable VFs, bind them to vfio-pci, give /dev/vfio nodes to group qat from the container's /etc/group).
# The watchdog is short so the stuck-daemon check is quick; QATMGR_TEST_HOOKS=1 lets SIGUSR2 block the
# event loop (test only).
ROOTS="--sysfs-root=$SIM/sys --dev-root=$SIM/dev --proc-root=$SIM/proc --etc-root=/etc"
cat >"$ROOTFS/etc/systemd/system/qat.service.d/e2e.conf" <<EOF
[Service]
ExecStartPre=
# (runs under the unit's UMask=0117; the simulator's kernel model gives new sysfs entries sysfs's own modes)
ExecStartPre=+/usr/bin/qatctl provision $ROOTS --timeout=5s
ExecStart=
ExecStart=/usr/bin/qatmgr --debug=1 $ROOTS
Environment=QATMGR_TEST_HOOKS=1
WatchdogSec=${WATCHDOG_SEC}s
# the simulated VFIO nodes are plain files that discovery opens read-write, like the real /dev/vfio nodes
ReadWritePaths=$SIM/dev/vfio
EOF
rm -rf "$ROOTFS/var/lib/qatmgr-sim"

# --- boot ------------------------------------------------------------------------------------------------
CG_V1=/sys/fs/cgroup/systemd/$NAME
CG_V2=/sys/fs/cgroup/unified/$NAME
[ -d /sys/fs/cgroup/unified ] || CG_V2=/sys/fs/cgroup/$NAME
[ -d /sys/fs/cgroup/systemd ] || CG_V1=
NSPAWN_PID=

cleanup() {
  if [ -n "$NSPAWN_PID" ] && kill -0 "$NSPAWN_PID" 2>/dev/null; then
    kill -TERM "$NSPAWN_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$NSPAWN_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$NSPAWN_PID" 2>/dev/null || true
  fi
  for cg in $CG_V1 $CG_V2; do
    [ -d "$cg" ] && find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null || true
  done
}
trap cleanup EXIT

for cg in $CG_V1 $CG_V2; do mkdir -p "$cg"; done
(
  for cg in $CG_V1 $CG_V2; do echo "$BASHPID" >"$cg/cgroup.procs"; done
  exec systemd-nspawn -q -D "$ROOTFS" -M "$NAME" --boot --register=no --keep-unit --private-network \
    --bind-ro="$NODE_BIN":/usr/bin/node --bind-ro="$REPO":/opt/qatmgr </dev/null >"$LOG/nspawn.log" 2>&1
) &
NSPAWN_PID=$!

# the container's PID 1 is the nspawn child whose NSpid line ends in 1
LEADER=
for _ in $(seq 1 200); do
  for p in $(pgrep -P "$NSPAWN_PID" 2>/dev/null || true); do
    ns="$(awk '/^NSpid:/ { print $NF }' "/proc/$p/status" 2>/dev/null || true)"
    if [ "$ns" = 1 ]; then LEADER=$p; break; fi
  done
  [ -n "$LEADER" ] && break
  sleep 0.05
done
[ -n "$LEADER" ] || { echo "systemd e2e: container did not start"; cat "$LOG/nspawn.log"; exit 1; }

C() { nsenter -t "$LEADER" -a env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"; }
prop() { C systemctl show -P "$1" qat.service; }
wait_for() { # wait_for SECONDS COMMAND...: poll until the command succeeds
  local until=$(( $(date +%s) + $1 )); shift
  while ! "$@" >/dev/null 2>&1; do [ "$(date +%s)" -lt "$until" ] || return 1; sleep 0.05; done
}
running() { local s; s="$(C systemctl is-system-running 2>/dev/null || true)"; [ "$s" = running ] || [ "$s" = degraded ]; }
wait_for 60 running || { echo "systemd e2e: container systemd did not come up"; C systemctl --failed || true; exit 1; }
echo "systemd e2e: container $NAME up (leader $LEADER) after $(ms_since "$T0") ms"

client_once() { C /usr/bin/node /opt/qatmgr/test/fixtures/hold-section.mjs "$SOCK" --once; }
holder_bg() { C sh -c "/usr/bin/node /opt/qatmgr/test/fixtures/hold-section.mjs $SOCK >/tmp/holder-$1.json 2>&1 &"; }
holder_json() { C cat "/tmp/holder-$1.json" 2>/dev/null || true; }
journal() { C journalctl -b -u qat.service -o cat --no-pager 2>/dev/null || true; }

# --- checks ----------------------------------------------------------------------------------------------
echo "systemd e2e: checks"

out="$(C getent group qat || true)"; out2="$(C id qatmgr 2>&1 || true)"
if [ -n "$out" ] && [[ "$out2" == *"(qat)"* ]]; then pass "sysusers.d made group qat and user qatmgr in it"; else fail "sysusers.d entries" "$out / $out2"; fi

C /usr/bin/qatctl simulate '4xxx:2x16,sriov=off' --out "$SIM" --force >"$LOG/simulate.log" 2>&1 || { fail "qatctl simulate inside the container" "$(cat "$LOG/simulate.log")"; }

C systemctl daemon-reload || true
out="$(C systemctl enable --now qat.socket 2>&1 || true)"
st="$(C stat -c '%F %a %G' "$SOCK" 2>&1 || true)"
if [ "$st" = "socket 660 qat" ] && [ "$(prop ActiveState)" = inactive ]; then pass "qat.socket listens on $SOCK (0660, group qat); the service is not started yet"; else fail "qat.socket" "stat: $st; service: $(prop ActiveState); $out"; fi

t=$(date +%s.%N)
out="$(client_once 2>&1 || true)"
act_ms=$(ms_since "$t")
if [[ "$out" == *'"section":"SSL_INT_0"'* ]] && [ "$(prop ActiveState)" = active ]; then pass "first connection socket-activates qat.service and completes a handshake ($act_ms ms)"; else fail "socket activation" "$out; $(prop ActiveState); $(journal | tail -n 20)"; fi

uid="$(C awk '/^Uid:/ { print $2 }' "/proc/$(prop MainPID)/status" 2>/dev/null || true)"
user="$(C getent passwd "$uid" 2>/dev/null | cut -d: -f1 || true)"
prov="$(journal | grep -E '^done: 2 PF\(s\) changed, 32 VF\(s\) bound' || true)"
nodes="$(C stat -c '%G %a' "$SIM/dev/vfio/100" 2>&1 || true)"
if [ -n "$prov" ] && [ "$nodes" = "qat 660" ]; then pass "ExecStartPre=+qatctl provision ran as root before the daemon: ${prov#done: }"; else fail "root pre-step (provision)" "journal: $(journal | grep -i -m3 -e provision -e 'done:' -e error); node: $nodes"; fi
cap="$(C awk '/^CapEff/ { print $2 }' "/proc/$(prop MainPID)/status" 2>/dev/null || true)"
if [ "$user" = qatmgr ] && [ "$cap" = 0000000000000000 ]; then pass "the daemon runs as qatmgr with no capabilities"; else fail "unprivileged daemon" "user=$user CapEff=$cap"; fi

C systemctl stop qat.service 2>/dev/null || true
t=$(date +%s.%N)
out="$(C systemctl start qat.service 2>&1 || true)"
start_ms=$(ms_since "$t")
# start returned: READY=1 has been received, so the daemon already serves (no retry here)
hs="$(client_once 2>&1 || true)"
if [ "$(prop ActiveState)" = active ] && [[ "$hs" == *'"section"'* ]]; then pass "systemctl start returns after READY=1 and the socket serves at once ($start_ms ms)"; else fail "systemctl start" "$out; $hs"; fi

status="$(C systemctl status --no-pager qat.service 2>&1 || true)"
line="$(printf '%s\n' "$status" | grep 'Status:' || true)"
if [[ "$line" == *'16 sections, 0 held, 32 VFs, 2 PFs'* ]]; then pass "systemctl status shows the STATUS line:${line#*Status:}"; else fail "STATUS= line" "$status"; fi

holder_bg 1; holder_bg 2
wait_for 10 sh -c "nsenter -t $LEADER -a cat /tmp/holder-2.json | grep -q section" || true
h1="$(holder_json 1)"; h2="$(holder_json 2)"
status="$(prop StatusText)"
if [[ "$h1" == *'"section"'* ]] && [[ "$h2" == *'"section"'* ]] && [[ "$status" == *'2 held'* ]]; then pass "two clients hold sections through $SOCK (status: $status)"; else fail "holding clients" "$h1 / $h2 / $status"; fi

old_pid="$(prop MainPID)"
t=$(date +%s.%N)
C systemctl kill -s KILL qat.service || true
restarted() { local p; p="$(prop MainPID)"; [ "$p" != 0 ] && [ "$p" != "$old_pid" ] && [ "$(prop ActiveState)" = active ]; }
wait_for 20 restarted || true
kill_ms=$(ms_since "$t")
adopted="$(journal | grep -c '"event":"adopt"' || true)"
if restarted && [ "$(prop NRestarts)" = 1 ] && [ "$adopted" = 2 ]; then pass "systemctl kill -s KILL: restarted (NRestarts=1) in $kill_ms ms with 2 allocations adopted"; else fail "restart after SIGKILL" "NRestarts=$(prop NRestarts) adopted=$adopted MainPID $old_pid -> $(prop MainPID)"; fi

out="$(client_once 2>&1 || true)"
s1="$(printf '%s' "$h1" | sed -n 's/.*"section":"\([^"]*\)".*/\1/p')"; s2="$(printf '%s' "$h2" | sed -n 's/.*"section":"\([^"]*\)".*/\1/p')"
s3="$(printf '%s' "$out" | sed -n 's/.*"section":"\([^"]*\)".*/\1/p')"
if [ -n "$s3" ] && [ "$s3" != "$s1" ] && [ "$s3" != "$s2" ] && [[ "$(prop StatusText)" == *'2 adopted'* ]]; then pass "after the restart a new client gets $s3, not the adopted $s1/$s2"; else fail "adopted sections stay held" "new=$s3 held=$s1,$s2 status=$(prop StatusText)"; fi

adm="$(C /usr/bin/qatctl allocations --json 2>&1 || true)"
n_adopted="$(printf '%s' "$adm" | grep -o '"adopted": *true' | wc -l)"
if [ "$n_adopted" = 2 ]; then pass "qatctl allocations (admin API) shows the 2 adopted sections"; else fail "qatctl shows adopted sections" "$adm"; fi

C systemctl reload qat.service 2>"$LOG/reload.err" || true
wait_for 10 sh -c "nsenter -t $LEADER -a journalctl -b -u qat.service -o cat --no-pager | grep -q '\"event\":\"rescan\"'" || true
rescans="$(journal | grep -c '"event":"rescan"' || true)"
if [ "$rescans" -ge 1 ] && [ "$(prop ActiveState)" = active ] && [[ "$(prop StatusText)" == *'2 held'* ]]; then pass "systemctl reload rescans and keeps held sections"; else fail "reload" "rescans=$rescans $(prop ActiveState) $(prop StatusText) $(cat "$LOG/reload.err")"; fi

old_pid="$(prop MainPID)"
t=$(date +%s.%N)
C systemctl kill -s USR2 qat.service || true
wait_for $((WATCHDOG_SEC * 4 + 10)) restarted || true
wd_ms=$(ms_since "$t")
wd_log="$(C journalctl -b -u qat.service --no-pager 2>/dev/null | grep -i 'watchdog timeout' || true)"
if restarted && [ -n "$wd_log" ] && [ "$(prop NRestarts)" = 2 ]; then pass "a stuck event loop stops the watchdog pings: killed and restarted after $wd_ms ms (WatchdogSec=${WATCHDOG_SEC}s)"; else fail "watchdog restart" "NRestarts=$(prop NRestarts) log='$wd_log'"; fi
adopted="$(journal | grep -c '"event":"adopt"' || true)"
if [ "$adopted" -ge 4 ]; then pass "the watchdog-restarted daemon adopted the live clients again"; else fail "adoption after watchdog restart" "adopt lines: $adopted"; fi

h1pid="$(printf '%s' "$h1" | sed -n 's/.*"pid":\([0-9]*\).*/\1/p')"
C sh -c "kill -KILL $h1pid" 2>/dev/null || true
freed() { journal | grep '"reason":"owner-exited"' | grep -q "\"section\":\"$s1\""; }
wait_for 10 freed || true
if freed && [[ "$(prop StatusText)" == *'1 held'* ]]; then pass "when an adopted client exits, its section $s1 is free again (status: $(prop StatusText))"; else fail "adopted owner exit" "$(prop StatusText)"; fi

before="$(journal | grep -c '"event":"adopt"' || true)"
C systemctl restart qat.service 2>/dev/null || true
after="$(journal | grep -c '"event":"adopt"' || true)"
if [ "$(prop ActiveState)" = active ] && [ "$((after - before))" = 1 ] && [[ "$(prop StatusText)" == *'1 held'* ]]; then pass "systemctl restart (a clean stop and start) keeps the live client's section: $(prop StatusText)"; else fail "restart keeps allocations" "adopted $before -> $after; $(prop StatusText)"; fi

# shares per systemd unit (real cgroups): test/e2e/shares.sh
. "$REPO/test/e2e/shares.sh"

C systemctl stop qat.service qat.socket 2>/dev/null || true
left="$(C ls -A /run/qat 2>/dev/null || true)"
if ! C test -e "$SOCK" && ! C test -e /run/qat/qatmgr.pid && [ "$(prop Result)" = success ]; then pass "systemctl stop: clean exit (Result=success), no socket, no pid file (left: ${left//$'\n'/ })"; else fail "stop leaves no socket or pid file" "left: $left; Result=$(prop Result)"; fi

methods="$(journal | grep -o '"watch":"[a-z-]*"' | sort | uniq -c | tr -s ' ' | tr '\n' ';' || true)"
echo "  info adopted owners watched by:$methods"
exposure="$(C systemd-analyze security qat.service 2>/dev/null | grep 'Overall exposure' || true)"
echo "  info in-container $exposure"

echo "systemd e2e: numbers: activation ${act_ms} ms, start ${start_ms} ms, SIGKILL->active ${kill_ms} ms, watchdog->active ${wd_ms} ms, total $(ms_since "$T0") ms"
if [ "$failed" -gt 0 ]; then
  echo "--- journal (qat.service) ---"; journal | tail -n 40
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
