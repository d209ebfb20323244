// Docker config directories for credential tests, unit and integration alike: a config.json
// that names a credential helper, and that helper, docker-credential-test, as a shell script
// that keeps secrets in files the way a keychain would.
#pragma once

#include <filesystem>
#include <string>

namespace karmor::testing {

// Writes BIN/docker-credential-test (the credential helper protocol: get, store, erase). It
// keeps one secret per server URL in a file under STORE, answers `get` and `erase` of a URL
// it does not hold as the real helpers do ("credentials not found in native keychain", exit
// 1), and appends its arguments to STORE/argv.log, so that a test can check that no secret is
// ever one.
void write_credential_helper(const std::filesystem::path& bin, const std::filesystem::path& store);

// Writes `config` with a credHelpers entry that sends `registry` to docker-credential-test.
void write_config_with_helper(const std::filesystem::path& config, const std::string& registry);

}  // namespace karmor::testing
