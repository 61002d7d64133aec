#!/usr/bin/env bash
# package.sh: the Debian package, built the way a user builds it
# (dpkg-buildpackage -us -uc -b) in a temporary copy of the source tree,
# so the checkout's build directories stay untouched.  TAP on stdout.
#
# Checks: one version in meson.build, debian/changelog and --version; the
# files and modes in the .deb and its control data; lintian reports no
# error; the manual page passes mandoc -Tlint and names every command and
# option of the usage text; the unit rates 2.5 or better in
# systemd-analyze security; the unit's ExecStart line, expanded as
# systemd expands it with the settings of /etc/default/tessera, runs the
# packaged binary until READY=1 and /healthz answers; the bash completion
# completes commands and client names.
#
#	tests/package/package.sh	(scripts/test runs it once, plain build)
set -u
export LC_ALL=C

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
py=/usr/bin/python3
T=$(mktemp -d "${TMPDIR:-/tmp}/tsr-pkg.XXXXXX")
SERVER_PID=
LISTENER_PID=
cleanup() {
	[ -z "$SERVER_PID" ] || kill -TERM "$SERVER_PID" 2>/dev/null
	[ -z "$LISTENER_PID" ] || kill "$LISTENER_PID" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

n=0
failed=0
pass() { n=$((n + 1)); echo "ok $n - $1"; }
fail() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $1"
	shift
	local l
	for l in "$@"; do printf '%s\n' "$l" | sed 's/^/#   /'; done
}
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
check() {	# check DESC COND-STATUS [diagnostics...]
	local desc=$1 st=$2
	shift 2
	if [ "$st" -eq 0 ]; then pass "$desc"; else fail "$desc" "$@"; fi
}
bail() { echo "Bail out! $*"; exit 1; }
finish() { echo "1..$n"; [ "$failed" -eq 0 ]; }

for tool in dpkg-buildpackage dpkg-deb lintian mandoc dh fakeroot; do
	command -v "$tool" >/dev/null ||
	    bail "$tool not found (scripts/setup-deps --test installs it)"
done

# --- one version ------------------------------------------------------------
meson_version=$(sed -n "s/^ *version: *'\([^']*\)'.*/\1/p" \
    "$root/meson.build" | head -n 1)
