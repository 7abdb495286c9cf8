#!/usr/bin/env bash
# Gives the test suite empty test databases: drops and re-creates eventstore_test on
# PostgreSQL and MariaDB, and drops the test keyspaces on Cassandra. The machine that runs CI
# may keep databases from earlier runs, whose tables an older version of the code created.
# Only the *test* databases are touched; bench databases and users' data are left alone.
set -euo pipefail
cd "$(dirname "$0")/../.."

runuser -u postgres -- sh -c 'cd / && psql -X -q -v ON_ERROR_STOP=1 -d postgres' <<'SQL'
DROP DATABASE IF EXISTS eventstore_test WITH (FORCE);
CREATE DATABASE eventstore_test OWNER eventstore ENCODING 'UTF8' TEMPLATE template0;
SQL
echo "reset: PostgreSQL eventstore_test re-created"

mariadb --protocol=socket -uroot --batch <<'SQL'
DROP DATABASE IF EXISTS eventstore_test;
CREATE DATABASE eventstore_test CHARACTER SET utf8mb4;
GRANT ALL PRIVILEGES ON eventstore_test.* TO 'eventstore'@'127.0.0.1';
GRANT ALL PRIVILEGES ON eventstore_test.* TO 'eventstore'@'localhost';
SQL
echo "reset: MariaDB eventstore_test re-created"

.venv/bin/python - <<'PY'
from cassandra.cluster import Cluster

cluster = Cluster(["127.0.0.1"], port=9042, connect_timeout=20)
session = cluster.connect()
names = [row.keyspace_name for row in session.execute(
    "SELECT keyspace_name FROM system_schema.keyspaces")]
for name in names:
    if name.startswith("eventstore_tests"):
        session.execute(f"DROP KEYSPACE IF EXISTS {name}", timeout=60)
        print(f"reset: Cassandra keyspace {name} dropped")
cluster.shutdown()
PY
