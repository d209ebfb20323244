// The private Sigstore of the keyless tests: CAs, leaves with SCTs, a transparency log and the
// material of both cosign formats, built with OpenSSL's C API (see test_sigstore.hpp).
#include "support/test_sigstore.hpp"

#include <openssl/bn.h>
#include <openssl/ct.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/ts.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <nlohmann/json.hpp>

#include <ctime>
#include <stdexcept>

#include <gtest/gtest.h>

#include "oci/manifest_json.hpp"
#include "oci/target.hpp"
#include "ops/open_target.hpp"
#include "ops/referrers.hpp"
#include "ops/referrers_index.hpp"
#include "signing/legacy_signatures.hpp"
#include "signing/sigstore_bundle.hpp"
#include "signing/simple_signing.hpp"
#include "support/process.hpp"
#include "util/encoding.hpp"
#include "util/hashing.hpp"
#include "util/time.hpp"

namespace karmor::testing::sigstore {
namespace {

// Test code: a failure of OpenSSL here is a broken fixture, not a verdict.
void check(bool ok, const char* what) {
    if (!ok) throw std::runtime_error(std::string("test_sigstore: ") + what + " failed");
}

struct X509Free {
    void operator()(X509* x) const { X509_free(x); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

std::string b64(std::string_view bytes) {
    return util::base64_encode(bytes);
}

std::string random_bytes(std::size_t n) {
    std::string out(n, '\0');
    check(RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) == 1, "RAND_bytes");
    return out;
}

// DER of a UTF8String (the value of the newer Fulcio extensions).
std::string der_utf8(std::string_view value) {
    std::string out(1, '\x0c');
    if (value.size() < 128) {
        out.push_back(static_cast<char>(value.size()));
    } else if (value.size() < 256) {
        out.push_back('\x81');
        out.push_back(static_cast<char>(value.size()));
    } else {
        out.push_back('\x82');
        out.push_back(static_cast<char>(value.size() >> 8));
        out.push_back(static_cast<char>(value.size() & 0xff));
    }
    out += value;
    return out;
}

std::string cert_der(X509* x) {
    unsigned char* buffer = nullptr;
    const int length = i2d_X509(x, &buffer);
    check(length > 0, "i2d_X509");
    std::string out(reinterpret_cast<char*>(buffer), static_cast<std::size_t>(length));
    OPENSSL_free(buffer);
    return out;
}

std::string cert_pem(X509* x) {
    BIO* bio = BIO_new(BIO_s_mem());
    check(PEM_write_bio_X509(bio, x) == 1, "PEM_write_bio_X509");
    char* data = nullptr;
    const long length = BIO_get_mem_data(bio, &data);
    std::string out(data, static_cast<std::size_t>(length));
    BIO_free(bio);
    return out;
}

Certificate to_certificate(X509* x, std::int64_t not_before, std::int64_t not_after) {
    return Certificate{cert_der(x), cert_pem(x), not_before, not_after};
}

X509Ptr parse_der(const std::string& der) {
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    X509Ptr x(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
    check(x != nullptr, "d2i_X509");
    return x;
}

void add_conf_ext(X509* x, X509* issuer, int nid, const std::string& value) {
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer, x, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    check(ext != nullptr, "X509V3_EXT_conf_nid");
    check(X509_add_ext(x, ext, -1) == 1, "X509_add_ext");
    X509_EXTENSION_free(ext);
}

void add_raw_ext(X509* x, const std::string& oid, const std::string& value) {
    ASN1_OBJECT* object = OBJ_txt2obj(oid.c_str(), 1);
    check(object != nullptr, "OBJ_txt2obj");
    ASN1_OCTET_STRING* data = ASN1_OCTET_STRING_new();
    check(ASN1_OCTET_STRING_set(data, reinterpret_cast<const unsigned char*>(value.data()),
                                static_cast<int>(value.size())) == 1,
          "ASN1_OCTET_STRING_set");
    X509_EXTENSION* ext = X509_EXTENSION_create_by_OBJ(nullptr, object, 0, data);
    check(ext != nullptr, "X509_EXTENSION_create_by_OBJ");
    check(X509_add_ext(x, ext, -1) == 1, "X509_add_ext");
    X509_EXTENSION_free(ext);
    ASN1_OCTET_STRING_free(data);
    ASN1_OBJECT_free(object);
}

const EVP_MD* digest_for(const EcKey& key) {
    return EVP_PKEY_get_bits(static_cast<EVP_PKEY*>(key.evp())) > 256 ? EVP_sha384() : EVP_sha256();
}

// A certificate with everything but extensions: serial, names, validity, key.
X509Ptr new_certificate(const EcKey& subject_key, X509_NAME* subject, X509_NAME* issuer, std::int64_t not_before,
                        std::int64_t not_after) {
    X509Ptr x(X509_new());
    check(x != nullptr, "X509_new");
    check(X509_set_version(x.get(), 2) == 1, "X509_set_version");
    const auto serial_bytes = random_bytes(16);
    BIGNUM* serial = BN_bin2bn(reinterpret_cast<const unsigned char*>(serial_bytes.data()), 16, nullptr);
    BN_clear_bit(serial, 127);  // positive
    check(BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x.get())) != nullptr, "serial");
    BN_free(serial);
    check(X509_set_subject_name(x.get(), subject) == 1, "subject");
    check(X509_set_issuer_name(x.get(), issuer) == 1, "issuer");
    check(ASN1_TIME_set(X509_getm_notBefore(x.get()), static_cast<time_t>(not_before)) != nullptr, "notBefore");
    check(ASN1_TIME_set(X509_getm_notAfter(x.get()), static_cast<time_t>(not_after)) != nullptr, "notAfter");
    check(X509_set_pubkey(x.get(), static_cast<EVP_PKEY*>(subject_key.evp())) == 1, "pubkey");
    return x;
}

X509_NAME* ca_name(const std::string& common_name) {
    X509_NAME* name = X509_NAME_new();
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("karmor-test"), -1, -1,
                               0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(common_name.c_str()),
                               -1, -1, 0);
    return name;
}

// A CA certificate; `issuer` and `issuer_key` null/empty for a self-signed root.
Certificate make_ca(const EcKey& key, const std::string& common_name, const Certificate* issuer,
                    const EcKey& issuer_key, std::int64_t not_before, std::int64_t not_after, bool intermediate) {
    X509_NAME* subject = ca_name(common_name);
    X509Ptr issuer_cert = issuer ? parse_der(issuer->der) : nullptr;
    X509Ptr x = new_certificate(key, subject, issuer_cert ? X509_get_subject_name(issuer_cert.get()) : subject,
                                not_before, not_after);
    X509_NAME_free(subject);
    X509* signer = issuer_cert ? issuer_cert.get() : x.get();
    add_conf_ext(x.get(), signer, NID_basic_constraints,
                 intermediate ? "critical,CA:TRUE,pathlen:0" : "critical,CA:TRUE");
    add_conf_ext(x.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
    add_conf_ext(x.get(), signer, NID_subject_key_identifier, "hash");
    if (issuer_cert) {
        add_conf_ext(x.get(), signer, NID_authority_key_identifier, "keyid:always");
        // Fulcio's intermediate names the one purpose of its leaves.
        add_conf_ext(x.get(), signer, NID_ext_key_usage, "codeSigning");
    }
    const EcKey& signing_key = issuer ? issuer_key : key;
    check(X509_sign(x.get(), static_cast<EVP_PKEY*>(signing_key.evp()), digest_for(signing_key)) > 0, "X509_sign");
    return to_certificate(x.get(), not_before, not_after);
}

// A timestamping certificate as RFC 3161 §2.3 wants it: an end entity whose one extended key usage
// is timeStamping, marked critical.
Certificate make_tsa_leaf(const EcKey& key, const Certificate& issuer, const EcKey& issuer_key, std::int64_t not_before,
                          std::int64_t not_after);

std::string workflow_repository(const std::string& uri) {
    // https://github.com/ORG/REPO/.github/workflows/FILE@REF → ORG/REPO
    const std::string prefix = "https://github.com/";
    if (uri.rfind(prefix, 0) != 0) return {};
    const auto rest = uri.substr(prefix.size());
    const auto end = rest.find("/.github/");
    return end == std::string::npos ? std::string() : rest.substr(0, end);
}

std::string workflow_ref(const std::string& uri) {
    const auto at = uri.rfind('@');
    return at == std::string::npos ? std::string() : uri.substr(at + 1);
}

std::string set_payload(const LogEntry& entry, std::int64_t integrated_time) {
    // Canonical JSON (RFC 8785): nlohmann::json keeps keys sorted and prints compactly.
    nlohmann::json payload = {{"body", b64(entry.body)},
                              {"integratedTime", integrated_time},
                              {"logID", util::to_hex(entry.log_id)},
                              {"logIndex", entry.log_index}};
    return payload.dump();
}

std::string mth(const std::vector<std::string>& leaves, std::size_t lo, std::size_t hi) {
    const std::size_t n = hi - lo;
    if (n == 1) return leaves[lo];
    std::size_t k = 1;
    while (k * 2 < n) k *= 2;
    return util::sha256_raw(std::string(1, '\x01') + mth(leaves, lo, lo + k) + mth(leaves, lo + k, hi));
}

void path(const std::vector<std::string>& leaves, std::size_t m, std::size_t lo, std::size_t hi,
          std::vector<std::string>& out) {
    const std::size_t n = hi - lo;
    if (n == 1) return;
    std::size_t k = 1;
    while (k * 2 < n) k *= 2;
    if (m - lo < k) {
        path(leaves, m, lo, lo + k, out);
        out.push_back(mth(leaves, lo + k, hi));
    } else {
        path(leaves, m, lo + k, hi, out);
        out.push_back(mth(leaves, lo, lo + k));
    }
}

nlohmann::ordered_json tlog_entry_json(const LogEntry& entry) {
    nlohmann::ordered_json out = nlohmann::ordered_json::object();
    out["logIndex"] = std::to_string(entry.log_index);
    out["logId"] = {{"keyId", b64(entry.log_id)}};
    out["kindVersion"] = {{"kind", entry.kind}, {"version", entry.version}};
    if (entry.integrated_time != 0) out["integratedTime"] = std::to_string(entry.integrated_time);
    if (!entry.set.empty()) out["inclusionPromise"] = {{"signedEntryTimestamp", b64(entry.set)}};
    if (entry.tree_size > 0) {
        auto hashes = nlohmann::ordered_json::array();
        for (const auto& hash : entry.hashes) hashes.push_back(b64(hash));
        out["inclusionProof"] = {{"logIndex", std::to_string(entry.log_index)},
                                 {"rootHash", b64(entry.root_hash)},
                                 {"treeSize", std::to_string(entry.tree_size)},
                                 {"hashes", std::move(hashes)},
                                 {"checkpoint", {{"envelope", entry.checkpoint}}}};
    }
    out["canonicalizedBody"] = b64(entry.body);
    return out;
}

nlohmann::ordered_json log_key_json(const EcKey& key, const std::string& url, std::int64_t start) {
    return {{"baseUrl", url},
            {"hashAlgorithm", "SHA2_256"},
            {"publicKey",
             {{"rawBytes", b64(key.public_der())},
              {"keyDetails", "PKIX_ECDSA_P256_SHA_256"},
              {"validFor", {{"start", util::format_rfc3339_utc(start)}}}}},
            {"logId", {{"keyId", b64(key.key_id())}}}};
}

}  // namespace

namespace {

Certificate make_tsa_leaf(const EcKey& key, const Certificate& issuer, const EcKey& issuer_key, std::int64_t not_before,
                          std::int64_t not_after) {
    X509Ptr issuer_cert = parse_der(issuer.der);
    X509_NAME* subject = ca_name("karmor-test-tsa");
    X509Ptr x = new_certificate(key, subject, X509_get_subject_name(issuer_cert.get()), not_before, not_after);
    X509_NAME_free(subject);
    add_conf_ext(x.get(), issuer_cert.get(), NID_key_usage, "critical,digitalSignature");
    add_conf_ext(x.get(), issuer_cert.get(), NID_ext_key_usage, "critical,timeStamping");
    add_conf_ext(x.get(), issuer_cert.get(), NID_subject_key_identifier, "hash");
    add_conf_ext(x.get(), issuer_cert.get(), NID_authority_key_identifier, "keyid:always");
    check(X509_sign(x.get(), static_cast<EVP_PKEY*>(issuer_key.evp()), digest_for(issuer_key)) > 0, "X509_sign");
    return to_certificate(x.get(), not_before, not_after);
}

std::string private_key_pem(EVP_PKEY* key) {
    BIO* bio = BIO_new(BIO_s_mem());
    check(PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr) == 1, "PEM_write_bio_PrivateKey");
    char* data = nullptr;
    const long length = BIO_get_mem_data(bio, &data);
    std::string out(data, static_cast<std::size_t>(length));
    BIO_free(bio);
    return out;
}

int fixed_time(TS_RESP_CTX*, void* data, long* seconds, long* microseconds) {
    *seconds = static_cast<long>(*static_cast<const std::int64_t*>(data));
    *microseconds = 0;
    return 1;
}

}  // namespace

