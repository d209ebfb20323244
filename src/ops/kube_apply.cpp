// SPEC §14: pull (by digest, verified), validate, then server-side apply each policy into the
// cluster, leaving unchanged objects unwritten and pruning what the set no longer holds.
#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>

#include "karmor/kube.hpp"
#include "kube/api_client.hpp"
#include "kube/connection.hpp"
#include "kube/objects.hpp"
#include "ops/apply_source.hpp"
#include "util/encoding.hpp"

namespace karmor {
namespace {

using Json = nlohmann::json;
using Ordered = nlohmann::ordered_json;

constexpr int list_page_size = 500;
constexpr std::size_t max_listed_objects = 200'000;
// Above this many policies of one kind missing from the set, one LIST of the kind is cheaper
// than a GET each (a first apply of a large set).
constexpr std::size_t get_each_up_to = 32;

enum class Step { create, update, unchanged, refuse };

struct PlannedObject {
    PolicyIdentity identity;
    const kube::ResourceType* type = nullptr;
    std::string file;
    Ordered object;
    Step step = Step::create;
    std::optional<Error> refusal;
};

struct LiveObjects {
    std::map<PolicyIdentity, Json> objects;
};

PolicyIdentity identity_of(const kube::ResourceType& type, const Json& item) {
    const auto& metadata = item.value("metadata", Json::object());
    return {type.kind, type.namespaced ? metadata.value("namespace", "") : "", metadata.value("name", "")};
}

std::string query_value(const std::string& text) {
    return util::url_encode(text);
}

// Every object of `type` (all namespaces) that `selector` selects, page by page.
Result<void> list_objects(kube::ApiClient& client, const kube::ResourceType& type, const std::string& selector,
                          LiveObjects& into) {
    std::string next;
    std::size_t listed = 0;
    do {
        std::string path = kube::resource_path(type, "", "") + "?limit=" + std::to_string(list_page_size);
        if (!selector.empty()) path += "&labelSelector=" + query_value(selector);
        if (!next.empty()) path += "&continue=" + query_value(next);
        auto response = client.send("GET", path);
        if (!response) return unexpected(std::move(response).error());
        if (response->status != 200) return unexpected(client.http_error({"list", type.resource(), "", ""}, *response));
        const auto list = Json::parse(response->body, nullptr, false);
        if (!list.is_object() || !list.contains("items") || !list["items"].is_array())
            return unexpected(Error(ErrorKind::registry,
                                    "the API server at " + client.connection().server + " answered the list of " +
                                        type.resource() + " with something that is not a list",
                                    "check that the server is a Kubernetes API server"));
        for (auto& item : list["items"]) {
            if (!item.is_object()) continue;
            if (++listed > max_listed_objects)
                return unexpected(Error(ErrorKind::registry, "more than " + std::to_string(max_listed_objects) + " " +
                                                                 type.resource() + " in the cluster"));
            into.objects[identity_of(type, item)] = std::move(item);
        }
        next.clear();
        if (list.contains("metadata") && list["metadata"].is_object() && list["metadata"].contains("continue") &&
            list["metadata"]["continue"].is_string())
            next = list["metadata"]["continue"].get<std::string>();
    } while (!next.empty());
    return {};
}

Result<std::optional<Json>> get_object(kube::ApiClient& client, const kube::ResourceType& type,
                                       const PolicyIdentity& identity) {
    auto response = client.send("GET", kube::resource_path(type, identity.namespace_name, identity.name));
    if (!response) return unexpected(std::move(response).error());
    if (response->status == 404) return std::optional<Json>();
    if (response->status != 200)
        return unexpected(
            client.http_error({"get", type.resource(), identity.namespace_name, identity.name}, *response));
    auto object = Json::parse(response->body, nullptr, false);
    if (!object.is_object())
        return unexpected(Error(ErrorKind::registry, "the API server answered GET " + identity.str() +
                                                         " with something that is not an object"));
    return std::optional<Json>(std::move(object));
}

std::string join(const std::vector<std::string>& words) {
    std::string out;
    for (const auto& word : words) out += (out.empty() ? "" : ", ") + word;
    return out;
}

// An object of the same name that is not of this set: karmor's ownership rule refuses it.
Error not_ours(const PlannedObject& planned, const Json& live, const std::string& set) {
    const auto other_set = kube::set_of(live);
    const auto managers = kube::field_managers(live);
    std::string whose = other_set.empty() ? "karmor does not manage it (no " + std::string(kube_set_label) + " label" +
                                                (managers.empty() ? "" : "; field managers: " + join(managers)) + ")"
                                          : "it belongs to karmor's set \"" + other_set + "\"";
    return Error(ErrorKind::validation,
                 planned.file + ": " + planned.identity.str() + " already exists in the cluster and " + whose +
                     ": left untouched",
                 "rename the policy, delete the object, or pass --force-conflicts to take it over into the set \"" +
                     set + "\"");
}

// The namespace each namespaced policy goes to: its own, else --namespace, else the context's,
// else default. A policy naming another namespace than an explicit --namespace is refused, as
// kubectl refuses it.
Result<std::vector<PlannedObject>> place_policies(const std::vector<Policy>& policies, const std::string& explicit_ns,
                                                  const std::string& default_ns) {
    std::vector<PlannedObject> planned;
    std::map<PolicyIdentity, std::string> seen;
    for (const auto& policy : policies) {
        PlannedObject p;
        p.type = kube::resource_for_kind(policy.identity.kind);
        p.file = policy.origin.file;
        p.identity = policy.identity;
        if (!p.type)
            return unexpected(Error(ErrorKind::validation,
                                    p.file + ": " + policy.identity.str() + " is not one of KubeArmor's four kinds"));
        std::string target_ns;
        if (p.type->namespaced) {
            const auto& metadata = policy.document.contains("metadata") ? policy.document["metadata"] : Ordered();
            const bool named =
                metadata.is_object() && metadata.contains("namespace") && metadata["namespace"].is_string();
            target_ns = named ? metadata["namespace"].get<std::string>() : default_ns;
            if (named && !explicit_ns.empty() && target_ns != explicit_ns)
                return unexpected(Error(ErrorKind::usage,
                                        p.file + ": " + policy.identity.str() + " names the namespace \"" + target_ns +
                                            "\", not \"" + explicit_ns + "\" given with --namespace",
                                        "drop --namespace, or make the policy name the same namespace"));
            p.identity.namespace_name = target_ns;
        }
        if (const auto [where, inserted] = seen.emplace(p.identity, p.file); !inserted)
            return unexpected(
                Error(ErrorKind::validation,
                      p.file + " and " + where->second + " both become " + p.identity.str() + " in the cluster",
                      "give one of them another name or namespace"));
        p.object = policy.document;  // completed by the caller with the provenance
        p.object["metadata"]["namespace"] = target_ns;
        if (target_ns.empty()) p.object["metadata"].erase("namespace");
        planned.push_back(std::move(p));
    }
    std::sort(planned.begin(), planned.end(),
              [](const PlannedObject& a, const PlannedObject& b) { return a.identity < b.identity; });
    return planned;
}

// Stops the run: what was done is in the report, the rest is named as not attempted.
void stop(KubeApplyReport& report, Error error, const std::vector<PolicyIdentity>& rest) {
    report.stopped = std::move(error);
    report.not_attempted = rest;
}

bool is_fatal(long status) {
    return status == 401 || status == 403 || status == 404;
}

class ClusterDelivery {
public:
    ClusterDelivery(kube::ApiClient& client, const KubeDeliveryOptions& options, KubeApplyReport& report)
        : client_(client), options_(options), report_(report) {}

