#include "follow/pull_state.hpp"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "karmor/digest.hpp"
#include "util/atomic_file.hpp"
#include "util/json_string.hpp"
#include "util/json_text.hpp"
#include "util/parallel.hpp"

namespace karmor::follow {

namespace fs = std::filesystem;

std::string sha256_hex(std::string_view bytes) {
    return Digest::sha256_of(bytes).hex();
}

std::vector<RecordedFile> recorded_files(const std::vector<Policy>& policies, const std::vector<std::string>& names) {
    // Starting and joining a thread costs about what hashing 70 to 90 KB does here (43 to 50 us
    // against SHA-256 at 1.6 GB/s): the texts of a small pull are hashed on this thread.
    constexpr std::size_t parallel_from_bytes = 256 * 1024;
    std::size_t bytes = 0;
    for (const auto& policy : policies) bytes += policy.serialized.size();
    std::vector<RecordedFile> files(policies.size());
    const auto record = [&](std::size_t i) {
        files[i] = {names[i], sha256_hex(policies[i].serialized), policies[i].identity};
    };
    if (bytes < parallel_from_bytes)
        for (std::size_t i = 0; i < policies.size(); ++i) record(i);
    else
        util::parallel_for(policies.size(), record);
    return files;
}

std::optional<std::string> file_sha256(const fs::path& path) {
    std::error_code ec;
    if (!fs::is_regular_file(fs::symlink_status(path, ec))) return std::nullopt;
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream buffer;
    buffer << in.rdbuf();
    if (in.bad()) return std::nullopt;
    return sha256_hex(buffer.str());
}

Result<std::optional<PullState>> read_pull_state(const fs::path& directory) {
    const fs::path path = directory / pull_state_file_name;
    std::error_code ec;
    if (!fs::exists(fs::symlink_status(path, ec))) return std::optional<PullState>();
    const auto corrupt = [&](const std::string& why) {
        return unexpected(Error(ErrorKind::io, "cannot read " + path.string() + ": " + why,
                                "delete it; karmor then treats every file in the directory as not its own"));
    };
    std::ifstream in(path, std::ios::binary);
    if (!in) return corrupt("cannot open it");
    std::ostringstream buffer;
    buffer << in.rdbuf();
    const auto json = nlohmann::json::parse(buffer.str(), nullptr, false);
    if (json.is_discarded() || !json.is_object() || !json.contains("files") || !json["files"].is_array())
        return corrupt("it is not a karmor pull state");
    PullState state;
    try {
        state.digest = json.value("digest", "");
        state.reference = json.value("reference", "");
        for (const auto& f : json["files"]) {
            RecordedFile file;
            file.name = f.at("name").get<std::string>();
            file.sha256 = f.at("sha256").get<std::string>();
            file.identity.kind = f.value("kind", "");
            file.identity.namespace_name = f.value("namespace", "");
            file.identity.name = f.value("policy", "");
            file.leftover = f.value("leftover", false);
            // A name with a directory part would let the state reach outside the directory.
            if (file.name.empty() || file.name.find('/') != std::string::npos || file.name == "." || file.name == "..")
                return corrupt("it names a file outside the directory: " + file.name);
            state.files.push_back(std::move(file));
        }
    } catch (const nlohmann::json::exception& e) {
        return corrupt(e.what());
    }
    return std::optional<PullState>(std::move(state));
}

namespace {

// The reference names a layout directory as given, and paths are bytes (util/json_text.hpp).
// ASCII, nearly every name, is its own lossless form and is quoted without a copy.
void append_json_string(std::string& out, const std::string& text) {
    if (std::all_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; }))
        util::append_json_string(out, text);
    else
        util::append_json_string(out, util::to_lossless_utf8(text));
}

}  // namespace

// Written as text, not built as a JSON tree first: for 10,000 files the tree and its dump took
// 8% of a pull (issue 18). The bytes are those of nlohmann's dump(1) of the same object.
std::string pull_state_json(const PullState& state) {
    std::string out;
    out.reserve(256 + state.files.size() * 256);  // one entry is about 200 bytes
    out += "{\n \"version\": 1,\n \"digest\": ";
    append_json_string(out, state.digest);
    out += ",\n \"reference\": ";
    append_json_string(out, state.reference);
    out += ",\n \"files\": ";
    if (state.files.empty()) {
        out += "[]";
    } else {
        out += "[\n";
        for (std::size_t i = 0; i < state.files.size(); ++i) {
            const auto& f = state.files[i];
            out += "  {\n   \"name\": ";
            append_json_string(out, f.name);
            out += ",\n   \"sha256\": ";
            append_json_string(out, f.sha256);
            out += ",\n   \"kind\": ";
            append_json_string(out, f.identity.kind);
            out += ",\n   \"namespace\": ";
            append_json_string(out, f.identity.namespace_name);
            out += ",\n   \"policy\": ";
            append_json_string(out, f.identity.name);
            if (f.leftover) out += ",\n   \"leftover\": true";
            out += i + 1 < state.files.size() ? "\n  },\n" : "\n  }\n";
        }
        out += " ]";
    }
    out += "\n}\n";
    return out;
}

Result<void> write_pull_state(const fs::path& directory, const PullState& state) {
    return util::write_file_atomically(directory / pull_state_file_name, pull_state_json(state), 0644);
}

}  // namespace karmor::follow
