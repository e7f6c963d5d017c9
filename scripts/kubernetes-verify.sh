#!/usr/bin/env bash
# Applies deploy/kubernetes/ to a real one-node Kubernetes cluster built and started here, checks
# what the manifests promise, and tears the cluster down again (docs/deploy.md "Verified on a real
# cluster"). Not part of `npm test`: the first run builds Kubernetes from source.
#
#   npm run verify:kubernetes          (bash scripts/kubernetes-verify.sh; as root)
#
# - Control plane: kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy and
#   kubectl built from the k8s.io/kubernetes module through the Go module proxy (its zip leaves out
#   staging/: the staging modules are replaced by their published k8s.io/* v0.<minor>.<patch>),
#   etcd, containerd, runc and the CNI plugins from Debian.
#   Binaries are cached in $LARDER_K8S_CACHE/bin-<version> (default .cache/k8s), built with
#   `nice -n 19` and GOFLAGS=-p=1.
# - The image: the Dockerfile built by podman as test/ops/container.services.test.ts does, plus a
#   layer that runs `larder apply` (docs/deploy.md: the registry is built into the image), saved
#   and imported into containerd as larder:latest; the pause image is Kubernetes' pause.c.
# - The run's own Redis and Kafka (Debian's redis-server; Kafka 3.9 from the jars
#   scripts/services.sh fetches), listening on the pods' bridge: the pods reach no other service.
# - The manifests are applied unchanged except for an overlay (kubectl kustomize) that only says
#   where this machine's services are and fits the pods on one 2-core node (see overlay()).
# Every check prints one line (`ok` or `FAIL`); everything runs under a temp dir and is removed at
# exit (processes, mounts, the bridge, iptables chains); exit status 0 only when every check passed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
K8S_VERSION="${LARDER_K8S_VERSION:-1.30.14}"
CACHE="$(mkdir -p "${LARDER_K8S_CACHE:-.cache/k8s}" && cd "${LARDER_K8S_CACHE:-.cache/k8s}" && pwd)"
BIN="$CACHE/bin-$K8S_VERSION"
GO="${GO:-$(command -v go || echo /usr/local/go/bin/go)}"
NODE_NAME=larder-verify-node
NS=larder-verify
BRIDGE=lrdverify0
POD_CIDR=10.244.0.0/24
GATEWAY=10.244.0.1
SERVICE_CIDR=10.97.0.0/24
CNI_NAME=larder-verify
BASE_IMAGE=localhost/larder-test-base:bookworm-node20
APP_IMAGE=localhost/larder:k8s-verify
PAUSE_IMAGE=localhost/larder-verify-pause:3.9

log() { echo "[kubernetes-verify] $*" >&2; }
die() { log "$*"; exit 1; }
FAILED=0
check() { # check NAME COMMAND...: one line per check
  local name=$1; shift
  if "$@"; then echo "ok    $name"; else echo "FAIL  $name"; FAILED=1; fi
}
# must NAME COMMAND...: a check the later ones need; the run stops when it fails.
must() {
  local name=$1; shift
  if "$@"; then echo "ok    $name"; else echo "FAIL  $name"; echo "stopped: the later checks need this one"; exit 1; fi
}
# until_ok SECONDS COMMAND...: retries COMMAND every 2 s until it succeeds or SECONDS pass.
until_ok() {
  local end=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do [ $SECONDS -lt "$end" ] || return 1; sleep 2; done
}
free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }

[ "$(id -u)" = 0 ] || die "run as root (it starts containerd, a kubelet and kube-proxy)"