// ---- EdKey ----

EdKey EdKey::generate() {
    EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
    check(key != nullptr, "EVP_PKEY_Q_keygen ED25519");
    EdKey out;
    out.key_ = std::shared_ptr<void>(key, [](void* k) { EVP_PKEY_free(static_cast<EVP_PKEY*>(k)); });
    return out;
}

std::string EdKey::public_der() const {
    unsigned char* buffer = nullptr;
    const int length = i2d_PUBKEY(static_cast<EVP_PKEY*>(key_.get()), &buffer);
    check(length > 0, "i2d_PUBKEY");
    std::string out(reinterpret_cast<char*>(buffer), static_cast<std::size_t>(length));
    OPENSSL_free(buffer);
    return out;
}

std::string EdKey::raw_public() const {
    std::string raw(32, '\0');
    std::size_t length = raw.size();
    check(EVP_PKEY_get_raw_public_key(static_cast<EVP_PKEY*>(key_.get()), reinterpret_cast<unsigned char*>(raw.data()),
                                      &length) == 1,
          "EVP_PKEY_get_raw_public_key");
    return raw;
}

std::string EdKey::private_pem() const {
    return private_key_pem(static_cast<EVP_PKEY*>(key_.get()));
}

std::string EdKey::sign(std::string_view message) const {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    check(EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, static_cast<EVP_PKEY*>(key_.get())) == 1,
          "EVP_DigestSignInit ED25519");
    std::string out(64, '\0');
    std::size_t length = out.size();
    check(EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(out.data()), &length,
                         reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1,
          "EVP_DigestSign ED25519");
    EVP_MD_CTX_free(ctx);
    return out;
}

