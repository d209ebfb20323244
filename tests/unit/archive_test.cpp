#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <memory>

#include "bundle/archive.hpp"

namespace karmor::bundle {
namespace {

struct RawEntry {
    RawEntry(std::string n, std::string c, unsigned t = AE_IFREG, std::string l = {})
        : name(std::move(n)), content(std::move(c)), type(t), link(std::move(l)) {}
    std::string name;
    std::string content;
    unsigned type = AE_IFREG;
    std::string link;  // symlink target or hard link name
};

// Builds archives that our writer never would, to test the reader against them.
std::string raw_tar_gz(const std::vector<RawEntry>& entries) {
    std::string out;
    std::unique_ptr<archive, decltype(&archive_write_free)> a(archive_write_new(), archive_write_free);
    archive_write_set_format_pax_restricted(a.get());
    archive_write_add_filter_gzip(a.get());
    archive_write_open2(
        a.get(), &out, nullptr,
        [](archive*, void* client, const void* buffer, size_t length) -> la_ssize_t {
            static_cast<std::string*>(client)->append(static_cast<const char*>(buffer), length);
            return static_cast<la_ssize_t>(length);
        },
        nullptr, nullptr);
    for (const auto& e : entries) {
        archive_entry* entry = archive_entry_new();
        archive_entry_set_pathname(entry, e.name.c_str());
        archive_entry_set_filetype(entry, e.type);
        archive_entry_set_perm(entry, 0644);
        if (e.type == AE_IFLNK) archive_entry_set_symlink(entry, e.link.c_str());
        if (e.type == AE_IFREG && !e.link.empty()) archive_entry_set_hardlink(entry, e.link.c_str());
        archive_entry_set_size(entry, e.type == AE_IFREG ? static_cast<la_int64_t>(e.content.size()) : 0);
        archive_write_header(a.get(), entry);
        if (e.type == AE_IFREG) archive_write_data(a.get(), e.content.data(), e.content.size());
        archive_entry_free(entry);
    }
    archive_write_close(a.get());
    return out;
}

// write_tar_gz and write_tar write ustar headers themselves and let libarchive compress; the
// bytes must be the ones libarchive's own tar writer gives, so that digests do not change.
TEST(Archive, OwnHeadersGiveLibarchivesBytes) {
    std::vector<std::vector<std::string>> sets = {
        {"a.yaml", "a: 1\n"},
        {"empty.yaml", ""},
        {"exact.yaml", std::string(512, 'x'), "one-over.yaml", std::string(513, 'y'), "one-under.yaml",
         std::string(511, 'z')},
        {std::string(100, 'n'), "longest name that fits\n"},
        {"big.yaml", std::string(200'000, 'b') + "\n"},
        {"ksp-shop-block-shell.yaml", "apiVersion: security.kubearmor.com/v1\n", "hsp-audit-passwd.yaml",
         "kind: KubeArmorHostPolicy\n"},
    };
    std::vector<std::string> many;
    for (int i = 0; i < 3000; ++i) {
        many.push_back("ksp-team-" + std::to_string(i % 50) + "-block-shell-" + std::to_string(i) + ".yaml");
        many.push_back("apiVersion: security.kubearmor.com/v1\nkind: KubeArmorPolicy\nmetadata:\n  name: block-shell-" +
                       std::to_string(i) + "\nspec:\n  action: Block\n");
    }
    sets.push_back(many);
    // Incompressible: the compressed stream outgrows the writer's first output buffer (1 MiB).
    std::string noise(3'000'000, '\0');
    std::uint32_t state = 12345;
    for (auto& c : noise) {
        state = state * 1664525u + 1013904223u;
        c = static_cast<char>(state >> 24);
    }
    sets.push_back({"noise-a.yaml", noise.substr(0, 1'500'001), "noise-b.yaml", noise.substr(1'500'001)});
    std::size_t compared = 0;
    for (const auto& set : sets) {
        std::vector<ArchiveFile> files;
        for (std::size_t i = 0; i + 1 < set.size(); i += 2) files.push_back({set[i], set[i + 1]});
        for (const std::int64_t mtime : {std::int64_t{0}, std::int64_t{1'700'000'000}}) {
            for (const int level : {-1, 0, 1, 6, 9}) {
                SCOPED_TRACE(set.front() + " mtime " + std::to_string(mtime) + " level " + std::to_string(level));
                const auto ours = level < 0 ? write_tar(files, mtime) : write_tar_gz(files, mtime, level);
                const auto theirs = write_archive_with_libarchive(files, mtime, level);
                ASSERT_TRUE(ours);
                ASSERT_TRUE(theirs);
                EXPECT_EQ(*ours, *theirs);
                ++compared;
            }
        }
    }
    EXPECT_EQ(compared, sets.size() * 10);
    // The layout push makes (issue 22): a directory entry, then the policy files under it.
    const std::string audit_policy(700, 'h');  // outlives the views of the entries
    // The directory's content as build_artifact gives it: a view with no data at all.
    const std::vector<ArchiveFile> in_directory{{"policies/", std::string_view(), true},
                                                {"policies/ksp-shop-block-shell.yaml", "kind: KubeArmorPolicy\n"},
                                                {"policies/hsp-audit.yaml", audit_policy}};
    for (const std::int64_t mtime : {std::int64_t{0}, std::int64_t{1'700'000'000}}) {
        for (const int level : {-1, 0, 1, 6, 9}) {
            SCOPED_TRACE("directory mtime " + std::to_string(mtime) + " level " + std::to_string(level));
            const auto ours = level < 0 ? write_tar(in_directory, mtime) : write_tar_gz(in_directory, mtime, level);
            const auto theirs = write_archive_with_libarchive(in_directory, mtime, level);
            ASSERT_TRUE(ours);
            ASSERT_TRUE(theirs);
            EXPECT_EQ(*ours, *theirs);
        }
    }
    // A name over 100 characters needs a pax header: libarchive writes the whole archive.
    const std::string name(101, 'l');
    const std::vector<ArchiveFile> long_name{{name, "x"}, {"short.yaml", "y"}};
    const auto ours = write_tar_gz(long_name, 0);
    const auto theirs = write_archive_with_libarchive(long_name, 0, 6);
    ASSERT_TRUE(ours) << ours.error().message;
    ASSERT_TRUE(theirs) << theirs.error().message;
    EXPECT_EQ(*ours, *theirs);
    auto read = read_tar_gz(*ours, "long");
    ASSERT_TRUE(read);
    ASSERT_EQ(read->size(), 2u);
    EXPECT_EQ((*read)[0].name, std::string(101, 'l'));
}

// The CRC-32 runs on a second thread beside deflate: a set `cancel` stops both.
TEST(Archive, CancelStopsTheWriter) {
    std::vector<std::string> contents(2000, std::string(600, 'p'));
    std::vector<std::string> names;
    std::vector<ArchiveFile> files;
    for (std::size_t i = 0; i < contents.size(); ++i) names.push_back("p" + std::to_string(i) + ".yaml");
    for (std::size_t i = 0; i < contents.size(); ++i) files.push_back({names[i], contents[i]});
    const std::atomic<bool> cancel{true};
    for (const int level : {0, 1, 6, 9}) {
        const auto stopped = write_tar_gz(files, 0, level, &cancel);
        ASSERT_FALSE(stopped) << level;
        EXPECT_EQ(stopped.error().kind, ErrorKind::cancelled) << level;
    }
    const std::atomic<bool> go{false};
    const auto written = write_tar_gz(files, 0, 6, &go);
    ASSERT_TRUE(written) << written.error().message;
    const auto read = read_tar_gz(*written, "cancel test");
    ASSERT_TRUE(read) << read.error().message;
    EXPECT_EQ(read->size(), files.size());
}

TEST(Archive, WriterIsDeterministicAndReadable) {
    const std::vector<ArchiveFile> entries{{"a.yaml", "a: 1\n"}, {"b.yaml", "b: 2\n"}};
    auto first = write_tar_gz(entries, 0);
    auto second = write_tar_gz(entries, 0);
    ASSERT_TRUE(first);
    ASSERT_TRUE(second);
    EXPECT_EQ(*first, *second);
    // gzip header: magic, deflate, no FNAME flag, mtime 0.
    ASSERT_GT(first->size(), 10u);
    EXPECT_EQ(static_cast<unsigned char>((*first)[0]), 0x1f);
    EXPECT_EQ(static_cast<unsigned char>((*first)[1]), 0x8b);
    EXPECT_EQ((*first)[3] & 0x08, 0) << "gzip header carries a file name";
    EXPECT_EQ(first->substr(4, 4), std::string(4, '\0')) << "gzip header carries a timestamp";

    auto read = read_tar_gz(*first, "test");
    ASSERT_TRUE(read) << read.error().message;
    ASSERT_EQ(read->size(), 2u);
    EXPECT_EQ((*read)[0].name, "a.yaml");
    EXPECT_EQ((*read)[1].content, "b: 2\n");
}

TEST(Archive, EntriesHaveFixedOwnershipModeAndTime) {
    auto bytes = write_tar_gz({{"p.yaml", "x"}}, 1700000000);
    ASSERT_TRUE(bytes);
    std::unique_ptr<archive, decltype(&archive_read_free)> a(archive_read_new(), archive_read_free);
    archive_read_support_filter_gzip(a.get());
    archive_read_support_format_tar(a.get());
    ASSERT_EQ(archive_read_open_memory(a.get(), bytes->data(), bytes->size()), ARCHIVE_OK);
    archive_entry* entry = nullptr;
    ASSERT_EQ(archive_read_next_header(a.get(), &entry), ARCHIVE_OK);
    EXPECT_EQ(archive_entry_perm(entry), 0644);
    EXPECT_EQ(archive_entry_uid(entry), 0);
    EXPECT_EQ(archive_entry_gid(entry), 0);
    const char* uname = archive_entry_uname(entry);
    const char* gname = archive_entry_gname(entry);
    EXPECT_STREQ(uname ? uname : "", "");
    EXPECT_STREQ(gname ? gname : "", "");
    EXPECT_EQ(archive_entry_mtime(entry), 1700000000);
}

struct HostileCase {
    const char* label;
    std::vector<RawEntry> entries;
    const char* message_part;
};

class HostileArchive : public ::testing::TestWithParam<HostileCase> {};

TEST_P(HostileArchive, IsRefused) {
    const auto& c = GetParam();
    auto read = read_tar_gz(raw_tar_gz(c.entries), "layer");
    ASSERT_FALSE(read) << c.label;
    EXPECT_EQ(read.error().kind, ErrorKind::validation);
    EXPECT_NE(read.error().message.find(c.message_part), std::string::npos) << read.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    Table, HostileArchive,
    ::testing::Values(HostileCase{"absolute", {{"/etc/passwd", "x"}}, "absolute"},
                      HostileCase{"dotdot", {{"a/../../x.yaml", "x"}}, "\"..\""},
                      HostileCase{"symlink", {{"x.yaml", "", AE_IFLNK, "/etc/passwd"}}, "symbolic link"},
                      HostileCase{"hardlink", {{"a.yaml", "x"}, {"b.yaml", "", AE_IFREG, "a.yaml"}}, "hard link"},
                      HostileCase{"fifo", {{"x.yaml", "", AE_IFIFO}}, "FIFO"},
                      HostileCase{"device", {{"x.yaml", "", AE_IFCHR}}, "device"},
                      HostileCase{"duplicate", {{"a.yaml", "x"}, {"./a.yaml", "y"}}, "twice"}),
    [](const auto& test_case) { return std::string(test_case.param.label); });

TEST(Archive, LimitsStopBombsEarly) {
    const std::string big(1 << 20, 'a');  // compresses to about 1 KiB
    const auto bytes = raw_tar_gz({{"a.yaml", big}, {"b.yaml", big}});
    ArchiveLimits limits;
    limits.max_entry_bytes = 1 << 19;
    auto per_entry = read_tar_gz(bytes, "layer", limits);
    ASSERT_FALSE(per_entry);
    EXPECT_NE(per_entry.error().message.find("larger than"), std::string::npos);

    limits = {};
    limits.max_total_bytes = (1 << 20) + 10;
    auto total = read_tar_gz(bytes, "layer", limits);
    ASSERT_FALSE(total);
    EXPECT_NE(total.error().message.find("expands to more than"), std::string::npos);

    limits = {};
    limits.max_entries = 1;
    auto count = read_tar_gz(bytes, "layer", limits);
    ASSERT_FALSE(count);
    EXPECT_NE(count.error().message.find("more than 1 entries"), std::string::npos);
}

TEST(Archive, GarbageIsRefused) {
    auto read = read_tar_gz("definitely not gzip", "layer");
    EXPECT_FALSE(read);
}

}  // namespace
}  // namespace karmor::bundle
