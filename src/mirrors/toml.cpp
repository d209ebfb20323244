// The toml++ implementation, compiled here once (see toml.hpp).
#define TOML_IMPLEMENTATION
#include "mirrors/toml.hpp"
