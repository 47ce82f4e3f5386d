#!/bin/sh
# First start: create the node from the MAILLAGE_* environment (base URL, name, database),
# then run the given command (by default `maillage serve`).
set -e
if [ ! -f "$MAILLAGE_DATA/maillage.toml" ] && [ -n "$MAILLAGE_BASE_URL" ]; then
    maillage init
fi
exec "$@"
