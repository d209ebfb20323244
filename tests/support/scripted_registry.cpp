#include "support/scripted_registry.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>

#include "karmor/digest.hpp"

namespace karmor::testing {
namespace {

std::string percent_decode(const std::string& text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '%' && i + 2 < text.size()) {
            out += static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16));
            i += 2;
        } else {
            out += text[i] == '+' ? ' ' : text[i];
        }
    }
    return out;
}

std::string query_value(const std::string& query, const std::string& name) {
    std::size_t start = 0;
    while (start <= query.size()) {
        const auto end = std::min(query.find('&', start), query.size());
        const auto pair = query.substr(start, end - start);
        const auto eq = pair.find('=');
        if (eq != std::string::npos && pair.substr(0, eq) == name) return percent_decode(pair.substr(eq + 1));
        start = end + 1;
    }
    return {};
}

bool send_all(int fd, const std::string& data) {
    std::size_t sent = 0;
    while (sent < data.size()) {
        const auto n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) return false;
        sent += static_cast<std::size_t>(n);
    }
    return true;
}

const char* reason(int status) {
    switch (status) {
        case 200: return "OK";
        case 201: return "Created";
        case 202: return "Accepted";
        case 400: return "Bad Request";
        case 404: return "Not Found";
        default: return "Status";
    }
}

std::string errors_body(const std::string& code, const std::string& message) {
    return nlohmann::json{{"errors", {{{"code", code}, {"message", message}}}}}.dump();
}

}  // namespace

ScriptedRegistry::ScriptedRegistry(ScriptedRegistryOptions options) : options_(options) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return;
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    socklen_t length = sizeof address;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(fd, 16) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        ::close(fd);
        return;
    }
    listener_ = fd;
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { serve(); });
}

ScriptedRegistry::~ScriptedRegistry() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
    if (listener_ >= 0) ::close(listener_);
}

std::vector<std::string> ScriptedRegistry::requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
}

void ScriptedRegistry::on_request(std::function<void(const std::string&, const std::string&)> hook) {
    std::lock_guard lock(mutex_);
    hook_ = std::move(hook);
}

void ScriptedRegistry::put_manifest(const std::string& repository, const std::string& reference,
                                    const std::string& media_type, const std::string& bytes) {
    std::lock_guard lock(mutex_);
    store_manifest_locked(repository, reference, media_type, bytes);
}

std::optional<std::string> ScriptedRegistry::manifest(const std::string& repository,
                                                      const std::string& reference) const {
    std::lock_guard lock(mutex_);
    std::string digest = reference;
    if (!Digest::parse(reference)) {
        const auto tags = tags_.find(repository);
        if (tags == tags_.end() || !tags->second.count(reference)) return std::nullopt;
        digest = tags->second.at(reference);
    }
    const auto repo = manifests_.find(repository);
    if (repo == manifests_.end() || !repo->second.count(digest)) return std::nullopt;
    return repo->second.at(digest).bytes;
}

std::vector<std::string> ScriptedRegistry::tags(const std::string& repository) const {
    std::lock_guard lock(mutex_);
    std::vector<std::string> out;
    if (const auto it = tags_.find(repository); it != tags_.end())
        for (const auto& [tag, digest] : it->second) out.push_back(tag);
    return out;
}

std::string ScriptedRegistry::store_manifest_locked(const std::string& repository, const std::string& reference,
                                                    const std::string& media_type, const std::string& bytes) {
    const auto digest = Digest::sha256_of(bytes).str();
    manifests_[repository][digest] = {media_type, bytes};
    if (!Digest::parse(reference)) tags_[repository][reference] = digest;
    return digest;
}

void ScriptedRegistry::serve() {
    while (!stopping_) {
        pollfd p{listener_, POLLIN, 0};
        if (::poll(&p, 1, 50) <= 0) continue;
        const int connection = ::accept(listener_, nullptr, nullptr);
        if (connection < 0) continue;
        handle(connection);
        ::close(connection);
    }
}

