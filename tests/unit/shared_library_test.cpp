// The loader of the libraries karmor opens on first use (src/util/shared_library.hpp).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <string>
#include <iterator>

#include "bundle/libarchive.hpp"
#include "oci/libcurl.hpp"
#include "signing/libsodium.hpp"
#include "util/shared_library.hpp"

namespace karmor {
namespace {

constexpr util::SharedLibrary missing{"libkarmor-no-such-library.so.7", "karmor-no-such-package", "testing the loader"};

TEST(SharedLibrary, AMissingLibraryIsAnErrorNamingTheFileAndThePackage) {
    auto handle = util::open_shared_library(missing);
    ASSERT_FALSE(handle);
    EXPECT_EQ(handle.error().kind, ErrorKind::io);
    EXPECT_NE(handle.error().message.find("libkarmor-no-such-library.so.7"), std::string::npos)
        << handle.error().message;
    EXPECT_NE(handle.error().hint.find("apt-get install karmor-no-such-package"), std::string::npos)
        << handle.error().hint;
    EXPECT_NE(handle.error().hint.find("testing the loader"), std::string::npos) << handle.error().hint;
}

TEST(SharedLibrary, AMissingFunctionIsAnErrorNamingIt) {
    constexpr util::SharedLibrary curl{"libcurl.so.4", "libcurl4", "talking to registries"};
    auto handle = util::open_shared_library(curl);
    ASSERT_TRUE(handle) << handle.error().message;
    auto absent = util::find_function(*handle, curl, "curl_karmor_does_not_exist");
    ASSERT_FALSE(absent);
    EXPECT_NE(absent.error().message.find("curl_karmor_does_not_exist"), std::string::npos);
    EXPECT_NE(absent.error().hint.find("older than"), std::string::npos);
    EXPECT_TRUE(util::find_function(*handle, curl, "curl_easy_init"));
}

TEST(SharedLibrary, TheTablesLoadAndCallTheRealLibraries) {
    ASSERT_TRUE(oci::load_libcurl());
    const auto* info = oci::libcurl().curl_version_info(CURLVERSION_NOW);
    ASSERT_NE(info, nullptr);
    EXPECT_EQ(info->version_num >> 16, LIBCURL_VERSION_MAJOR) << "the soname is the ABI karmor was built against";

    ASSERT_TRUE(bundle::load_libarchive());
    archive* writer = bundle::libarchive().archive_write_new();
    ASSERT_NE(writer, nullptr);
    bundle::libarchive().archive_write_free(writer);

    ASSERT_TRUE(signing::load_libsodium());
    unsigned char random[16] = {};
    signing::libsodium().randombytes_buf(random, sizeof random);
    EXPECT_TRUE(std::any_of(std::begin(random), std::end(random), [](unsigned char c) { return c != 0; }));
}

// A file beside this test program, removed when the test ends.
class FileBesideTheProgram {
public:
    explicit FileBesideTheProgram(const char* name)
        : path_(std::filesystem::read_symlink("/proc/self/exe").parent_path() / name) {}
    ~FileBesideTheProgram() {
        std::error_code ec;
        std::filesystem::remove(path_, ec);
    }
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

TEST(SharedLibrary, APrivateCopyBesideTheProgramIsOpenedInsteadOfTheSystemsLibrary) {
    FileBesideTheProgram copy("libkarmor-test-private-sodium.so");
    std::filesystem::copy_file(std::filesystem::canonical("/usr/lib/x86_64-linux-gnu/libsodium.so.23"), copy.path(),
                               std::filesystem::copy_options::overwrite_existing);
    constexpr util::SharedLibrary library{"libsodium.so.23", "libsodium23", "testing the loader",
                                          "libkarmor-test-private-sodium.so"};
    auto handle = util::open_shared_library(library);
    ASSERT_TRUE(handle) << handle.error().message;
    auto function = util::find_function(*handle, library, "sodium_version_string");
    ASSERT_TRUE(function);
    EXPECT_EQ(util::library_file_of(*function), copy.path().string());
}

TEST(SharedLibrary, ABrokenPrivateCopyIsAnErrorNotAFallBackToTheSystemsLibrary) {
    FileBesideTheProgram copy("libkarmor-test-broken.so");
    std::ofstream(copy.path()) << "not an ELF object\n";
    constexpr util::SharedLibrary library{"libsodium.so.23", "libsodium23", "testing the loader",
                                          "libkarmor-test-broken.so"};
    auto handle = util::open_shared_library(library);
    ASSERT_FALSE(handle);
    EXPECT_NE(handle.error().message.find(copy.path().string()), std::string::npos) << handle.error().message;
}

TEST(SharedLibrary, WithoutAPrivateCopyTheSystemsLibraryIsOpened) {
    constexpr util::SharedLibrary library{"libsodium.so.23", "libsodium23", "testing the loader",
                                          "libkarmor-test-not-there.so"};
    auto handle = util::open_shared_library(library);
    ASSERT_TRUE(handle) << handle.error().message;
    auto function = util::find_function(*handle, library, "sodium_version_string");
    ASSERT_TRUE(function);
    EXPECT_EQ(std::filesystem::path(util::library_file_of(*function)).filename(), "libsodium.so.23");
}

// The build CI runs has karmor's own libcurl (scripts/libcurl.sh): HTTP and HTTPS over
// OpenSSL, with HTTP/2, and none of the protocols whose libraries made loading slow.
TEST(SharedLibrary, KarmorsOwnLibcurlIsTheOneLoadedAndSpeaksOnlyHttp) {
    ASSERT_TRUE(oci::load_libcurl());
    const std::string file = oci::loaded_libcurl_file();
    const char* private_name = oci::private_libcurl_file_name();
    if (!private_name) {
        std::cerr << "!! this build has no KARMOR_LIBCURL: the system's libcurl is used (" << file
                  << "); scripts/test.sh builds with karmor's own\n";
        EXPECT_EQ(std::filesystem::path(file).filename(), "libcurl.so.4");
        return;
    }
    EXPECT_EQ(std::filesystem::path(file).filename(), private_name);
    const auto* info = oci::libcurl().curl_version_info(CURLVERSION_NOW);
    ASSERT_NE(info, nullptr);
    std::set<std::string> protocols;
    for (const char* const* protocol = info->protocols; *protocol; ++protocol) protocols.insert(*protocol);
    EXPECT_EQ(protocols, (std::set<std::string>{"http", "https"}));
    EXPECT_TRUE(info->features & CURL_VERSION_HTTP2);
    EXPECT_TRUE(info->features & CURL_VERSION_SSL);
    EXPECT_NE(std::string(info->ssl_version).find("OpenSSL"), std::string::npos) << info->ssl_version;
    EXPECT_EQ(info->version_num >> 8, LIBCURL_VERSION_NUM >> 8) << "the headers karmor was built with";
}

}  // namespace
}  // namespace karmor
