// Compares the schema tables of policy/schema.cpp with KubeArmor's CRDs in
// shared/kubearmor/crds, so that a CRD update that the tables miss fails here (SPEC §5).
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "karmor/policy.hpp"
#include "policy/schema.hpp"

namespace karmor {
namespace {

using policy::schema::Node;

std::filesystem::path crd_dir() {
    return std::filesystem::path(KARMOR_SHARED_DIR) / "kubearmor" / "crds";
}

std::vector<std::string> strings_of(const YAML::Node& list) {
    std::vector<std::string> out;
    for (const auto& item : list) out.push_back(item.as<std::string>());
    return out;
}

std::vector<std::string> sorted(std::vector<std::string> values) {
    std::sort(values.begin(), values.end());
    return values;
}

template <class T>
std::string text(const std::optional<T>& value) {
    return value ? std::to_string(*value) : "none";
}

template <class T>
std::optional<T> optional_of(const YAML::Node& node) {
    return node ? std::optional<T>(node.as<T>()) : std::nullopt;
}

// Appends one line per difference between an openAPIV3Schema node and ours.
class DriftFinder {
public:
    std::vector<std::string> differences;

    void compare(const YAML::Node& crd, const Node& mine, const std::string& path) {
        static const std::set<std::string> encoded = {"type",
                                                      "description",
                                                      "properties",
                                                      "required",
                                                      "enum",
                                                      "pattern",
                                                      "minimum",
                                                      "maximum",
                                                      "maxLength",
                                                      "maxItems",
                                                      "items",
                                                      "additionalProperties",
                                                      "format",
                                                      "x-kubernetes-validations",
                                                      "x-kubernetes-preserve-unknown-fields"};
        for (const auto& entry : crd) {
            const auto keyword = entry.first.as<std::string>();
            if (!encoded.count(keyword)) differ(path, "the CRD uses " + keyword + ", which the tables do not encode");
        }
        expect_equal(path + " type", crd["type"].as<std::string>(), std::string(type_name(mine.type)));
        // The CRDs say only `metadata: {type: object}`; the API server applies ObjectMeta.
        if (path == ".metadata") return;

        compare_properties(crd["properties"], mine, path);
        expect_equal(path + " required",
                     sorted(crd["required"] ? strings_of(crd["required"]) : std::vector<std::string>{}),
                     sorted(mine.required));
        expect_equal(path + " enum", crd["enum"] ? strings_of(crd["enum"]) : std::vector<std::string>{},
                     mine.enum_values);
        expect_equal(path + " pattern", crd["pattern"] ? crd["pattern"].as<std::string>() : std::string(),
                     mine.string_rule ? mine.string_rule->crd_pattern() : std::string());
        expect_equal(path + " minimum", text(optional_of<std::int64_t>(crd["minimum"])), text(mine.minimum));
        expect_equal(path + " maximum", text(optional_of<std::int64_t>(crd["maximum"])), text(mine.maximum));
        expect_equal(path + " maxLength", text(optional_of<std::size_t>(crd["maxLength"])), text(mine.max_length));
        expect_equal(path + " maxItems", text(optional_of<std::size_t>(crd["maxItems"])), text(mine.max_items));
        expect_equal(path + " format", crd["format"] ? crd["format"].as<std::string>() : std::string(), mine.format);
        expect_equal(path + " x-kubernetes-preserve-unknown-fields",
                     crd["x-kubernetes-preserve-unknown-fields"] &&
                         crd["x-kubernetes-preserve-unknown-fields"].as<bool>(),
                     mine.preserve_unknown_fields);
        compare_rules(crd["x-kubernetes-validations"], mine, path);
        compare_child(crd["items"], mine.items.get(), path + "[]");
        compare_child(crd["additionalProperties"], mine.additional_properties.get(), path + "{}");
    }

private:
    void differ(const std::string& path, const std::string& what) { differences.push_back(path + ": " + what); }

    template <class T>
    void expect_equal(const std::string& what, const T& crd, const T& mine) {
        if (crd != mine) differences.push_back(what + " differs from the CRD");
    }

