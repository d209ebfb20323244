#include <curl/curl.h>
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

int main(int argc, char** argv) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const int code = karmor::cli::run(
        argc, argv, {std::cout, std::cerr, std::cin, is_terminal(STDERR_FILENO), is_terminal(STDOUT_FILENO)});
    curl_global_cleanup();
    return code;
}
