// Serialization (SPEC §5): a document given value by value, as the API server would store it
// (nulls already dropped, keys in the document's order), written as block YAML, as indented
// JSON, or built into a JSON tree. Serialization is driven by the parser's events; there is no
// tree unless the caller asks for one.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace karmor::policy {

class ValueWriter {
public:
    virtual ~ValueWriter() = default;
    virtual void begin_object() = 0;
    virtual void begin_array() = 0;
    virtual void end() = 0;                                       // of the innermost object or array
    virtual void key(std::string_view key) = 0;                   // in an object, before each value
    virtual void string(std::string_view value) = 0;              // a value
    virtual void value(const nlohmann::ordered_json& value) = 0;  // a null, boolean or number
};

// Block-style YAML ending in a newline, appended to `out`: strings are plain where any YAML
// 1.1 or 1.2 reader reads them back as the same string, else double-quoted.
class YamlTextWriter final : public ValueWriter {
public:
    explicit YamlTextWriter(std::string& out) : out_(out) {}
    void reset() { frames_.clear(); }  // for the next document, into the same string
    void begin_object() override { begin(true); }
    void begin_array() override { begin(false); }
    void end() override;
    void key(std::string_view key) override;
    void string(std::string_view value) override;
    void value(const nlohmann::ordered_json& value) override;

private:
    enum class Place : std::uint8_t { root, value, item };  // where a value goes
    struct Frame {
        bool object = false;
        Place place = Place::root;
        std::size_t indent = 0;  // of its keys or items
        std::size_t count = 0;   // keys or items written
    };
    Place next_value();
    void begin(bool object);

    std::string& out_;
    std::vector<Frame> frames_;
};

// JSON as nlohmann::json's dump(2) writes it, appended to `out`, with the characters YAML readers
// fold or refuse escaped (escape_unsafe_characters): JSON layers are read with the YAML reader.
class JsonTextWriter final : public ValueWriter {
public:
    explicit JsonTextWriter(std::string& out) : out_(out) {}
    void reset() { frames_.clear(); }  // for the next document, into the same string
    void begin_object() override { begin(true); }
    void begin_array() override { begin(false); }
    void end() override;
    void key(std::string_view key) override;
    void string(std::string_view value) override;
    void value(const nlohmann::ordered_json& value) override;

private:
    struct Frame {
        bool object = false;
        std::size_t indent = 0;  // of its own closing bracket
        std::size_t count = 0;
    };
    void next_value();
    void begin(bool object);

    std::string& out_;
    std::vector<Frame> frames_;
};

// The document as an nlohmann::ordered_json tree, for callers that work on the data.
class JsonTreeBuilder final : public ValueWriter {
public:
    void begin_object() override { open_.push_back({nlohmann::ordered_json::object(), {}}); }
    void begin_array() override { open_.push_back({nlohmann::ordered_json::array(), {}}); }
    void end() override;
    void key(std::string_view key) override { open_.back().key.assign(key); }
    void string(std::string_view value) override { add(nlohmann::ordered_json(std::string(value))); }
    void value(const nlohmann::ordered_json& value) override { add(value); }
    nlohmann::ordered_json take() { return std::move(root_); }

private:
    struct Open {
        nlohmann::ordered_json value;
        std::string key;  // objects: the key of the value being built
    };
    void add(nlohmann::ordered_json value);

    std::vector<Open> open_;
    nlohmann::ordered_json root_;
};

// Gives a JSON tree to `writer`, value by value.
void write_json(const nlohmann::ordered_json& value, ValueWriter& writer);

}  // namespace karmor::policy
