#!/bin/sh
# Runs once, when the PostgreSQL volume is first created: Aftercare's own role and database beside
# Temporal's (temporal, temporal_visibility), which the temporal-schema job creates.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres <<SQL
CREATE ROLE aftercare LOGIN PASSWORD '${AFTERCARE_DB_PASSWORD}';
CREATE DATABASE aftercare OWNER aftercare;
SQL
