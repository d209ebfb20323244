// The error of a mirror configuration file that cannot be used as it is.
#pragma once

#include <string>

#include "karmor/result.hpp"

namespace karmor::mirrors {

// Of kind usage (the node's configuration is input like a flag), with what to do about it.
inline Error config_error(std::string message, std::string hint = {}) {
    constexpr const char* escape = "pass --no-mirrors to read from the registry in the reference without it";
    hint = hint.empty() ? std::string("fix the file, or ") + escape : hint + "; or " + escape;
    return Error(ErrorKind::usage, std::move(message), std::move(hint));
}

}  // namespace karmor::mirrors
