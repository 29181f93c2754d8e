#!/usr/bin/env bash
# Real-systemd e2e: boot a Debian rootfs with systemd-nspawn, install the Debian package, and check install, units,
# start, status, journal priorities, activation, restarts (a crash loop too), watchdog, metrics, upgrade, stop, purge.
#
# Needs root, a built tree (npm run build) with node_modules, and network for the first run (debootstrap;
# the rootfs is cached in $QATMGR_E2E_ROOTFS, default /var/cache/qatmgr-e2e/rootfs).
# Prints "N passed, N failed" and exits non-zero when a check fails.
set -euo pipefail

REPO="$(cd "$(dirname "$0")/../.." && pwd)"
ROOTFS="${QATMGR_E2E_ROOTFS:-/var/cache/qatmgr-e2e/rootfs}"
NAME="qatmgr-e2e-$$"
SIM=/var/lib/qatmgr-sim/host
SOCK=/run/qat/qatmgr.sock
WATCHDOG_SEC=3
# the simulated host the unit serves (generated inside the container; roots passed on the command line)
ROOTS="--sysfs-root=$SIM/sys --dev-root=$SIM/dev --proc-root=$SIM/proc --etc-root=/etc"
LOG="$(mktemp -d /tmp/qatmgr-e2e.XXXXXX)"
T0=$(date +%s.%N)

