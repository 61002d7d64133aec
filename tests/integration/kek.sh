#!/usr/bin/env bash
# kek.sh: tessera kek generate FILE writes 32 random bytes, mode 0600,
# whatever the umask; never overwrites; errors exit 1 with one
# "tessera: ..." line, usage errors exit 2.
. "$(dirname "$0")/lib.sh"

D=$T/kek
mkdir -p "$D"

ok "kek generate writes a new file" "$TSR_BIN" kek generate "$D/a"
like "it says which file it wrote" "$OUT" "key-encryption key $D/a"
is "the file is mode 0600" "$(file_mode "$D/a")" 600
is "the file is 32 bytes" "$(stat -c %s "$D/a")" 32
is "no key bytes on stdout" "$(grep -c "$(base64 -w0 <"$D/a")" "$T/out")" 0

(umask 000 && "$TSR_BIN" kek generate "$D/loose-umask") >/dev/null 2>&1
is "umask 000 still gives mode 0600" "$(file_mode "$D/loose-umask")" 600

ok "kek generate --json" "$TSR_BIN" --json kek generate "$D/b"
is "--json names the file" "$(json "d['kek']" <"$T/out")" "$D/b"
isnt "two keys differ" "$(file_checksum "$D/a")" "$(file_checksum "$D/b")"

sum=$(file_checksum "$D/a")
errors "kek generate refuses an existing file" "$TSR_BIN" kek generate "$D/a"
like "the error says it exists" "$ERR" "^tessera: .*$D/a already exists"
is "the existing key is unchanged" "$(file_checksum "$D/a")" "$sum"
is "the existing key keeps mode 0600" "$(file_mode "$D/a")" 600

ln -s "$D/nowhere" "$D/link"
errors "kek generate refuses a dangling symlink" \
    "$TSR_BIN" kek generate "$D/link"
ok "nothing was written through the symlink" test ! -e "$D/nowhere"

errors "kek generate into a missing directory" \
    "$TSR_BIN" kek generate "$D/nodir/k"
errors "kek generate of a directory path" "$TSR_BIN" kek generate "$D/"
is "no temp file is left behind" \
    "$(find "$D" -name '.*.tmp' | wc -l)" 0

usage_error "kek generate without FILE" "$TSR_BIN" kek generate
usage_error "kek generate with two files" \
    "$TSR_BIN" kek generate "$D/x" "$D/y"
ok "nothing was written on a usage error" test ! -e "$D/x"
usage_error "kek without a subcommand" "$TSR_BIN" kek
usage_error "kek with an unknown subcommand" "$TSR_BIN" kek rotate "$D/x"

done_testing
