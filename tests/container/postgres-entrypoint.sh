#!/bin/sh
# The stand-in PostgreSQL's start (see stand-ins.Dockerfile): on an empty volume, create the cluster
# with POSTGRES_USER (password POSTGRES_PASSWORD, required from other hosts) and POSTGRES_DB, as the
# official image does; then run the server on all of the container's addresses.
set -eu
user=${POSTGRES_USER:-postgres}
db=${POSTGRES_DB:-$user}
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  : "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}"
  pwfile=$(mktemp)
  printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
  initdb --pgdata="$PGDATA" --username="$user" --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 \
    --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  rm -f "$pwfile"
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  # Set up without listening where pg_isready or a client would find it: not healthy before it is ready.
  pg_ctl --pgdata="$PGDATA" --wait --silent -o "-c listen_addresses='' -k /tmp" start
  if [ "$db" != postgres ]; then
    createdb --host=/tmp --username="$user" "$db"
  fi
  pg_ctl --pgdata="$PGDATA" --wait --silent --mode=fast stop
  echo "postgres-entrypoint: initialised $PGDATA (user $user, database $db)"
fi
exec postgres -D "$PGDATA" -c listen_addresses='*'