passed=0
failed=0
pass() { passed=$((passed + 1)); printf '  ok   %s\n' "$1"; }
fail() { failed=$((failed + 1)); printf '  FAIL %s\n' "$1"; [ $# -lt 2 ] || printf '       %s\n' "$2" | head -n 20; }
ms_since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%d", (b - a) * 1000 }'; }

[ "$(id -u)" = 0 ] || { echo "systemd e2e: must run as root" >&2; exit 1; }
[ -f "$REPO/dist/daemon/qatmgr.js" ] || { echo "systemd e2e: build first (npm run build)" >&2; exit 1; }
# --- the packages under test: ours (this version and a later one, for the upgrade), and a nodejs for the rootfs ----
# The checks run against what dpkg installs, not against this tree. Debian bookworm's nodejs is 18.x, older than our
# "Depends: nodejs (>= 20.19)": test/e2e/nodejs-deb.sh wraps the host's node as a nodejs .deb for this rootfs only.
PKG="$LOG/pkg"
bash "$REPO/scripts/package-deb.sh" --out "$PKG" >"$LOG/package.log" 2>&1 || { echo "systemd e2e: package build failed"; cat "$LOG/package.log"; exit 1; }
bash "$REPO/scripts/package-deb.sh" --out "$PKG/next" --version-suffix +e2e1 >>"$LOG/package.log" 2>&1 || { echo "systemd e2e: package build failed"; cat "$LOG/package.log"; exit 1; }
bash "$REPO/test/e2e/nodejs-deb.sh" "$PKG" >>"$LOG/package.log" 2>&1 || { echo "systemd e2e: nodejs package build failed"; cat "$LOG/package.log"; exit 1; }
VERSION="$(node -p "require('$REPO/package.json').version")"
DEB="$(ls "$PKG"/qatmgr-ts_"$VERSION"_*.deb)"
NODE_DEB="$(ls "$PKG"/nodejs_*.deb)"
DEB_NEXT="$(ls "$PKG"/next/qatmgr-ts_"$VERSION"+e2e1_*.deb)"

# one run at a time per rootfs (another worktree's `npm test` may be booting it right now)
mkdir -p "$(dirname "$ROOTFS")"
exec 9>"$ROOTFS.lock"
flock -w 900 9 || { echo "systemd e2e: $ROOTFS.lock stayed busy for 15 min" >&2; exit 1; }
"$REPO/scripts/e2e-rootfs.sh"

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
  # --volatile=overlay: the cached rootfs stays read-only under a tmpfs overlay, so nothing a run installs outlives it
  exec systemd-nspawn -q -D "$ROOTFS" -M "$NAME" --boot --register=no --keep-unit --private-network --volatile=overlay \
    --bind-ro="$PKG":/opt/pkg </dev/null >"$LOG/nspawn.log" 2>&1
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

# libqat stand-ins: the installed qatctl probe (a handshake then release; --hold keeps the section like a running
# libqat process, also across daemon restarts)
client_once() { C qatctl probe --json --socket "$SOCK" | tr -d ' \n'; }
holder_bg() { C sh -c "qatctl probe --hold --json --socket $SOCK >/tmp/holder-$1.json 2>&1 &"; }
holder_json() { C cat "/tmp/holder-$1.json" 2>/dev/null | tr -d ' \n' || true; }
journal() { C journalctl -b -u qat.service -o cat --no-pager 2>/dev/null || true; }
# the daemon logs text lines into the journal: "<message> event=adopt section=SSL_INT_1 ..."
count_event() { journal | grep -cE "(^| )event=$1( |$)" || true; }

# --- checks ----------------------------------------------------------------------------------------------
echo "systemd e2e: checks"

# --- install: dpkg -i, as an operator does ----------------------------------------------------------------------
# files an e2e of an older layout copied into the cached rootfs (other worktrees may still run it): gone from this
# run's overlay, so that only the package provides them
C rm -rf /usr/bin/qatmgr /usr/bin/qatctl /usr/bin/node /opt/qatmgr /etc/systemd/system/qat.service /etc/systemd/system/qat.socket \
  /etc/systemd/system/qat.service.d /etc/sysusers.d/qat.conf /etc/tmpfiles.d/qat.conf /etc/systemd/system/sockets.target.wants/qat.socket || true
out="$(C dpkg -i "/opt/pkg/$(basename "$NODE_DEB")" "/opt/pkg/$(basename "$DEB")" 2>&1 || true)"
st="$(C dpkg-query -W -f='${Status} ${Version}' qatmgr-ts 2>&1 || true)"
if [ "$st" = "install ok installed $VERSION" ]; then pass "dpkg -i installs qatmgr-ts $VERSION (Depends: nodejs >= 20.19 met)"; else fail "dpkg -i" "$st; $out"; fi
missing=""
for f in /usr/sbin/qatmgr /usr/bin/qatctl /usr/lib/qatmgr-ts/dist/daemon/qatmgr.js /usr/lib/systemd/system/qat.service \
  /usr/lib/systemd/system/qat.socket /usr/lib/systemd/system/qat-metrics.socket /usr/lib/sysusers.d/qat.conf /usr/lib/tmpfiles.d/qat.conf \
  /usr/lib/udev/rules.d/90-qat-vfio.rules /etc/sysconfig/qat /usr/share/man/man8/qatmgr.8.gz /usr/share/man/man8/qatctl.8.gz \
  /usr/share/bash-completion/completions/qatctl /usr/share/doc/qatmgr-ts/systemd.md; do
  C test -e "$f" || missing="$missing $f"
done
conff="$(C dpkg-query -W -f='${Conffiles}' qatmgr-ts 2>&1 || true)"
if [ -z "$missing" ] && [[ "$conff" == *"/etc/sysconfig/qat "* ]]; then pass "the package lays down program, commands, units, sysusers/tmpfiles, udev rule, man pages, completion, docs; /etc/sysconfig/qat is a conffile"; else fail "installed files" "missing:$missing; conffiles: $conff"; fi
ver="$(C qatmgr --version 2>&1 || true)"; ver2="$(C qatctl --version 2>&1 || true)"
if [ "$ver" = "qatmgr-ts $VERSION (qatlib protocol 26.08)" ] && [ "$ver2" = "qatctl qatmgr-ts $VERSION (qatlib protocol 26.08)" ]; then pass "qatmgr --version: $ver"; else fail "--version" "$ver / $ver2"; fi
man="$(C sh -c 'MANPAGER=cat man qatctl 2>&1' || true)"
if [[ "$man" == *"EXIT STATUS"* ]] && [[ "$man" == *"qatctl help exit-codes"* ]] && C sh -c 'MANPAGER=cat man 8 qatmgr >/dev/null 2>&1'; then pass "man qatctl and man qatmgr work"; else fail "man pages" "$(printf '%s' "$man" | head -n 5)"; fi
verify="$(C systemd-analyze verify /usr/lib/systemd/system/qat.socket /usr/lib/systemd/system/qat-metrics.socket /usr/lib/systemd/system/qat.service 2>&1 || true)"
if [ -z "$verify" ]; then pass "systemd-analyze verify of the installed units is clean (binaries, Documentation= man pages)"; else fail "systemd-analyze verify" "$verify"; fi

# the e2e's own settings: the simulated host (roots on the command line), a short watchdog, the test hook; the debug
# level comes from /etc/sysconfig/qat like an operator's (and must survive the upgrade below: it is a conffile)
C mkdir -p /etc/systemd/system/qat.service.d
C sh -c "cat >/etc/systemd/system/qat.service.d/e2e.conf" <<DROPIN
[Service]
ExecStartPre=
# (runs under the unit's UMask=0117; the simulator's kernel model gives new sysfs entries sysfs's own modes)
ExecStartPre=+/usr/bin/qatctl provision $ROOTS --timeout=5s
ExecStart=
ExecStart=/usr/sbin/qatmgr $ROOTS
Environment=QATMGR_TEST_HOOKS=1
WatchdogSec=${WATCHDOG_SEC}s
# the simulated VFIO nodes are plain files that discovery opens read-write, like the real /dev/vfio nodes
ReadWritePaths=$SIM/dev/vfio
DROPIN
C sh -c 'printf "\n# e2e: an operator setting\nQATMGR_DEBUG=1\n" >>/etc/sysconfig/qat' || fail "an operator setting in /etc/sysconfig/qat"

out="$(C getent group qat || true)"; out2="$(C id qatmgr 2>&1 || true)"
if [ -n "$out" ] && [[ "$out2" == *"(qat)"* ]]; then pass "postinst applied sysusers.d: group qat and user qatmgr in it"; else fail "sysusers.d entries" "$out / $out2"; fi

C qatctl simulate '4xxx:2x16,sriov=off' --out "$SIM" --force >"$LOG/simulate.log" 2>&1 || { fail "qatctl simulate inside the container" "$(cat "$LOG/simulate.log")"; }

C systemctl daemon-reload || true
out="$(C systemctl enable --now qat.socket 2>&1 || true)"
st="$(C stat -c '%F %a %G' "$SOCK" 2>&1 || true)"
if [ "$st" = "socket 660 qat" ] && [ "$(prop ActiveState)" = inactive ]; then pass "qat.socket listens on $SOCK (0660, group qat); the service is not started yet"; else fail "qat.socket" "stat: $st; service: $(prop ActiveState); $out"; fi

# only qat.socket listens: qatctl reports that instead of ENOENT, and doctor does not start the service by connecting
rc=0; out="$(C qatctl status 2>&1)" || rc=$?
doc="$(C qatctl doctor $ROOTS 2>&1 || true)"
if [[ "$out" == *"not running (socket-activated"* ]] && [ "$rc" = 3 ] && [[ "$doc" == *"stack.service"*"socket-activated"* ]] && [ "$(prop ActiveState)" = inactive ]; then pass "with only qat.socket listening, qatctl status says \"not running (socket-activated)\" (exit 3) and doctor reports the unit state without starting it"; else fail "socket-activated, not started" "rc=$rc $out; doctor: $(printf '%s' "$doc" | grep -A1 stack.service); service: $(prop ActiveState)"; fi

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
adopted="$(count_event adopt)"
if restarted && [ "$(prop NRestarts)" = 1 ] && [ "$adopted" = 2 ]; then pass "systemctl kill -s KILL: restarted (NRestarts=1) in $kill_ms ms with 2 allocations adopted"; else fail "restart after SIGKILL" "NRestarts=$(prop NRestarts) adopted=$adopted MainPID $old_pid -> $(prop MainPID)"; fi

out="$(client_once 2>&1 || true)"
s1="$(printf '%s' "$h1" | sed -n 's/.*"section":"\([^"]*\)".*/\1/p')"; s2="$(printf '%s' "$h2" | sed -n 's/.*"section":"\([^"]*\)".*/\1/p')"
s3="$(printf '%s' "$out" | sed -n 's/.*"section":"\([^"]*\)".*/\1/p')"
if [ -n "$s3" ] && [ "$s3" != "$s1" ] && [ "$s3" != "$s2" ] && [[ "$(prop StatusText)" == *'2 adopted'* ]]; then pass "after the restart a new client gets $s3, not the adopted $s1/$s2"; else fail "adopted sections stay held" "new=$s3 held=$s1,$s2 status=$(prop StatusText)"; fi

adm="$(C /usr/bin/qatctl allocations --json 2>&1 || true)"
n_adopted="$(printf '%s' "$adm" | { grep -o '"adopted": *true' || true; } | wc -l)"
if [ "$n_adopted" = 2 ]; then pass "qatctl allocations (admin API) shows the 2 adopted sections"; else fail "qatctl shows adopted sections" "$adm"; fi

C systemctl reload qat.service 2>"$LOG/reload.err" || true
wait_for 10 sh -c "nsenter -t $LEADER -a journalctl -b -u qat.service -o cat --no-pager | grep -qE 'event=rescan( |\$)'" || true
rescans="$(count_event rescan)"
if [ "$rescans" -ge 1 ] && [ "$(prop ActiveState)" = active ] && [[ "$(prop StatusText)" == *'2 held'* ]]; then pass "systemctl reload rescans and keeps held sections"; else fail "reload" "rescans=$rescans $(prop ActiveState) $(prop StatusText) $(cat "$LOG/reload.err")"; fi

old_pid="$(prop MainPID)"
t=$(date +%s.%N)
C systemctl kill -s USR2 qat.service || true
wait_for $((WATCHDOG_SEC * 4 + 10)) restarted || true
wd_ms=$(ms_since "$t")
wd_log="$(C journalctl -b -u qat.service --no-pager 2>/dev/null | grep -i 'watchdog timeout' || true)"
if restarted && [ -n "$wd_log" ] && [ "$(prop NRestarts)" = 2 ]; then pass "a stuck event loop stops the watchdog pings: killed and restarted after $wd_ms ms (WatchdogSec=${WATCHDOG_SEC}s)"; else fail "watchdog restart" "NRestarts=$(prop NRestarts) log='$wd_log'"; fi
adopted="$(count_event adopt)"
if [ "$adopted" -ge 4 ]; then pass "the watchdog-restarted daemon adopted the live clients again"; else fail "adoption after watchdog restart" "adopt lines: $adopted"; fi

h1pid="$(printf '%s' "$h1" | sed -n 's/.*"pid":\([0-9]*\).*/\1/p')"
C sh -c "kill -KILL $h1pid" 2>/dev/null || true
freed() { journal | grep 'reason=owner-exited' | grep -q "section=$s1 "; }
wait_for 10 freed || true
if freed && [[ "$(prop StatusText)" == *'1 held'* ]]; then pass "when an adopted client exits, its section $s1 is free again (status: $(prop StatusText))"; else fail "adopted owner exit" "$(prop StatusText)"; fi

before="$(count_event adopt)"
C systemctl restart qat.service 2>/dev/null || true
after="$(count_event adopt)"
if [ "$(prop ActiveState)" = active ] && [ "$((after - before))" = 1 ] && [[ "$(prop StatusText)" == *'1 held'* ]]; then pass "systemctl restart (a clean stop and start) keeps the live client's section: $(prop StatusText)"; else fail "restart keeps allocations" "adopted $before -> $after; $(prop StatusText)"; fi

# --- journald: a priority per line ------------------------------------------------------------------------------
jl="$(C journalctl -b -u qat.service -o json --no-pager 2>/dev/null || true)"
warn_p="$(printf '%s\n' "$jl" | grep '"MESSAGE":"QATMGR_TEST_HOOKS=1' | grep -o '"PRIORITY":"[0-9]"' | head -n1 || true)"
info_p="$(printf '%s\n' "$jl" | grep '"MESSAGE":"qatmgr-ts [^"]* serving on' | grep -o '"PRIORITY":"[0-9]"' | head -n1 || true)"
pw="$(C journalctl -b -u qat.service -p warning -o cat --no-pager 2>/dev/null || true)"
if [ "$warn_p" = '"PRIORITY":"4"' ] && [ "$info_p" = '"PRIORITY":"6"' ] && [[ "$pw" == *"QATMGR_TEST_HOOKS=1"* ]] && [[ "$pw" != *" serving on "* ]]; then pass "journalctl -o json reads PRIORITY 4 for a warning and 6 for info; journalctl -p warning shows the warnings only"; else fail "journal priorities" "warning: $warn_p info: $info_p; -p warning: $(printf '%s' "$pw" | head -n 3)"; fi
starts="$(journal | grep -c ' serving on ' || true)"; devlines="$(journal | grep -c 'event=device ' || true)"
if [ "$devlines" = 0 ] && [ "$starts" -ge 1 ]; then pass "QATMGR_DEBUG=1 from /etc/sysconfig/qat: one summary line per start, no line per VF"; else fail "-d 1 summary" "device lines: $devlines, start lines: $starts"; fi
grants="$(journal | grep 'event=grant ' | head -n1 || true)"
if [[ "$grants" == *"(qatctl"*"uid 0)"* ]]; then pass "grant lines name the holder's process and unit: ${grants%% event=*}"; else fail "grant line names comm and unit" "$grants"; fi

# --- metrics under the shipped unit: qat-metrics.socket, the service keeps PrivateNetwork=yes ----------------------
# systemd refuses to start a socket whose service already runs ("already active, refusing"): stop, add, start
C systemctl stop qat.service 2>/dev/null || true
C systemctl enable --now qat-metrics.socket >/dev/null 2>&1 || true
C systemctl start qat.service 2>/dev/null || true
scrape="$(C node -e 'fetch("http://127.0.0.1:9464/metrics").then(async (r) => { process.stdout.write(String(r.status) + "\n" + await r.text()); }, (e) => { console.log("error " + e.message); })' 2>&1 || true)"
if [[ "$scrape" == 200* ]] && [[ "$scrape" == *"qatmgr_build_info{version=\"$VERSION\",protocol=\"26.08\""* ]] && [[ "$scrape" == *'qatmgr_sections{state="held"} 1'* ]] && [ "$(prop PrivateNetwork)" = yes ]; then pass "metrics scraped from qat-metrics.socket (127.0.0.1:9464) while qat.service keeps PrivateNetwork=yes"; else fail "metrics under the shipped unit" "$(printf '%s' "$scrape" | head -n 5); PrivateNetwork=$(prop PrivateNetwork); $(journal | grep -i metrics | tail -n 3)"; fi

# --- a crash loop: restarts go on, qat.socket never fails, clients are served once it stops crashing -------------
n0="$(prop NRestarts)"; crashes=8
t=$(date +%s.%N)
for i in $(seq 1 "$crashes"); do
  wait_for 20 sh -c "[ \"\$(nsenter -t $LEADER -a systemctl show -P ActiveState qat.service)\" = active ]" || break
  C systemctl kill -s KILL qat.service || true
  sleep 0.3
done
wait_for 30 sh -c "[ \"\$(nsenter -t $LEADER -a systemctl show -P ActiveState qat.service)\" = active ]" || true
loop_ms=$(ms_since "$t")
sock_state="$(C systemctl show -P ActiveState qat.socket 2>/dev/null || true)"
out="$(client_once 2>&1 || true)"
if [ "$(prop ActiveState)" = active ] && [ "$(( $(prop NRestarts) - n0 ))" -ge "$crashes" ] && [ "$sock_state" = active ] && [[ "$out" == *'"section"'* ]]; then pass "$crashes crashes in a row ($loop_ms ms): restarted each time, qat.socket stays active (no start limit), a client is served"; else fail "crash loop" "service $(prop ActiveState) NRestarts $n0 -> $(prop NRestarts) socket $sock_state client $out"; fi

# --- the service stopped, the socket listening, a process still holding its section: qatctl reads the ledger ------
C systemctl stop qat.service 2>/dev/null || true
out="$(C qatctl allocations 2>&1 || true)"
if [[ "$out" == *"not running (socket-activated"* ]] && [[ "$out" == *"$s2"* ]]; then pass "qatctl allocations with the daemon stopped shows the ledger's held section $s2"; else fail "allocations from the ledger" "$out"; fi

# --- upgrade: dpkg -i of a newer version keeps /etc/sysconfig/qat and restarts without dropping held sections -----
client_once >/dev/null 2>&1 || true
old_pid="$(prop MainPID)"
before="$(count_event adopt)"
out="$(C dpkg -i "/opt/pkg/next/$(basename "$DEB_NEXT")" 2>&1 || true)"
wait_for 20 restarted || true
after="$(count_event adopt)"
st="$(C dpkg-query -W -f='${Version}' qatmgr-ts 2>&1 || true)"
kept="$(C grep -c '^QATMGR_DEBUG=1$' /etc/sysconfig/qat 2>/dev/null || true)"
if [ "$st" = "$VERSION+e2e1" ] && restarted && [ "$((after - before))" -ge 1 ] && [ "$kept" = 1 ] && [[ "$(prop StatusText)" == *'1 held'* ]]; then pass "upgrade to $st: /etc/sysconfig/qat kept, the daemon restarted (pid $old_pid -> $(prop MainPID)) and adopted the held section"; else fail "upgrade" "version $st; pid $old_pid -> $(prop MainPID); adopted $before -> $after; sysconfig kept: $kept; $(prop StatusText); $out"; fi

# the heartbeat through the root relay, a failure withholding one PF: test/e2e/health.sh
. "$REPO/test/e2e/health.sh"

# shares per systemd unit (real cgroups): test/e2e/shares.sh
. "$REPO/test/e2e/shares.sh"

C systemctl stop qat.service qat.socket 2>/dev/null || true
left="$(C ls -A /run/qat 2>/dev/null || true)"
if ! C test -e "$SOCK" && ! C test -e /run/qat/qatmgr.pid && [ "$(prop Result)" = success ]; then pass "systemctl stop: clean exit (Result=success), no socket, no pid file (left: ${left//$'\n'/ })"; else fail "stop leaves no socket or pid file" "left: $left; Result=$(prop Result)"; fi

methods="$(journal | grep -o 'watch=[a-z-]*' | sort | uniq -c | tr -s ' ' | tr '\n' ';' || true)"
echo "  info adopted owners watched by:$methods"
exposure="$(C systemd-analyze security qat.service 2>/dev/null | grep 'Overall exposure' || true)"
echo "  info in-container $exposure"

# --- purge: nothing of ours left --------------------------------------------------------------------------------
C systemctl stop qat-metrics.socket 2>/dev/null || true
out="$(C dpkg --purge qatmgr-ts 2>&1 || true)"
left=""
for f in /usr/lib/qatmgr-ts /usr/sbin/qatmgr /usr/bin/qatctl /usr/lib/systemd/system/qat.service /etc/sysconfig/qat /run/qat \
  /etc/systemd/system/sockets.target.wants/qat.socket /etc/systemd/system/sockets.target.wants/qat-metrics.socket; do
  if C test -e "$f"; then left="$left $f"; fi
done
st="$(C dpkg-query -W -f='${Status}' qatmgr-ts 2>&1 || true)"
if [ -z "$left" ] && [[ "$st" != *installed* ]] && [ "$(C systemctl show -P LoadState qat.service)" = not-found ]; then pass "dpkg --purge removes program, units, settings, run directory and enablement links"; else fail "purge" "left:$left; status: $st; $out"; fi
C rm -rf /etc/systemd/system/qat.service.d


echo "systemd e2e: numbers: activation ${act_ms} ms, start ${start_ms} ms, SIGKILL->active ${kill_ms} ms, watchdog->active ${wd_ms} ms, ${crashes} crashes->active ${loop_ms} ms, total $(ms_since "$T0") ms"
if [ "$failed" -gt 0 ]; then
  echo "--- journal (qat.service) ---"; journal | tail -n 40
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
