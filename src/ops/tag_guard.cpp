#include "ops/tag_guard.hpp"

#include "bundle/artifact.hpp"

namespace karmor::ops {

Result<void> allow_tag_replacement(const oci::Target& target, const std::string& tag,
                                   const oci::FetchedManifest& current, bool force, const std::string& hint) {
    if (force || bundle::is_kubearmor_artifact(current.manifest)) return {};
    return unexpected(Error(ErrorKind::usage,
                            target.describe(tag) + " holds " + bundle::describe_artifact(current.manifest) + " (" +
                                current.digest.str() + "); moving the tag would replace it",
                            hint));
}

Result<TagMove> check_tag_move(oci::Target& target, const std::string& tag, const Digest& digest, bool force) {
    auto held = target.resolve_manifest(tag);
    if (!held) return unexpected(std::move(held).error());
    TagMove move;
    if (!*held) return move;
    if ((*held)->digest == digest) {
        move.unchanged = true;
        return move;
    }
    if (!force) {
        // By digest: what is judged is exactly what would be replaced.
        auto current = target.fetch_manifest((*held)->digest.str());
        if (!current) return unexpected(std::move(current).error());
        if (*current) {
            auto allowed = allow_tag_replacement(target, tag, **current, force,
                                                 "pass --force to move the tag anyway, or choose another tag");
            if (!allowed) return unexpected(std::move(allowed).error());
        }
    }
    move.replaced = (*held)->digest;
    return move;
}

}  // namespace karmor::ops
