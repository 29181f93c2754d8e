# Sourced by run.sh while qat.service serves the simulated host (2 PFs x 16 VFs, POLICY=0) as user qatmgr: the
# heartbeat through the root relay (qat-heartbeat.service), since the hardened daemon cannot read debugfs. Uses
# run.sh's C, journal, wait_for, pass, fail, SOCK, SIM, ROOTS. Files are written inside the container.

HB_PF=0000:70:00.0
C mkdir -p /etc/systemd/system/qat-heartbeat.service.d
C sh -c "cat >/etc/systemd/system/qat-heartbeat.service.d/e2e.conf" <<DROPIN
[Unit]
# the simulated host's debugfs is under \$SIM/sys (the container has no /sys/kernel/debug of its own to go by)
ConditionPathIsDirectory=
[Service]
ExecStart=
ExecStart=/usr/bin/qatctl heartbeat-relay $ROOTS
DROPIN
C systemctl daemon-reload || true
verify="$(C systemd-analyze verify /usr/lib/systemd/system/qat-heartbeat.service 2>&1 || true)"
if [ -z "$verify" ]; then pass "the package installs qat-heartbeat.service and systemd-analyze verify finds nothing in it"; else fail "qat-heartbeat.service verify" "$verify"; fi
C systemctl start qat-heartbeat.service 2>/dev/null || true
hb_journal() { C journalctl -b -u qat-heartbeat.service -o cat --no-pager 2>/dev/null || true; }
health_json() { C qatctl health --json 2>/dev/null | tr -d ' \n'; }
hb_source_is() { [[ "$(health_json)" == *"\"source\":\"$1\""* ]]; }
pf_state_is() { [[ "$(health_json)" == *"\"bdf\":\"$HB_PF\",\"driver\":\"4xxx\",\"state\":\"$1\""* ]]; }

wait_for 10 hb_source_is relay || true
# read once the relay pushes (Type=simple: right after start the pid may still be systemd's child setting up)
relay_pid="$(C systemctl show -P MainPID qat-heartbeat.service 2>/dev/null || true)"
relay_uid="$(C awk '/^Uid:/ { print $2 }' "/proc/$relay_pid/status" 2>/dev/null || true)"
relay_cap="$(C awk '/^CapEff/ { print $2 }' "/proc/$relay_pid/status" 2>/dev/null || true)"
# said once by this daemon (the journal of the boot holds every earlier start too)
denied="$(C journalctl -b "_PID=$(C systemctl show -P MainPID qat.service)" -o cat --no-pager 2>/dev/null | grep -c 'heartbeat: cannot read .* (EACCES: debugfs is root-only)' || true)"
if hb_source_is relay && [ "$relay_uid" = 0 ] && [ "$relay_cap" = 0000000000000000 ] && [ "$denied" = 1 ]; then
  pass "the daemon (qatmgr) cannot read debugfs and says so once; qat-heartbeat.service (root, no capabilities) relays the heartbeats"
else
  fail "heartbeat relay" "source: $(health_json | grep -o '"heartbeat":{[^}]*}'); relay uid=$relay_uid CapEff=$relay_cap; EACCES lines: $denied; $(hb_journal | tail -n 3)"
fi

C qatctl simulate --inject heartbeat-fail "$HB_PF" --sim-dir "$SIM" >/dev/null 2>&1 || true
t=$(date +%s.%N)
wait_for 10 pf_state_is unhealthy || true
hb_ms=$(ms_since "$t")
probe="$(C qatctl probe --json --socket "$SOCK" 2>/dev/null | tr -d ' \n' || true)"
if pf_state_is unhealthy && [[ "$probe" == *'"id":"0000:6b:'* ]] && [[ "$probe" != *'"id":"0000:70:'* ]] && [[ "$(journal | grep -c "PF $HB_PF healthy -> unhealthy: firmware heartbeat failed")" -ge 1 ]]; then
  pass "a failed heartbeat on $HB_PF, seen through the relay, withholds its VFs within $hb_ms ms: a new client gets only 0000:6b:00.0's VF"
else
  fail "heartbeat failure through the relay" "$(health_json | head -c 600); probe: $(printf '%s' "$probe" | head -c 300)"
fi
C qatctl simulate --inject heartbeat-ok "$HB_PF" --sim-dir "$SIM" >/dev/null 2>&1 || true
wait_for 20 pf_state_is healthy || true
if pf_state_is healthy && [[ "$(C qatctl events --kind health 2>/dev/null)" == *"unhealthy -> healthy"* ]]; then pass "the heartbeat back, $HB_PF is re-admitted (qatctl events tells both transitions)"; else fail "re-admission after the heartbeat" "$(health_json | head -c 400)"; fi
relay_exposure="$(C systemd-analyze security qat-heartbeat.service 2>/dev/null | grep 'Overall exposure' || true)"
echo "  info in-container $relay_exposure"