void ScriptedRegistry::handle(int connection) {
    // One request per connection (Connection: close): enough for a test client.
    std::string data;
    char buffer[65536];
    std::size_t header_end = std::string::npos;
    while (header_end == std::string::npos) {
        const auto n = ::recv(connection, buffer, sizeof buffer, 0);
        if (n <= 0) return;
        data.append(buffer, static_cast<std::size_t>(n));
        header_end = data.find("\r\n\r\n");
    }
    const auto request_line_end = data.find("\r\n");
    const auto request_line = data.substr(0, request_line_end);
    const auto first_space = request_line.find(' ');
    const auto second_space = request_line.find(' ', first_space + 1);
    const std::string method = request_line.substr(0, first_space);
    const std::string target = request_line.substr(first_space + 1, second_space - first_space - 1);
    std::map<std::string, std::string> headers;
    std::size_t at = request_line_end + 2;
    while (at < header_end) {
        const auto end = data.find("\r\n", at);
        const auto line = data.substr(at, end - at);
        const auto colon = line.find(':');
        if (colon != std::string::npos) {
            std::string name = line.substr(0, colon);
            std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
            headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
        }
        at = end + 2;
    }
    std::size_t content_length = 0;
    if (headers.count("content-length")) content_length = std::stoul(headers["content-length"]);
    std::string body = data.substr(header_end + 4);
    while (body.size() < content_length) {
        const auto n = ::recv(connection, buffer, sizeof buffer, 0);
        if (n <= 0) return;
        body.append(buffer, static_cast<std::size_t>(n));
    }

    std::function<void(const std::string&, const std::string&)> hook;
    {
        std::lock_guard lock(mutex_);
        requests_.push_back(method + " " + target);
        hook = hook_;
    }
    if (hook) hook(method, target);
    const auto response = answer(method, target, body, headers);

    std::string out = "HTTP/1.1 " + std::to_string(response.status) + " " + reason(response.status) + "\r\n";
    out += "Content-Length: " + std::to_string(response.body.size()) + "\r\nConnection: close\r\n";
    for (const auto& [name, value] : response.headers) out += name + ": " + value + "\r\n";
    out += "\r\n";
    if (method != "HEAD") out += response.body;
    send_all(connection, out);
}

ScriptedRegistry::Response ScriptedRegistry::answer(const std::string& method, const std::string& target,
                                                    const std::string& body,
                                                    const std::map<std::string, std::string>& headers) {
    const auto question = target.find('?');
    const std::string path = target.substr(0, question);
    const std::string query = question == std::string::npos ? "" : target.substr(question + 1);
    if (path == "/v2/" || path == "/v2") return {200, {}, "{}"};

    const auto split = [&](const std::string& marker, std::string& repository, std::string& rest) {
        const auto at = path.rfind(marker);
        if (path.rfind("/v2/", 0) != 0 || at == std::string::npos || at < 4) return false;
        repository = path.substr(4, at - 4);
        rest = path.substr(at + marker.size());
        return true;
    };
    std::string repository, rest;
    std::lock_guard lock(mutex_);
    if (split("/blobs/uploads/", repository, rest)) {
        if (method == "POST")
            return {202, {{"Location", "/v2/" + repository + "/blobs/uploads/" + std::to_string(++uploads_)}}, ""};
        const auto digest = query_value(query, "digest");
        if (method != "PUT" || digest.empty() || !Digest::parse(digest) || !Digest::parse(digest)->matches(body))
            return {400, {}, errors_body("DIGEST_INVALID", "digest does not match")};
        blobs_[digest] = body;
        return {201, {{"Docker-Content-Digest", digest}}, ""};
    }
    if (split("/blobs/", repository, rest)) {
        const auto it = blobs_.find(rest);
        if (it == blobs_.end()) return {404, {}, errors_body("BLOB_UNKNOWN", "blob unknown")};
        return {200, {{"Docker-Content-Digest", rest}, {"Content-Type", "application/octet-stream"}}, it->second};
    }
    if (path.size() > 15 && path.substr(path.size() - 10) == "/tags/list" && method == "GET")
        return tag_list(path.substr(4, path.size() - 14), query);
    if (split("/referrers/", repository, rest)) {
        if (!options_.referrers_api || method != "GET") return {404, {}, errors_body("NOT_FOUND", "no such route")};
        return referrers(repository, rest, query);
    }
    if (split("/manifests/", repository, rest)) {
        if (method == "PUT") {
            const auto type_header = headers.find("content-type");
            const std::string type = type_header == headers.end() ? "" : type_header->second;
            if (Digest::parse(rest) && !Digest::parse(rest)->matches(body))
                return {400, {}, errors_body("DIGEST_INVALID", "manifest digest does not match")};
            const auto digest = store_manifest_locked(repository, rest, type, body);
            Response response{201, {{"Docker-Content-Digest", digest}}, ""};
            const auto parsed = nlohmann::json::parse(body, nullptr, false);
            if (options_.send_oci_subject && parsed.is_object() && parsed.contains("subject"))
                response.headers.emplace_back("OCI-Subject", parsed["subject"].value("digest", ""));
            return response;
        }
        std::string digest = rest;
        if (!Digest::parse(rest)) {
            const auto tags = tags_.find(repository);
            if (tags == tags_.end() || !tags->second.count(rest))
                return {404, {}, errors_body("MANIFEST_UNKNOWN", "manifest unknown")};
            digest = tags->second.at(rest);
        }
        const auto repo = manifests_.find(repository);
        if (repo == manifests_.end() || !repo->second.count(digest))
            return {404, {}, errors_body("MANIFEST_UNKNOWN", "manifest unknown")};
        const auto& stored = repo->second.at(digest);
        return {200, {{"Content-Type", stored.media_type}, {"Docker-Content-Digest", digest}}, stored.bytes};
    }
    return {404, {}, errors_body("NOT_FOUND", "no such route")};
}

