// SPEC §3. The grammar follows the distribution reference grammar: a repository is
// path components of [a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)* separated by '/'.
#include "karmor/reference.hpp"

#include <algorithm>

#include "oci/reference_grammar.hpp"
#include "util/loopback.hpp"

namespace karmor {
namespace {

constexpr const char* expected_form = "a reference has the form [REGISTRY[:PORT]/]REPOSITORY[:TAG][@sha256:HEX], "
                                      "for example localhost:5000/team/policies:v1";

Unexpected<Error> invalid(std::string_view text, const std::string& why) {
    return unexpected(
        Error(ErrorKind::usage, "invalid reference \"" + std::string(text) + "\": " + why, expected_form));
}

constexpr std::size_t max_host_name_length = 253;

bool looks_like_registry(std::string_view component) {
    return component.find('.') != std::string_view::npos || component.find(':') != std::string_view::npos ||
           component == "localhost";
}

}  // namespace

Result<Reference> Reference::parse(std::string_view text) {
    if (text.empty()) return invalid(text, "it is empty");
    if (text.size() > 4096) return invalid(text.substr(0, 64), "it is longer than 4096 characters");
    // USER:PASSWORD@HOST/REPO: an '@' that starts no digest, with a path after it or none
    // before it. The reference is not echoed: the password would be printed.
    if (const auto at = text.find('@');
        at != std::string_view::npos && !Digest::parse(text.substr(at + 1)).has_value() &&
        (text.find('/', at) != std::string_view::npos || text.substr(0, at).find('/') == std::string_view::npos)) {
        const auto user = text.substr(0, std::min(text.find(':'), at));
        return unexpected(Error(ErrorKind::usage,
                                "invalid reference \"" + std::string(user) + ":REDACTED" +
                                    std::string(text.substr(at)) + "\": it holds a user name and password",
                                "credentials never go into a reference: run `karmor oci login " +
                                    std::string(text.substr(at + 1, text.find('/') - at - 1)) +
                                    "` or pass -u USER --password-stdin"));
    }

    Reference ref;
    std::string_view rest = text;

    if (const auto at = rest.find('@'); at != std::string_view::npos) {
        auto digest = Digest::parse(rest.substr(at + 1));
        if (!digest) return invalid(text, digest.error().message);
        ref.digest_ = *digest;
        rest = rest.substr(0, at);
    }

    std::string_view name = rest;
    if (const auto slash = rest.find('/');
        slash != std::string_view::npos && looks_like_registry(rest.substr(0, slash))) {
        ref.registry_ = std::string(rest.substr(0, slash));
        name = rest.substr(slash + 1);
    } else {
        ref.registry_ = "docker.io";
    }

    // A tag is after the last ':' of the repository part (the registry's port is gone).
    if (const auto colon = name.rfind(':'); colon != std::string_view::npos) {
        ref.tag_ = std::string(name.substr(colon + 1));
        name = name.substr(0, colon);
        if (!oci::grammar::is_tag(ref.tag_))
            return invalid(text, "tag \"" + ref.tag_ + "\" must match [A-Za-z0-9_][A-Za-z0-9._-]{0,127}");
    }

    if (!oci::grammar::is_registry_host(ref.registry_))
        return invalid(text, "registry \"" + ref.registry_ + "\" is not a host name with an optional port");
    // A DNS name has at most 253 characters (RFC 1035). The grammar alone bounds no label, and
    // a 4,000-character host made the normalized form (":latest" added) longer than a reference
    // may be, so it no longer parsed.
    if (const auto host_end = ref.registry_.find(ref.registry_.front() == '[' ? ']' : ':');
        std::min(host_end, ref.registry_.size()) > max_host_name_length)
        return invalid(text.substr(0, 64), "the registry's host name is longer than 253 characters");
    // Host names are case-insensitive (RFC 4343): LOCALHOST:5000 is the loopback registry,
    // and credentials stored for registry.example.com apply to Registry.Example.com.
    for (auto& c : ref.registry_)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (name.empty()) return invalid(text, "the repository is missing");
    // Docker Hub's implicit "library/" counts: the normalized name is what a registry sees.
    const bool implicit_library = ref.registry_ == "docker.io" && name.find('/') == std::string_view::npos;
    if (name.size() + (implicit_library ? 8 : 0) > 255)
        return invalid(text, "the repository is longer than 255 characters");

    std::size_t start = 0;
    while (true) {
        const auto slash = name.find('/', start);
        const auto component =
            name.substr(start, slash == std::string_view::npos ? name.size() - start : slash - start);
        if (component.empty()) return invalid(text, "the repository has an empty path component");
        if (!oci::grammar::is_path_component(component)) {
            for (char c : component)
                if (c >= 'A' && c <= 'Z') return invalid(text, "repository names must be lowercase");
            return invalid(text, "repository component \"" + std::string(component) +
                                     "\" may hold only lowercase letters, digits and single separators (. _ __ -)");
        }
        if (slash == std::string_view::npos) break;
        start = slash + 1;
    }
    ref.repository_ = std::string(name);

    if (implicit_library) ref.repository_ = "library/" + ref.repository_;
    if (ref.tag_.empty() && !ref.digest_) ref.tag_ = "latest";
    return ref;
}

std::string Reference::api_host() const {
    if (registry_ == "docker.io" || registry_ == "index.docker.io") return "registry-1.docker.io";
    return registry_;
}

std::string Reference::manifest_reference() const {
    return digest_ ? digest_->str() : tag_;
}

bool Reference::is_loopback() const {
    // registry_ is lowercase: "[::1]:5000", "127.0.0.1:5000", "localhost".
    if (!registry_.empty() && registry_.front() == '[')
        return util::is_loopback_ip(std::string_view(registry_).substr(1, registry_.find(']') - 1));
    return util::is_loopback_host(std::string_view(registry_).substr(0, registry_.find(':')));
}

Reference Reference::with_digest(const Digest& digest) const {
    Reference copy = *this;
    copy.digest_ = digest;
    return copy;
}

Reference Reference::with_tag(std::string tag) const {
    Reference copy = *this;
    copy.tag_ = std::move(tag);
    copy.digest_.reset();
    return copy;
}

std::string Reference::str() const {
    // Appended piece by piece: GCC 12 at -O3 reports ":" + std::string as an overlapping copy
    // (-Wrestrict, a false positive) once the matchers above are inlined here.
    std::string out = registry_;
    out += '/';
    out += repository_;
    if (!tag_.empty()) {
        out += ':';
        out += tag_;
    }
    if (digest_) {
        out += '@';
        out += digest_->str();
    }
    return out;
}

}  // namespace karmor
