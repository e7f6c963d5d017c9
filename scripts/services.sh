#!/usr/bin/env bash
# Starts, stops and reports the real services Larder's integration tests and the
# `--services` demo use: Redis (Debian's redis-server) on 127.0.0.1:6379 and Apache Kafka 3.9
# (single-node KRaft, Java 17, jars from Maven Central) on 127.0.0.1:9092, and Debian's
# chromium (/usr/bin/chromium) for the dashboard's browser test, and podman, runc and debootstrap
# for the container image's test (test/ops/container.services.test.ts).
# Idempotent: a service that already answers is reused. Logs and data live in .cache/.
#   bash scripts/services.sh up|down|status
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CACHE="$ROOT/.cache"
REDIS_PORT="${LARDER_REDIS_PORT:-6379}"
KAFKA_PORT="${LARDER_KAFKA_PORT:-9092}"
KAFKA_CTRL_PORT="${LARDER_KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_HOME="$CACHE/kafka"
mkdir -p "$CACHE"

log() { echo "[services] $*" >&2; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

redis_ping() { [ "$(redis-cli -p "$REDIS_PORT" ping 2>/dev/null)" = "PONG" ]; }

ensure_redis_installed() {
  if command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1; then return; fi
  if [ "$(id -u)" != "0" ]; then
    log "redis-server is not installed; install Debian's redis-server package (apt-get install redis-server)"; exit 1
  fi
  log "installing redis-server with apt-get"
  (apt-get install -y -q redis-server >/dev/null 2>&1) || (apt-get update -q >/dev/null && apt-get install -y -q redis-server >/dev/null)
}

redis_up() {
  ensure_redis_installed
  if redis_ping; then log "redis: already answering on 127.0.0.1:$REDIS_PORT"; return; fi
  mkdir -p "$CACHE/redis"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --save "" --appendonly no \
    --dir "$CACHE/redis" --logfile "$CACHE/redis/redis.log" --pidfile "$CACHE/redis/redis.pid" >/dev/null
  for _ in $(seq 1 100); do redis_ping && { log "redis: up on 127.0.0.1:$REDIS_PORT"; return; }; sleep 0.1; done
  log "redis: did not answer within 10s; see $CACHE/redis/redis.log"; exit 1
}

# The dashboard test (test/ui/dashboard.services.test.ts) drives Debian's headless chromium.
chromium_up() {
  if [ -x /usr/bin/chromium ]; then log "chromium: /usr/bin/chromium"; return; fi
  if [ "$(id -u)" != "0" ]; then
    log "chromium is not installed; install Debian's chromium package (apt-get install chromium)"; exit 1
  fi
  log "installing chromium with apt-get"
  (apt-get install -y -q chromium >/dev/null 2>&1) || (apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null)
}

# The container test builds the Dockerfile with Debian's podman (runc as its runtime: crun
# refuses this machine's hybrid cgroups) on a base image built by debootstrap.
container_tools_up() {
  if command -v podman >/dev/null && command -v runc >/dev/null && command -v debootstrap >/dev/null; then
    log "container tools: podman, runc, debootstrap"; return
  fi
  if [ "$(id -u)" != "0" ]; then
    log "podman/runc/debootstrap are not installed; install Debian's podman, runc and debootstrap packages"; exit 1
  fi
  log "installing podman, runc and debootstrap with apt-get"
  (apt-get install -y -q podman runc debootstrap >/dev/null 2>&1) ||
    (apt-get update -q >/dev/null && apt-get install -y -q podman runc debootstrap >/dev/null)
}

kafka_fetch() {
  if [ -f "$KAFKA_HOME/libs/.complete" ]; then return; fi
  command -v java >/dev/null || { log "java (17) is required for Kafka"; exit 1; }
  command -v mvn >/dev/null || { log "maven (mvn) is required to fetch Kafka's jars"; exit 1; }
  log "fetching Kafka 3.9 jars from Maven Central into $KAFKA_HOME/libs"
  mvn -q -B -f scripts/kafka/pom.xml dependency:copy-dependencies \
    -DoutputDirectory="$KAFKA_HOME/libs" -DincludeScope=runtime >&2
  touch "$KAFKA_HOME/libs/.complete"
}

kafka_ready() {
  port_open "$KAFKA_PORT" || return 1
  # A metadata request proves the broker is serving, not just listening.
  node -e "
    const { Kafka, logLevel } = require('kafkajs');
    const a = new Kafka({ brokers: ['127.0.0.1:$KAFKA_PORT'], logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin();
    a.connect().then(() => a.describeCluster()).then(() => process.exit(0), () => process.exit(1));
    setTimeout(() => process.exit(1), 4000);
  " 2>/dev/null
}

kafka_up() {
  if kafka_ready; then log "kafka: already answering on 127.0.0.1:$KAFKA_PORT"; return; fi
  kafka_fetch
  local cfg="$KAFKA_HOME/server.properties" data="$KAFKA_HOME/data"
  mkdir -p "$data"
  cat >"$cfg" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CTRL_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CTRL_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$data
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
# Kafka's default minimum is 6 s: the workers that crash.kafka.test.ts and the fuzzers' stream
# path kill -9 would hold their partitions 6 s; they read this value and take 3 s.
group.min.session.timeout.ms=1000
auto.create.topics.enable=true
log.retention.hours=24
PROPS
  cat >"$KAFKA_HOME/log4j.properties" <<PROPS
log4j.rootLogger=WARN, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=$KAFKA_HOME/server.log
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka=INFO
PROPS
  local cp="$KAFKA_HOME/libs/*"
  local jopts=(-Xms256m -Xmx768m -XX:+UseG1GC -Djava.awt.headless=true "-Dlog4j.configuration=file:$KAFKA_HOME/log4j.properties")
  if [ ! -f "$data/meta.properties" ]; then
    java "${jopts[@]}" -cp "$cp" kafka.tools.StorageTool format -t "larder-$(hostname)-kraft1" -c "$cfg" --ignore-formatted >"$KAFKA_HOME/format.log" 2>&1 \
      || { log "kafka: storage format failed; see $KAFKA_HOME/format.log"; exit 1; }
  fi
  nohup java "${jopts[@]}" -cp "$cp" kafka.Kafka "$cfg" >"$KAFKA_HOME/stdout.log" 2>&1 &
  echo $! >"$KAFKA_HOME/kafka.pid"
  for _ in $(seq 1 120); do
    if kafka_ready; then log "kafka: up on 127.0.0.1:$KAFKA_PORT"; return; fi
    kill -0 "$(cat "$KAFKA_HOME/kafka.pid")" 2>/dev/null || { log "kafka: exited; see $KAFKA_HOME/stdout.log and server.log"; tail -20 "$KAFKA_HOME/stdout.log" >&2; exit 1; }
    sleep 0.5
  done
  log "kafka: not ready within 60s; see $KAFKA_HOME/server.log"; exit 1
}

down() {
  if [ -f "$KAFKA_HOME/kafka.pid" ] && kill -0 "$(cat "$KAFKA_HOME/kafka.pid")" 2>/dev/null; then
    kill "$(cat "$KAFKA_HOME/kafka.pid")"; log "kafka: stopping"
    for _ in $(seq 1 60); do kill -0 "$(cat "$KAFKA_HOME/kafka.pid")" 2>/dev/null || break; sleep 0.5; done
  fi
  rm -f "$KAFKA_HOME/kafka.pid"
  if [ -f "$CACHE/redis/redis.pid" ] && kill -0 "$(cat "$CACHE/redis/redis.pid")" 2>/dev/null; then
    kill "$(cat "$CACHE/redis/redis.pid")"; log "redis: stopped"
  fi
}

status() {
  if redis_ping; then echo "redis  up    127.0.0.1:$REDIS_PORT"; else echo "redis  down  127.0.0.1:$REDIS_PORT"; fi
  if kafka_ready; then echo "kafka  up    127.0.0.1:$KAFKA_PORT"; else echo "kafka  down  127.0.0.1:$KAFKA_PORT"; fi
}

# The local BigQuery emulator (bqemulator from PyPI, pinned): installed once; the emulator test
# starts it on a free port itself.
bqemu_up() {
  if [ -x .cache/py/bqemu/bin/bqemulator ]; then return; fi
  log "installing the BigQuery emulator (bqemulator) into .cache/py/bqemu"
  bash scripts/bqemu.sh install >&2 || log "bqemulator could not be installed; its test will say so"
}

case "${1:-}" in
  up) redis_up; kafka_up; chromium_up; container_tools_up; bqemu_up ;;
  down) down ;;
  status) status ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
