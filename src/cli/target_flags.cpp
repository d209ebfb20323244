// The reference a command works on: positional (`karmor oci pull REF`, as oras and helm take
// it) or -i/--image (the seed's flag), with the schemes that users carry over from other tools.
// What looks like a local path is never sent to Docker Hub (issue 22): a reference without a
// registry that names a file or directory here is an error that says so.
#include <algorithm>
#include <array>
#include <filesystem>

#include "cli/cli.hpp"

namespace karmor::cli {
namespace {

bool starts_with(std::string_view text, std::string_view prefix) {
    return text.substr(0, prefix.size()) == prefix;
}

bool ends_with(std::string_view text, std::string_view suffix) {
    return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// skopeo's transports other than docker:// (which is a registry reference, like oci://), and
// what karmor does instead.
struct ForeignTransport {
    std::string_view prefix;
    const char* instead;
};
constexpr std::array foreign_transports = {
    ForeignTransport{"oci-archive:", "for a tar written by `karmor oci save` or skopeo, use `karmor oci load -i FILE "
                                     "--to REPO`"},
    ForeignTransport{"oci:", "for an OCI image layout directory, give DIR[:TAG] with --oci-layout"},
    ForeignTransport{"docker-archive:", "karmor reads OCI layouts (--oci-layout) and OCI archives (`karmor oci load`), "
                                        "not docker save's tars"},
    ForeignTransport{"docker-daemon:", "karmor speaks to registries, not to a Docker engine"},
    ForeignTransport{"containers-storage:", "karmor speaks to registries, not to local container storage"},
    ForeignTransport{"dir:", "for an OCI image layout directory, give DIR[:TAG] with --oci-layout"},
};

// `oci://REF` (Helm, Flux) and `docker://REF` (skopeo) are REF. A web URL is not a reference,
// nor is one of skopeo's other transports: say what to write instead.
Result<std::string> without_scheme(const std::string& text) {
    for (const std::string_view scheme : {"oci://", "docker://"})
        if (starts_with(text, scheme)) return text.substr(scheme.size());
    for (const std::string_view scheme : {"https://", "http://"}) {
        if (starts_with(text, scheme)) {
            auto rest = text.substr(scheme.size());
            // A `user:password@` has no place in a reference (credentials come from login or
            // --password-stdin): the suggestion does not repeat it.
            if (const auto at = rest.find('@'); at != std::string::npos && at < rest.find('/')) rest.erase(0, at + 1);
            return unexpected(
                Error(ErrorKind::usage, "\"" + text + "\" is a URL, not an OCI reference",
                      "drop the scheme: " + rest +
                          (scheme == "http://" ? " (with --plain-http for a registry without TLS)" : "")));
        }
    }
    for (const auto& transport : foreign_transports) {
        // "oci:5000/repo" is a registry named oci with a port, not skopeo's oci: transport.
        if (!starts_with(text, transport.prefix) || text.size() == transport.prefix.size()) continue;
        if (std::isdigit(static_cast<unsigned char>(text[transport.prefix.size()]))) continue;
        return unexpected(Error(ErrorKind::usage,
                                "\"" + text + "\" uses skopeo's " +
                                    std::string(transport.prefix.substr(0, transport.prefix.size() - 1)) +
                                    ": transport, which karmor does not take",
                                transport.instead));
    }
    return text;
}

// The directory part of DIR[:TAG|@DIGEST].
std::filesystem::path layout_directory(const std::string& text) {
    auto layout = LayoutReference::parse(text);
    return layout ? layout->directory : std::filesystem::path(text);
}

bool names_local_directory(const std::string& text) {
    const auto directory = layout_directory(text);
    std::error_code ec;
    return !directory.empty() && std::filesystem::is_directory(directory, ec);
}

// Written the way a path is written: ./x, ../x, /x, ~/x, . or ..
bool written_as_path(std::string_view text) {
    return text == "." || text == ".." || starts_with(text, "./") || starts_with(text, "../") ||
           starts_with(text, "/") || starts_with(text, "~");
}

// Named like a file: a reference has no such suffixes, a policy file or an archive has.
bool named_like_file(std::string_view text) {
    for (const std::string_view suffix : {".yaml", ".yml", ".json", ".tar", ".tgz", ".tar.gz"})
        if (ends_with(text, suffix)) return true;
    return false;
}

// No registry component: the reference means Docker Hub (SPEC §3).
bool means_docker_hub(std::string_view text) {
    const auto slash = text.find('/');
    if (slash == std::string_view::npos) return true;
    const auto first = text.substr(0, slash);
    return first.find('.') == std::string_view::npos && first.find(':') == std::string_view::npos &&
           first != "localhost";
}

// `text`, which the user gave as a registry reference, is a path here or looks like one.
std::optional<Error> local_path_instead(const std::string& text, const TargetSyntax& syntax) {
    const bool path_like = written_as_path(text);
    if (!path_like && !means_docker_hub(text)) return std::nullopt;
    std::error_code ec;
    const auto directory = layout_directory(text);
    const bool is_directory = std::filesystem::is_directory(directory, ec);
    const bool exists = is_directory || std::filesystem::exists(std::filesystem::path(text), ec);
    const std::string use_layout = "add " + syntax.layout_flag + " to use it as an OCI image layout DIR[:TAG|@DIGEST]";
    if (is_directory)
        return Error(ErrorKind::usage, "\"" + text + "\" is a directory here, not a registry reference",
                     use_layout + (path_like ? std::string() : "; for Docker Hub write docker.io/" + text));
    if (exists)
        return Error(ErrorKind::usage, "\"" + text + "\" is a file here, not a registry reference",
                     syntax.files_hint.empty()
                         ? "REF names a repository, e.g. localhost:5000/team/policies:v1" +
                               std::string(path_like ? "" : "; for Docker Hub write docker.io/" + text)
                         : syntax.files_hint);
    if (path_like) {
        if (syntax.creates_layout)
            return Error(ErrorKind::usage, "\"" + text + "\" is a path, not a registry reference", use_layout);
        return Error(ErrorKind::io, directory.string() + ": no such file or directory",
                     "check the path; with " + syntax.layout_flag + " REF is a local OCI image layout DIR[:TAG]");
    }
    if (named_like_file(text))
        return Error(ErrorKind::io, text + ": no such file or directory",
                     "check the file name; a repository on Docker Hub is written docker.io/" + text);
    return std::nullopt;
}

}  // namespace

void TargetFlags::add_to(CLI::App& command, const std::string& description, bool with_layout) {
    command.add_option("REF", positional, description);
    command.add_option("-i,--image", image, "REF, as a flag");
    if (with_layout) command.add_flag("--oci-layout", oci_layout, "REF is a local OCI image layout DIR[:TAG|@DIGEST]");
}

std::string TargetFlags::text() const {
    return positional.empty() ? image : positional;
}

Result<void> TargetFlags::resolve(Reference& reference, std::optional<LayoutReference>& layout) const {
    if (positional.empty() && image.empty())
        return unexpected(
            Error(ErrorKind::usage, "no reference given", "name it as the first argument or with -i/--image REF"));
    if (!positional.empty() && !image.empty() && positional != image)
        return unexpected(Error(ErrorKind::usage, "two references given: " + positional + " and -i " + image,
                                "give one, either as the first argument or with -i/--image"));
    return parse_target(text(), oci_layout, reference, layout);
}

void TargetFlags::explain(Error& error) const {
    explain_target(text(), oci_layout, error);
}

void explain_target(const std::string& text, bool oci_layout, Error& error, const TargetSyntax& syntax) {
    if (oci_layout || error.kind == ErrorKind::usage) return;
    if (names_local_directory(text)) {
        error.hint = "\"" + text + "\" is also a directory here: add " + syntax.layout_flag +
                     " to use it as an OCI image layout" + (error.hint.empty() ? "" : "; or " + error.hint);
    } else if (means_docker_hub(text) && !starts_with(text, "docker.io/")) {
        // A registry-less name means Docker Hub; say so, since the user may have meant a layout.
        error.hint += std::string(error.hint.empty() ? "" : "; ") + "\"" + text +
                      "\" has no registry, so it means Docker Hub (docker.io); for a local OCI image layout add " +
                      syntax.layout_flag;
    }
}

Result<void> parse_target(const std::string& text, bool oci_layout, Reference& reference,
                          std::optional<LayoutReference>& layout, const TargetSyntax& syntax) {
    if (text.empty())
        return unexpected(
            Error(ErrorKind::usage, "an empty reference", "name a reference, e.g. localhost:5000/team/policies:v1"));
    if (oci_layout) {
        auto parsed = LayoutReference::parse(text);
        if (!parsed) return unexpected(std::move(parsed).error());
        layout = std::move(*parsed);
        return {};
    }
    auto plain = without_scheme(text);
    if (!plain) return unexpected(std::move(plain).error());
    if (*plain == text) {
        if (auto instead = local_path_instead(text, syntax)) return unexpected(std::move(*instead));
    }
    auto parsed = Reference::parse(*plain);
    if (!parsed) return unexpected(std::move(parsed).error());
    reference = std::move(*parsed);
    return {};
}

}  // namespace karmor::cli
