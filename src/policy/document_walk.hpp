// One pass over a document's nodes for several observers at once (identity, schema validation,
// conversion): the walk knows what each node is (the root, a mapping key, a mapping value, a
// list item), keeps the field path ("spec.file.matchPaths[0].path"), and spares each observer
// the subtrees it declined. Nothing of the document is kept.
#pragma once

#include <string>
#include <vector>

#include "policy/yaml_events.hpp"

namespace karmor::policy {

class DocumentObserver {
public:
    virtual ~DocumentObserver() = default;
    // A mapping key that is a string (a scalar that is not null); its value comes next.
    virtual void key(const YamlScalar& key) = 0;
    // A mapping key that is null or a collection: neither it nor its value is given.
    virtual void bad_key(int line, int column) = 0;
    // A value that is a scalar: the root, a mapping value or a list item.
    virtual void scalar(const YamlScalar& value) = 0;
    // A value that is a collection. False: the observer wants neither its children nor its end.
    virtual bool begin(const YamlCollection& value) = 0;
    virtual void end() = 0;
};

class DocumentWalk final : public YamlNodeSink {
public:
    // Observers are called in the order they were added.
    void add(DocumentObserver& observer) { observers_.push_back({&observer, 0, true}); }
    // Stops giving nodes to `observer` (for the rest of the document).
    void drop(const DocumentObserver& observer);
    void clear();

    // The field path of the node being given: keys joined with '.', list indexes in [].
    const std::string& path() const { return path_; }

    void scalar(const YamlScalar& scalar) override;
    bool begin(const YamlCollection& collection) override;
    void end() override;

private:
    struct Watcher {
        DocumentObserver* observer;
        std::size_t skip_depth;  // > 0: inside a collection it declined
        bool active;
    };
    struct Open {
        bool mapping = false;
        bool expecting_key = true;
        bool skip_value = false;    // the key was not a string: its value goes to no one
        std::size_t index = 0;      // sequences: the next item's index
        std::size_t path_size = 0;  // the path before the current key or item
    };
    // What the next node is in its parent: a key, a value to skip, or a value. Pushes the
    // key's or item's path segment for a value.
    enum class Role { key, skipped, value };
    Role role_of_next();
    void after_value();

    std::vector<Watcher> observers_;
    std::vector<Open> open_;
    std::string path_;
};

}  // namespace karmor::policy