    // The live objects of the set, and those that hold the name of a policy outside it.
    Result<void> read_cluster(std::vector<PlannedObject>& planned) {
        const std::string selector = std::string(kube_set_label) + "=" + report_.set;
        for (const auto& type : kube::resource_types())
            if (auto listed = list_objects(client_, type, selector, in_set_); !listed)
                return unexpected(std::move(listed).error());
        std::map<const kube::ResourceType*, std::vector<PlannedObject*>> missing;
        for (auto& p : planned)
            if (!in_set_.objects.contains(p.identity)) missing[p.type].push_back(&p);
        for (const auto& [type, objects] : missing) {
            if (objects.size() > get_each_up_to) {
                LiveObjects all;
                if (auto listed = list_objects(client_, *type, "", all); !listed)
                    return unexpected(std::move(listed).error());
                for (auto* p : objects)
                    if (auto found = all.objects.find(p->identity); found != all.objects.end())
                        others_.objects[p->identity] = std::move(found->second);
                continue;
            }
            for (auto* p : objects) {
                auto live = get_object(client_, *type, p->identity);
                if (!live) return unexpected(std::move(live).error());
                if (*live) others_.objects[p->identity] = std::move(**live);
            }
        }
        return {};
    }

    void plan(std::vector<PlannedObject>& planned) const {
        for (auto& p : planned) {
            if (const auto ours = in_set_.objects.find(p.identity); ours != in_set_.objects.end()) {
                p.step = kube::is_unchanged(ours->second, p.object) ? Step::unchanged : Step::update;
            } else if (const auto other = others_.objects.find(p.identity); other != others_.objects.end()) {
                if (options_.force_conflicts) {
                    p.step = Step::update;
                } else {
                    p.step = Step::refuse;
                    p.refusal = not_ours(p, other->second, report_.set);
                }
            } else {
                p.step = Step::create;
            }
        }
    }

