#!/usr/bin/env bash
# version.sh: one version.  meson.build defines it (TSR_VERSION, set by
# meson for this test); tessera --version prints it, exit 0, and the
# newest debian/changelog entry carries it as its upstream version.
. "$(dirname "$0")/lib.sh"

: "${TSR_VERSION:?meson sets TSR_VERSION}"
ok "tessera --version exits 0" "$TSR_BIN" --version
is "tessera --version prints the meson project version" "$OUT" \
    "tessera $TSR_VERSION"
is "--version writes nothing on stderr" "$ERR" ""
# "tessera (0.1.0) unstable; ..." or "tessera (1:0.1.0-2) ...": the part
# between an epoch and a Debian revision.
deb=$(sed -n '1s/^[^ ]* (\([^)]*\)).*/\1/p' "$TSR_SRCDIR/debian/changelog")
deb=${deb#*:}
is "debian/changelog's newest entry is the same version" "${deb%-*}" \
    "$TSR_VERSION"
run "$TSR_BIN" --help
like "--help names --version" "$OUT" '--version'
done_testing
