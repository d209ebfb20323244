// Reads of one repository through the endpoints the node's mirror configuration names (SPEC §15):
// each question goes to the endpoints that may answer it, in order, and on to the next when one
// cannot be reached, fails (5xx, refusals) or does not have the content (404); the registry itself
// answers last. What an endpoint sends is checked as any registry's is — a manifest or blob that
// does not match its digest stops the read — and names stay the reference's own, so signatures are
// checked against the upstream (logical) repository whichever endpoint served them.
#pragma once

#include <memory>

#include "karmor/options.hpp"
#include "karmor/reference.hpp"
#include "mirrors/endpoints.hpp"
#include "oci/target.hpp"

namespace karmor::ops {

// A target for reading only: its write methods refuse.
std::unique_ptr<oci::Target> make_mirrored_target(const Reference& reference, mirrors::ReadPlan plan,
                                                  const RemoteOptions& options);

}  // namespace karmor::ops
