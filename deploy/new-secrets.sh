#!/bin/sh
# Writes the compose deployment's secrets into ./secrets next to docker-compose.yml (or the
# folder given): random database passwords and a payload encryption key. Never overwrites one
# that exists: losing the payload key makes every case history unreadable. Back the folder up
# like the database.
set -eu
folder="${1:-$(dirname "$0")/../secrets}"
umask 077
mkdir -p "$folder"
for name in postgres_password temporal_db_password denials_owner_db_password \
    denials_app_db_password payload_keys; do
    file="$folder/$name"
    if [ -e "$file" ]; then
        echo "kept    $file"
        continue
    fi
    if [ "$name" = payload_keys ]; then
        printf 'k1:%s\n' "$(openssl rand -base64 32)" >"$file"
    else
        openssl rand -hex 24 >"$file"
    fi
    # Compose mounts these files as they are: the containers' own users (postgres, temporal,
    # nobody) must read them; the folder, 0700, keeps other users of this host out.
    chmod 0644 "$file"
    echo "created $file"
done
chmod 0700 "$folder"
