#!/usr/bin/env bash
# Writes N realistic KubeArmor policies (~0.5 KB each, the four kinds mixed) into DIR, 1,000
# documents per file. Usage: bench/generate_policies.sh N DIR
set -euo pipefail
count=${1:?usage: generate_policies.sh N DIR}
dir=${2:?usage: generate_policies.sh N DIR}
mkdir -p "$dir"
awk -v n="$count" -v dir="$dir" 'BEGIN {
  for (i = 0; i < n; i++) {
    file = sprintf("%s/policies-%04d.yaml", dir, int(i / 1000));
    kind = i % 10;
    printf "---\napiVersion: security.kubearmor.com/v1\n" >> file;
    if (kind < 7) {
      printf "kind: KubeArmorPolicy\nmetadata:\n  name: block-shell-%d\n  namespace: team-%d\n", i, i % 50 >> file;
      printf "spec:\n  severity: %d\n  message: \"shell execution in workload %d\"\n  tags: [\"MITRE\", \"T1059\"]\n", (i % 10) + 1, i >> file;
      printf "  selector:\n    matchLabels:\n      app: service-%d\n      tier: backend\n", i >> file;
      printf "  process:\n    matchPaths:\n      - path: /bin/sh\n      - path: /bin/bash\n      - path: /usr/bin/dash\n" >> file;
      printf "  file:\n    matchDirectories:\n      - dir: /etc/service-%d/\n        recursive: true\n        readOnly: true\n", i >> file;
      printf "  action: Block\n" >> file;
    } else if (kind < 9) {
      printf "kind: KubeArmorHostPolicy\nmetadata:\n  name: audit-host-%d\n", i >> file;
      printf "spec:\n  nodeSelector:\n    matchLabels:\n      kubernetes.io/hostname: node-%d\n", i >> file;
      printf "  severity: 5\n  file:\n    matchPaths:\n      - path: /etc/passwd\n        readOnly: true\n      - path: /etc/shadow\n        readOnly: true\n" >> file;
      printf "  process:\n    matchPaths:\n      - path: /usr/bin/chfn\n  action: Audit\n" >> file;
    } else {
      printf "kind: KubeArmorClusterPolicy\nmetadata:\n  name: cluster-secrets-%d\n", i >> file;
      printf "spec:\n  selector:\n    matchExpressions:\n      - key: namespace\n        operator: NotIn\n        values:\n          - kube-system\n" >> file;
      printf "  file:\n    matchDirectories:\n      - dir: /run/secrets/app-%d/\n        recursive: true\n  action: Block\n", i >> file;
    }
  }
}'