deb_version=$(cd "$root" && dpkg-parsechangelog -S Version)
upstream=${deb_version#*:}
upstream=${upstream%-*}
check "debian/changelog ($deb_version) is meson.build's version" \
    "$([ -n "$meson_version" ] && [ "$upstream" = "$meson_version" ]; echo $?)" \
    "meson.build: '$meson_version', debian/changelog: '$deb_version'"

# --- build in a copy ----------------------------------------------------------
src=$T/src/tessera
mkdir -p "$src"
if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	# tracked and new files, without what .gitignore names (build dirs)
	(cd "$root" && git ls-files -z --cached --others --exclude-standard) |
	    (cd "$root" && tar -cf - --null -T - 2>/dev/null) |
	    tar -xf - -C "$src"
else
	tar -C "$root" --exclude='./build*' --exclude='./obj-*' -cf - . |
	    tar -xf - -C "$src"
fi
if (cd "$src" && dpkg-checkbuilddeps) >"$T/deps.log" 2>&1; then
	pass "the build dependencies are installed"
else
	fail "the build dependencies are installed" "$(cat "$T/deps.log")"
fi
echo "# dpkg-buildpackage -us -uc -b (about a minute)"
if (cd "$src" && dpkg-buildpackage -us -uc -b) >"$T/build.log" 2>&1; then
	pass "dpkg-buildpackage -us -uc -b"
else
	fail "dpkg-buildpackage -us -uc -b" "$(tail -n 30 "$T/build.log")"
fi
arch=$(dpkg --print-architecture)
deb=$T/src/tessera_${deb_version#*:}_$arch.deb
[ -f "$deb" ] || { fail "the build made $(basename "$deb")" \
    "$(ls "$T/src")"; finish; exit 1; }
pass "the build made $(basename "$deb")"

# --- contents and control data ------------------------------------------------
dpkg-deb -c "$deb" | awk '{ print $1, $2, $6 }' >"$T/contents"
for want in \
    "-rwxr-xr-x root/root ./usr/bin/tessera" \
    "-rw-r--r-- root/root ./lib/systemd/system/tessera.service" \
    "-rw-r--r-- root/root ./usr/share/man/man8/tessera.8.gz" \
    "-rw-r--r-- root/root ./usr/share/bash-completion/completions/tessera" \
    "-rw-r--r-- root/root ./etc/default/tessera" \
    "-rw-r--r-- root/root ./usr/share/doc/tessera/copyright"; do
	grep -qxF -- "$want" "$T/contents"
	check "deb holds ${want##* } (${want%% *})" $? "$(cat "$T/contents")"
done
# Nothing of the test build: no fault hooks, no test programs.
grep -E 'test_|fuzz|loadgen|/include/' "$T/contents" >"$T/extra"
check "deb holds no test program or header" \
    "$([ ! -s "$T/extra" ]; echo $?)" "$(cat "$T/extra")"

dpkg-deb -f "$deb" Package Version Architecture Depends Recommends \
    >"$T/control"
grep -qx "Package: tessera" "$T/control" &&
    grep -qx "Version: ${deb_version}" "$T/control" &&
    grep -qx "Architecture: $arch" "$T/control" &&
    grep -q "^Depends: .*adduser" "$T/control" &&
    grep -q "^Depends: .*libgnutls30" "$T/control"
check "control: package, version, architecture, Depends" $? \
    "$(cat "$T/control")"
# libpq is loaded only for a PostgreSQL store: recommended, not linked.
grep -q "^Recommends: .*libpq5" "$T/control" &&
    ! grep -q "^Depends: .*libpq" "$T/control"
check "control: Recommends libpq5, which the program does not link" $? \
    "$(cat "$T/control")"
mkdir "$T/ctl"
dpkg-deb -e "$deb" "$T/ctl"
grep -qx /etc/default/tessera "$T/ctl/conffiles"
check "/etc/default/tessera is a conffile" $?
grep -q "adduser --system" "$T/ctl/postinst" &&
    grep -q "install -d -o tessera -g tessera -m 0700 /var/lib/tessera" \
    "$T/ctl/postinst"
check "postinst makes the tessera user and /var/lib/tessera (0700)" $?
# dh_installsystemd --no-enable: the unit is enabled again only where an
# admin had enabled it (debian-installed), never on a first install.
grep -q "deb-systemd-helper debian-installed 'tessera.service'" \
    "$T/ctl/postinst"
check "postinst does not enable the service on a first install" $?

x=$T/x
dpkg-deb -x "$deb" "$x"
want_default=(
	"#TESSERA_DB=/var/lib/tessera/tessera.db"
	"#TESSERA_KEY_DIR=/var/lib/tessera/keys"
	"#TESSERA_TLS_CERT=/etc/tessera/tls/server.pem"
	"#TESSERA_TLS_KEY=/etc/tessera/tls/server-key.pem"
	"#TESSERA_CLIENT_CA=/etc/tessera/tls/ca.pem"
)
missing=()
for l in "${want_default[@]}"; do
	grep -qxF -- "$l" "$x/etc/default/tessera" || missing+=("$l")
done
check "/etc/default/tessera lists the settings, commented" \
    "${#missing[@]}" "missing: ${missing[*]}"
got=$("$x/usr/bin/tessera" --version 2>&1)
check "the packaged tessera --version says $meson_version" \
    "$([ "$got" = "tessera $meson_version" ]; echo $?)" "got: $got"

# --- lintian ------------------------------------------------------------------
lintian --fail-on error --display-level ">=warning" \
    "$T/src/tessera_${deb_version#*:}_${arch}.changes" >"$T/lintian" 2>&1
st=$?
grep -v "running with root privileges" "$T/lintian" >"$T/lintian.tags"
check "lintian: no error" "$st" "$(cat "$T/lintian.tags")"
nwarn=$(grep -c '^W: ' "$T/lintian.tags")
if [ "$nwarn" -gt 0 ]; then
	sed 's/^/# lintian: /' "$T/lintian.tags"
fi
check "lintian: at most 3 warnings ($nwarn)" \
    "$([ "$nwarn" -le 3 ]; echo $?)" "$(cat "$T/lintian.tags")"

# --- the manual page ------------------------------------------------------------
man=$root/docs/tessera.8
mandoc -Tlint "$man" >"$T/mandoc" 2>&1
st=$?
grep -v "mandoc.db" "$T/mandoc" >"$T/mandoc.msgs"	# the host's index
check "mandoc -Tlint docs/tessera.8 is clean" \
    "$([ "$st" -eq 0 ] && [ ! -s "$T/mandoc.msgs" ]; echo $?)" \
    "$(cat "$T/mandoc.msgs")"
zcat "$x/usr/share/man/man8/tessera.8.gz" | cmp -s - "$man"
check "the packaged manual page is docs/tessera.8" $?
# Every option and command word of the usage text is in the page.
"$x/usr/bin/tessera" --help >"$T/usage"
missing=()
for opt in $(grep -oE -- '--[a-z][a-z-]*' "$T/usage" | sort -u); do
	esc=${opt//-/\\\\-}	# --a-b is written \-\-a\-b in mdoc
	grep -qE "Fl ${esc#\\\\-}( |$)" "$man" || missing+=("$opt")
done
for cmd in $(sed -n 's/^  \([a-z]\+\).*/\1/p' "$T/usage" | sort -u) \
    $(grep -oE '\b(add|list|show|enable|disable|remove|rotate|revoke|export|apply|inspect|revoke-tokens)\b' \
    "$T/usage" | sort -u); do
	grep -qE "(Ic|Cm|Ic [a-z]+) ${cmd//-/\\\\-}( |$)" "$man" ||
	    grep -qE "^\.It Ic [a-z]+ ${cmd//-/\\\\-}" "$man" ||
	    missing+=("$cmd")
done
check "the manual page names every command and option of --help" \
    "${#missing[@]}" "missing: ${missing[*]}"

# --- the unit -------------------------------------------------------------------
unit=$x/lib/systemd/system/tessera.service
if ! command -v systemd-analyze >/dev/null; then
	skip "systemd-analyze security rates the unit 2.5 or better" \
	    "no systemd-analyze"
elif ! systemd-analyze security --offline=yes "$unit" >"$T/sec" 2>&1; then
	fail "systemd-analyze security rates the unit 2.5 or better" \
	    "$(tail -n 5 "$T/sec")"
else
	level=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' \
	    "$T/sec")
	check "systemd-analyze security rates the unit $level (<= 2.5)" \
	    "$(awk -v l="$level" 'BEGIN { exit !(l != "" && l <= 2.5) }';
	    echo $?)" "$(tail -n 5 "$T/sec")"
fi
for d in "Type=notify" "User=tessera" "StateDirectory=tessera" \
    "ExecReload=/bin/kill -HUP \$MAINPID" "NoNewPrivileges=yes" \
    "ProtectSystem=strict" "CapabilityBoundingSet=" \
    "MemoryDenyWriteExecute=yes" "UMask=0077" \
    "EnvironmentFile=-/etc/default/tessera"; do
	grep -qxF -- "$d" "$unit"
	check "unit: $d" $?
done
# W^X: nothing in the binary or its libraries asks for an executable
# stack or text relocations, which MemoryDenyWriteExecute would refuse.
bad=()
for f in "$x/usr/bin/tessera" $(ldd "$x/usr/bin/tessera" |
    awk '$3 ~ /^\// { print $3 }'); do
	readelf -lW "$f" | grep -q 'GNU_STACK.* RWE' && bad+=("$f: exec stack")
	readelf -dW "$f" | grep -q 'TEXTREL' && bad+=("$f: TEXTREL")
done
check "no executable stack or text relocation (MemoryDenyWriteExecute)" \
    "${#bad[@]}" "${bad[@]}"

# The unit's ExecStart, expanded as systemd does (Environment=, then
# EnvironmentFile= overriding it; "${X}" one word, "$X" split on blanks),
# with a settings file like /etc/default/tessera pointing at a test PKI.
"$root/scripts/dev-pki" "$T/pki" >/dev/null || bail "dev-pki failed"
port=$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -m 0700 "$T/state"
sed -e "s|^#TESSERA_DB=.*|TESSERA_DB=$T/state/tessera.db|" \
    -e "s|^#TESSERA_KEY_DIR=.*|TESSERA_KEY_DIR=$T/state/keys|" \
    -e "s|^#TESSERA_LISTEN=.*|TESSERA_LISTEN=127.0.0.1:$port|" \
    -e "s|^#TESSERA_TLS_CERT=.*|TESSERA_TLS_CERT=$T/pki/server.pem|" \
    -e "s|^#TESSERA_TLS_KEY=.*|TESSERA_TLS_KEY=$T/pki/server-key.pem|" \
    -e "s|^#TESSERA_CLIENT_CA=.*|TESSERA_CLIENT_CA=$T/pki/ca.pem|" \
    -e "s|^#TESSERA_OPTS=.*|TESSERA_OPTS=\"--issuer https://127.0.0.1:$port --log-level debug\"|" \
    "$x/etc/default/tessera" >"$T/default"
"$py" - "$unit" "$T/default" "$x/usr/bin/tessera" >"$T/argv" <<'PY'
import re, shlex, sys
unit, default, binary = sys.argv[1:4]
env, execstart = {}, None
for line in open(unit):
    line = line.strip()
    if line.startswith("Environment="):
        for kv in shlex.split(line[len("Environment="):]):
            k, _, v = kv.partition("=")
            env[k] = v
    elif line.startswith("ExecStart="):
        execstart = line[len("ExecStart="):]
for line in open(default):
    line = line.strip()
    if line and not line.startswith("#"):
        k, _, v = line.partition("=")
        env[k] = " ".join(shlex.split(v))
argv = []
for word in shlex.split(execstart):
    m = re.fullmatch(r"\$([A-Za-z_][A-Za-z0-9_]*)", word)
    if m:
        argv += env.get(m.group(1), "").split()
        continue
    argv.append(re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}",
                       lambda m: env.get(m.group(1), ""), word))
