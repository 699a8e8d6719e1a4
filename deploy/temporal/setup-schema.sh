#!/bin/sh
# Creates or upgrades Temporal's schemas in PostgreSQL; safe to run on every `docker-compose up`.
# Runs as Temporal's own role (not the superuser): deploy/postgres/init-aftercare.sh created the
# role and its databases, temporal and temporal_visibility. The same steps run for `npm run cluster`
# (dev/temporal-cluster.ts), which names its own tool, schema folder, host and port; the defaults
# are the admin-tools image's and the compose file's.
set -eu
tool="${TEMPORAL_SQL_TOOL:-temporal-sql-tool} --plugin postgres12 --ep ${POSTGRES_SEEDS:-postgresql}"
tool="$tool -u ${POSTGRES_USER} -p ${DB_PORT:-5432}"
schema="${TEMPORAL_SCHEMA_DIR:-/etc/temporal/schema}/postgresql/v12"
for db in temporal temporal_visibility; do
  case "$db" in temporal) dir="$schema/temporal/versioned" ;; *) dir="$schema/visibility/versioned" ;; esac
  $tool --db "$db" setup-schema -v 0.0 || true
  $tool --db "$db" update-schema -d "$dir"
done
