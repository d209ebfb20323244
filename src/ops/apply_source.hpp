// The front half that every delivery shares (SPEC §12, §14): pull by digest, verify before
// anything is read, validate, and hand back the policies with the file each came from.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "karmor/apply.hpp"

namespace karmor::ops {

struct PulledPolicies {
    std::vector<Policy> policies;  // origin.file: the policy's file in the artifact
    Digest digest;
    std::string location;  // REF@DIGEST (or DIR@DIGEST for a layout)
    std::string tag;       // the tag REF named, "" when by digest
    std::vector<SignatureReport> signatures;
};

// Nothing is returned unless every check passed: a failure means nothing may be sent.
Result<PulledPolicies> pull_for_apply(const PolicySource& source);

// `follow --apply`: the policies of the version directory follow switched to (follow validated
// them before switching), each with its file name as origin.
Result<std::vector<Policy>> load_followed_directory(const std::filesystem::path& directory);

}  // namespace karmor::ops
