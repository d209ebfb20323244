// Uses the public API the way the KubeArmor daemon would: parse a reference, load policies.
#include <karmor/oci.hpp>

#include <iostream>

int main(int argc, char** argv) {
    if (argc != 2) return 2;
    auto ref = karmor::Reference::parse("localhost:5000/team/policies:v1");
    if (!ref) return 1;
    auto policies = karmor::load_policy_files({argv[1]});
    if (!policies) {
        std::cerr << policies.error().message << "\n";
        return 1;
    }
    std::cout << ref->str() << " " << policies->size() << "\n";
    return 0;
}