    // Applies in identity order, then prunes. A refusal of one object is reported and the
    // next sent; an error that every request would meet (401, 403, CRDs, the server gone) stops.
    void execute(const std::vector<PlannedObject>& planned) {
        std::set<PolicyIdentity> wanted;
        for (const auto& p : planned) wanted.insert(p.identity);
        std::vector<std::pair<PolicyIdentity, const Json*>> prunable;
        for (const auto& [identity, live] : in_set_.objects)
            if (!wanted.contains(identity)) prunable.emplace_back(identity, &live);

        // What a stop leaves undone: the writes from here on (an unchanged object needs none).
        std::size_t done = 0;
        const auto rest = [&] {
            std::vector<PolicyIdentity> left;
            for (std::size_t i = done; i < planned.size(); ++i)
                if (planned[i].step != Step::unchanged) left.push_back(planned[i].identity);
            for (std::size_t i = done > planned.size() ? done - planned.size() : 0; i < prunable.size(); ++i)
                if (options_.prune) left.push_back(prunable[i].first);
            return left;
        };

        for (const auto& p : planned) {
            KubeObjectResult result{p.identity, p.file, std::nullopt, std::nullopt};
            if (p.step == Step::unchanged) {
                result.action = KubeAction::unchanged;
            } else if (p.step == Step::refuse) {
                result.refusal = p.refusal;
            } else if (options_.dry_run == KubeDryRun::client) {
                result.action = p.step == Step::create ? KubeAction::created : KubeAction::configured;
            } else if (auto applied = apply(p); !applied) {
                stop(report_, std::move(applied).error(), rest());
                return;
            } else {
                result = std::move(*applied);
            }
            report_.objects.push_back(std::move(result));
            ++done;
        }
        for (const auto& [identity, live] : prunable) {
            if (!options_.prune) {
                report_.not_pruned.push_back(identity);
                continue;
            }
            KubeObjectResult result{identity, "", KubeAction::pruned, std::nullopt};
            if (options_.dry_run != KubeDryRun::client) {
                auto deleted = remove(identity, *live);
                if (!deleted) {
                    stop(report_, std::move(deleted).error(), rest());
                    return;
                }
                result = std::move(*deleted);
            }
            report_.objects.push_back(std::move(result));
            ++done;
        }
    }

private:
    std::string dry_run_query() const { return options_.dry_run == KubeDryRun::server ? "&dryRun=All" : ""; }

    Result<KubeObjectResult> apply(const PlannedObject& p) {
        KubeObjectResult result{p.identity, p.file, std::nullopt, std::nullopt};
        // Our own objects (and, with --force-conflicts, others') are forced: karmor owns their
        // fields, so an edit by hand is drift to undo. A create is not: a 409 then means
        // someone created the object since karmor looked.
        const bool force = p.step == Step::update;
        const auto path = kube::resource_path(*p.type, p.identity.namespace_name, p.identity.name) +
                          "?fieldManager=" + kube_field_manager + (force ? "&force=true" : "") + dry_run_query();
        const auto body = p.object.dump();
        auto response = client_.send("PATCH", path, body, "application/apply-patch+yaml");
        if (!response) return unexpected(std::move(response).error());
        const kube::RequestPurpose purpose{"patch", p.type->resource(), p.identity.namespace_name, p.identity.name};
        if (response->status == 200 || response->status == 201) {
            result.action = response->status == 201 ? KubeAction::created : KubeAction::configured;
            return result;
        }
        auto error = client_.http_error(purpose, *response);
        if (is_fatal(response->status)) return unexpected(std::move(error));
        error.message = p.file + ": " + p.identity.str() + ": " + error.message;
        result.refusal = std::move(error);
        return result;
    }

    Result<KubeObjectResult> remove(const PolicyIdentity& identity, const Json& live) {
        const auto* type = kube::resource_for_kind(identity.kind);
        KubeObjectResult result{identity, "", KubeAction::pruned, std::nullopt};
        // Only the object that was listed: not one re-created under the same name since.
        Json options = {{"apiVersion", "v1"}, {"kind", "DeleteOptions"}};
        if (live.contains("metadata") && live["metadata"].contains("uid"))
            options["preconditions"] = {{"uid", live["metadata"]["uid"]}};
        if (options_.dry_run == KubeDryRun::server) options["dryRun"] = {"All"};
        const auto body = options.dump();
        auto response = client_.send("DELETE",
                                     kube::resource_path(*type, identity.namespace_name, identity.name) +
                                         (options_.dry_run == KubeDryRun::server ? "?dryRun=All" : ""),
                                     body, "application/json");
        if (!response) return unexpected(std::move(response).error());
        if (response->status == 200 || response->status == 202 || response->status == 404) return result;
        auto error =
            client_.http_error({"delete", type->resource(), identity.namespace_name, identity.name}, *response);
        if (response->status == 401 || response->status == 403) return unexpected(std::move(error));
        result.action.reset();
        result.refusal = std::move(error);
        return result;
    }

