// The reference a command works on: positional (`karmor oci pull REF`, as oras and helm take
// it) or -i/--image (the seed's flag), with the schemes that users carry over from other tools.
#include <filesystem>

#include "cli/cli.hpp"

namespace karmor::cli {
namespace {

constexpr std::string_view oci_scheme = "oci://";

bool starts_with(std::string_view text, std::string_view prefix) {
    return text.substr(0, prefix.size()) == prefix;
}

// `oci://REF` is Helm's and Flux's spelling of a registry reference: the same REF. A web URL is
// not a reference; say so rather than letting the parser complain about "https:".
Result<std::string> without_scheme(const std::string& text) {
    if (starts_with(text, oci_scheme)) return text.substr(oci_scheme.size());
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
    return text;
}

// The directory part of DIR[:TAG|@DIGEST] exists here: the user most likely meant a layout.
bool names_local_directory(const std::string& text) {
    auto layout = LayoutReference::parse(text);
    std::error_code ec;
    return layout && !layout->directory.empty() && std::filesystem::is_directory(layout->directory, ec);
}

}  // namespace

void TargetFlags::add_to(CLI::App& command, const std::string& description) {
    command.add_option("REF", positional, description);
    command.add_option("-i,--image", image, "REF, as a flag");
    command.add_flag("--oci-layout", oci_layout, "REF is a local OCI image layout DIR[:TAG|@DIGEST]");
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
    if (oci_layout || error.kind == ErrorKind::usage || !names_local_directory(text())) return;
    error.hint = "\"" + text() + "\" is also a directory here: add --oci-layout to use it as an OCI image layout" +
                 (error.hint.empty() ? "" : "; or " + error.hint);
}

Result<void> parse_target(const std::string& text, bool oci_layout, Reference& reference,
                          std::optional<LayoutReference>& layout) {
    if (oci_layout) {
        auto parsed = LayoutReference::parse(text);
        if (!parsed) return unexpected(std::move(parsed).error());
        layout = std::move(*parsed);
        return {};
    }
    auto plain = without_scheme(text);
    if (!plain) return unexpected(std::move(plain).error());
    auto parsed = Reference::parse(*plain);
    if (!parsed) {
        auto error = std::move(parsed).error();
        if (*plain == text && names_local_directory(text))
            error.hint = "\"" + text + "\" is a directory here: add --oci-layout to use it as an OCI image layout";
        return unexpected(std::move(error));
    }
    reference = std::move(*parsed);
    return {};
}

}  // namespace karmor::cli
