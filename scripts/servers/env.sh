# Connection settings for the servers that postgres.sh and mariadb.sh prepare.
#   . scripts/servers/env.sh
# Sets each variable only when it is not already set, so a caller's own value wins.

: "${EVENTSTORE_TEST_POSTGRES_URI:=postgresql+psycopg://eventstore:eventstore@127.0.0.1:5432/eventstore_test}"
: "${EVENTSTORE_TEST_MYSQL_URI:=mysql+pymysql://eventstore:eventstore@127.0.0.1:3306/eventstore_test}"
: "${EVENTSTORE_BENCH_POSTGRES_URI:=postgresql+psycopg://eventstore:eventstore@127.0.0.1:5432/eventstore_bench}"
: "${EVENTSOURCING_BENCH_POSTGRES_DBNAME:=eventsourcing_bench}"
: "${CASSANDRA_HOSTS:=127.0.0.1}"
export EVENTSTORE_TEST_POSTGRES_URI EVENTSTORE_TEST_MYSQL_URI EVENTSTORE_BENCH_POSTGRES_URI \
  EVENTSOURCING_BENCH_POSTGRES_DBNAME CASSANDRA_HOSTS
