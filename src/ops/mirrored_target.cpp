#include "ops/mirrored_target.hpp"

#include <algorithm>
#include <functional>
#include <optional>
#include <vector>

#include "ops/remote.hpp"

namespace karmor::ops {
namespace {

// Sees whether requests reach the endpoint: one that cannot be reached is not asked again in this
// run, or every question would wait for its connect timeout before the next endpoint is asked.
class WatchedTransport final : public oci::HttpTransport {
public:
    explicit WatchedTransport(std::unique_ptr<oci::HttpTransport> inner) : inner_(std::move(inner)) {}
    oci::HttpResult send(const oci::HttpRequest& request) override {
        auto result = inner_->send(request);
        if (result.transport == oci::TransportStatus::connect_failed ||
            result.transport == oci::TransportStatus::timeout)
            unreachable_ = true;
        return result;
    }
    bool unreachable() const { return unreachable_; }

private:
    std::unique_ptr<oci::HttpTransport> inner_;
    bool unreachable_ = false;
};

enum class Question { tag, digest };

Question question_for(const std::string& reference) {
    return Digest::parse(reference) ? Question::digest : Question::tag;
}

// As the runtimes do, the next endpoint is asked when one cannot be reached, fails or refuses
// (registry errors, 5xx, 401/403) or has not got the content (404). An endpoint that answers with
// content that does not match its digest, or that does not parse, stops the read: it lies.
bool next_may_answer(ErrorKind kind) {
    return kind == ErrorKind::registry || kind == ErrorKind::not_found || kind == ErrorKind::auth;
}

struct Connection {
    mirrors::Endpoint endpoint;
    std::optional<Remote> remote;         // opened at the endpoint's first question
    WatchedTransport* watched = nullptr;  // remote's transport
    bool failure_told = false;
};

class MirroredTarget final : public oci::Target {
public:
    MirroredTarget(const Reference& reference, mirrors::ReadPlan plan, const RemoteOptions& options)
        : reference_(reference), source_(std::move(plan.source)), options_(options),
          transport_(transport_options(options)) {
        for (auto& endpoint : plan.endpoints)
            connections_.push_back(Connection{std::move(endpoint), {}, nullptr, false});
    }

    // The reference's own name: messages, signatures and mounts are about the logical repository.
    std::string where() const override { return reference_.registry() + "/" + reference_.repository(); }
    std::optional<RepositoryName> repository_name() const override {
        return RepositoryName{reference_.registry(), reference_.repository()};
    }

    Result<std::optional<oci::FetchedManifest>> fetch_manifest(const std::string& reference) override {
        using Answer = std::optional<oci::FetchedManifest>;
        return ask<Answer>(
            question_for(reference), "the manifest " + reference,
            [&](oci::RegistryClient& client) { return client.fetch_manifest(reference); },
            [](const Answer& answer) { return !answer; });
    }
    Result<std::optional<Descriptor>> resolve_manifest(const std::string& reference) override {
        using Answer = std::optional<Descriptor>;
        return ask<Answer>(
            question_for(reference), "what " + reference + " names",
            [&](oci::RegistryClient& client) { return client.head_manifest(reference); },
            [](const Answer& answer) { return !answer; });
    }
    Result<std::string> fetch_blob(const Descriptor& blob, std::uint64_t max_bytes,
                                   const oci::TransferObserver& observer) override {
        return ask<std::string>(
            Question::digest, "the blob " + blob.digest.str(),
            [&](oci::RegistryClient& client) { return client.fetch_blob(blob, max_bytes, observer); },
            [](const std::string&) { return false; });
    }
    Result<bool> blob_exists(const Descriptor& blob) override {
        return ask<bool>(
            Question::digest, "the blob " + blob.digest.str(),
            [&](oci::RegistryClient& client) { return client.blob_exists(blob); }, [](bool exists) { return !exists; });
    }
    // Referrers change like tags do: asked only where tags may be answered.
    Result<std::optional<std::vector<Descriptor>>> list_referrers(const Digest& subject,
                                                                  const std::string& artifact_type) override {
        using Answer = std::optional<std::vector<Descriptor>>;
        return ask<Answer>(
            Question::tag, "the referrers of " + subject.str(),
            [&](oci::RegistryClient& client) { return client.list_referrers(subject, artifact_type); },
            [](const Answer& answer) { return !answer; });
    }
    Result<std::vector<std::string>> list_tags() override {
        return ask<std::vector<std::string>>(
            Question::tag, "the tag list", [](oci::RegistryClient& client) { return client.list_tags(); },
            [](const std::vector<std::string>&) { return false; });
    }

