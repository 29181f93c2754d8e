# Sourced by run.sh while qat.service serves 16 sections (POLICY=0) with 1 held: shares per systemd unit, matched by
# the clients' real cgroups. Uses run.sh's C, journal, count_event, wait_for, pass, fail, SOCK. The clients run the
# installed `qatctl probe --hold`; files are written inside the container (its root is a volatile overlay).

for u in e2e-capped@ e2e-reserved e2e-other; do
  C sh -c "cat >/etc/systemd/system/$u.service" <<EOF
[Unit]
Description=qatmgr e2e share client %n
[Service]
ExecStart=/usr/bin/qatctl probe --hold --json --socket $SOCK
StandardOutput=file:/tmp/%n.out
EOF
done
C mkdir -p /etc/qat/shares.d
C sh -c 'cat >/etc/qat/shares.d/50-e2e.conf' <<EOF
# two instances of the template at most; 13 of the 16 sections kept for e2e-reserved while it holds none
e2e-capped@.service: max 2
e2e-reserved.service: min 13
EOF
C systemctl daemon-reload || true
rescans() { count_event rescan; }
more_rescans() { [ "$(rescans)" -gt "$1" ]; }
# a granted probe prints its JSON ("section": ...); a refused one says why on stderr (the same file)
answered() { C grep -q -e '"section"' -e 'No section' -e 'qatctl:' "/tmp/$1.out" 2>/dev/null; }
client() { # client UNIT: start it, wait for its answer line, print it
  C rm -f "/tmp/$1.out"
  C systemctl start "$1" 2>/dev/null || true
  wait_for 15 answered "$1" || true
  C cat "/tmp/$1.out" 2>/dev/null || true
}

n="$(rescans)"
C systemctl reload qat.service 2>/dev/null || true
wait_for 10 more_rescans "$n" || true
rules="$(journal | grep -E '(^| )event=grant_rules( |$)' | tail -n 1)"
if [[ "$rules" == *'e2e-capped@.service: min 0, max 2'* ]]; then pass "systemctl reload picks up shares from /etc/qat/shares.d"; else fail "shares on reload" "$rules"; fi

c1="$(client e2e-capped@1.service)"; c2="$(client e2e-capped@2.service)"; c3="$(client e2e-capped@3.service)"
if [[ "$c1" == *'"section"'* ]] && [[ "$c2" == *'"section"'* ]] && [[ "$c3" == *'No section available: e2e-capped@.service holds its maximum of 2'* ]]; then
  pass "a unit template's third instance is refused with the reason (No section available: e2e-capped@.service holds its maximum of 2)"
else fail "cap per unit template" "$c1 / $c2 / $c3"; fi

C systemctl restart qat.service 2>/dev/null || true
c4="$(client e2e-capped@4.service)"
if [[ "$c4" == *'holds its maximum of 2'* ]]; then pass "after systemctl restart the adopted holders still count against their unit's cap"; else fail "shares after restart" "$c4"; fi

o="$(client e2e-other.service)"
if [[ "$o" == *'the 13 free sections are reserved (e2e-reserved.service: min 13, holds 0)'* ]]; then pass "another unit cannot take the 13 sections reserved for e2e-reserved.service"; else fail "reservation per unit" "$o"; fi
r="$(client e2e-reserved.service)"
if [[ "$r" == *'"section"'* ]]; then pass "the reserving unit gets a section from its reservation"; else fail "reserved unit" "$r"; fi

adm="$(C /usr/bin/qatctl allocations --json 2>&1 || true)"
sec="$(C /usr/bin/qatctl sections 2>&1 || true)"
if [[ "$adm" == *'"unit": "e2e-capped@1.service"'* ]] && [[ "$adm" == *'"e2e-capped@.service"'* ]] && printf '%s\n' "$sec" | grep -Eq '^e2e-capped@\.service +0 +2 +2 +0 '; then
  pass "qatctl allocations shows the holders' units and shares; qatctl sections the share table"
else fail "shares in qatctl" "$(printf '%s\n' "$sec" | tail -n 4)"; fi

C systemctl stop e2e-capped@1.service e2e-capped@2.service e2e-capped@3.service e2e-capped@4.service e2e-other.service e2e-reserved.service 2>/dev/null || true
C rm -f /etc/qat/shares.d/50-e2e.conf /etc/systemd/system/e2e-capped@.service /etc/systemd/system/e2e-reserved.service /etc/systemd/system/e2e-other.service
n="$(rescans)"
C systemctl reload qat.service 2>/dev/null || true
wait_for 10 more_rescans "$n" || true
