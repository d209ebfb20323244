// Errors as values (STYLE.md §3). GCC 12 has no std::expected in C++20 mode, so this
// is a small in-tree Result<T> that keeps std::expected's names (has_value, value,
// error, unexpected) so that a move to C++23 is a rename.
#pragma once

#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace karmor {

// Each kind maps to one documented exit code of the CLI (README, "Exit codes").
enum class ErrorKind {
    usage,       // bad flags or arguments, an invalid reference
    validation,  // a policy or an artifact that is not acceptable
    not_found,   // a repository, tag, manifest or blob that does not exist
    auth,        // authentication or authorization refused
    registry,    // network failures and registry errors other than the above
    io,          // local files and directories
    cancelled,   // interrupted (SIGINT, SIGTERM) before it finished
    // A signature that is missing, does not verify under the given keys or does not name what
    // was asked for (SPEC §9): verification fails closed.
    verification,
    // `follow --once --exec CMD`: CMD failed after the directory was switched.
    hook,
};

// One problem of an input with its place, for tools that read errors as data (--output json).
struct Problem {
    std::string file;
    int line = 0;  // 1-based; 0 when unknown
    int column = 0;
    std::string field;  // e.g. spec.process.matchPaths[0].path; may be empty
    std::string message;
};

struct Error {
    ErrorKind kind = ErrorKind::registry;
    std::string message;               // what failed, with where
    std::string hint;                  // what to do about it; may be empty
    std::vector<std::string> details;  // one line per problem, e.g. every invalid policy field
    std::vector<Problem> problems;     // the details that have a place in an input, as data

    Error() = default;
    Error(ErrorKind k, std::string msg, std::string how_to_fix = {})
        : kind(k), message(std::move(msg)), hint(std::move(how_to_fix)) {}
};

template <class E>
class Unexpected {
public:
    explicit Unexpected(E e) : error_(std::move(e)) {}
    E& error() & { return error_; }
    E&& error() && { return std::move(error_); }

private:
    E error_;
};

inline Unexpected<Error> unexpected(Error e) {
    return Unexpected<Error>(std::move(e));
}

template <class T>
class [[nodiscard]] Result {
public:
    Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}                  // NOLINT: implicit by design
    Result(Unexpected<Error> e) : state_(std::in_place_index<1>, std::move(e).error()) {}  // NOLINT

    bool has_value() const { return state_.index() == 0; }
    explicit operator bool() const { return has_value(); }

    T& value() & { return std::get<0>(state_); }
    const T& value() const& { return std::get<0>(state_); }
    T&& value() && { return std::get<0>(std::move(state_)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    Error& error() & { return std::get<1>(state_); }
    const Error& error() const& { return std::get<1>(state_); }
    Error&& error() && { return std::get<1>(std::move(state_)); }

private:
    std::variant<T, Error> state_;
};

template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Unexpected<Error> e) : error_(std::move(e).error()), failed_(true) {}  // NOLINT

    bool has_value() const { return !failed_; }
    explicit operator bool() const { return !failed_; }
    void value() const {}
    const Error& error() const& { return error_; }
    Error&& error() && { return std::move(error_); }

private:
    Error error_;
    bool failed_ = false;
};

}  // namespace karmor