    kube::ApiClient& client_;
    const KubeDeliveryOptions& options_;
    KubeApplyReport& report_;
    LiveObjects in_set_;
    LiveObjects others_;
};

const char* environment_variable(const char* name) {
    return std::getenv(name);
}

Result<KubeApplyReport> deliver_to_cluster(const std::vector<Policy>& policies, const Digest& digest,
                                           const std::string& location, const std::string& tag,
                                           const Reference& reference, const KubeDeliveryOptions& options) {
    const kube::Getenv getenv =
        options.connection.getenv ? options.connection.getenv : kube::Getenv(environment_variable);
    auto connection = kube::load_connection(options.connection, getenv);
    if (!connection) return unexpected(std::move(connection).error());

    KubeApplyReport report;
    report.digest = digest;
    report.location = location;
    report.server = connection->server;
    report.context = connection->context;
    report.set = options.set.empty() ? kube_set_name(reference) : options.set;
    report.dry_run = options.dry_run;
    if (report.set != kube::label_value(report.set))
        return unexpected(Error(ErrorKind::usage, "--set " + report.set + " is not a valid label value",
                                "at most 63 letters, digits, '-', '_' and '.', beginning and ending with a letter "
                                "or digit, e.g. --set " +
                                    kube::label_value(report.set)));

    const std::string default_ns = !options.connection.namespace_name.empty() ? options.connection.namespace_name
                                   : !connection->namespace_name.empty()      ? connection->namespace_name
                                                                              : "default";
    auto planned = place_policies(policies, options.connection.namespace_name, default_ns);
    if (!planned) return unexpected(std::move(planned).error());
    // The reference annotation is REPOSITORY@DIGEST whatever tag led to it (the tag has its own
    // annotation), so that an apply and a follow of the same artifact write the same object.
    std::string provenance_reference = location;
    if (auto parsed = Reference::parse(location); parsed && parsed->digest())
        provenance_reference = parsed->with_tag("").with_digest(*parsed->digest()).str();
    const kube::Provenance provenance{report.set, provenance_reference, tag, digest.str()};
    for (auto& p : *planned) p.object = kube::applied_object(p.object, p.identity.namespace_name, provenance);

    kube::ApiClient client(std::move(*connection), options.connection, options.connection.credentials);
    ClusterDelivery delivery(client, options, report);
    if (auto read = delivery.read_cluster(*planned); !read) return unexpected(std::move(read).error());
    delivery.plan(*planned);
    delivery.execute(*planned);
    report.requests = client.requests();
    return report;
}

}  // namespace

const char* to_string(KubeAction action) {
    switch (action) {
        case KubeAction::created: return "created";
        case KubeAction::configured: return "configured";
        case KubeAction::unchanged: return "unchanged";
        case KubeAction::pruned: return "pruned";
    }
    return "";
}

bool KubeApplyReport::refused() const {
    for (const auto& object : objects)
        if (object.refusal) return true;
    return false;
}

std::string kube_set_name(const Reference& reference) {
    return kube::label_value(reference.repository());
}

Result<KubeApplyReport> apply_policies_to_cluster(const KubeApplyOptions& options) {
    auto pulled = ops::pull_for_apply(options);
    if (!pulled) return unexpected(std::move(pulled).error());
    Reference for_set = options.reference;
    if (options.layout) {
        // A layout has no repository: its directory's name stands for it.
        auto parsed = Reference::parse("localhost/" + kube::label_value(options.layout->directory.filename().string()));
        if (parsed) for_set = *parsed;
    }
    auto report =
        deliver_to_cluster(pulled->policies, pulled->digest, pulled->location, pulled->tag, for_set, options.delivery);
    if (report) report->signatures = std::move(pulled->signatures);
    return report;
}

Result<KubeApplyReport> apply_policy_directory_to_cluster(const std::filesystem::path& directory, const Digest& digest,
                                                          const std::string& location, const Reference& reference,
                                                          const KubeDeliveryOptions& options) {
    auto policies = ops::load_followed_directory(directory);
    if (!policies) return unexpected(std::move(policies).error());
    // The tag follow resolved (with --semver, not the one REF names) is in REF@DIGEST.
    std::string tag = reference.tag();
    if (auto resolved = Reference::parse(location); resolved && !resolved->tag().empty()) tag = resolved->tag();
    return deliver_to_cluster(*policies, digest, location, tag, reference, options);
}

}  // namespace karmor
