#!/bin/sh
# Creates or upgrades Temporal's schemas in PostgreSQL; safe to run on every `docker-compose up`.
# Runs as Temporal's own role (not the superuser): deploy/postgres/init-aftercare.sh created the
# role and its databases, temporal and temporal_visibility.
set -eu
tool="temporal-sql-tool --plugin postgres12 --ep postgresql -u ${POSTGRES_USER} -p 5432"
schema=/etc/temporal/schema/postgresql/v12
for db in temporal temporal_visibility; do
  case "$db" in temporal) dir="$schema/temporal/versioned" ;; *) dir="$schema/visibility/versioned" ;; esac
  $tool --db "$db" setup-schema -v 0.0 || true
  $tool --db "$db" update-schema -d "$dir"
done
