// The floor of issue 18's start-up goal: a C++ program that links only libstdc++ and prints
// one line, as `karmor version` does. bench/startup.sh builds it with the project's compiler
// and times it in the same hyperfine run as karmor's quick commands.
#include <iostream>

int main() {
    std::cout << "floor 0.1.0 (a C++ program that links only libstdc++)\n";
    return 0;
}
