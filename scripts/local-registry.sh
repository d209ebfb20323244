# Sourced by scripts that need a throwaway docker-registry on loopback.
# start_local_registry DIR [tls]: starts it with storage and log in DIR; sets REGISTRY_PORT and
# REGISTRY_PID. With tls, it serves HTTPS with a certificate for localhost and 127.0.0.1 from a
# throwaway CA: DIR/ca.pem, and DIR/certs/ca.crt for skopeo's --cert-dir.
# stop_local_registry: stops it.
start_local_registry() {
  local dir=$1 tls=${2:-} tls_config=""
  mkdir -p "$dir"
  if [ "$tls" = tls ]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=karmor local CA" \
      -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
      -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$dir/san.ext"
    openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial -days 2 \
      -extfile "$dir/san.ext" -out "$dir/server.pem" 2>/dev/null
    mkdir -p "$dir/certs" && cp "$dir/ca.pem" "$dir/certs/ca.crt"
    tls_config="  tls:
    certificate: $dir/server.pem
    key: $dir/server.key"
  fi
  cat > "$dir/config.yml" <<YAML
version: 0.1
log:
  level: info
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: $dir/data
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:0
  secret: karmor-local
$tls_config
YAML
  docker-registry serve "$dir/config.yml" >"$dir/registry.log" 2>&1 &
  REGISTRY_PID=$!
  REGISTRY_PORT=""
  for _ in $(seq 1 150); do
    REGISTRY_PORT=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$dir/registry.log" | head -n1 | sed 's/.*://') || true
    [ -n "$REGISTRY_PORT" ] && return 0
    sleep 0.1
  done
  echo "docker-registry did not start:" >&2
  cat "$dir/registry.log" >&2
  return 1
}

stop_local_registry() {
  if [ -n "${REGISTRY_PID:-}" ]; then
    kill "$REGISTRY_PID" 2>/dev/null || true
    wait "$REGISTRY_PID" 2>/dev/null || true
    REGISTRY_PID=""
  fi
}

# Counts /v2/ requests in the registry's access log.
count_registry_requests() {
  grep -cE '"(GET|HEAD|POST|PUT|PATCH|DELETE) /v2/' "$1/registry.log" || true
}
