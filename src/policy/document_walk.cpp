#include "policy/document_walk.hpp"

#include <charconv>

namespace karmor::policy {

void DocumentWalk::drop(const DocumentObserver& observer) {
    for (auto& watcher : observers_)
        if (watcher.observer == &observer) watcher.active = false;
}

void DocumentWalk::clear() {
    observers_.clear();
    open_.clear();
    path_.clear();
}

DocumentWalk::Role DocumentWalk::role_of_next() {
    if (open_.empty()) return Role::value;  // the root
    auto& top = open_.back();
    if (top.mapping) {
        if (top.expecting_key) {
            top.expecting_key = false;
            return Role::key;
        }
        top.expecting_key = true;
        if (top.skip_value) {
            top.skip_value = false;
            return Role::skipped;
        }
        return Role::value;  // key() pushed the path segment
    }
    top.path_size = path_.size();
    char digits[24];
    const auto written = std::to_chars(digits, digits + sizeof digits, top.index).ptr;
    path_ += '[';
    path_.append(digits, written);
    path_ += ']';
    ++top.index;
    return Role::value;
}

void DocumentWalk::after_value() {
    if (!open_.empty()) path_.resize(open_.back().path_size);
}

void DocumentWalk::scalar(const YamlScalar& scalar) {
    switch (role_of_next()) {
        case Role::skipped: return;
        case Role::key: {
            auto& top = open_.back();
            if (scalar.null) {
                top.skip_value = true;
                for (auto& w : observers_)
                    if (w.active && w.skip_depth == 0) w.observer->bad_key(scalar.line, scalar.column);
                return;
            }
            top.path_size = path_.size();
            if (!path_.empty()) path_ += '.';
            path_ += scalar.text;
            for (auto& w : observers_)
                if (w.active && w.skip_depth == 0) w.observer->key(scalar);
            return;
        }
        case Role::value:
            for (auto& w : observers_)
                if (w.active && w.skip_depth == 0) w.observer->scalar(scalar);
            after_value();
            return;
    }
}

bool DocumentWalk::begin(const YamlCollection& collection) {
    switch (role_of_next()) {
        case Role::skipped: return false;
        case Role::key:
            open_.back().skip_value = true;
            for (auto& w : observers_)
                if (w.active && w.skip_depth == 0) w.observer->bad_key(collection.line, collection.column);
            return false;
        case Role::value: break;
    }
    bool wanted = false;
    for (auto& w : observers_) {
        if (!w.active) continue;
        if (w.skip_depth > 0)
            ++w.skip_depth;
        else if (!w.observer->begin(collection))
            w.skip_depth = 1;
        wanted = wanted || w.skip_depth == 0;
    }
    if (!wanted) {
        // No one wants it: the reader skips it and gives no end(), so undo what it would undo.
        for (auto& w : observers_)
            if (w.active) --w.skip_depth;
        after_value();
        return false;
    }
    open_.push_back({collection.mapping, true, false, 0, path_.size()});
    return true;
}

void DocumentWalk::end() {
    open_.pop_back();
    for (auto& w : observers_) {
        if (!w.active) continue;
        if (w.skip_depth > 0)
            --w.skip_depth;
        else
            w.observer->end();
    }
    after_value();
}

}  // namespace karmor::policy
