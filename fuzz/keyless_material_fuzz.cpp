// Invariant: whatever the bytes, what the keyless readers accept stays within their bounds (a
// trusted root's lists and chains, a bundle's log entries and proof hashes, a checkpoint's
// size), and the checks that read an entry body or a checkpoint refuse instead of crashing.
// The first byte picks the reader (issue 16; Sigstore bundles of every version and RFC 3161
// timestamps, issue 24).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "signing/rfc3161.hpp"
#include "signing/sigstore_bundle.hpp"
#include "signing/transparency_log.hpp"
#include "signing/trusted_root.hpp"

namespace {

using namespace karmor::signing;

void check_entry(const TlogEntry& entry) {
    if (entry.canonical_body.size() > max_entry_body_bytes) std::abort();
    if (entry.log_index < 0 || entry.integrated_time < 0) std::abort();
    if (entry.inclusion_proof && entry.inclusion_proof->hashes.size() > max_proof_hashes) std::abort();
    SignedContent content;
    std::string why;
    if (entry_records(entry, content, why)) std::abort();  // records nothing: the content is empty
    if (why.empty()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
    switch (data[0] % 6) {
        case 0: {
            auto root = parse_trusted_root(bytes, "fuzz.json");
            if (!root) return 0;
            if (root->certificate_authorities.empty() && root->tlogs.empty() && root->timestamp_authorities.empty())
                std::abort();
            if (root->certificate_authorities.size() > max_trusted_root_entries ||
                root->tlogs.size() > max_trusted_root_entries || root->ctlogs.size() > max_trusted_root_entries)
                std::abort();
            for (const auto& authority : root->certificate_authorities)
                if (authority.chain.empty() || authority.chain.size() > max_chain_certificates) std::abort();
            for (const auto& log : root->tlogs)
                if (!log.key && log.unusable.empty()) std::abort();
            return 0;
        }
        case 1: {
            auto entry = parse_cosign_bundle_annotation(bytes);
            if (entry) check_entry(*entry);
            return 0;
        }
        case 2: {
            auto bundle = parse_dsse_bundle(bytes);
            if (!bundle) return 0;
            if (bundle->tlog_entries.size() > max_tlog_entries) std::abort();
            if (bundle->certificate_der.size() > max_certificate_bytes) std::abort();
            for (const auto& entry : bundle->tlog_entries) check_entry(entry);
            return 0;
        }
        case 4: {
            auto bundle = parse_sigstore_bundle(bytes);
            if (!bundle) return 0;
            if (bundle->version < 1 || bundle->version > 3 || bundle->rfc3161_timestamps.size() > max_timestamps ||
                bundle->der_signatures.empty())
                std::abort();
            for (const auto& entry : bundle->tlog_entries) check_entry(entry);
            return 0;
        }
        case 5: {
            // Parsed as far as it goes; without an authority nothing verifies.
            if (verify_rfc3161_timestamp(bytes, "a signature", {})) std::abort();
            return 0;
        }
        default: {
            TrustedLog log;  // no key: nothing verifies, but the note is still read
            log.key_id = std::string(32, '\x01');
            if (verify_checkpoint(bytes, log)) std::abort();
            return 0;
        }
    }
}
