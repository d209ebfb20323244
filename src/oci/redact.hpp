// Secrets out of everything printed (SPEC §7): pre-signed redirect URLs (S3, GCS, Azure SAS)
// carry credentials in their query, and a URL or a reference can carry USER:PASSWORD@.
#pragma once

#include <string>
#include <string_view>

namespace karmor::oci {

// The URL with the values of query parameters that look like credentials replaced by
// "REDACTED" (signatures, tokens, credentials, keys) and the password of a USER:PASSWORD@
// replaced too; everything else kept for debugging.
std::string redact_url(const std::string& url);

// The same for every URL, bare path with a query (`/v2/x/blobs/…?X-Amz-Signature=…`) and
// SCHEME://USER:PASSWORD@ anywhere in a line of text: what the CLI prints goes through it.
std::string redact_text(std::string_view text);

}  // namespace karmor::oci
