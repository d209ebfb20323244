// Delivering policies into Kubernetes (SPEC §14): `karmor oci apply REF --kube` and
// `follow --apply --kube`. Each policy is server-side applied as its custom resource
// (fieldManager=karmor) with labels that name its set and annotations that say where it came
// from; the state is the cluster's own, so two runners (or a runner on a new node) agree.
// The connection is made as kubectl makes it: kubeconfig or the in-cluster service account.
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "karmor/apply.hpp"
#include "karmor/digest.hpp"
#include "karmor/policy.hpp"
#include "karmor/reference.hpp"
#include "karmor/result.hpp"
#include "karmor/signing.hpp"

namespace karmor {

// What karmor writes on every object it applies (docs/kubernetes.md). Kubernetes' own label
// for the tool that manages an object, then karmor's under oci.kubearmor.io/.
inline constexpr const char* kube_field_manager = "karmor";
inline constexpr const char* kube_managed_by_label = "app.kubernetes.io/managed-by";
inline constexpr const char* kube_set_label = "oci.kubearmor.io/set";
inline constexpr const char* kube_reference_annotation = "oci.kubearmor.io/reference";  // REPO@DIGEST
inline constexpr const char* kube_tag_annotation = "oci.kubearmor.io/tag";
inline constexpr const char* kube_digest_annotation = "oci.kubearmor.io/digest";
// sha256 of what karmor applied, provenance left out: how an unchanged policy is told apart
// from a changed one without writing (a field karmor stopped setting is a change too).
inline constexpr const char* kube_applied_annotation = "oci.kubearmor.io/applied-sha256";

// Exec credential plugins' answers, kept until they expire (client-go keeps them per process):
// `follow` passes one cache to every round, so a plugin runs again only when its token expires.
class KubeCredentialCache;
std::shared_ptr<KubeCredentialCache> make_kube_credential_cache();

struct KubeConnectionOptions {
    std::string kubeconfig;            // --kubeconfig FILE: only that file; else KUBECONFIG, ~/.kube/config
    std::string context;               // --context; else the kubeconfig's current-context
    std::string namespace_name;        // --namespace: for KubeArmorPolicy that names none
    long request_timeout_ms = 30'000;  // each request (--request-timeout)
    long connect_timeout_ms = 10'000;
    int max_attempts = 4;  // 429 and 5xx with Retry-After, 502-504, connection failures
    // Standard input is a terminal: exec plugins with interactiveMode IfAvailable or Always may
    // prompt there.
    bool interactive = false;
    std::shared_ptr<KubeCredentialCache> credentials;  // null: one for this call
    // The environment (a parameter for tests); null: the process's.
    std::function<const char*(const char*)> getenv;
    const std::atomic<bool>* cancel = nullptr;
    std::function<void(const std::string&)> trace;  // -v: one line per request, no secret in it
};

enum class KubeDryRun {
    none,
    client,  // --dry-run: the plan, nothing sent but reads
    server,  // --dry-run=server: every write sent with dryRun=All
};

struct KubeDeliveryOptions {
    KubeConnectionOptions connection;
    std::string set;  // --set; empty: derived from the repository (kube_set_name)
    bool prune = false;
    KubeDryRun dry_run = KubeDryRun::none;
    bool force_conflicts = false;  // take over objects karmor does not manage
};

enum class KubeAction { created, configured, unchanged, pruned };
const char* to_string(KubeAction action);  // as kubectl says it: "created", …

struct KubeObjectResult {
    PolicyIdentity identity;           // with the namespace it was applied to
    std::string file;                  // the policy's file (in the artifact, or on disk for follow)
    std::optional<KubeAction> action;  // none when refused
    std::optional<Error> refusal;      // the cluster (or karmor's ownership rule) refused it
};

struct KubeApplyReport {
    Digest digest;
    std::string location;  // REF@DIGEST
    std::string server;    // the API server's URL
    std::string context;   // the kubeconfig context, or "in-cluster"
    std::string set;
    KubeDryRun dry_run = KubeDryRun::none;
    std::vector<KubeObjectResult> objects;   // in the order sent: applies, then prunes
    std::vector<PolicyIdentity> not_pruned;  // of this set, gone from the artifact, no --prune
    // The requests stopped here (unreachable, 401, 403, CRDs missing): `objects` were done,
    // `not_attempted` were not.
    std::optional<Error> stopped;
    std::vector<PolicyIdentity> not_attempted;
    std::vector<SignatureReport> signatures;
    int requests = 0;  // HTTP requests sent to the API server, retries included
    bool refused() const;
};

// The set label's default: the repository's path, '/' as '.', cut to a valid label value.
std::string kube_set_name(const Reference& reference);

struct KubeApplyOptions : PolicySource {
    KubeDeliveryOptions delivery;
};

// Pulls REF by digest (verified when asked), validates it and applies it to the cluster. An
// error before the first write leaves the cluster untouched.
Result<KubeApplyReport> apply_policies_to_cluster(const KubeApplyOptions& options);

// `follow --apply --kube`: the policies of a directory (the version follow switched to), from
// `location` (REF@DIGEST, for the annotations and the default set).
Result<KubeApplyReport> apply_policy_directory_to_cluster(const std::filesystem::path& directory, const Digest& digest,
                                                          const std::string& location, const Reference& reference,
                                                          const KubeDeliveryOptions& options);

}  // namespace karmor
