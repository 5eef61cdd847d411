#!/bin/sh
# One shot (temporalio/admin-tools): create or upgrade Temporal's schemas in the databases
# deploy/postgres/init-roles.sh made for the `temporal` role. Safe to run again: setup-schema
# leaves an existing schema alone and update-schema applies only the versions not yet applied,
# so pinning a newer server image and running this again upgrades the schema first.
set -eu
SQL_PASSWORD="$(cat "${SECRETS_DIR:-/run/secrets}/temporal_db_password")"
export SQL_PASSWORD
schemas=/etc/temporal/schema/postgresql/v12
for database in temporal temporal_visibility; do
    kind=temporal
    [ "$database" = temporal_visibility ] && kind=visibility
    set -- --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "${DB_PORT:-5432}" -u temporal --db "$database"
    temporal-sql-tool "$@" setup-schema -v 0.0
    temporal-sql-tool "$@" update-schema -d "$schemas/$kind/versioned"
done
echo "Temporal schemas are up to date"