argv[0] = argv[0].replace("/usr/bin/tessera", binary)
for k in ("TESSERA_DB", "TESSERA_KEY_DIR"):
    print("ENV %s=%s" % (k, env[k]))
for a in argv:
    print("ARG " + a)
PY
mapfile -t envs < <(sed -n 's/^ENV //p' "$T/argv")
mapfile -t args < <(sed -n 's/^ARG //p' "$T/argv")
echo "# ExecStart: ${args[*]}"
"$py" - "$T/notify.sock" "$T/notify.log" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as out:
    while True:
        out.write(s.recv(4096).decode().replace("\n", " ") + "\n")
PY
LISTENER_PID=$!
for ((i = 0; i < 100; i++)); do [ -S "$T/notify.sock" ] && break; sleep 0.05; done
env -i PATH=/usr/bin:/bin "${envs[@]}" NOTIFY_SOCKET="$T/notify.sock" \
    "${args[@]}" >"$T/server.log" 2>&1 </dev/null &
SERVER_PID=$!
for ((i = 0; i < 400; i++)); do
	grep -q '^READY=1' "$T/notify.log" 2>/dev/null && break
	kill -0 "$SERVER_PID" 2>/dev/null || break
	sleep 0.05
done
grep -q '^READY=1' "$T/notify.log" 2>/dev/null
check "the unit's ExecStart runs the server to READY=1" $? \
    "$(tail -n 20 "$T/server.log")"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
    --cacert "$T/pki/ca.pem" "https://127.0.0.1:$port/healthz")