    void compare_properties(const YAML::Node& crd, const Node& mine, const std::string& path) {
        std::set<std::string> seen;
        if (crd) {
            for (const auto& entry : crd) {
                const auto name = entry.first.as<std::string>();
                seen.insert(name);
                const auto* property = mine.find(name);
                if (!property)
                    differ(path, "the CRD has a field " + name + " that the tables lack");
                else
                    compare(entry.second, *property->schema, path + "." + name);
            }
        }
        for (const auto& property : mine.properties)
            if (!seen.count(property.name)) differ(path, "the tables have a field " + property.name + " the CRD lacks");
    }

    void compare_rules(const YAML::Node& crd, const Node& mine, const std::string& path) {
        std::vector<std::string> crd_rules;
        std::vector<std::string> our_rules;
        if (crd)
            for (const auto& rule : crd)
                crd_rules.push_back(rule["rule"].as<std::string>() + " / " + rule["message"].as<std::string>());
        for (const auto& rule : mine.rules) our_rules.push_back(rule.cel + " / " + rule.message);
        expect_equal(path + " x-kubernetes-validations", crd_rules, our_rules);
    }

    void compare_child(const YAML::Node& crd, const Node* mine, const std::string& path) {
        if (!crd && !mine) return;
        if (!crd || !mine) return differ(path, crd ? "the tables lack this schema" : "the CRD lacks this schema");
        compare(crd, *mine, path);
    }
};

struct Crd {
    std::string kind;
    bool namespaced = false;
    YAML::Node schema;  // openAPIV3Schema of the served version
};

Crd read_crd(const std::filesystem::path& file) {
    const auto root = YAML::LoadFile(file.string());
    Crd crd;
    crd.kind = root["spec"]["names"]["kind"].as<std::string>();
    crd.namespaced = root["spec"]["scope"].as<std::string>() == "Namespaced";
    crd.schema = root["spec"]["versions"][0]["schema"]["openAPIV3Schema"];
    return crd;
}

TEST(SchemaDrift, TablesMatchTheCrds) {
    if (!std::filesystem::is_directory(crd_dir())) GTEST_SKIP() << "SKIPPED: " << crd_dir() << " is not present";
    std::set<std::string> kinds;
    for (const auto& entry : std::filesystem::directory_iterator(crd_dir())) {
        const auto crd = read_crd(entry.path());
        SCOPED_TRACE(crd.kind);
        kinds.insert(crd.kind);
        EXPECT_EQ(is_namespaced_kind(crd.kind), crd.namespaced);
        const auto* mine = policy::schema::document_schema(crd.kind);
        ASSERT_NE(mine, nullptr) << "a kind the tables do not know";
        DriftFinder finder;
        finder.compare(crd.schema, *mine, "");
        for (const auto& difference : finder.differences) ADD_FAILURE() << difference;
    }
    EXPECT_EQ(kinds, (std::set<std::string>{"KubeArmorPolicy", "KubeArmorHostPolicy", "KubeArmorClusterPolicy",
                                            "KubeArmorNetworkPolicy"}));
}

// The comparison itself must notice a change: edit a CRD in memory and count the differences.
TEST(SchemaDrift, AChangedCrdIsNoticed) {
    if (!std::filesystem::is_directory(crd_dir())) GTEST_SKIP() << "SKIPPED: " << crd_dir() << " is not present";
    auto crd = read_crd(crd_dir() / "KubeArmorPolicy.yaml");
    auto spec = crd.schema["properties"]["spec"];
    spec["properties"]["action"]["enum"].push_back("Deny");
    spec["properties"]["severity"]["maximum"] = 11;
    spec["properties"]["newField"]["type"] = "string";
    spec["properties"]["file"]["properties"]["matchDirectories"]["items"]["properties"]["dir"]["pattern"] = "^/";
    spec["properties"]["file"]["properties"]["matchDirectories"]["items"]["required"].push_back("recursive");
    spec["properties"]["process"]["minProperties"] = 1;
    DriftFinder finder;
    finder.compare(crd.schema, *policy::schema::document_schema("KubeArmorPolicy"), "");
    EXPECT_EQ(finder.differences.size(), 6u) << ::testing::PrintToString(finder.differences);
}

}  // namespace
}  // namespace karmor
