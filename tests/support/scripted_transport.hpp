// An HttpTransport that answers from a script and records what it was sent: the fake for
// unit tests of the registry client's authentication, redirect and retry state machines
// (STYLE.md §6). Everything else is tested against a real registry.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "karmor/oci_types.hpp"
#include "oci/http.hpp"

namespace karmor::testing {

// An HTTP answer.
inline oci::HttpResult respond(long status, oci::HeaderList headers = {}, std::string body = {}) {
    oci::HttpResult r;
    r.response.status = status;
    r.response.headers = std::move(headers);
    r.response.body = std::move(body);
    return r;
}

// No answer: the transport failed.
inline oci::HttpResult fail(oci::TransportStatus status) {
    oci::HttpResult r;
    r.transport = status;
    r.transport_error = "scripted failure";
    return r;
}

class ScriptedTransport : public oci::HttpTransport {
public:
    std::deque<oci::HttpResult> script;  // answered in order; 599 once it runs out
    std::vector<oci::HttpRequest> seen;
    std::vector<std::string> bodies;  // seen[i].body does not outlive the request: a copy

    oci::HttpResult send(const oci::HttpRequest& request) override {
        seen.push_back(request);
        bodies.emplace_back(request.body);
        if (script.empty()) return respond(599);
        auto next = std::move(script.front());
        script.pop_front();
        return next;
    }

    // The Authorization header of the i-th request, or "".
    std::string authorization(std::size_t i) const {
        for (const auto& [k, v] : seen.at(i).headers)
            if (k == "Authorization") return v;
        return {};
    }
};

// The descriptor of an octet-stream blob holding `bytes`.
inline Descriptor blob_of(const std::string& bytes) {
    Descriptor d;
    d.media_type = "application/octet-stream";
    d.digest = Digest::sha256_of(bytes);
    d.size = static_cast<std::int64_t>(bytes.size());
    return d;
}

}  // namespace karmor::testing
