#!/usr/bin/env bash
# Starts the machine's PostgreSQL cluster for the PostgreSQL tests when it is installed but not running,
# and makes sure the test role exists. Without PostgreSQL those tests are skipped with a reason.
set -uo pipefail
ROLE=kapconsole_test
command -v pg_lsclusters >/dev/null 2>&1 || { echo "PostgreSQL is not installed: its tests will be skipped"; exit 0; }
if [ "$(id -u)" -ne 0 ]; then
  echo "not root: PostgreSQL is used only if it is already running and KAPCONSOLE_TEST_PG points at it"
  exit 0
fi
cluster=$(pg_lsclusters --no-header | head -n 1)
[ -n "$cluster" ] || { echo "no PostgreSQL cluster: its tests will be skipped"; exit 0; }
read -r version name _port status _rest <<<"$cluster"
if [ "$status" != "online" ]; then
  pg_ctlcluster "$version" "$name" start || { echo "could not start PostgreSQL $version/$name"; exit 0; }
fi
for _ in $(seq 1 30); do
  su postgres -c "psql -qAtc 'select 1'" >/dev/null 2>&1 && break
  sleep 0.5
done
su postgres -c "psql -qAtc \"select 1 from pg_roles where rolname='$ROLE'\"" | grep -q 1 ||
  su postgres -c "psql -qc \"create role $ROLE login createdb password '$ROLE'\"" >/dev/null
# Dropping a test database WITH (FORCE) must be able to end an autovacuum worker that is visiting it.
su postgres -c "psql -qc 'grant pg_signal_backend to $ROLE'" >/dev/null