std::string EdKey::note_key_id(const std::string& name) const {
    return util::sha256_raw(name + "\n\x01" + raw_public());
}

TimestampAuthorityMaterial make_timestamp_authority(std::int64_t not_before, std::int64_t not_after) {
    TimestampAuthorityMaterial out{EcKey::generate(), {}, {}};
    const EcKey root_key = EcKey::generate();
    out.root = make_ca(root_key, "karmor-test-tsa-root", nullptr, root_key, not_before, not_after, false);
    out.leaf = make_tsa_leaf(out.key, out.root, root_key, not_before, not_after);
    return out;
}

// ---- EcKey ----

EcKey EcKey::generate(int curve_nid) {
    EVP_PKEY* key = EVP_EC_gen(curve_nid == NID_secp384r1 ? "P-384" : "P-256");
    check(key != nullptr, "EVP_EC_gen");
    EcKey out;
    out.key_ = std::shared_ptr<void>(key, [](void* k) { EVP_PKEY_free(static_cast<EVP_PKEY*>(k)); });
    return out;
}

std::string EcKey::public_der() const {
    unsigned char* buffer = nullptr;
    const int length = i2d_PUBKEY(static_cast<EVP_PKEY*>(evp()), &buffer);
    check(length > 0, "i2d_PUBKEY");
    std::string out(reinterpret_cast<char*>(buffer), static_cast<std::size_t>(length));
    OPENSSL_free(buffer);
    return out;
}

std::string EcKey::public_pem() const {
    BIO* bio = BIO_new(BIO_s_mem());
    check(PEM_write_bio_PUBKEY(bio, static_cast<EVP_PKEY*>(evp())) == 1, "PEM_write_bio_PUBKEY");
    char* data = nullptr;
    const long length = BIO_get_mem_data(bio, &data);
    std::string out(data, static_cast<std::size_t>(length));
    BIO_free(bio);
    return out;
}

std::string EcKey::sign(std::string_view message) const {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    check(EVP_DigestSignInit(ctx, nullptr, digest_for(*this), nullptr, static_cast<EVP_PKEY*>(evp())) == 1,
          "EVP_DigestSignInit");
    std::size_t length = 0;
    check(EVP_DigestSign(ctx, nullptr, &length, reinterpret_cast<const unsigned char*>(message.data()),
                         message.size()) == 1,
          "EVP_DigestSign");
    std::string out(length, '\0');
    check(EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(out.data()), &length,
                         reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1,
          "EVP_DigestSign");
    EVP_MD_CTX_free(ctx);
    out.resize(length);
    return out;
}

std::string EcKey::private_pem() const {
    return private_key_pem(static_cast<EVP_PKEY*>(evp()));
}

std::string EcKey::key_id() const {
    return util::sha256_raw(public_der());
}

// ---- Merkle tree ----

std::string merkle_leaf_hash(std::string_view entry) {
    return util::sha256_raw(std::string(1, '\0') + std::string(entry));
}

std::string merkle_root(const std::vector<std::string>& leaf_hashes) {
    if (leaf_hashes.empty()) return util::sha256_raw("");
    return mth(leaf_hashes, 0, leaf_hashes.size());
}

std::vector<std::string> merkle_inclusion_proof(const std::vector<std::string>& leaf_hashes, std::size_t index) {
    std::vector<std::string> out;
    if (index < leaf_hashes.size()) path(leaf_hashes, index, 0, leaf_hashes.size(), out);
    return out;
}

// ---- TestSigstore ----

TestSigstore::TestSigstore(std::int64_t base_time)
    : base_time_(base_time != 0 ? base_time : static_cast<std::int64_t>(std::time(nullptr)) - 600),
      root_key_(EcKey::generate(NID_secp384r1)), intermediate_key_(EcKey::generate(NID_secp384r1)),
      log_key_(EcKey::generate()), ct_key_(EcKey::generate()), rogue_ca_key_(EcKey::generate(NID_secp384r1)),
      rogue_log_key_(EcKey::generate()), rogue_ct_key_(EcKey::generate()), log2_key_(EdKey::generate()),
      rogue_log2_key_(EdKey::generate()) {
    // A month of validity before base_time: the trusted root's CA window (ca_valid_from) is
    // narrower, so that before_ca_validity breaks that link alone.
    const std::int64_t ca_start = base_time_ - 30 * 86400;
    const std::int64_t ca_end = base_time_ + 365 * 86400;
    root_ = make_ca(root_key_, "karmor-test-root", nullptr, root_key_, ca_start, ca_end, false);
    intermediate_ = make_ca(intermediate_key_, "karmor-test-intermediate", &root_, root_key_, ca_start, ca_end, true);
    // Same names as the real ones: only the keys differ.
    rogue_ca_ = make_ca(rogue_ca_key_, "karmor-test-intermediate", nullptr, rogue_ca_key_, ca_start, ca_end, false);
    // The timestamp authority: a root and its signing certificate (valid as long as the CAs), and
    // one of another authority with the same names.
    tsa_ = make_timestamp_authority(ca_start, ca_end);
    rogue_tsa_ = make_timestamp_authority(ca_start, ca_end);
    // Entries of others before ours, so that proofs have a few hashes.
    for (int i = 0; i < 5; ++i) leaves_.push_back(merkle_leaf_hash(random_bytes(32)));
    for (int i = 0; i < 3; ++i) leaves2_.push_back(merkle_leaf_hash(random_bytes(32)));
}

