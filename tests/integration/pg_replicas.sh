#!/usr/bin/env bash
# pg_bad_input.sh: placeholder, filled below
. "$(dirname "$0")/lib.sh"
done_testing
