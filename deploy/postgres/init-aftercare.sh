#!/bin/sh
# Runs once, when the PostgreSQL volume is first created, as the superuser: a role and databases for
# Temporal (temporal, temporal_visibility; the temporal-schema job fills them) and for Aftercare.
# Neither role is a superuser or may create databases or roles. The passwords reach the SQL as psql
# variables (:'name' quotes them as literals), never pasted into the SQL text.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v temporal_password="$TEMPORAL_DB_PASSWORD" \
  -v aftercare_password="$AFTERCARE_DB_PASSWORD" <<'SQL'
CREATE ROLE temporal LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'temporal_password';
CREATE DATABASE temporal OWNER temporal;
CREATE DATABASE temporal_visibility OWNER temporal;
CREATE ROLE aftercare LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'aftercare_password';
CREATE DATABASE aftercare OWNER aftercare;
-- Temporal's visibility schema creates this extension; doing it here needs no privilege from Temporal.
\connect temporal_visibility
CREATE EXTENSION IF NOT EXISTS btree_gin;
SQL