std::string TestSigstore::timestamp(std::string_view bytes, std::int64_t time, bool embed_certificate,
                                    bool unknown_authority) const {
    // The request a client sends: the SHA-256 of the bytes, whether to embed the certificate.
    TS_REQ* request = TS_REQ_new();
    TS_MSG_IMPRINT* imprint = TS_MSG_IMPRINT_new();
    X509_ALGOR* algorithm = X509_ALGOR_new();
    check(request && imprint && algorithm, "TS_REQ_new");
    X509_ALGOR_set0(algorithm, OBJ_nid2obj(NID_sha256), V_ASN1_NULL, nullptr);
    TS_MSG_IMPRINT_set_algo(imprint, algorithm);
    const auto digest = util::sha256_raw(bytes);
    TS_MSG_IMPRINT_set_msg(imprint, reinterpret_cast<unsigned char*>(const_cast<char*>(digest.data())),
                           static_cast<int>(digest.size()));
    TS_REQ_set_version(request, 1);
    TS_REQ_set_msg_imprint(request, imprint);
    // Both setters keep copies.
    X509_ALGOR_free(algorithm);
    TS_MSG_IMPRINT_free(imprint);
    TS_REQ_set_cert_req(request, embed_certificate ? 1 : 0);
    unsigned char* request_der = nullptr;
    const int request_length = i2d_TS_REQ(request, &request_der);
    check(request_length > 0, "i2d_TS_REQ");
    BIO* request_bio = BIO_new_mem_buf(request_der, request_length);

    const Certificate& certificate = unknown_authority ? rogue_tsa_.leaf : tsa_.leaf;
    const EcKey& key = unknown_authority ? rogue_tsa_.key : tsa_.key;
    X509Ptr signer = parse_der(certificate.der);
    TS_RESP_CTX* context = TS_RESP_CTX_new();
    check(context != nullptr, "TS_RESP_CTX_new");
    check(TS_RESP_CTX_set_signer_cert(context, signer.get()) == 1, "TS_RESP_CTX_set_signer_cert");
    check(TS_RESP_CTX_set_signer_key(context, static_cast<EVP_PKEY*>(key.evp())) == 1, "TS_RESP_CTX_set_signer_key");
    ASN1_OBJECT* policy = OBJ_txt2obj("1.3.6.1.4.1.57264.2", 1);
    check(TS_RESP_CTX_set_def_policy(context, policy) == 1, "TS_RESP_CTX_set_def_policy");
    ASN1_OBJECT_free(policy);
    check(TS_RESP_CTX_add_md(context, EVP_sha256()) == 1, "TS_RESP_CTX_add_md");
    check(TS_RESP_CTX_set_ess_cert_id_digest(context, EVP_sha256()) == 1, "TS_RESP_CTX_set_ess_cert_id_digest");
    std::int64_t when = time;
    TS_RESP_CTX_set_time_cb(context, fixed_time, &when);
    TS_RESP* response = TS_RESP_create_response(context, request_bio);
    check(response != nullptr, "TS_RESP_create_response");
    unsigned char* response_der = nullptr;
    const int response_length = i2d_TS_RESP(response, &response_der);
    check(response_length > 0, "i2d_TS_RESP");
    std::string out(reinterpret_cast<char*>(response_der), static_cast<std::size_t>(response_length));
    OPENSSL_free(response_der);
    TS_RESP_free(response);
    TS_RESP_CTX_free(context);
    BIO_free(request_bio);
    OPENSSL_free(request_der);
    TS_REQ_free(request);
    return out;
}

std::string TestSigstore::rekor_v2_checkpoint(std::int64_t size, const std::string& root, bool unknown_key) const {
    const std::string host = rekor_v2_host();
    const std::string note = host + "\n" + std::to_string(size) + "\n" + b64(root) + "\n";
    const auto& key = unknown_key ? rogue_log2_key_ : log2_key_;
    const std::string hash = key.note_key_id(host).substr(0, 4);
    return note + "\n\xe2\x80\x94 " + host + " " + b64(hash + key.sign(note)) + "\n";
}

LogEntry TestSigstore::rekor_v2_entry(std::string body, const Knobs& knobs) {
    LogEntry entry;
    entry.kind = "hashedrekord";
    entry.version = "0.0.2";
    entry.body = std::move(body);
    entry.log_id = log2_key_.note_key_id(rekor_v2_host());
    entry.log_index = static_cast<std::int64_t>(leaves2_.size());
    leaves2_.push_back(merkle_leaf_hash(entry.body));
    entry.tree_size = static_cast<std::int64_t>(leaves2_.size());
    entry.root_hash = merkle_root(leaves2_);
    entry.hashes = merkle_inclusion_proof(leaves2_, static_cast<std::size_t>(entry.log_index));
    if (knobs.bad_inclusion_proof && !entry.hashes.empty())
        entry.hashes[0][0] = static_cast<char>(entry.hashes[0][0] ^ 1);
    entry.checkpoint = rekor_v2_checkpoint(entry.tree_size, entry.root_hash, knobs.rekor_v2_checkpoint_by_unknown_key);
    return entry;
}

std::string TestSigstore::log_origin() const {
    return "rekor.karmor.test - 1193050959916656506";
}

std::string TestSigstore::trusted_root_json() const {
    const std::int64_t start = base_time_ - 30 * 86400;
    nlohmann::ordered_json root = nlohmann::ordered_json::object();
    root["mediaType"] = "application/vnd.dev.sigstore.trustedroot+json;version=0.1";
    root["tlogs"] = nlohmann::ordered_json::array({log_key_json(log_key_, log_url(), start)});
    root["certificateAuthorities"] = nlohmann::ordered_json::array(
        {{{"subject", {{"organization", "karmor-test"}, {"commonName", "karmor-test-intermediate"}}},
          {"uri", "https://fulcio.karmor.test"},
          {"certChain",
           {{"certificates",
             nlohmann::ordered_json::array({{{"rawBytes", b64(intermediate_.der)}}, {{"rawBytes", b64(root_.der)}}})}}},
          {"validFor", {{"start", util::format_rfc3339_utc(ca_valid_from())}}}}});
    root["tlogs"].push_back({{"baseUrl", "https://" + rekor_v2_host()},
                             {"hashAlgorithm", "SHA2_256"},
                             {"publicKey",
                              {{"rawBytes", b64(log2_key_.public_der())},
                               {"keyDetails", "PKIX_ED25519"},
                               {"validFor", {{"start", util::format_rfc3339_utc(start)}}}}},
                             {"logId", {{"keyId", b64(log2_key_.note_key_id(rekor_v2_host()))}}}});
    root["ctlogs"] = nlohmann::ordered_json::array({log_key_json(ct_key_, "https://ctfe.karmor.test", start)});
    root["timestampAuthorities"] = nlohmann::ordered_json::array(
        {{{"subject", {{"organization", "karmor-test"}, {"commonName", "karmor-test-tsa"}}},
          {"uri", "https://tsa.karmor.test/api/v1/timestamp"},
          {"certChain",
           {{"certificates",
             nlohmann::ordered_json::array({{{"rawBytes", b64(tsa_.leaf.der)}}, {{"rawBytes", b64(tsa_.root.der)}}})}}},
          {"validFor", {{"start", util::format_rfc3339_utc(tsa_valid_from())}}}}});
    return root.dump(2);
}

