// The loader of the libraries karmor opens on first use (src/util/shared_library.hpp).
#include <gtest/gtest.h>

#include <algorithm>
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

}  // namespace
}  // namespace karmor
