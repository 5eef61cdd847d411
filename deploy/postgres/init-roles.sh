#!/bin/sh
# Runs once, on the empty data volume (the postgres image's /docker-entrypoint-initdb.d), as the
# superuser. Everything else connects as a role that owns only its own databases:
#   temporal       owns temporal and temporal_visibility (no CREATEDB, no superuser)
#   denials_owner  owns the denials database: `denials migrate` runs as it
#   denials_app    the worker and the API: reads and writes rows, cannot change the schema
# Passwords come from the secret files (SECRETS_DIR), never from the environment.
set -eu
secrets="${SECRETS_DIR:-/run/secrets}"
secret() {
    value="$(cat "$secrets/$1")"
    [ -n "$value" ] || { echo "init-roles: $secrets/$1 is empty" >&2; exit 1; }
    printf '%s' "$value"
}

psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname "${POSTGRES_DB:-postgres}" \
    -v temporal_password="$(secret temporal_db_password)" \
    -v owner_password="$(secret denials_owner_db_password)" \
    -v app_password="$(secret denials_app_db_password)" <<'SQL'
CREATE ROLE temporal LOGIN PASSWORD :'temporal_password';
CREATE DATABASE temporal OWNER temporal;
CREATE DATABASE temporal_visibility OWNER temporal;
REVOKE ALL ON DATABASE temporal, temporal_visibility FROM PUBLIC;

CREATE ROLE denials_owner LOGIN PASSWORD :'owner_password';
CREATE ROLE denials_app LOGIN PASSWORD :'app_password';
CREATE DATABASE denials OWNER denials_owner;
REVOKE ALL ON DATABASE denials FROM PUBLIC;
GRANT CONNECT ON DATABASE denials TO denials_app;

\connect denials
-- The public schema belongs to the database owner (PostgreSQL 15+); nobody else creates in it.
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO denials_app;
-- Every table and sequence the migrations create: rows, not structure.
ALTER DEFAULT PRIVILEGES FOR ROLE denials_owner IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO denials_app;
ALTER DEFAULT PRIVILEGES FOR ROLE denials_owner IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO denials_app;
SQL