check "... and /healthz answers 200" "$([ "$code" = 200 ]; echo $?)" \
    "got $code" "$(tail -n 20 "$T/server.log")"
st=$(stat -c %a "$T/state/keys" 2>/dev/null)
check "... with its keys under TESSERA_KEY_DIR (mode $st)" \
    "$([ "$st" = 700 ]; echo $?)"
kill -TERM "$SERVER_PID" 2>/dev/null
wait "$SERVER_PID"
st=$?
SERVER_PID=
check "... and stops on SIGTERM with status 0" "$st"

# --- bash completion -------------------------------------------------------------
comp=$x/usr/share/bash-completion/completions/tessera
if [ ! -f /usr/share/bash-completion/bash_completion ]; then
	skip "bash completion" "bash-completion is not installed"
else
	"$x/usr/bin/tessera" --db "$T/comp.db" client add alpha-svc \
	    --cn alpha >/dev/null 2>&1
	"$x/usr/bin/tessera" --db "$T/comp.db" client add beta-svc \
	    --cn beta >/dev/null 2>&1
	complete_line() {	# complete_line LINE: what TAB offers at its end
		PATH=$x/usr/bin:$PATH bash -c '
. /usr/share/bash-completion/bash_completion
. "$1"
COMP_LINE=$2
read -ra COMP_WORDS <<<"$2"
[[ $2 == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
COMP_POINT=${#COMP_LINE}
_tessera
printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' _ "$comp" "$1"
	}
	got=$(complete_line "tessera ")
	check "completion: the commands" \
	    "$([ "$got" = "agent audit client grant help key migrate policy revocation serve token " ]; echo $?)" \
	    "got: $got"
	got=$(complete_line "tessera client ")
	check "completion: client's subcommands" \
	    "$([ "$got" = "add disable enable list remove revoke-tokens show " ]; echo $?)" \
	    "got: $got"
	got=$(complete_line "tessera serve --tls-")
	check "completion: serve options" \
	    "$([ "$got" = "--tls-cert --tls-key " ]; echo $?)" "got: $got"
	got=$(complete_line "tessera --db $T/comp.db grant add ")
	check "completion: client names from the --db on the line" \
	    "$([ "$got" = "alpha-svc beta-svc " ]; echo $?)" "got: $got"
	(cd "$T" && complete_line "tessera client show " >/dev/null)
	check "completion: no database made by pressing TAB" \
	    "$([ ! -e "$T/tessera.db" ]; echo $?)"
fi

finish
