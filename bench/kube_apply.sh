#!/usr/bin/env bash
# Issue 23: the requests and the time of `karmor oci apply --kube` of N policies (default 1,000,
# the four kinds mixed, bench/generate_policies.sh) against a real Kubernetes API server: etcd
# and the apiextensions-apiserver peer (scripts/peers.sh) with KubeArmor's CRDs from ../shared,
# started here on free loopback ports and stopped at the end. Three applies: the first (every
# object created), the same artifact again (unchanged: no write), and one policy changed.
# Requests are counted twice: karmor's own count (--output json) and the server's audit log.
#
#   bench/kube_apply.sh [KARMOR_BINARY]     a Markdown table
# Environment: KUBE_BENCH_POLICIES (default 1000), KARMOR_PEERS_BIN.
set -euo pipefail
source_dir=$(cd "$(dirname "$0")/.." && pwd)
karmor=$(realpath "${1:-$source_dir/build/karmor}")
count=${KUBE_BENCH_POLICIES:-1000}
server_program=${KARMOR_PEERS_BIN:-$HOME/.cache/karmor-peers/bin}/apiextensions-apiserver
crds=$source_dir/../shared/kubearmor/crds
for need in etcd openssl curl "$server_program"; do
  command -v "$need" >/dev/null || { echo "kube_apply: $need is missing (scripts/setup.sh, scripts/peers.sh)" >&2; exit 1; }
done
[ -d "$crds" ] || { echo "kube_apply: $crds is missing" >&2; exit 1; }

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
cd "$work"

# A CA, the server's certificate and a client in system:masters.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca-key.pem -out ca.pem \
  -subj /CN=bench-ca -days 1 -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign 2>/dev/null
leaf() {
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1-key.pem" -out "$1.csr" -subj "$2" 2>/dev/null
  printf '%b' "$3" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca-key.pem -CAcreateserial -out "$1.pem" -days 1 -extfile "$1.ext" 2>/dev/null
}
leaf server /CN=kube-apiserver 'extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n'
leaf admin /O=system:masters/CN=bench 'extendedKeyUsage=clientAuth\n'

etcd_port=$(free_port); peer_port=$(free_port); port=$(free_port)
env -u ETCD_NAME etcd --name bench --data-dir etcd --listen-client-urls "http://127.0.0.1:$etcd_port" \
  --advertise-client-urls "http://127.0.0.1:$etcd_port" --listen-peer-urls "http://127.0.0.1:$peer_port" \
  --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" --initial-cluster "bench=http://127.0.0.1:$peer_port" \
  --log-level warn > etcd.log 2>&1 &
pids+=($!)
cat > kubeconfig <<KUBECONFIG
apiVersion: v1
kind: Config
current-context: bench
clusters:
- name: bench
  cluster:
    server: https://127.0.0.1:$port
    certificate-authority: $work/ca.pem
users:
- name: bench
  user:
    client-certificate: $work/admin.pem
    client-key: $work/admin-key.pem
contexts:
- name: bench
  context:
    cluster: bench
    user: bench
KUBECONFIG
printf 'apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\nrules:\n- level: Metadata\n' > audit.yaml
"$server_program" --etcd-servers="http://127.0.0.1:$etcd_port" --bind-address=127.0.0.1 --secure-port="$port" \
  --cert-dir=certs --tls-cert-file=server.pem --tls-private-key-file=server-key.pem --kubeconfig=kubeconfig \
  --authentication-kubeconfig=kubeconfig --authorization-kubeconfig=kubeconfig --client-ca-file=ca.pem \
  --authentication-skip-lookup \
  --disable-admission-plugins=NamespaceLifecycle,MutatingAdmissionPolicy,MutatingAdmissionWebhook,ValidatingAdmissionPolicy,ValidatingAdmissionWebhook \
  --enable-priority-and-fairness=false --audit-log-path=audit.log --audit-policy-file=audit.yaml \
  --audit-log-mode=blocking > server.log 2>&1 &
pids+=($!)
api() { curl -sS --cacert ca.pem --cert admin.pem --key admin-key.pem "$@"; }
for _ in $(seq 900); do
  # Not /readyz: its informer-sync check never passes on this server (no Services to list).
  [ "$(api -o /dev/null -w '%{http_code}' "https://127.0.0.1:$port/apis/apiextensions.k8s.io/v1/customresourcedefinitions" 2>/dev/null)" = 200 ] && break
  sleep 0.1
done
for crd in "$crds"/*.yaml; do
  api -o /dev/null -X POST -H 'Content-Type: application/yaml' --data-binary "@$crd" \
    "https://127.0.0.1:$port/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
done
for plural in kubearmorpolicies kubearmorhostpolicies kubearmorclusterpolicies kubearmornetworkpolicies; do
  for _ in $(seq 600); do
    [ "$(api -o /dev/null -w '%{http_code}' "https://127.0.0.1:$port/apis/security.kubearmor.com/v1/$plural")" = 200 ] && break
    sleep 0.1
  done
done

bash "$source_dir/bench/generate_policies.sh" "$count" policies
"$karmor" oci push --oci-layout -i layout:v1 -p policies -q > /dev/null

# One apply: "SECONDS REQUESTS(karmor) REQUESTS(audit) WRITES(audit)".
run_apply() {
  local before after start end report
  before=$(wc -l < audit.log)
  start=$(date +%s.%N)
  report=$(KUBECONFIG=$work/kubeconfig "$karmor" oci apply --oci-layout layout:v1 --kube --set bench --output json)
  end=$(date +%s.%N)
  after=$(tail -n +"$((before + 1))" audit.log | grep -c 'security.kubearmor.com' || true)
  writes=$(tail -n +"$((before + 1))" audit.log | grep 'security.kubearmor.com' | grep -vc '"verb":"\(get\|list\)"' || true)
  printf '%.2f %s %s %s\n' "$(echo "$end - $start" | bc)" \
    "$(printf '%s' "$report" | python3 -c 'import json, sys; print(json.load(sys.stdin)["requests"])')" "$after" "$writes"
}
echo "| apply of $count policies | time (s) | requests (karmor) | requests (audit log) | writes |"
echo "|---|---|---|---|---|"
read -r t r a w <<< "$(run_apply)"; echo "| first (all created) | $t | $r | $a | $w |"
read -r t r a w <<< "$(run_apply)"; echo "| same artifact again (unchanged) | $t | $r | $a | $w |"
sed -i '0,/severity: 2/s//severity: 3/' policies/policies-0000.yaml
"$karmor" oci push --oci-layout -i layout:v1 -p policies -q > /dev/null
read -r t r a w <<< "$(run_apply)"; echo "| one policy changed | $t | $r | $a | $w |"
