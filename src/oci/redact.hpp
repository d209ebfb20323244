// Secrets out of -v traces (SPEC §7): pre-signed redirect URLs (S3, GCS, Azure SAS) carry
// credentials in their query.
#pragma once

#include <string>

namespace karmor::oci {

// The URL with the values of query parameters that look like credentials replaced by
// "REDACTED" (signatures, tokens, credentials, keys); everything else kept for debugging.
std::string redact_url(const std::string& url);

}  // namespace karmor::oci
