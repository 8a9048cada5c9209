#!/usr/bin/env bash
# Fetches the jars the project runs on from Maven Central into .cache/jars (ignored by git):
#   .cache/jars/flink/  the Flink Kafka connector (fat jar)
#   .cache/jars/kafka/  a Kafka 4.x broker's runtime classpath (KRaft, single node)
# Needs Maven (mvn) and Java 17. A second run finds everything cached and does nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
CONNECTOR=org.apache.flink:flink-sql-connector-kafka:5.0.0-2.2
FLINK_DIR=.cache/jars/flink
KAFKA_DIR=.cache/jars/kafka
command -v mvn >/dev/null || { echo "fetch_jars: Maven (mvn) is needed: apt-get install maven" >&2; exit 1; }
command -v java >/dev/null || { echo "fetch_jars: Java 17 is needed: apt-get install openjdk-17-jre-headless" >&2; exit 1; }
if [ ! -f "$FLINK_DIR/flink-sql-connector-kafka-5.0.0-2.2.jar" ]; then
  echo "fetch_jars: $CONNECTOR -> $FLINK_DIR"
  mvn -q -B dependency:copy -Dartifact="$CONNECTOR" -DoutputDirectory="$FLINK_DIR"
fi
if [ ! -f "$KAFKA_DIR/.complete" ]; then
  echo "fetch_jars: Kafka broker classpath (deploy/kafka/pom.xml) -> $KAFKA_DIR"
  rm -rf "$KAFKA_DIR"
  mvn -q -B -f deploy/kafka/pom.xml dependency:copy-dependencies -DincludeScope=runtime \
      -DoutputDirectory="$PWD/$KAFKA_DIR"
  touch "$KAFKA_DIR/.complete"
fi