Leaf TestSigstore::issue_leaf(const LeafOptions& options, const Knobs& knobs) {
    Leaf leaf{EcKey::generate(), {}};
    const std::int64_t not_before = options.not_before != 0    ? options.not_before
                                    : knobs.before_ca_validity ? ca_valid_from() - 86400
                                                               : base_time_;
    const std::int64_t not_after = not_before + options.lifetime_seconds;
    const Certificate& issuer = knobs.unknown_ca ? rogue_ca_ : intermediate_;
    const EcKey& issuer_key = knobs.unknown_ca ? rogue_ca_key_ : intermediate_key_;
    X509Ptr issuer_cert = parse_der(issuer.der);
    X509_NAME* empty = X509_NAME_new();
    X509Ptr x = new_certificate(leaf.key, empty, X509_get_subject_name(issuer_cert.get()), not_before, not_after);
    X509_NAME_free(empty);
    X509* ix = issuer_cert.get();
    add_conf_ext(x.get(), ix, NID_key_usage, "critical,digitalSignature");
    add_conf_ext(x.get(), ix, NID_ext_key_usage, knobs.no_code_signing_eku ? "serverAuth" : "codeSigning");
    add_conf_ext(x.get(), ix, NID_subject_key_identifier, "hash");
    add_conf_ext(x.get(), ix, NID_authority_key_identifier, "keyid:always");
    // A Fulcio leaf has an empty subject, so its SAN is critical (RFC 5280 §4.2.1.6).
    add_conf_ext(x.get(), ix, NID_subject_alt_name,
                 options.san_uri.empty() ? "critical,email:" + options.san_email : "critical,URI:" + options.san_uri);
    if (!options.issuer.empty()) {
        add_raw_ext(x.get(), oid_issuer_v1, options.issuer);
        add_raw_ext(x.get(), oid_issuer_v2, der_utf8(options.issuer));
    }
    if (options.github_workflow && !options.san_uri.empty()) {
        const std::string repository = workflow_repository(options.san_uri);
        const std::string ref = workflow_ref(options.san_uri);
        const std::string sha = "3b5e6a1c0d9f8e7d6c5b4a39281706f5e4d3c2b1";
        const std::string server = "https://github.com";
        // The raw-string extensions cosign's --certificate-github-workflow-* flags read.
        add_raw_ext(x.get(), "1.3.6.1.4.1.57264.1.2", "push");
        add_raw_ext(x.get(), "1.3.6.1.4.1.57264.1.3", sha);
        add_raw_ext(x.get(), "1.3.6.1.4.1.57264.1.4", "release");
        add_raw_ext(x.get(), "1.3.6.1.4.1.57264.1.5", repository);
        add_raw_ext(x.get(), "1.3.6.1.4.1.57264.1.6", ref);
        // The DER UTF8String ones Fulcio writes since 2023.
        const std::vector<std::pair<std::string, std::string>> v2 = {
            {"9", options.san_uri},
            {"10", sha},
            {"11", "github-hosted"},
            {"12", server + "/" + repository},
            {"13", sha},
            {"14", ref},
            {"15", "123456789"},
            {"16", server + "/" + repository.substr(0, repository.find('/'))},
            {"17", "987654321"},
            {"18", options.san_uri},
            {"19", sha},
            {"20", "push"},
            {"21", server + "/" + repository + "/actions/runs/1/attempts/1"},
            {"22", "public"}};
        for (const auto& [arc, value] : v2) add_raw_ext(x.get(), "1.3.6.1.4.1.57264.1." + arc, der_utf8(value));
    }
    const EVP_MD* md = digest_for(issuer_key);
    auto* issuer_pkey = static_cast<EVP_PKEY*>(issuer_key.evp());
    check(X509_sign(x.get(), issuer_pkey, md) > 0, "X509_sign");
    if (!knobs.no_sct) {
        // RFC 6962 §3.2: the SCT signs the precertificate's TBS (this one, without the SCT
        // extension) with the hash of the issuer's key.
        unsigned char* tbs_buffer = nullptr;
        const int tbs_length = i2d_re_X509_tbs(x.get(), &tbs_buffer);
        check(tbs_length > 0, "i2d_re_X509_tbs");
        std::string tbs(reinterpret_cast<char*>(tbs_buffer), static_cast<std::size_t>(tbs_length));
        OPENSSL_free(tbs_buffer);
        if (knobs.bad_sct) tbs[tbs.size() / 2] = static_cast<char>(tbs[tbs.size() / 2] ^ 1);
        const EcKey& ct = knobs.sct_by_unknown_log ? rogue_ct_key_ : ct_key_;
        const std::uint64_t timestamp_ms = static_cast<std::uint64_t>(not_before + 1) * 1000;
        std::string signed_data;
        signed_data.push_back('\0');  // v1
        signed_data.push_back('\0');  // certificate_timestamp
        for (int shift = 56; shift >= 0; shift -= 8)
            signed_data.push_back(static_cast<char>((timestamp_ms >> shift) & 0xff));
        signed_data.push_back('\0');  // entry_type precert_entry (1)
        signed_data.push_back('\x01');
        signed_data += util::sha256_raw(issuer_key.public_der());
        signed_data.push_back(static_cast<char>((tbs.size() >> 16) & 0xff));
        signed_data.push_back(static_cast<char>((tbs.size() >> 8) & 0xff));
        signed_data.push_back(static_cast<char>(tbs.size() & 0xff));
        signed_data += tbs;
        signed_data.push_back('\0');  // no extensions
        signed_data.push_back('\0');
        const std::string signature = ct.sign(signed_data);
        const std::string log_id = ct.key_id();

        SCT* sct = SCT_new();
        check(sct != nullptr, "SCT_new");
        check(SCT_set_version(sct, SCT_VERSION_V1) == 1, "SCT_set_version");
        check(SCT_set_log_entry_type(sct, CT_LOG_ENTRY_TYPE_PRECERT) == 1, "SCT_set_log_entry_type");
        check(SCT_set1_log_id(sct, reinterpret_cast<const unsigned char*>(log_id.data()), log_id.size()) == 1,
              "SCT_set1_log_id");
        SCT_set_timestamp(sct, timestamp_ms);
        check(SCT_set_signature_nid(sct, NID_ecdsa_with_SHA256) == 1, "SCT_set_signature_nid");
        check(SCT_set1_signature(sct, reinterpret_cast<const unsigned char*>(signature.data()), signature.size()) == 1,
              "SCT_set1_signature");
        STACK_OF(SCT)* scts = sk_SCT_new_null();
        sk_SCT_push(scts, sct);
        check(X509_add1_ext_i2d(x.get(), NID_ct_precert_scts, scts, 0, X509V3_ADD_APPEND) == 1, "add SCT list");
        SCT_LIST_free(scts);
        check(X509_sign(x.get(), issuer_pkey, md) > 0, "X509_sign");
    }
    leaf.certificate = to_certificate(x.get(), not_before, not_after);
    return leaf;
}

std::string TestSigstore::checkpoint(std::int64_t size, const std::string& root, const EcKey& key) const {
    const std::string note = log_origin() + "\n" + std::to_string(size) + "\n" + b64(root) + "\n";
    const std::string hint = key.key_id().substr(0, 4);
    // "— NAME base64(key hint ‖ signature)": the signed-note signature line.
    return note + "\n\xe2\x80\x94 rekor.karmor.test " + b64(hint + key.sign(note)) + "\n";
}

LogEntry TestSigstore::log_entry(std::string kind, std::string body, std::int64_t integrated_time, const Knobs& knobs,
                                 bool with_proof) {
    LogEntry entry;
    entry.kind = std::move(kind);
    entry.version = "0.0.1";
    entry.body = std::move(body);
    entry.integrated_time = integrated_time;
    entry.log_id = log_key_.key_id();
    entry.log_index = tree_size();
    leaves_.push_back(merkle_leaf_hash(entry.body));
    // Entries of others after ours: the proof is against a later tree, as Rekor gives it.
    for (int i = 0; i < 2; ++i) leaves_.push_back(merkle_leaf_hash(random_bytes(32)));

    const EcKey& signer = knobs.set_by_unknown_log ? rogue_log_key_ : log_key_;
    if (!knobs.no_set) entry.set = signer.sign(set_payload(entry, integrated_time + (knobs.bad_set ? 1 : 0)));
    if (with_proof) {
        entry.tree_size = tree_size();
        entry.root_hash = merkle_root(leaves_);
        entry.hashes = merkle_inclusion_proof(leaves_, static_cast<std::size_t>(entry.log_index));
        if (knobs.bad_inclusion_proof && !entry.hashes.empty())
            entry.hashes[0][0] = static_cast<char>(entry.hashes[0][0] ^ 1);
        entry.checkpoint = checkpoint(entry.tree_size, entry.root_hash, signer);
        if (knobs.bad_checkpoint) {
            // Signed over another tree size: the note no longer matches its signature.
            const auto other = checkpoint(entry.tree_size + 1, entry.root_hash, signer);
            const auto sig_line = other.find("\n\n");
            const auto ours = entry.checkpoint.find("\n\n");
            entry.checkpoint = entry.checkpoint.substr(0, ours) + other.substr(sig_line);
        }
    }
    return entry;
}

