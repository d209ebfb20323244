// Signed-note checkpoints of Rekor v1 and v2.
#include "signing/checkpoint.hpp"

#include <openssl/evp.h>

#include <set>
#include <vector>

#include "signing/strict_json.hpp"
#include "util/encoding.hpp"
#include "util/hashing.hpp"

namespace karmor::signing {
namespace {

Error bad(const std::string& why) {
    return Error(ErrorKind::verification, "the checkpoint " + why);
}

// Valid UTF-8 with no ASCII control character but the newline.
bool is_note_text(std::string_view text) {
    for (std::size_t i = 0; i < text.size();) {
        const auto byte = static_cast<unsigned char>(text[i]);
        if (byte < 0x80) {
            if (byte < 0x20 && byte != '\n') return false;
            if (byte == 0x7f) return false;
            ++i;
            continue;
        }
        std::size_t length = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 0;
        if (length == 0 || byte > 0xf4 || i + length > text.size()) return false;
        for (std::size_t k = 1; k < length; ++k)
            if ((static_cast<unsigned char>(text[i + k]) & 0xc0) != 0x80) return false;
        i += length;
    }
    return true;
}

// C2SP: a key name has no whitespace and no '+'.
bool is_note_name(std::string_view name) {
    if (name.empty()) return false;
    for (const char c : name)
        if (c == ' ' || c == '\t' || c == '\n' || c == '+') return false;
    return true;
}

bool parse_size(std::string_view text, std::int64_t& out) {
    if (text.empty() || text.size() > 18 || (text.size() > 1 && text[0] == '0')) return false;
    out = 0;
    for (const char c : text) {
        if (c < '0' || c > '9') return false;
        out = out * 10 + (c - '0');
    }
    return true;
}

Result<Checkpoint> parse_body(std::string_view text) {
    std::vector<std::string_view> lines;
    for (std::size_t at = 0; at < text.size() && lines.size() < 4;) {
        const auto end = text.find('\n', at);
        lines.push_back(text.substr(at, end - at));
        at = end + 1;
    }
    if (lines.size() < 3) return unexpected(bad("body is not origin, size and root hash"));
    Checkpoint out;
    if (lines[0].empty()) return unexpected(bad("has no origin"));
    out.origin = std::string(lines[0]);
    if (!parse_size(lines[1], out.size)) return unexpected(bad("tree size is not a number"));
    auto root = decode_canonical_base64(lines[2]);
    if (!root || root->size() != 32) return unexpected(bad("root hash is not 32 bytes of base64"));
    out.root_hash = std::move(*root);
    return out;
}

}  // namespace

std::string url_host(std::string_view url) {
    const auto scheme = url.find("://");
    if (scheme == std::string_view::npos) return {};
    auto rest = url.substr(scheme + 3);
    rest = rest.substr(0, rest.find_first_of("/?#"));
    if (const auto at = rest.rfind('@'); at != std::string_view::npos) rest.remove_prefix(at + 1);
    if (!rest.empty() && rest.front() == '[') return std::string(rest.substr(1, rest.find(']') - 1));
    return std::string(rest.substr(0, rest.find(':')));
}

std::string note_key_hash(const TrustedLog& log, std::string_view name, CheckpointStyle style) {
    if (!log.key) return {};
    const auto der = public_key_der(log.key.get());
    if (style == CheckpointStyle::rekor_v1 || EVP_PKEY_get_base_id(log.key.get()) == EVP_PKEY_EC)
        return util::sha256_raw(der).substr(0, 4);
    std::string material(name);
    material += '\n';
    if (EVP_PKEY_get_base_id(log.key.get()) == EVP_PKEY_ED25519) {
        unsigned char raw[32];
        std::size_t length = sizeof raw;
        if (EVP_PKEY_get_raw_public_key(log.key.get(), raw, &length) != 1 || length != sizeof raw) return {};
        material += '\x01';
        material.append(reinterpret_cast<const char*>(raw), length);
    } else {
        // rekor-tiles' identifier for RSA keys: an undefined algorithm byte and a type name.
        material += '\xff';
        material += "PKIX-RSA-PKCS#1v1.5";
        material += der;
    }
    return util::sha256_raw(material).substr(0, 4);
}

Result<Checkpoint> verify_checkpoint(std::string_view note, const TrustedLog& log, CheckpointStyle style) {
    if (note.size() > max_checkpoint_bytes) return unexpected(bad("is too large"));
    if (!is_note_text(note)) return unexpected(bad("is not UTF-8 text without control characters"));
    const auto split = note.rfind("\n\n");
    if (split == std::string_view::npos) return unexpected(bad("has no signature block"));
    const auto text = note.substr(0, split + 1);
    auto signatures = note.substr(split + 2);
    if (signatures.empty() || signatures.back() != '\n')
        return unexpected(bad("signature block is empty or does not end with a newline"));

    const std::string log_name = style == CheckpointStyle::rekor_v2 ? url_host(log.base_url) : std::string();
    if (style == CheckpointStyle::rekor_v2 && log_name.empty())
        return unexpected(bad("cannot be checked: the log's baseUrl in the trusted root has no host"));
    const auto key_hash = note_key_hash(log, log_name, style);
    constexpr std::string_view dash = "\xe2\x80\x94 ";  // U+2014 EM DASH and a space
    bool signed_by_log = false;
    std::size_t count = 0;
    std::set<std::string_view> seen;
    while (!signatures.empty()) {
        const auto end = signatures.find('\n');
        const auto line = signatures.substr(0, end);
        signatures.remove_prefix(end + 1);
        if (++count > max_checkpoint_signatures)
            return unexpected(bad("has more than " + std::to_string(max_checkpoint_signatures) + " signatures"));
        if (line.substr(0, dash.size()) != dash)
            return unexpected(bad("has a signature line that does not start with \"— \""));
        const auto rest = line.substr(dash.size());
        const auto space = rest.find(' ');
        if (space == std::string_view::npos) return unexpected(bad("has a signature line without a signature"));
        const auto name = rest.substr(0, space);
        const auto raw = decode_canonical_base64(rest.substr(space + 1));
        if (!is_note_name(name) || !raw || raw->size() < 5)
            return unexpected(bad("has a signature line that is not NAME BASE64"));
        const bool logs_line = raw->substr(0, 4) == key_hash && (log_name.empty() || name == log_name);
        if (!logs_line || !seen.insert(line).second) continue;  // a witness's, or the same line again
        if (!log.verify(text, raw->substr(4)))
            return unexpected(bad("carries a signature under the log's key " + util::to_hex(log.key_id).substr(0, 16) +
                                  "… that does not verify"));
        signed_by_log = true;
    }
    if (!signed_by_log)
        return unexpected(Error(ErrorKind::verification, "the checkpoint is not signed by the log's key " +
                                                             util::to_hex(log.key_id).substr(0, 16) +
                                                             "… from the trusted root" +
                                                             (log_name.empty() ? "" : " under the name " + log_name)));
    auto checkpoint = parse_body(text);
    if (!checkpoint) return checkpoint;
    if (style == CheckpointStyle::rekor_v2 && checkpoint->origin != log_name)
        return unexpected(bad("is of origin \"" + checkpoint->origin + "\", not the log's host " + log_name));
    return checkpoint;
}

}  // namespace karmor::signing
