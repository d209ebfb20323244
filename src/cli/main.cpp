#include <iostream>

#include "cli/cli.hpp"

// libcurl is initialized by the first HTTP transport (src/oci/curl_transport.cpp), so that
// commands without network access do not pay for it.
int main(int argc, char** argv) {
    return karmor::cli::run(argc, argv, {std::cout, std::cerr, std::cin});
}