namespace {

std::int64_t integrated_time_for(const Leaf& leaf, const SignOptions& options) {
    if (options.knobs.expired_at_log_time) return leaf.certificate.not_after + 60;
    if (options.knobs.before_validity) return leaf.certificate.not_before - 60;
    return leaf.certificate.not_before + options.integrated_after;
}

}  // namespace

KeylessBundle TestSigstore::make_bundle(const std::string& name, const Digest& digest, const SignOptions& options) {
    const Knobs& knobs = options.knobs;
    KeylessBundle out;
    out.leaf = issue_leaf(options.leaf, knobs);
    out.statement = signing::make_sign_statement(name, digest, {});
    const std::string pae = signing::dsse_pae(signing::in_toto_payload_type, out.statement);
    const std::string signature = knobs.signature_by_other_key ? EcKey::generate().sign(pae) : out.leaf.key.sign(pae);

    nlohmann::ordered_json envelope = nlohmann::ordered_json::object();
    envelope["payload"] = b64(out.statement);
    envelope["payloadType"] = signing::in_toto_payload_type;
    envelope["signatures"] = nlohmann::ordered_json::array({{{"sig", b64(signature)}}});

    // The dsse v0.0.1 entry Rekor stores: hashes of the envelope and payload, and each signature
    // with its verifier (base64 of the PEM certificate).
    // entry_other_signature: the entry of an earlier signing by the same leaf (of another
    // manifest), consistent in itself, replayed.
    const std::string other_statement = signing::make_sign_statement(name, Digest::sha256_of("another manifest"), {});
    const std::string entry_signature =
        knobs.entry_other_signature
            ? out.leaf.key.sign(signing::dsse_pae(signing::in_toto_payload_type, other_statement))
            : signature;
    const std::string entry_certificate =
        knobs.entry_other_certificate ? issue_leaf(options.leaf, {}).certificate.pem : out.leaf.certificate.pem;
    const std::string entry_payload = knobs.entry_other_payload     ? out.statement + " "
                                      : knobs.entry_other_signature ? other_statement
                                                                    : out.statement;
    nlohmann::json body = {
        {"apiVersion", "0.0.1"},
        {"kind", "dsse"},
        {"spec",
         {{"envelopeHash", {{"algorithm", "sha256"}, {"value", util::to_hex(util::sha256_raw(envelope.dump()))}}},
          {"payloadHash", {{"algorithm", "sha256"}, {"value", util::to_hex(util::sha256_raw(entry_payload))}}},
          {"signatures", {{{"signature", b64(entry_signature)}, {"verifier", b64(entry_certificate)}}}}}}};
    if (knobs.rekor_v2) {
        // hashedrekord 0.0.2 of the envelope: the hash of its PAE (rekor-v2-spec), the signature and
        // the certificate, as rekor-tiles canonicalizes it (keys sorted).
        const auto certificate_der = signing::pem_certificate_der(entry_certificate);
        nlohmann::json v2 = {
            {"apiVersion", "0.0.2"},
            {"kind", "hashedrekord"},
            {"spec",
             {{"hashedRekordV002",
               {{"data",
                 {{"algorithm", "SHA2_256"},
                  {"digest", b64(util::sha256_raw(signing::dsse_pae(signing::in_toto_payload_type, entry_payload)))}}},
                {"signature",
                 {{"content", b64(entry_signature)},
                  {"verifier",
                   {{"keyDetails", "PKIX_ECDSA_P256_SHA_256"},
                    {"x509Certificate", {{"rawBytes", b64(certificate_der)}}}}}}}}}}}};
        out.entry = rekor_v2_entry(v2.dump(), knobs);
    } else {
        out.entry = log_entry("dsse", body.dump(), integrated_time_for(out.leaf, options), knobs, true);
    }
    const bool timestamped = knobs.timestamp || knobs.timestamp_without_certificate ||
                             knobs.timestamp_of_other_signature || knobs.timestamp_by_unknown_authority ||
                             knobs.timestamp_outside_tsa_validity || knobs.timestamp_after_leaf_expired;
    if (timestamped) {
        const std::int64_t time = knobs.timestamp_outside_tsa_validity ? tsa_valid_from() - 3600
                                  : knobs.timestamp_after_leaf_expired
                                      ? out.leaf.certificate.not_after + 60
                                      : out.leaf.certificate.not_before + options.integrated_after;
        out.timestamp =
            this->timestamp(knobs.timestamp_of_other_signature ? entry_signature + "other" : signature, time,
                            !knobs.timestamp_without_certificate, knobs.timestamp_by_unknown_authority);
    }

    nlohmann::ordered_json bundle = nlohmann::ordered_json::object();
    bundle["mediaType"] = signing::bundle_media_type;
    bundle["verificationMaterial"] = {{"certificate", {{"rawBytes", b64(out.leaf.certificate.der)}}},
                                      {"tlogEntries", nlohmann::ordered_json::array({tlog_entry_json(out.entry)})}};
    if (timestamped)
        bundle["verificationMaterial"]["timestampVerificationData"] = {
            {"rfc3161Timestamps", nlohmann::ordered_json::array({{{"signedTimestamp", b64(out.timestamp)}}})}};
    bundle["dsseEnvelope"] = std::move(envelope);
    out.json = bundle.dump();
    return out;
}

LegacyMaterial TestSigstore::make_legacy(const std::string& identity, const Digest& digest,
                                         const SignOptions& options) {
    const Knobs& knobs = options.knobs;
    LegacyMaterial out;
    out.leaf = issue_leaf(options.leaf, knobs);
    out.payload = signing::make_simple_signing_payload(identity, digest, {});
    out.signature = knobs.signature_by_other_key ? EcKey::generate().sign(out.payload) : out.leaf.key.sign(out.payload);
    out.certificate_pem = out.leaf.certificate.pem;
    out.chain_pem = knobs.unknown_ca ? rogue_ca_.pem : intermediate_.pem + root_.pem;

    const std::string other_payload =
        signing::make_simple_signing_payload(identity, Digest::sha256_of("another manifest"), {});
    const std::string entry_signature = knobs.entry_other_signature ? out.leaf.key.sign(other_payload) : out.signature;
    const std::string entry_certificate =
        knobs.entry_other_certificate ? issue_leaf(options.leaf, {}).certificate.pem : out.leaf.certificate.pem;
    const std::string entry_payload = knobs.entry_other_payload     ? out.payload + " "
                                      : knobs.entry_other_signature ? other_payload
                                                                    : out.payload;
    nlohmann::json body = {
        {"apiVersion", "0.0.1"},
        {"kind", "hashedrekord"},
        {"spec",
         {{"data", {{"hash", {{"algorithm", "sha256"}, {"value", util::to_hex(util::sha256_raw(entry_payload))}}}}},
          {"signature", {{"content", b64(entry_signature)}, {"publicKey", {{"content", b64(entry_certificate)}}}}}}}};
    out.entry = log_entry("hashedrekord", body.dump(), integrated_time_for(out.leaf, options), knobs, false);

    nlohmann::ordered_json rekor = nlohmann::ordered_json::object();
    rekor["SignedEntryTimestamp"] = b64(out.entry.set);
    rekor["Payload"] = {{"body", b64(out.entry.body)},
                        {"integratedTime", out.entry.integrated_time},
                        {"logIndex", out.entry.log_index},
                        {"logID", util::to_hex(out.entry.log_id)}};
    out.rekor_bundle_json = rekor.dump();
    return out;
}

