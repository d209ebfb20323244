// What push and pull tell a ProgressSink, against a real docker-registry: the policies loaded,
// then byte counts of the blobs that only grow and end at the total.
#include <gtest/gtest.h>

#include <random>
#include <variant>

#include "karmor/oci.hpp"
#include "support/local_registry.hpp"

namespace karmor {
namespace {

using testing::TempDir;
using testing::write_text;

struct Stage {
    ProgressStage stage;
};
struct Loaded {
    std::size_t count;
};
struct Bytes {
    TransferDirection direction;
    std::uint64_t done;
    std::uint64_t total;
};
using Event = std::variant<Stage, Loaded, Bytes>;

class RecordingSink final : public ProgressSink {
public:
    void stage_started(ProgressStage stage) override { events.push_back(Stage{stage}); }
    void policies_loaded(std::size_t count) override { events.push_back(Loaded{count}); }
    void bytes_transferred(TransferDirection direction, std::uint64_t done, std::uint64_t total) override {
        events.push_back(Bytes{direction, done, total});
    }

    std::vector<Bytes> bytes() const {
        std::vector<Bytes> out;
        for (const auto& e : events)
            if (const auto* b = std::get_if<Bytes>(&e)) out.push_back(*b);
        return out;
    }
    // Index of the first event of type T, or events.size().
    template <class T>
    std::size_t first() const {
        for (std::size_t i = 0; i < events.size(); ++i)
            if (std::holds_alternative<T>(events[i])) return i;
        return events.size();
    }

    std::vector<Event> events;
};

// One policy with a 2 MiB message: a single YAML layer big enough to take libcurl several
// rounds of its transfer loop, each of which reports progress.
std::string large_policy() {
    std::mt19937 random(7);
    std::string message;
    message.reserve(2 << 20);
    static constexpr char hex[] = "0123456789abcdef";
    while (message.size() < (2u << 20)) message += hex[random() % 16];
    return "apiVersion: security.kubearmor.com/v1\nkind: KubeArmorPolicy\nmetadata:\n  name: large\n  namespace: "
           "shop\nspec:\n  selector:\n    matchLabels:\n      app: shop\n  message: " +
           message + "\n  process:\n    matchPaths:\n      - path: /bin/sh\n  action: Block\n";
}

// Byte counts never go back, the total stays put and is reached, and at least one report
// came while a blob was under way.
void expect_growing_to_total(const std::vector<Bytes>& reports, TransferDirection direction, std::uint64_t total) {
    ASSERT_FALSE(reports.empty());
    EXPECT_EQ(reports.front().done, 0u);
    std::uint64_t previous = 0;
    bool midway = false;
    for (const auto& r : reports) {
        EXPECT_EQ(r.direction, direction);
        EXPECT_EQ(r.total, total);
        EXPECT_GE(r.done, previous) << "the byte count went back";
        EXPECT_LE(r.done, r.total);
        if (r.done > previous && r.done < total) midway = true;
        previous = r.done;
    }
    EXPECT_EQ(reports.back().done, total);
    EXPECT_TRUE(midway) << "no report while the large layer was under way";
}

std::uint64_t layer_bytes(const Manifest& m) {
    std::uint64_t total = 0;
    for (const auto& layer : m.layers) total += static_cast<std::uint64_t>(layer.size);
    return total;
}

// Push sends the config and the layers.
std::uint64_t blob_bytes(const Manifest& m) {
    return (m.config ? static_cast<std::uint64_t>(m.config->size) : 0) + layer_bytes(m);
}

TEST(Progress, PushReportsPoliciesThenGrowingBytesSent) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    TempDir in;
    write_text(in / "large.yaml", large_policy());
    PushOptions options;
    options.reference = *Reference::parse(registry->localhost() + "/shop/policies:v1");
    options.inputs = {in / "large.yaml"};
    RecordingSink sink;
    options.progress = &sink;

    auto pushed = push_policies(options);
    ASSERT_TRUE(pushed) << pushed.error().message;
    ASSERT_EQ(pushed->blobs_uploaded, 2);
    ASSERT_GT(pushed->manifest.layers.at(0).size, 2 << 20);

    ASSERT_GE(sink.events.size(), 3u);
    ASSERT_TRUE(std::holds_alternative<Stage>(sink.events[0]));
    EXPECT_EQ(std::get<Stage>(sink.events[0]).stage, ProgressStage::loading_policies);
    ASSERT_TRUE(std::holds_alternative<Loaded>(sink.events[1]));
    EXPECT_EQ(std::get<Loaded>(sink.events[1]).count, 1u);
    EXPECT_LT(sink.first<Loaded>(), sink.first<Bytes>()) << "policies are loaded before anything is sent";
    expect_growing_to_total(sink.bytes(), TransferDirection::upload, blob_bytes(pushed->manifest));

    // Pushed again: every blob is there, nothing is sent, so no byte counts at all.
    RecordingSink again;
    options.progress = &again;
    auto repushed = push_policies(options);
    ASSERT_TRUE(repushed) << repushed.error().message;
    EXPECT_TRUE(repushed->tag_unchanged);
    EXPECT_TRUE(again.bytes().empty());
    EXPECT_EQ(again.first<Loaded>(), 1u);
}

TEST(Progress, PullReportsGrowingBytesReceivedThenPolicies) {
    KARMOR_START_REGISTRY(registry, testing::RegistryConfig{});
    TempDir in;
    write_text(in / "large.yaml", large_policy());
    PushOptions push;
    push.reference = *Reference::parse(registry->localhost() + "/shop/policies:v1");
    push.inputs = {in / "large.yaml"};
    auto pushed = push_policies(push);
    ASSERT_TRUE(pushed) << pushed.error().message;

    TempDir out;
    PullOptions options;
    options.reference = push.reference;
    options.output_directory = out / "policies";
    RecordingSink sink;
    options.progress = &sink;
    auto pulled = pull_policies(options);
    ASSERT_TRUE(pulled) << pulled.error().message;

    // Pull reads only the layers: the config is an index for inspect.
    expect_growing_to_total(sink.bytes(), TransferDirection::download, layer_bytes(pushed->manifest));
    ASSERT_GE(sink.events.size(), 3u);
    const auto n = sink.events.size();
    ASSERT_TRUE(std::holds_alternative<Stage>(sink.events[n - 3]));
    EXPECT_EQ(std::get<Stage>(sink.events[n - 3]).stage, ProgressStage::loading_policies);
    ASSERT_TRUE(std::holds_alternative<Loaded>(sink.events[n - 2]));
    EXPECT_EQ(std::get<Loaded>(sink.events[n - 2]).count, 1u);
    ASSERT_TRUE(std::holds_alternative<Stage>(sink.events[n - 1]));
    EXPECT_EQ(std::get<Stage>(sink.events[n - 1]).stage, ProgressStage::writing_files);
}

}  // namespace
}  // namespace karmor
