// Loads and validates 10,000 generated policies of about 0.5 KB through parse_policy_text,
// the path every push and pull takes (issue 3: "well under a second"), next to libyaml's events
// alone. Not run by ctest.
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include "karmor/policy.hpp"
#include "policy/yaml_events.hpp"

namespace {

constexpr int policy_count = 10'000;

std::string container_policy(int i) {
    const auto n = std::to_string(i);
    return "apiVersion: security.kubearmor.com/v1\nkind: KubeArmorPolicy\nmetadata:\n  name: block-shell-" + n +
           "\n  namespace: shop\nspec:\n  severity: 7\n  message: \"shell execution in an nginx container\"\n"
           "  tags: [\"MITRE\", \"T1059\"]\n  selector:\n    matchLabels:\n      app: nginx-" +
           n +
           "\n  process:\n    matchPaths:\n      - path: /bin/sh\n      - path: /bin/bash\n"
           "      - path: /usr/bin/dash\n        fromSource:\n          - path: /usr/sbin/nginx\n"
           "  file:\n    matchDirectories:\n      - dir: /etc/nginx/\n        recursive: true\n"
           "        readOnly: true\n  action: Block\n";
}

std::string host_policy(int i) {
    return "apiVersion: security.kubearmor.com/v1\nkind: KubeArmorHostPolicy\nmetadata:\n  name: audit-passwd-" +
           std::to_string(i) +
           "\nspec:\n  nodeSelector:\n    matchLabels:\n      kubernetes.io/os: linux\n  severity: 5\n"
           "  file:\n    matchPaths:\n      - path: /etc/passwd\n        readOnly: true\n"
           "      - path: /etc/shadow\n        readOnly: true\n    matchPatterns:\n      - pattern: /home/**/.ssh/*\n"
           "  network:\n    matchProtocols:\n      - protocol: raw\n        fromSource:\n"
           "          - path: /usr/bin/ping\n  action: Audit\n";
}

std::string cluster_policy(int i) {
    return "apiVersion: security.kubearmor.com/v1\nkind: KubeArmorClusterPolicy\nmetadata:\n  name: secrets-" +
           std::to_string(i) +
           "\nspec:\n  selector:\n    matchExpressions:\n      - key: namespace\n        operator: NotIn\n"
           "        values: [kube-system, kubearmor]\n  file:\n    matchDirectories:\n      - dir: /run/secrets/\n"
           "        recursive: true\n        fromSource:\n          - path: /bin/cat\n"
           "  capabilities:\n    matchCapabilities:\n      - capability: net_raw\n  action: Block\n";
}

std::string network_policy(int i) {
    return "apiVersion: security.kubearmor.com/v1\nkind: KubeArmorNetworkPolicy\nmetadata:\n  name: dns-" +
           std::to_string(i) +
           "\nspec:\n  nodeSelector:\n    matchLabels:\n      kubernetes.io/hostname: worker-1\n  egress:\n"
           "    - to:\n        - ipBlock:\n            cidr: 10.96.0.10/32\n      ports:\n"
           "        - protocol: UDP\n          port: \"53\"\n          endPort: 54\n  severity: 3\n  action: Allow\n";
}

// Processor time of this process: the machine is shared, and wall time would count the
// time other processes held the processor.
double cpu_seconds() {
    return static_cast<double>(std::clock()) / CLOCKS_PER_SEC;
}

double seconds_since(double start) {
    return cpu_seconds() - start;
}

// Every document through parse_policy_text, with `options`.
double seconds_to_load(const std::vector<std::string>& texts, const karmor::LoadOptions& options, std::size_t& loaded,
                       std::size_t& problem_count) {
    const double start = cpu_seconds();
    loaded = 0;
    problem_count = 0;
    for (const auto& text : texts) {
        std::vector<karmor::Diagnostic> problems;
        loaded += karmor::parse_policy_text(text, "bench.yaml", options, problems).size();
        problem_count += problems.size();
    }
    return seconds_since(start);
}

// libyaml's events alone, through the reader karmor uses, given to a sink that keeps nothing.
double seconds_to_read_events(const std::vector<std::string>& texts) {
    struct Nothing final : karmor::policy::YamlNodeSink {
        void scalar(const karmor::policy::YamlScalar&) override {}
        bool begin(const karmor::policy::YamlCollection&) override { return true; }
        void end() override {}
    } sink;
    const double start = cpu_seconds();
    for (const auto& text : texts) {
        karmor::policy::YamlEventReader reader(text);
        while (reader.next(sink)) {
        }
    }
    return seconds_since(start);
}

}  // namespace

int main() {
    std::vector<std::string> texts;
    std::size_t bytes = 0;
    for (int i = 0; i < policy_count; ++i) {
        switch (i % 4) {
            case 0: texts.push_back(container_policy(i)); break;
            case 1: texts.push_back(host_policy(i)); break;
            case 2: texts.push_back(cluster_policy(i)); break;
            default: texts.push_back(network_policy(i)); break;
        }
        bytes += texts.back().size();
    }
    std::size_t loaded = 0;
    std::size_t problems = 0;
    karmor::LoadOptions as_pushed;  // push and pull: validated, serialized to YAML, no tree
    as_pushed.serialize_as = karmor::PolicyFormat::yaml;
    karmor::LoadOptions identity_only = as_pushed;
    identity_only.skip_validation = true;
    const double events = seconds_to_read_events(texts);
    const double without = seconds_to_load(texts, identity_only, loaded, problems);
    const double trees = seconds_to_load(texts, {}, loaded, problems);
    const double with = seconds_to_load(texts, as_pushed, loaded, problems);
    std::printf("%d policies, %.0f bytes on average\n", policy_count, static_cast<double>(bytes) / policy_count);
    std::printf("libyaml's events alone: %.3f s of CPU time\n", events);
    std::printf("parse_policy_text, validating, serialized to YAML: %.3f s of CPU time (%zu loaded, %zu problems)\n",
                with, loaded, problems);
    std::printf("parse_policy_text, identity only (--skip-validation), serialized to YAML: %.3f s of CPU time\n",
                without);
    std::printf("parse_policy_text, validating, JSON documents: %.3f s of CPU time\n", trees);
    return loaded == static_cast<std::size_t>(policy_count) && problems == 0 ? 0 : 1;
}