// ---- the matrix ----

std::vector<Case> standard_cases() {
    std::vector<Case> cases;
    const auto add = [&](std::string name, auto&& tweak, bool good = false, bool bundle = true, bool legacy = true) {
        Case c;
        c.name = std::move(name);
        tweak(c);
        c.good = good;
        c.bundle = bundle;
        c.legacy = legacy;
        cases.push_back(std::move(c));
    };
    add(
        "good: GitHub workflow URI", [](Case&) {}, true);
    add(
        "good: e-mail SAN",
        [](Case& c) {
            c.options.leaf.san_uri.clear();
            c.options.leaf.san_email = "release-bot@karmor.test";
            c.options.leaf.issuer = "https://accounts.karmor.test";
            c.identity = "release-bot@karmor.test";
            c.issuer = "https://accounts.karmor.test";
        },
        true);
    add("wrong identity", [](Case& c) {
        c.options.leaf.san_uri = "https://github.com/karmor-test/policies/.github/workflows/evil.yml@refs/heads/main";
    });
    add("wrong issuer", [](Case& c) { c.options.leaf.issuer = "https://accounts.google.com"; });
    add("expired at the log's integrated time", [](Case& c) { c.options.knobs.expired_at_log_time = true; });
    add("logged before the leaf was valid", [](Case& c) { c.options.knobs.before_validity = true; });
    add("leaf from an unknown CA", [](Case& c) { c.options.knobs.unknown_ca = true; });
    add("bad SET", [](Case& c) { c.options.knobs.bad_set = true; });
    add("SET and checkpoint by an unknown log key", [](Case& c) { c.options.knobs.set_by_unknown_log = true; });
    add(
        "inclusion proof without SET", [](Case& c) { c.options.knobs.no_set = true; }, false, true, false);
    add(
        "bad inclusion proof", [](Case& c) { c.options.knobs.bad_inclusion_proof = true; }, false, true, false);
    add(
        "bad checkpoint signature", [](Case& c) { c.options.knobs.bad_checkpoint = true; }, false, true, false);
    add("no SCT", [](Case& c) { c.options.knobs.no_sct = true; });
    add("SCT by a CT log not in the root", [](Case& c) { c.options.knobs.sct_by_unknown_log = true; });
    add("SCT that does not verify", [](Case& c) { c.options.knobs.bad_sct = true; });
    add("log entry of another signature (replayed)", [](Case& c) { c.options.knobs.entry_other_signature = true; });
    add("log entry records another certificate", [](Case& c) { c.options.knobs.entry_other_certificate = true; });
    add("log entry records another payload", [](Case& c) { c.options.knobs.entry_other_payload = true; });
    add("signature not by the certificate's key", [](Case& c) { c.options.knobs.signature_by_other_key = true; });
    add("signed before the CA's validity in the root", [](Case& c) { c.options.knobs.before_ca_validity = true; });
    add("leaf without the code-signing EKU", [](Case& c) { c.options.knobs.no_code_signing_eku = true; });
    add("leaf without the issuer extensions", [](Case& c) { c.options.leaf.issuer.clear(); });
    add(
        "good: identity regexp",
        [](Case& c) {
            c.identity_regexp =
                R"(^https://github\.com/karmor-test/policies/\.github/workflows/[a-z]+\.yml@refs/heads/main$)";
        },
        true);
    add("identity regexp that does not match",
        [](Case& c) { c.identity_regexp = R"(^https://github\.com/karmor-test/other/\.github/workflows/.*$)"; });
    add(
        "good: GitHub workflow claims",
        [](Case& c) {
            c.flags = {"--certificate-github-workflow-repository", "karmor-test/policies",
                       "--certificate-github-workflow-trigger",    "push",
                       "--certificate-github-workflow-ref",        "refs/heads/main",
                       "--certificate-github-workflow-name",       "release"};
        },
        true);
    add("GitHub workflow repository differs", [](Case& c) {
        c.flags = {"--certificate-github-workflow-repository", "karmor-test/other"};
    });
    add("GitHub workflow ref differs", [](Case& c) {
        c.flags = {"--certificate-github-workflow-ref", "refs/heads/dev"};
    });
    // Issue 24: RFC 3161 timestamps and Rekor v2 entries (bundles only: cosign writes them there).
    // The timestamp cases break a timestamp beside a Rekor v2 entry, whose only time it is: cosign
    // then requires it as karmor does (beside a SET, cosign does not look at timestamps at all).
    const auto bundle_case = [&](std::string name, auto&& tweak, bool good = false) {
        add(std::move(name), tweak, good, true, false);
    };
    bundle_case(
        "good: RFC 3161 timestamp beside the SET", [](Case& c) { c.options.knobs.timestamp = true; }, true);
    bundle_case(
        "good: Rekor v2 entry and a timestamp",
        [](Case& c) {
            c.options.knobs.rekor_v2 = true;
            c.options.knobs.timestamp = true;
        },
        true);
    bundle_case(
        "good: Rekor v2, timestamp without the TSA certificate",
        [](Case& c) {
            c.options.knobs.rekor_v2 = true;
            c.options.knobs.timestamp_without_certificate = true;
        },
        true);
    bundle_case("Rekor v2 entry without a timestamp", [](Case& c) { c.options.knobs.rekor_v2 = true; });
    const std::pair<const char*, bool Knobs::*> rekor_v2_attacks[] = {
        {"Rekor v2: timestamp of another signature", &Knobs::timestamp_of_other_signature},
        {"Rekor v2: timestamp by a TSA not in the root", &Knobs::timestamp_by_unknown_authority},
        {"Rekor v2: timestamp before the TSA's validity", &Knobs::timestamp_outside_tsa_validity},
        {"Rekor v2: timestamp after the leaf expired", &Knobs::timestamp_after_leaf_expired},
        {"Rekor v2: checkpoint by a key not in the root", &Knobs::rekor_v2_checkpoint_by_unknown_key},
        {"Rekor v2: bad inclusion proof", &Knobs::bad_inclusion_proof},
        {"Rekor v2: entry of another signature", &Knobs::entry_other_signature},
        {"Rekor v2: entry records another certificate", &Knobs::entry_other_certificate},
    };
    for (const auto& [name, knob] : rekor_v2_attacks)
        bundle_case(name, [knob = knob](Case& c) {
            c.options.knobs.rekor_v2 = true;
            c.options.knobs.timestamp = true;
            c.options.knobs.*knob = true;
        });
    // What stops each broken link in karmor.
    static const std::map<std::string, std::string> checks = {
        {"wrong identity", "certificate-identity"},
        {"identity regexp that does not match", "certificate-identity"},
        {"wrong issuer", "certificate-oidc-issuer"},
        {"GitHub workflow repository differs", "github-workflow"},
        {"GitHub workflow ref differs", "github-workflow"},
        {"expired at the log's integrated time", "certificate-chain"},
        {"logged before the leaf was valid", "certificate-chain"},
        {"leaf from an unknown CA", "certificate-chain"},
        {"signed before the CA's validity in the root", "certificate-chain"},
        {"leaf without the code-signing EKU", "certificate-chain"},
        {"leaf without the issuer extensions", "certificate-oidc-issuer"},
        {"bad SET", "signed-entry-timestamp"},
        {"SET and checkpoint by an unknown log key", "signed-entry-timestamp"},
        {"inclusion proof without SET", "signed-entry-timestamp"},
        {"bad inclusion proof", "inclusion-proof"},
        {"bad checkpoint signature", "checkpoint"},
        {"no SCT", "sct"},
        {"SCT by a CT log not in the root", "sct"},
        {"SCT that does not verify", "sct"},
        {"log entry of another signature (replayed)", "log-entry"},
        {"log entry records another certificate", "log-entry"},
        {"log entry records another payload", "log-entry"},
        {"signature not by the certificate's key", "signature"},
        {"Rekor v2 entry without a timestamp", "timestamp"},
        {"Rekor v2: timestamp of another signature", "timestamp"},
        {"Rekor v2: timestamp by a TSA not in the root", "timestamp"},
        {"Rekor v2: timestamp before the TSA's validity", "timestamp"},
        {"Rekor v2: timestamp after the leaf expired", "certificate-chain"},
        {"Rekor v2: checkpoint by a key not in the root", "checkpoint"},
        {"Rekor v2: bad inclusion proof", "inclusion-proof"},
        {"Rekor v2: entry of another signature", "log-entry"},
        {"Rekor v2: entry records another certificate", "log-entry"},
    };
    for (auto& c : cases)
        if (!c.good) c.check = checks.at(c.name);  // a new case without its check is a fixture bug
    return cases;
}

