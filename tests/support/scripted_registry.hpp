// A small in-memory OCI registry on 127.0.0.1 (port 0) for what no local registry package
// implements: the referrers API (distribution-spec "Listing Referrers": artifactType filter,
// Link pagination, the OCI-Subject header on manifest PUT). Switches turn each feature off,
// and a hook lets a test act as another client between two requests. Plain HTTP only.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace karmor::testing {

struct ScriptedRegistryOptions {
    bool referrers_api = true;     // else GET /v2/NAME/referrers/… is 404, as in Distribution 2.x
    bool send_oci_subject = true;  // OCI-Subject on the PUT of a manifest with a subject
    bool apply_filter = true;      // honor ?artifactType= (and say so in OCI-Filters-Applied)
    // List each referrer with its config's media type as artifactType, even when the manifest
    // has its own, as go-containerregistry's registry (0.22) does.
    bool artifact_type_from_config = false;
    std::size_t page_size = 100;  // referrers per page; more pages are linked with Link
    // The most tags one page of /tags/list holds, whatever `n` asks; more pages are linked with
    // Link (distribution-spec "Listing Tags": `n`, `last`, `Link: <…>; rel="next"`).
    std::size_t tags_page_size = 100;
    bool tags_link = true;  // else pages are only reachable with `last` (go-containerregistry's way)
};

class ScriptedRegistry {
public:
    explicit ScriptedRegistry(ScriptedRegistryOptions options = {});
    ~ScriptedRegistry();
    ScriptedRegistry(const ScriptedRegistry&) = delete;
    ScriptedRegistry& operator=(const ScriptedRegistry&) = delete;

    bool running() const { return listener_ >= 0; }
    std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

    // "METHOD /path?query" of every request so far.
    std::vector<std::string> requests() const;
    // Runs on the server thread before each request is answered ("METHOD", "/path?query").
    void on_request(std::function<void(const std::string&, const std::string&)> hook);

    // Direct access to the store, as another client would change it.
    void put_manifest(const std::string& repository, const std::string& reference, const std::string& media_type,
                      const std::string& bytes);
    std::optional<std::string> manifest(const std::string& repository, const std::string& reference) const;
    std::vector<std::string> tags(const std::string& repository) const;

private:
    struct Response {
        int status = 200;
        std::vector<std::pair<std::string, std::string>> headers;
        std::string body;
    };
    struct StoredManifest {
        std::string media_type;
        std::string bytes;
    };
    void serve();
    void handle(int connection);
    Response answer(const std::string& method, const std::string& target, const std::string& body,
                    const std::map<std::string, std::string>& headers);
    Response tag_list(const std::string& repository, const std::string& query);
    Response referrers(const std::string& repository, const std::string& digest, const std::string& query);
    std::string store_manifest_locked(const std::string& repository, const std::string& reference,
                                      const std::string& media_type, const std::string& bytes);

    ScriptedRegistryOptions options_;
    int listener_ = -1;
    int port_ = 0;
    std::atomic<bool> stopping_{false};
    std::thread thread_;

    mutable std::mutex mutex_;
    std::vector<std::string> requests_;
    std::function<void(const std::string&, const std::string&)> hook_;
    std::map<std::string, std::string> blobs_;  // digest → bytes (one namespace for all repositories)
    std::map<std::string, std::map<std::string, StoredManifest>> manifests_;  // repository → digest → manifest
    std::map<std::string, std::map<std::string, std::string>> tags_;          // repository → tag → digest
    int uploads_ = 0;
};

}  // namespace karmor::testing
