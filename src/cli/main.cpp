#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <iostream>

#include "cli/cli.hpp"

namespace {

// A terminal that understands "erase line".
bool is_terminal(int fd) {
    const char* term = std::getenv("TERM");
    return isatty(fd) == 1 && !(term && std::strcmp(term, "dumb") == 0);
}

}  // namespace

// libcurl is initialized by the first HTTP transport (src/oci/curl_transport.cpp), so that
// commands without network access do not pay for it.
int main(int argc, char** argv) {
    return karmor::cli::run(argc, argv,
                            {std::cout, std::cerr, std::cin, is_terminal(STDERR_FILENO), is_terminal(STDOUT_FILENO)});
}