// ---- the signed artifact ----

Digest push_example_artifact(const std::string& repository) {
    const auto policy = std::filesystem::path(KARMOR_SOURCE_DIR) / "examples" / "policies" / "ksp-block-shell.yaml";
    const auto r = run_karmor({"oci", "push", "-i", repository + ":v1", "-p", policy.string(), "-q"}, {},
                              {{"SOURCE_DATE_EPOCH", "1000"}});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    auto digest = Digest::parse(r.out.substr(0, r.out.find('\n')));
    EXPECT_TRUE(digest) << r.out;
    return digest ? *digest : Digest();
}

std::unique_ptr<oci::Target> open_plain_http(const std::string& repository) {
    RemoteOptions remote;
    remote.plain_http = true;
    auto opened = ops::open_target(*Reference::parse(repository), std::nullopt, remote, ops::Access::push);
    EXPECT_TRUE(opened);
    return opened ? std::move(opened->target) : nullptr;
}

Descriptor manifest_descriptor(oci::Target& target, const Digest& digest) {
    auto fetched = target.fetch_manifest(digest.str());
    EXPECT_TRUE(fetched && *fetched);
    if (!fetched || !*fetched) return {};
    return Descriptor{(*fetched)->manifest.media_type,
                      digest,
                      static_cast<std::int64_t>((*fetched)->bytes.size()),
                      "",
                      {},
                      std::nullopt};
}

// ---- placing material in a registry ----

std::string put_bundle_referrer(oci::Target& target, const Descriptor& subject, const std::string& bundle_json) {
    Descriptor blob{signing::bundle_media_type,
                    Digest::sha256_of(bundle_json),
                    static_cast<std::int64_t>(bundle_json.size()),
                    "",
                    {},
                    std::nullopt};
    if (auto put = target.put_blob(blob, bundle_json, {}); !put) return "put bundle blob: " + put.error().message;
    if (auto put = target.put_blob(signing::empty_config_descriptor(), signing::empty_config_bytes, {}); !put)
        return "put empty config: " + put.error().message;
    const auto referrer = signing::make_bundle_referrer(subject, blob, "2026-11-29T00:00:00Z");
    const auto manifest = oci::serialize_manifest(referrer);
    const auto digest = Digest::sha256_of(manifest);
    if (auto put = target.put_manifest(digest.str(), media_type::oci_manifest, manifest); !put)
        return "put referrer: " + put.error().message;
    auto listed = ops::add_to_fallback_tag(
        target, subject.digest, ops::referrer_descriptor(referrer, digest, static_cast<std::int64_t>(manifest.size())));
    if (!listed) return "fallback tag: " + listed.error().message;
    return {};
}

std::string put_legacy_signature(oci::Target& target, const Digest& subject, const LegacyMaterial& material) {
    const auto tag = signing::legacy_signature_tag(subject);
    auto existing = target.fetch_manifest(tag);
    if (!existing) return "fetch " + tag + ": " + existing.error().message;
    std::optional<Manifest> current;
    if (*existing) current = (*existing)->manifest;
    Descriptor payload{signing::simple_signing_media_type,
                       Digest::sha256_of(material.payload),
                       static_cast<std::int64_t>(material.payload.size()),
                       "",
                       {},
                       std::nullopt};
    if (auto put = target.put_blob(payload, material.payload, {}); !put) return "put payload: " + put.error().message;
    auto built = signing::append_legacy_signature(current, payload, material.signature);
    auto& layer = built.manifest.layers.back();
    layer.annotations["dev.sigstore.cosign/certificate"] = material.certificate_pem;
    layer.annotations["dev.sigstore.cosign/chain"] = material.chain_pem;
    layer.annotations["dev.sigstore.cosign/bundle"] = material.rekor_bundle_json;
    if (auto put = target.put_blob(built.config.descriptor, built.config.bytes, {}); !put)
        return "put config: " + put.error().message;
    const auto bytes = oci::serialize_manifest(built.manifest);
    if (auto put = target.put_manifest(tag, media_type::oci_manifest, bytes); !put)
        return "put " + tag + ": " + put.error().message;
    return {};
}

std::string sign_message(EVP_PKEY* key, const EVP_MD* digest, std::string_view message, bool pss) {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    EVP_PKEY_CTX* key_context = nullptr;
    EXPECT_EQ(EVP_DigestSignInit(context.get(), &key_context, digest, nullptr, key), 1);
    if (pss) EVP_PKEY_CTX_set_rsa_padding(key_context, RSA_PKCS1_PSS_PADDING);
    std::size_t size = 0;
    EVP_DigestSign(context.get(), nullptr, &size, reinterpret_cast<const unsigned char*>(message.data()),
                   message.size());
    std::string out(size, '\0');
    EXPECT_EQ(EVP_DigestSign(context.get(), reinterpret_cast<unsigned char*>(out.data()), &size,
                             reinterpret_cast<const unsigned char*>(message.data()), message.size()),
              1);
    out.resize(size);
    return out;
}

}  // namespace karmor::testing::sigstore
