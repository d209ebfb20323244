#include "support/docker_config.hpp"

#include "support/process.hpp"

namespace karmor::testing {

void write_credential_helper(const std::filesystem::path& bin, const std::filesystem::path& store) {
    const auto script = bin / "docker-credential-test";
    write_text(script, "#!/bin/sh\nSTORE='" + store.string() + "'\n" + R"sh(mkdir -p "$STORE"
echo "$@" >> "$STORE/argv.log"
case "$1" in
  get) read url; f="$STORE/$(echo "$url" | tr '/:' '__')"
       if [ -f "$f" ]; then cat "$f"; else echo "credentials not found in native keychain"; exit 1; fi ;;
  store) doc=$(cat); url=$(echo "$doc" | sed 's/.*"ServerURL":"\([^"]*\)".*/\1/')
       echo "$doc" > "$STORE/$(echo "$url" | tr '/:' '__')" ;;
  erase) read url; f="$STORE/$(echo "$url" | tr '/:' '__')"
       if [ -f "$f" ]; then rm "$f"; else echo "credentials not found in native keychain"; exit 1; fi ;;
  *) exit 2 ;;
esac
)sh");
    std::filesystem::permissions(script, std::filesystem::perms::owner_all);
}

void write_config_with_helper(const std::filesystem::path& config, const std::string& registry) {
    write_text(config, R"({"credHelpers":{")" + registry + R"(":"test"}})");
}

}  // namespace karmor::testing