    Result<oci::StoredManifest> put_manifest(const std::string&, const std::string&, std::string_view) override {
        return unexpected(read_only());
    }
    Result<void> put_blob(const Descriptor&, std::string_view, const oci::TransferObserver&) override {
        return unexpected(read_only());
    }
    bool indexes_referrers_itself(const oci::StoredManifest&) const override { return false; }

private:
    template <class Answer>
    Result<Answer> ask(Question question, const std::string& what,
                       const std::function<Result<Answer>(oci::RegistryClient&)>& ask_one,
                       const std::function<bool(const Answer&)>& missing) {
        const auto may_answer = [&](const Connection& c) {
            return question == Question::tag ? c.endpoint.answers_tags : c.endpoint.serves_digests;
        };
        auto remaining = std::count_if(connections_.begin(), connections_.end(), may_answer);
        if (remaining == 0)
            return unexpected(Error(ErrorKind::usage,
                                    source_ + " lets no host answer for " +
                                        (question == Question::tag ? "a tag" : "content by digest") + " of " + where(),
                                    "give its server (or a host) the capabilities pull and resolve"));
        std::optional<Result<Answer>> last;
        std::vector<std::string> failures;
        bool mirrors_lack_it = false;  // a mirror was asked and had not got it (404)
        for (auto& connection : connections_) {
            if (!may_answer(connection)) continue;
            const bool last_chance = --remaining == 0;
            const auto& endpoint = connection.endpoint;
            if (!last_chance && connection.watched && connection.watched->unreachable()) {
                trace("* " + endpoint.describe() + " could not be reached before: not asked for " + what);
                continue;
            }
            trace("* asking " + endpoint.describe() + " for " + what);
            auto answer = ask_one(client(connection));
            if (answer && !missing(*answer)) {
                served(connection, mirrors_lack_it);
                return answer;
            }
            if (!answer && answer.error().kind != ErrorKind::not_found) {
                if (!next_may_answer(answer.error().kind))
                    return unexpected(blame(endpoint, std::move(answer).error()));
                if (!last_chance) {
                    tell_failure(connection, answer.error());
                    failures.push_back(endpoint.describe() + ": " + answer.error().message);
                }
            } else {
                trace("* " + endpoint.describe() + " does not have " + what);
                mirrors_lack_it = true;
            }
            last.emplace(std::move(answer));
        }
        // The last endpoint's answer stands (the registry itself, unless configured otherwise).
        if (!*last) {
            auto error = std::move(*last).error();
            for (const auto& failure : failures) error.details.push_back("before that, " + failure);
            return unexpected(std::move(error));
        }
        return std::move(*last);
    }