# ---------------------------------------------------------------- tools and binaries (cached)
need_debs() {
  local missing=()
  command -v etcd >/dev/null || missing+=(etcd-server)
  command -v containerd >/dev/null || missing+=(containerd)
  command -v runc >/dev/null || missing+=(runc)
  [ -x /usr/lib/cni/bridge ] || missing+=(containernetworking-plugins)
  command -v podman >/dev/null || missing+=(podman)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
  command -v mvn >/dev/null || missing+=(maven)
  command -v gcc >/dev/null || missing+=(gcc libc6-dev)
  for t in openssl jq curl iptables conntrack; do command -v $t >/dev/null || missing+=("$t"); done
  [ ${#missing[@]} = 0 ] && return
  log "installing ${missing[*]} with apt-get"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 ||
    { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null; }
}

build_binaries() {
  local cmds=(kube-apiserver kubectl kube-controller-manager kube-scheduler kubelet kube-proxy) c todo=()
  for c in "${cmds[@]}"; do [ -x "$BIN/$c" ] || todo+=("$c"); done
  [ ${#todo[@]} = 0 ] && { log "binaries: cached in $BIN"; return; }
  [ -x "$GO" ] || die "Go is needed to build Kubernetes (set GO=/path/to/go)"
  local minor=${K8S_VERSION#*.}; minor=${minor%%.*}
  local src="$CACHE/src-$K8S_VERSION" m ld="-s -w" p
  mkdir -p "$src" "$BIN"
  # k8s.io/kubernetes' own go.mod replaces these with ./staging/src/k8s.io/*, which its module zip
  # does not hold: use the published modules of the same release (v1.30.14 <-> v0.30.14).
  {
    printf 'module larder.local/kubernetes-build\n\ngo 1.22.0\n\nrequire k8s.io/kubernetes v%s\n\nreplace (\n' "$K8S_VERSION"
    for m in api apiextensions-apiserver apimachinery apiserver cli-runtime client-go cloud-provider \
      cluster-bootstrap code-generator component-base component-helpers controller-manager cri-api \
      csi-translation-lib dynamic-resource-allocation endpointslice kms kube-aggregator \
      kube-controller-manager kube-proxy kube-scheduler kubectl kubelet legacy-cloud-providers metrics mount-utils \
      pod-security-admission sample-apiserver sample-cli-plugin sample-controller; do
      printf '\tk8s.io/%s => k8s.io/%s v0.%s\n' "$m" "$m" "${K8S_VERSION#1.}"
    done
    printf ')\n'
  } >"$src/go.mod"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld="$ld -X $p.gitVersion=v$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
  done
  # One binary at a time, so that an interrupted build resumes (Go's build cache keeps the rest).
  for c in "${cmds[@]}"; do
    [ -x "$BIN/$c" ] && continue
    log "building $c v$K8S_VERSION into $BIN (nice -n 19, GOFLAGS=-p=1; the first build takes about an hour on 2 busy cores)"
    (cd "$src" && GOTOOLCHAIN=local GOFLAGS="-mod=mod -p=1" CGO_ENABLED=0 nice -n 19 "$GO" build -trimpath \
      -ldflags "$ld" -o "$BIN/$c.tmp" "k8s.io/kubernetes/cmd/$c") >>"$CACHE/build.log" 2>&1 ||
      { tail -30 "$CACHE/build.log" >&2; die "building $c failed; see $CACHE/build.log"; }
    mv "$BIN/$c.tmp" "$BIN/$c"
  done
}

# ---------------------------------------------------------------- images (podman, then containerd)
build_images() {
  bash scripts/container-base.sh "$BASE_IMAGE"
  if ! podman image exists "$PAUSE_IMAGE"; then
    # registry.k8s.io is not reachable: Kubernetes' own pause.c (from the module) as the sandbox image.
    local src="$(GOTOOLCHAIN=local GOFLAGS=-mod=mod "$GO" env GOMODCACHE)/k8s.io/kubernetes@v$K8S_VERSION/build/pause/linux/pause.c"
    local d; d=$(mktemp -d); mkdir -p "$d/root"
    gcc -Os -static -DVERSION="v3.9-larder" -o "$d/root/pause" "$src"
    tar -C "$d/root" -c pause | podman import --change 'ENTRYPOINT ["/pause"]' - "$PAUSE_IMAGE" >/dev/null
    rm -rf "$d"
  fi
  # The container test's build: this checkout's better-sqlite3 binary as a local prebuild and the
  # host's npm cache (no GitHub, registry through the proxy).
  local ver prebuilds=deploy/container/prebuilds tarball
  ver=$(node -p "require('./node_modules/better-sqlite3/package.json').version")
  tarball="$ROOT/$prebuilds/better-sqlite3-v$ver-node-v$(node -p process.versions.modules)-linux-x64.tar.gz"
  mkdir -p "$prebuilds"
  [ -f "$tarball" ] || tar -C node_modules/better-sqlite3 -czf "$tarball" build/Release/better_sqlite3.node
  log "podman build $APP_IMAGE (the Dockerfile on $BASE_IMAGE)"
  podman build --runtime runc --ulimit nofile=4096:4096 --ulimit nproc=4096:4096 --network host \
    --format docker --build-arg "BASE=$BASE_IMAGE" --build-arg npm_config_cache=/npm-cache \
    --build-arg npm_config_prefer_offline=true --volume "$(npm config get cache):/npm-cache" \
    -t "$APP_IMAGE-base" . >"$CACHE/podman-build.log" 2>&1 || { tail -20 "$CACHE/podman-build.log" >&2; die "podman build failed"; }
  # docs/deploy.md: the registry is built into the image with `larder apply` (the ConfigMap's
  # LARDER_HOME=/app/.larder).
  local ctx; ctx=$(mktemp -d)
  printf 'FROM %s\nUSER root\nRUN LARDER_HOME=/app/.larder node bin/larder.js apply && chmod -R a+rX /app/.larder\nUSER larder\n' \
    "$APP_IMAGE-base" >"$ctx/Containerfile"
  podman build --runtime runc --ulimit nofile=4096:4096 --ulimit nproc=4096:4096 --network host \
    --format docker -t "$APP_IMAGE" "$ctx" >>"$CACHE/podman-build.log" 2>&1 ||
    { rm -rf "$ctx"; tail -20 "$CACHE/podman-build.log" >&2; die "podman build (larder apply layer) failed"; }
  rm -rf "$ctx"
}

# ---------------------------------------------------------------- the cluster, under $RUN
RUN=""
PIDS=()
start() { # start NAME COMMAND...: in the background, output in $RUN/log/NAME.log
  local name=$1; shift
  "$@" >"$RUN/log/$name.log" 2>&1 &
  PIDS+=($!)
  echo $! >"$RUN/$name.pid"
}
kubectl() { "$BIN/kubectl" --kubeconfig "$RUN/admin.kubeconfig" "$@"; }
ctr() { command ctr --address "$RUN/containerd/containerd.sock" --namespace k8s.io "$@"; }

kubeconfig() { # kubeconfig FILE TOKEN
  cat >"$1" <<YAML
apiVersion: v1
kind: Config
clusters: [{name: verify, cluster: {server: "https://127.0.0.1:$API_PORT", certificate-authority: "$RUN/pki/ca.crt"}}]
users: [{name: verify, user: {token: "$2"}}]
contexts: [{name: verify, context: {cluster: verify, user: verify}}]
current-context: verify
YAML
}

pki() {
  local p=$RUN/pki; mkdir -p "$p"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$p/ca.key" -out "$p/ca.crt" -days 2 -subj /CN=larder-verify-ca 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -keyout "$p/apiserver.key" -out "$p/apiserver.csr" -subj /CN=kube-apiserver 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,IP:%s,IP:%s,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc\n' \
    "${SERVICE_CIDR%.0/24}.1" "$HOST_IP" >"$p/san.ext"
  openssl x509 -req -in "$p/apiserver.csr" -CA "$p/ca.crt" -CAkey "$p/ca.key" -CAcreateserial -days 2 \
    -extfile "$p/san.ext" -out "$p/apiserver.crt" 2>/dev/null
  openssl genrsa -out "$p/sa.key" 2048 2>/dev/null
  openssl rsa -in "$p/sa.key" -pubout -out "$p/sa.pub" 2>/dev/null
  # Static tokens: each component authenticates as the user kubeadm gives it (RBAC's bootstrap
  # roles; the kubelet as system:node:<name> for the Node authorizer and NodeRestriction).
  local admin kcm sched kubelet proxy
  admin=$(openssl rand -hex 16); kcm=$(openssl rand -hex 16); sched=$(openssl rand -hex 16)
  kubelet=$(openssl rand -hex 16); proxy=$(openssl rand -hex 16)
  cat >"$p/tokens.csv" <<CSV
$admin,admin,admin,system:masters
$kcm,system:kube-controller-manager,kcm
$sched,system:kube-scheduler,sched
$kubelet,system:node:$NODE_NAME,kubelet,system:nodes
$proxy,system:kube-proxy,proxy
CSV
  kubeconfig "$RUN/admin.kubeconfig" "$admin"
  kubeconfig "$RUN/kcm.kubeconfig" "$kcm"
  kubeconfig "$RUN/sched.kubeconfig" "$sched"
  kubeconfig "$RUN/kubelet.kubeconfig" "$kubelet"
  kubeconfig "$RUN/proxy.kubeconfig" "$proxy"
}

control_plane() {
  ETCD_PORT=$(free_port); ETCD_PEER=$(free_port); API_PORT=$(free_port)
  pki
  start etcd etcd --name verify --data-dir "$RUN/etcd" --listen-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" --listen-peer-urls "http://127.0.0.1:$ETCD_PEER" \
    --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER" --initial-cluster "verify=http://127.0.0.1:$ETCD_PEER"
  start kube-apiserver "$BIN/kube-apiserver" --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
    --bind-address 127.0.0.1 --advertise-address "$HOST_IP" --secure-port "$API_PORT" --cert-dir "$RUN/pki" \
    --tls-cert-file "$RUN/pki/apiserver.crt" --tls-private-key-file "$RUN/pki/apiserver.key" \
    --client-ca-file "$RUN/pki/ca.crt" --token-auth-file "$RUN/pki/tokens.csv" \
    --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction \
    --service-cluster-ip-range "$SERVICE_CIDR" --service-account-issuer https://kubernetes.default.svc \
    --service-account-key-file "$RUN/pki/sa.pub" --service-account-signing-key-file "$RUN/pki/sa.key" \
    --profiling=false
  until_ok 120 kubectl get --raw /readyz || { tail -20 "$RUN/log/kube-apiserver.log" >&2; return 1; }
  start kube-controller-manager "$BIN/kube-controller-manager" --kubeconfig "$RUN/kcm.kubeconfig" \
    --authentication-kubeconfig "$RUN/kcm.kubeconfig" --authorization-kubeconfig "$RUN/kcm.kubeconfig" \
    --secure-port 0 --leader-elect=false --use-service-account-credentials \
    --service-account-private-key-file "$RUN/pki/sa.key" --root-ca-file "$RUN/pki/ca.crt"
  start kube-scheduler "$BIN/kube-scheduler" --kubeconfig "$RUN/sched.kubeconfig" \
    --authentication-kubeconfig "$RUN/sched.kubeconfig" --authorization-kubeconfig "$RUN/sched.kubeconfig" \
    --secure-port 0 --leader-elect=false
  # The controller-manager runs when its service account controller has made `default`.
  until_ok 120 kubectl -n default get serviceaccount default ||
    { tail -20 "$RUN/log/kube-controller-manager.log" >&2; return 1; }
  kill -0 "$(cat "$RUN/kube-scheduler.pid")" || { tail -20 "$RUN/log/kube-scheduler.log" >&2; return 1; }
}

node_up() {
  mkdir -p "$RUN/containerd" "$RUN/cni" "$RUN/kubelet" "$RUN/pod-logs"
  # The pods' bridge exists before the first pod so the cluster's own Redis can listen on it.
  ip link show "$BRIDGE" >/dev/null 2>&1 || ip link add "$BRIDGE" type bridge || return 1
  ip addr replace "$GATEWAY/24" dev "$BRIDGE" && ip link set "$BRIDGE" up || return 1
  cat >"$RUN/cni/10-$CNI_NAME.conflist" <<JSON
{"cniVersion": "0.4.0", "name": "$CNI_NAME", "plugins": [
  {"type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "ipMasq": true, "hairpinMode": true,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "$POD_CIDR", "gateway": "$GATEWAY"}]],
            "routes": [{"dst": "0.0.0.0/0"}], "dataDir": "$RUN/cni-ipam"}}]}
JSON
  cat >"$RUN/containerd/config.toml" <<TOML
version = 2
root = "$RUN/containerd/root"
state = "$RUN/containerd/state"
[grpc]
  address = "$RUN/containerd/containerd.sock"
[plugins."io.containerd.internal.v1.opt"]
  path = "$RUN/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # This machine's root lacks CAP_SYS_RESOURCE: no oom_score_adj below its own (the pause
  # container's -998 fails runc with "can't get final child's PID from pipe: EOF").
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "$(command -v runc)"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$RUN/cni"
TOML
  start containerd containerd --config "$RUN/containerd/config.toml"
  until_ok 60 ctr version || { tail -20 "$RUN/log/containerd.log" >&2; return 1; }
  log "importing the images into containerd"
  podman save --format docker-archive -o "$RUN/larder.tar" "$APP_IMAGE" 2>/dev/null &&
    podman save --format docker-archive -o "$RUN/pause.tar" "$PAUSE_IMAGE" 2>/dev/null &&
    ctr images import "$RUN/pause.tar" >/dev/null && ctr images import "$RUN/larder.tar" >/dev/null || return 1
  rm -f "$RUN/larder.tar" "$RUN/pause.tar"
  # The manifests' image name, larder:latest, as containerd spells it.
  ctr images tag --force "$APP_IMAGE" docker.io/library/larder:latest >/dev/null || return 1
  KUBELET_PORT=$(free_port); KUBELET_HEALTHZ=$(free_port)
  cat >"$RUN/kubelet/config.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: 127.0.0.1
port: $KUBELET_PORT
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $KUBELET_HEALTHZ
authentication: {anonymous: {enabled: true}, webhook: {enabled: false}}
authorization: {mode: AlwaysAllow}
cgroupDriver: cgroupfs
cgroupsPerQOS: false
enforceNodeAllocatable: []
containerRuntimeEndpoint: unix://$RUN/containerd/containerd.sock
failSwapOn: false
podLogsDir: $RUN/pod-logs
resolvConf: /etc/resolv.conf
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%}
imageGCHighThresholdPercent: 100
YAML
  start kubelet "$BIN/kubelet" --config "$RUN/kubelet/config.yaml" --kubeconfig "$RUN/kubelet.kubeconfig" \
    --root-dir "$RUN/kubelet" --cert-dir "$RUN/kubelet/pki" --hostname-override "$NODE_NAME" --node-ip "$HOST_IP"
  start kube-proxy "$BIN/kube-proxy" --kubeconfig "$RUN/proxy.kubeconfig" --hostname-override "$NODE_NAME" \
    --proxy-mode iptables --cluster-cidr "$POD_CIDR" --conntrack-max-per-core 0 \
    --conntrack-tcp-timeout-established 0 --conntrack-tcp-timeout-close-wait 0 \
    --iptables-localhost-nodeports=false --healthz-bind-address "127.0.0.1:$(free_port)" \
    --metrics-bind-address "127.0.0.1:$(free_port)"
}

kafka_jars() {
  local libs=$ROOT/.cache/kafka/libs
  [ -f "$libs/.complete" ] && return
  log "fetching Kafka's jars (Maven Central) into $libs"
  mvn -q -B -f scripts/kafka/pom.xml dependency:copy-dependencies -DoutputDirectory="$libs" -DincludeScope=runtime >&2
  touch "$libs/.complete"
}

redis_pong() { [ "$(redis-cli -h "$GATEWAY" -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; }

services_up() { # the run's Redis and a one-node KRaft Kafka, on the bridge's address
  local k=$RUN/kafka ctrl; mkdir -p "$k/data"
  REDIS_PORT=$(free_port); KAFKA_PORT=$(free_port); ctrl=$(free_port)
  # Protected mode would refuse the pods (not loopback, no password); it listens on the bridge only.
  start redis redis-server --port "$REDIS_PORT" --bind "$GATEWAY" --protected-mode no --save "" --appendonly no
  cat >"$k/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$ctrl
listeners=PLAINTEXT://$GATEWAY:$KAFKA_PORT,CONTROLLER://127.0.0.1:$ctrl
advertised.listeners=PLAINTEXT://$GATEWAY:$KAFKA_PORT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$k/data
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
PROPS
  local jopts=(-Xms128m -Xmx512m -XX:+UseG1GC -Djava.awt.headless=true -cp "$ROOT/.cache/kafka/libs/*")
  java "${jopts[@]}" kafka.tools.StorageTool format -t "larder-verify-$RUN_ID" -c "$k/server.properties" >"$RUN/log/kafka-format.log" 2>&1
  start kafka java "${jopts[@]}" kafka.Kafka "$k/server.properties"
  KAFKA="$GATEWAY:$KAFKA_PORT"
  until_ok 120 redis_pong &&
    until_ok 180 node -e "
      const { Kafka, logLevel } = require('kafkajs');
      const a = new Kafka({ brokers: ['$KAFKA'], logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin();
      a.connect().then(() => a.describeCluster()).then(() => process.exit(0), () => process.exit(1));
      setTimeout(() => process.exit(1), 4000);" &&
    # The repository's topics, created as an operator would before starting stream workers (a
    # broker this new can still answer "does not host this topic-partition": retried).
    until_ok 90 topics_apply
}
topics_apply() { LARDER_HOME="$RUN/home" KAFKA_BROKERS="$KAFKA" node bin/larder.js topics apply >>"$RUN/log/topics.log" 2>&1; }

# The overlay: the shipped manifests as they are, plus only what this one-node cluster needs.
# - ConfigMap: the online store and Kafka are the run's own (services_up), a key namespace of its
#   own; the offline store is the embedded DuckDB one on the pods' /tmp (BigQuery is unreachable,
#   and the scheduler's `apply` init container runs the batch views' queries on it).
# - imagePullPolicy IfNotPresent: the image was imported into containerd, no registry is reachable
#   (`larder:latest` defaults to Always).
# - CPU requests 100m (the manifests ask 2 + 1 + 1 CPUs per pod; the node has 2), one stream and
#   one scheduler replica (two serve replicas, as shipped, behind the Service and the PDB).
# - A hostPath PersistentVolume for the scheduler's ReadWriteMany claim (no provisioner here).
overlay() {
  local o=$RUN/overlay; mkdir -p "$o" "$RUN/scheduler-home"
  chown 10001:10001 "$RUN/scheduler-home"
  cp deploy/kubernetes/*.yaml "$o/"
  cat >"$o/cluster.yaml" <<YAML
apiVersion: v1
kind: Namespace
metadata: {name: $NS}
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: larder-verify-scheduler-home}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteMany]
  persistentVolumeReclaimPolicy: Retain
  hostPath: {path: "$RUN/scheduler-home", type: Directory}
YAML
  cat >"$o/kustomization.yaml" <<YAML
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: $NS
resources: [cluster.yaml, $(cd deploy/kubernetes && ls *.yaml | paste -sd, | sed 's/,/, /g')]
patches:
  - target: {kind: ConfigMap, name: larder-config}
    patch: |-
      - {op: replace, path: /data/LARDER_ONLINE_STORE, value: "redis://$GATEWAY:$REDIS_PORT"}
      - {op: replace, path: /data/KAFKA_BROKERS, value: "$KAFKA"}
      - {op: replace, path: /data/LARDER_NAMESPACE, value: "k8s-verify-$RUN_ID"}
      - {op: replace, path: /data/LARDER_OFFLINE_STORE, value: duckdb}
      - {op: add, path: /data/LARDER_DATA_DIR, value: /tmp/data}
  - target: {kind: Deployment}
    patch: |-
      - {op: add, path: /spec/template/spec/containers/0/imagePullPolicy, value: IfNotPresent}
      - {op: replace, path: /spec/template/spec/containers/0/resources/requests/cpu, value: 100m}
  - target: {kind: Deployment, name: larder-scheduler}
    patch: |-
      - {op: add, path: /spec/template/spec/initContainers/0/imagePullPolicy, value: IfNotPresent}
      - {op: replace, path: /spec/replicas, value: 1}
  - target: {kind: Deployment, name: larder-stream}
    patch: |-
      - {op: replace, path: /spec/replicas, value: 1}
YAML
}

teardown() {
  set +e
  [ -n "$RUN" ] && [ -d "$RUN" ] || return 0
  log "tearing down"
  if [ -n "${LARDER_K8S_KEEP_LOGS:-}" ]; then
    mkdir -p "$LARDER_K8S_KEEP_LOGS"
    kubectl -n "$NS" get all,pvc,pdb,hpa,events -o wide >"$RUN/log/objects.txt" 2>&1
    kubectl -n "$NS" describe pods >"$RUN/log/pods.txt" 2>&1
    cp -r "$RUN/log/." "$RUN/pod-logs" "$LARDER_K8S_KEEP_LOGS/" 2>/dev/null
  fi
  if [ -f "$RUN/kube-apiserver.pid" ] && [ -f "$RUN/kubelet.pid" ]; then
    kubectl delete namespace "$NS" --wait=true --timeout=180s >/dev/null 2>&1
    kubectl delete pv larder-verify-scheduler-home --wait=true --timeout=30s >/dev/null 2>&1
  fi
  local name pid
  for name in kube-proxy kubelet kube-scheduler kube-controller-manager kube-apiserver etcd containerd kafka redis; do
    [ -f "$RUN/$name.pid" ] || continue
    pid=$(cat "$RUN/$name.pid")
    kill "$pid" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  [ -x "$BIN/kube-proxy" ] && "$BIN/kube-proxy" --cleanup >/dev/null 2>&1
  # containerd's shims of this run, if any outlived it (their command line names this run's dir).
  for pid in $(run_processes "$RUN"); do kill -9 "$pid"; done
  # Mounts under the run dir (volumes, overlay rootfs, sandbox shm), innermost first.
  awk -v r="$RUN" 'index($5, r) == 1 {print $5}' /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m"; done
  ip link show "$BRIDGE" >/dev/null 2>&1 && ip link delete "$BRIDGE"
  iptables_cleanup
  host_paths_cleanup
  rm -rf "$RUN"
  RUN=""
}

# What the kubelet, containerd's shims and the CNI library keep at fixed host paths whatever the
# run dir: this run's container log links and the kubelet's socket, then the directories if empty.
HOST_DIRS=(/var/lib/kubelet/device-plugins /var/lib/kubelet /var/log/containers /var/lib/cni/results
  /var/lib/cni /run/containerd/runc/k8s.io /run/containerd/runc /run/containerd/s /run/containerd)
host_paths_cleanup() {
  rm -f /var/log/containers/*_"$NS"_*.log /var/lib/kubelet/device-plugins/kubelet.sock
  local d; for d in "${HOST_DIRS[@]}"; do [ -d "$d" ] && rmdir "$d" 2>/dev/null; done
  return 0
}

# iptables rules of this run: kube-proxy's and the kubelet's KUBE-* chains, the bridge plugin's
# masquerade chains (CNI-*, commented with this network's name); other chains are left alone.
iptables_cleanup() {
  local ipt table chain rule
  for ipt in iptables ip6tables; do
    command -v $ipt >/dev/null || continue
    for table in filter nat mangle; do
      $ipt-save -t $table 2>/dev/null | grep -E '^-A' | grep -E -- "-j KUBE-|$CNI_NAME" | while read -r rule; do
        eval "$ipt -t $table ${rule/-A /-D }" 2>/dev/null
      done
      for chain in $($ipt-save -t $table 2>/dev/null | sed -n 's/^:\(KUBE-[^ ]*\|CNI-[0-9a-f]\{24\}\) .*/\1/p'); do
        $ipt -t $table -F "$chain" 2>/dev/null
      done
      for chain in $($ipt-save -t $table 2>/dev/null | sed -n 's/^:\(KUBE-[^ ]*\|CNI-[0-9a-f]\{24\}\) .*/\1/p'); do
        $ipt -t $table -X "$chain" 2>/dev/null
      done
    done
  done
}

run_processes() { # the processes whose command line names the run dir $1
  local p
  for p in /proc/[0-9]*; do
    [ "${p#/proc/}" != $$ ] && grep -qF "$1" "$p/cmdline" 2>/dev/null && echo "${p#/proc/}"
  done
  return 0
}

leftovers() { # prints what this run left behind; empty when nothing
  local pid
  for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && echo "process $pid"; done
  for pid in $(run_processes "$RUN_DIR_PREFIX"); do echo "process $pid: $(tr '\0' ' ' <"/proc/$pid/cmdline")"; done
  grep -F "$RUN_DIR_PREFIX" /proc/self/mountinfo | awk '{print "mount " $5}'
  ip link show "$BRIDGE" >/dev/null 2>&1 && echo "link $BRIDGE"
  ls /var/log/containers/*_"$NS"_*.log /var/lib/kubelet/device-plugins/kubelet.sock 2>/dev/null | sed 's/^/file /' 
  ip -o link show type veth 2>/dev/null | grep -F "master $BRIDGE" | awk '{print "veth " $2}'
  for t in filter nat mangle; do iptables-save -t $t 2>/dev/null; ip6tables-save -t $t 2>/dev/null; done |
    grep -E "^:KUBE-|KUBE-|$CNI_NAME" | sed 's/^/iptables /' | sort -u
}

# ---------------------------------------------------------------- the checks
jsonpath() { kubectl -n "$NS" get "$1" -o "jsonpath=$2" 2>/dev/null; }
pods_ready() { # pods_ready COMPONENT N: N pods of the component Ready
  [ "$(kubectl -n "$NS" get pods -l "app.kubernetes.io/component=$1" \
    -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c True)" -ge "$2" ]
}
replicaset_and_pods() { # the Deployment has a ReplicaSet, which created its pods
  local want; want=$(jsonpath "deployment/$1" '{.spec.replicas}')
  [ "$(kubectl -n "$NS" get rs -l "app.kubernetes.io/component=$2" -o name | wc -l)" -ge 1 ] &&
    [ "$(kubectl -n "$NS" get pods -l "app.kubernetes.io/component=$2" -o name | wc -l)" -ge "$want" ]
}
jsonpath_is() { [ "$(jsonpath "$1" "$2")" = "$3" ]; }
# The init container applied the registry to the shared volume (exit 0), and `larder scheduler`
# runs on it: the e-commerce example's batch views declare `materialization` (daily at 02:00),
# so it waits for their next run, its liveness probe answered on /health.
scheduler_running() {
  [ "$(kubectl -n "$NS" get pods -l app.kubernetes.io/component=scheduler -o jsonpath='{.items[0].status.initContainerStatuses[0].state.terminated.exitCode}')" = 0 ] &&
    [ -n "$(kubectl -n "$NS" get pods -l app.kubernetes.io/component=scheduler -o jsonpath='{.items[0].status.containerStatuses[0].state.running.startedAt}')" ] &&
    every_pod_200 scheduler 9465 /health
}
http_code() { curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$@"; }
status_200() { [ "$(http_code "$1")" = 200 ]; }
every_pod_200() { # every_pod_200 COMPONENT PORT PATH: each pod answers 200 on its pod IP
  local ip ok=0
  for ip in $(kubectl -n "$NS" get pods -l "app.kubernetes.io/component=$1" -o jsonpath='{.items[*].status.podIP}'); do
    status_200 "http://$ip:$2$3" || return 1; ok=1
  done
  [ $ok = 1 ]
}
serve_pods_answer() { every_pod_200 serve 8566 /health && every_pod_200 serve 8566 /ready; }
no_restarts_in() { local c; for c in "$@"; do no_restarts "$c" || return 1; done; }
no_restarts() {
  [ -z "$(kubectl -n "$NS" get pods -l "app.kubernetes.io/component=$1" \
    -o jsonpath='{range .items[*].status.containerStatuses[*]}{.restartCount}{"\n"}{end}' | grep -v '^0$')" ]
}

# A page_view pushed through the Service (ClusterIP, kube-proxy's rules), then read back through it.
served_row() {
  local url="http://$SERVICE_IP:8566" user="k8s-verify-$RUN_ID" now body
  now=$(($(date +%s) * 1000))
  body=$(jq -cn --arg u "$user" --argjson t "$now" '{push_source_name: "user_events", to: "online",
    df: {eventId: ["e-\($u)"], userId: [$u], sessionId: ["s-\($u)"], eventType: ["page_view"], timestamp: [$t],
         properties: [{productId: "p00001", category: "electronics", price: "19.99"}],
         context: [{userAgent: "curl", ip: "127.0.0.1", platform: "web", referrer: null}]}}')
  curl -sf --max-time 20 -H 'content-type: application/json' -d "$body" "$url/push" >"$RUN/push.json" || return 1
  curl -sf --max-time 20 -H 'content-type: application/json' \
    -d "{\"features\": [\"user_activity:page_views_1h\"], \"entities\": {\"user_id\": [\"$user\"]}}" \
    "$url/get-online-features" >"$RUN/read.json" || return 1
  log "push: $(cat "$RUN/push.json")"
  log "read: $(cat "$RUN/read.json")"
  [ "$(jq -c '[.results[] | .values[0]] | .[1]' "$RUN/read.json")" = 1 ]
}

apply_manifests() {
  kubectl apply --server-side --field-manager larder-verify -k "$RUN/overlay" >&2
}

main() {
  need_debs
  build_binaries
  build_images
  kafka_jars
  HOST_IP=$(ip -4 route get 192.0.2.255 2>/dev/null | sed -n 's/.* src \([0-9.]*\).*/\1/p')
  [ -n "$HOST_IP" ] || HOST_IP=$(hostname -I | awk '{print $1}')
  RUN=$(mktemp -d /tmp/larder-k8s.XXXXXX); RUN_DIR_PREFIX=$RUN; RUN_ID=${RUN##*.}; RUN_ID=${RUN_ID,,}
  mkdir -p "$RUN/log"
  trap 'teardown' EXIT
  trap 'exit 130' INT TERM
  log "run dir $RUN (logs in $RUN/log until teardown; LARDER_K8S_KEEP_LOGS=dir copies them there)"
  echo "Kubernetes v$K8S_VERSION (built from k8s.io/kubernetes), etcd $(etcd --version | sed -n 's/^etcd Version: //p'), containerd $(containerd --version | awk '{print $3}'), runc $(runc --version | sed -n 's/^runc version //p'), CNI plugins $(dpkg-query -W -f '${Version}' containernetworking-plugins)"

  must "control plane: etcd, kube-apiserver (/readyz), controller-manager, scheduler" control_plane
  must "containerd (runc, CNI bridge $BRIDGE) with the Larder and pause images imported" node_up
  must "the run's Redis and Kafka answer on the pods' bridge ($GATEWAY)" services_up
  must "node $NODE_NAME Ready (kubelet, kube-proxy)" \
    until_ok 180 kubectl wait --for=condition=Ready "node/$NODE_NAME" --timeout=5s
  overlay
  must "server-side apply of deploy/kubernetes/ (admission, defaulting; overlay in $NS)" \
    apply_manifests
  check "Deployment larder-serve: ReplicaSet, 2 pods" until_ok 120 replicaset_and_pods larder-serve serve
  check "Deployment larder-stream: ReplicaSet, pod" until_ok 120 replicaset_and_pods larder-stream stream
  check "Deployment larder-scheduler: ReplicaSet, pod" until_ok 120 replicaset_and_pods larder-scheduler scheduler
  check "PersistentVolumeClaim larder-scheduler-home Bound" \
    until_ok 60 jsonpath_is pvc/larder-scheduler-home '{.status.phase}' Bound
  check "HorizontalPodAutoscaler larder-serve accepted (CPU 60 %, 2-20 replicas)" \
    jsonpath_is hpa/larder-serve '{.spec.metrics[0].resource.target.averageUtilization} {.spec.minReplicas}-{.spec.maxReplicas}' "60 2-20"
  check "serve pods Ready (startup + liveness /health, readiness /ready)" until_ok 600 pods_ready serve 2
  check "PodDisruptionBudget larder-serve: 2 expected, 1 may be disrupted" \
    until_ok 60 jsonpath_is pdb/larder-serve '{.status.expectedPods} {.status.disruptionsAllowed}' "2 1"
  check "serve pods answer 200 on /health and /ready at their pod IPs" \
    serve_pods_answer
  SERVICE_IP=$(jsonpath service/larder-serve '{.spec.clusterIP}')
  check "push + read of a row through the Service's ClusterIP $SERVICE_IP:8566" until_ok 60 served_row
  check "stream pod Ready (readiness /ready, Kafka $KAFKA, the run's Redis)" until_ok 300 pods_ready stream 1
  check "scheduler: init container applied the registry to the volume; larder scheduler running on it, 200 on /health at its pod IP" \
    until_ok 300 scheduler_running
  check "no serve, stream or scheduler container restarted" no_restarts_in serve stream scheduler
  teardown
  local left; left=$(leftovers)
  [ -z "$left" ] || log "left behind: $left"
  check "teardown: no process, mount, network interface or iptables rule left" test -z "$left"
  [ $FAILED = 0 ] && echo "all checks passed" || { echo "some checks failed"; exit 1; }
}

case "${1:-verify}" in
  build) need_debs; build_binaries; build_images; kafka_jars ;;
  verify) main ;;
  *) die "usage: $0 [verify|build]" ;;
esac
