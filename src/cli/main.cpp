#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <iostream>

#include "cli/built_definitions.hpp"
#include "cli/cli.hpp"

namespace {

// A terminal that understands "erase line".
bool is_terminal(int fd) {
    const char* term = std::getenv("TERM");
    return isatty(fd) == 1 && !(term && std::strcmp(term, "dumb") == 0);
}

}  // namespace

// libcurl, libarchive, libsodium and (in this executable) libcrypto are opened when first used
// (src/util/shared_library.hpp, src/cli/lazy_libcrypto.cpp), so that commands which do not use
// them do not pay for loading them. The completion scripts and every command's --help were taken
// from the command tree at build time (src/cli/built_definitions.hpp).
int main(int argc, char** argv) {
    return karmor::cli::run(argc, argv,
                            {std::cout, std::cerr, std::cin, is_terminal(STDERR_FILENO), is_terminal(STDOUT_FILENO)},
                            &karmor::cli::built_definitions());
}