ScriptedRegistry::Response ScriptedRegistry::tag_list(const std::string& repository, const std::string& query) {
    const auto repo = tags_.find(repository);
    if (repo == tags_.end()) return {404, {}, errors_body("NAME_UNKNOWN", "repository name not known to registry")};
    std::size_t limit = options_.tags_page_size;
    if (const auto n = query_value(query, "n"); !n.empty()) limit = std::min<std::size_t>(limit, std::stoul(n));
    const auto last = query_value(query, "last");
    nlohmann::json body = {{"name", repository}, {"tags", nlohmann::json::array()}};
    auto it = last.empty() ? repo->second.begin() : repo->second.upper_bound(last);
    for (; it != repo->second.end() && body["tags"].size() < limit; ++it) body["tags"].push_back(it->first);
    Response response{200, {{"Content-Type", "application/json"}}, body.dump()};
    if (options_.tags_link && it != repo->second.end() && !body["tags"].empty())
        response.headers.emplace_back("Link", "</v2/" + repository + "/tags/list?n=" + std::to_string(limit) +
                                                  "&last=" + body["tags"].back().get<std::string>() +
                                                  ">; rel=\"next\"");
    return response;
}

ScriptedRegistry::Response ScriptedRegistry::referrers(const std::string& repository, const std::string& digest,
                                                       const std::string& query) {
    const auto artifact_type = query_value(query, "artifactType");
    std::vector<nlohmann::json> found;
    if (const auto repo = manifests_.find(repository); repo != manifests_.end()) {
        for (const auto& [manifest_digest, stored] : repo->second) {
            const auto m = nlohmann::json::parse(stored.bytes, nullptr, false);
            if (!m.is_object() || !m.contains("subject") || m["subject"].value("digest", "") != digest) continue;
            nlohmann::json d = {{"mediaType", m.value("mediaType", stored.media_type)},
                                {"digest", manifest_digest},
                                {"size", stored.bytes.size()}};
            std::string type = options_.artifact_type_from_config ? "" : m.value("artifactType", "");
            if (type.empty() && m.contains("config")) type = m["config"].value("mediaType", "");
            d["artifactType"] = type;
            if (m.contains("annotations")) d["annotations"] = m["annotations"];
            if (options_.apply_filter && !artifact_type.empty() && type != artifact_type) continue;
            found.push_back(std::move(d));
        }
    }
    const std::size_t page = query_value(query, "page").empty() ? 0 : std::stoul(query_value(query, "page"));
    nlohmann::json index = {{"schemaVersion", 2},
                            {"mediaType", "application/vnd.oci.image.index.v1+json"},
                            {"manifests", nlohmann::json::array()}};
    const std::size_t begin = page * options_.page_size;
    for (std::size_t i = begin; i < found.size() && i < begin + options_.page_size; ++i)
        index["manifests"].push_back(found[i]);
    Response response{200, {{"Content-Type", "application/vnd.oci.image.index.v1+json"}}, index.dump()};
    if (options_.apply_filter && !artifact_type.empty())
        response.headers.emplace_back("OCI-Filters-Applied", "artifactType");
    if (begin + options_.page_size < found.size()) {
        std::string next = "/v2/" + repository + "/referrers/" + digest + "?page=" + std::to_string(page + 1);
        if (!artifact_type.empty()) {
            const auto at = query.find("artifactType=");
            next += "&" + query.substr(at, query.find('&', at) - at);
        }
        response.headers.emplace_back("Link", "<" + next + ">; rel=\"next\"");
    }
    return response;
}

}  // namespace karmor::testing