    oci::RegistryClient& client(Connection& connection) {
        if (connection.remote) return *connection.remote->client;
        const auto& endpoint = connection.endpoint;
        auto transport = transport_;
        auto client = client_options(options_, transport, false);
        if (!endpoint.is_reference_registry) {
            // The command's TLS flags and credentials are for the registry the reference names;
            // another host gets its configuration's settings and its own stored credentials.
            transport.insecure = false;
            transport.ca_file.clear();
            transport.cert_file.clear();
            transport.key_file.clear();
            client.plain_http = false;
            client.credentials = {};
            client.find_credentials = nullptr;
            if (options_.mirrors.find_credentials)
                client.find_credentials = [find = options_.mirrors.find_credentials,
                                           host = endpoint.reference.registry()] { return find(host); };
        }
        transport.insecure = transport.insecure || endpoint.skip_verify;
        transport.extra_ca_pem = endpoint.ca_pem;
        if (!endpoint.client_certificate.empty() && transport.cert_file.empty()) {
            transport.cert_file = endpoint.client_certificate.string();
            transport.key_file = endpoint.client_key.string();
        }
        client.plain_http = client.plain_http || endpoint.plain_http;
        client.plain_http_fallback = endpoint.plain_http_fallback;
        client.api_root = endpoint.api_root;
        client.namespace_query = endpoint.namespace_query;
        // The next endpoint is a mirror's retry (containerd retries on the last host only).
        if (!endpoint.is_upstream) client.max_attempts = 1;
        Remote remote;
        client.tokens = remote.tokens.get();
        auto watched = std::make_unique<WatchedTransport>(oci::make_curl_transport(transport));
        connection.watched = watched.get();
        remote.transport = std::move(watched);
        remote.client = std::make_unique<oci::RegistryClient>(endpoint.reference, std::move(client), *remote.transport);
        connection.remote = std::move(remote);
        return *connection.remote->client;
    }

    // One line when the endpoint that serves the reads changes: a mirror (or the location the
    // configuration gives the registry) always; the registry itself after a mirror failed, or when
    // it serves the first read because the mirrors had not got it. (Later questions that only the
    // registry answers, such as a referrers API a cache does not offer, are not news.)
    void served(const Connection& connection, bool mirrors_lack_it) {
        if (announced_ == &connection) return;
        const auto& endpoint = connection.endpoint;
        if (endpoint.is_reference_registry) {
            if (failure_since_announced_)
                notice("Reading " + where() + " from the registry itself");
            else if (mirrors_lack_it && !announced_)
                notice("Reading " + where() + " from the registry itself: its mirrors have not got it");
            else
                return;
        } else if (endpoint.is_upstream) {
            notice("Reading " + where() + " from " + endpoint.describe() + " (" + endpoint.configured_at + ")");
        } else {
            notice("Reading " + where() + " through the mirror " + endpoint.describe() + " (" + endpoint.configured_at +
                   ")");
        }
        announced_ = &connection;
        failure_since_announced_ = false;
    }

    void tell_failure(Connection& connection, const Error& error) {
        if (connection.failure_told) {
            trace("* " + connection.endpoint.describe() + " failed again: " + error.message);
            return;
        }
        connection.failure_told = true;
        failure_since_announced_ = true;
        notice("Mirror " + connection.endpoint.describe() + " failed (" + error.message +
               "); trying the next endpoint");
    }

    // A lie (or a refusal to go on) from another host than the reference's: say which.
    Error blame(const mirrors::Endpoint& endpoint, Error error) const {
        if (endpoint.is_reference_registry || error.kind == ErrorKind::cancelled) return error;
        error.hint = std::string(endpoint.is_upstream ? "" : "the mirror ") + endpoint.describe() + " (" +
                     endpoint.configured_at + ") sent it: it is broken or compromised, and what it sent was refused; " +
                     "tell its operators, or pass --no-mirrors to read from " + where() + " itself";
        return error;
    }

    Error read_only() const {
        return Error(ErrorKind::usage, where() + " was opened through its mirrors, which are for reading only");
    }

    void notice(const std::string& line) const {
        if (options_.mirrors.notice) options_.mirrors.notice(line);
    }
    void trace(const std::string& line) const {
        if (options_.trace) options_.trace(line);
    }

    Reference reference_;
    std::string source_;
    RemoteOptions options_;
    oci::TransportOptions transport_;  // with the --timeout deadline of the whole run
    std::vector<Connection> connections_;
    const Connection* announced_ = nullptr;
    bool failure_since_announced_ = false;
};

}  // namespace

std::unique_ptr<oci::Target> make_mirrored_target(const Reference& reference, mirrors::ReadPlan plan,
                                                  const RemoteOptions& options) {
    return std::make_unique<MirroredTarget>(reference, std::move(plan), options);
}

}  // namespace karmor::ops
