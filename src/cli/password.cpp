// Passwords typed on the terminal without echo (login, cosign-format private keys), and the one
// place that decides where a key's password comes from (SPEC §9 "Keys").
#include <openssl/crypto.h>
#include <termios.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include "cli/cli.hpp"
#include "signing/encrypted_key.hpp"

namespace karmor::cli {
namespace {

// Turns terminal echo off for its lifetime. TCSANOW, not TCSAFLUSH: a line typed (or pasted)
// ahead of the prompt is kept, as Go's term.ReadPassword (cosign, docker) keeps it.
class EchoOff {
public:
    explicit EchoOff(int fd) : fd_(fd) {
        if (tcgetattr(fd_, &saved_) != 0) return;
        termios quiet = saved_;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        active_ = tcsetattr(fd_, TCSANOW, &quiet) == 0;
    }
    ~EchoOff() {
        if (active_) tcsetattr(fd_, TCSANOW, &saved_);
    }
    EchoOff(const EchoOff&) = delete;
    EchoOff& operator=(const EchoOff&) = delete;

private:
    int fd_;
    termios saved_{};
    bool active_ = false;
};

void trim_line_end(std::string& line) {
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
}

bool same_text(const std::string& a, const std::string& b) {
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

bool input_is_terminal(const Streams& io) {
    return &io.in == &std::cin && isatty(STDIN_FILENO) == 1;
}

Result<std::string> read_hidden_line(Streams& io, const std::string& prompt) {
    std::string line;
    line.reserve(256);  // one buffer for typical passwords: no stray copies from regrowth
    io.err << prompt << std::flush;
    bool read = false;
    {
        EchoOff no_echo(STDIN_FILENO);
        read = static_cast<bool>(std::getline(io.in, line));
    }
    io.err << "\n";
    if (!read)
        return unexpected(Error(ErrorKind::usage, "no answer: the terminal was closed (end of input) at the prompt"));
    trim_line_end(line);
    return line;
}

signing::PasswordSource key_password_source(Streams& io, const std::string& key_name) {
    return [&io, key_name](bool confirm) -> Result<std::string> {
        // Set, even to the empty string, counts: cosign reads COSIGN_PASSWORD the same way.
        for (const char* variable : {"KARMOR_PASSWORD", "COSIGN_PASSWORD"})
            if (const char* value = std::getenv(variable)) return std::string(value);
        if (!input_is_terminal(io))
            return unexpected(Error(ErrorKind::usage,
                                    "no password for " + key_name +
                                        ": KARMOR_PASSWORD and COSIGN_PASSWORD are not set and standard input is "
                                        "not a terminal",
                                    "set KARMOR_PASSWORD (or COSIGN_PASSWORD) in the environment, or run on a "
                                    "terminal to be asked"));
        auto first = read_hidden_line(io, "Enter password for private key " + key_name + ": ");
        if (!first || !confirm) return first;
        auto second = read_hidden_line(io, "Enter password for private key " + key_name + " again: ");
        if (!second) {
            signing::wipe_secret(*first);
            return second;
        }
        const bool same = same_text(*first, *second);
        signing::wipe_secret(*second);
        if (!same) {
            signing::wipe_secret(*first);
            return unexpected(Error(ErrorKind::usage, "the two passwords differ", "type the same password twice"));
        }
        return first;
    };
}

}  // namespace karmor::cli
