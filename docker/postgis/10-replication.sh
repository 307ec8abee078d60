#!/bin/bash
# First start of the postgis service: let the `postgis-replica` service stream from it (docker-compose.yml).
# The official image allows every database to every host, but `all` does not cover replication connections.
set -e
echo "host replication all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
