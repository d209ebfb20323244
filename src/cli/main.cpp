#include <curl/curl.h>

#include <iostream>

#include "cli/cli.hpp"

int main(int argc, char** argv) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const int code = karmor::cli::run(argc, argv, {std::cout, std::cerr, std::cin});
    curl_global_cleanup();
    return code;
}
