#include "oci/auth_challenge.hpp"

#include <cctype>

namespace karmor::oci {
namespace {

bool is_token_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

std::string lowercase(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

class Tokenizer {
public:
    explicit Tokenizer(std::string_view text) : text_(text) {}

    void skip_spaces() {
        while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t')) ++pos_;
    }
    bool done() const { return pos_ >= text_.size(); }
    char peek() const { return done() ? '\0' : text_[pos_]; }
    void advance() { ++pos_; }
    std::size_t position() const { return pos_; }
    void rewind(std::size_t pos) { pos_ = pos; }

    std::string_view token() {
        const auto start = pos_;
        while (pos_ < text_.size() && is_token_char(text_[pos_])) ++pos_;
        return text_.substr(start, pos_ - start);
    }

    // A token68 value (base64 and the like) may end in '='.
    std::string_view token68() {
        const auto start = pos_;
        while (pos_ < text_.size() && (is_token_char(text_[pos_]) || text_[pos_] == '/')) ++pos_;
        while (pos_ < text_.size() && text_[pos_] == '=') ++pos_;
        return text_.substr(start, pos_ - start);
    }

    std::string quoted_string() {
        std::string out;
        advance();  // opening quote
        while (!done() && peek() != '"') {
            if (peek() == '\\' && pos_ + 1 < text_.size()) advance();
            out.push_back(peek());
            advance();
        }
        if (!done()) advance();  // closing quote
        return out;
    }

private:
    std::string_view text_;
    std::size_t pos_ = 0;
};

}  // namespace

std::vector<AuthChallenge> parse_www_authenticate(std::string_view header) {
    std::vector<AuthChallenge> challenges;
    Tokenizer t(header);
    while (true) {
        t.skip_spaces();
        while (t.peek() == ',') {
            t.advance();
            t.skip_spaces();
        }
        if (t.done()) break;
        const auto scheme = t.token();
        if (scheme.empty()) {
            t.advance();  // skip a character we cannot read and resynchronize
            continue;
        }
        AuthChallenge challenge{lowercase(scheme), {}};
        t.skip_spaces();
        // auth-params: name=value pairs separated by commas, until the next scheme.
        while (!t.done()) {
            const auto before = t.position();
            t.skip_spaces();
            const auto name = t.token();
            t.skip_spaces();
            if (name.empty() || t.peek() != '=') {
                if (!name.empty() && challenge.params.empty() && (t.done() || t.peek() == ',')) {
                    // token68 form ("Negotiate abc=="): keep it as an unnamed parameter.
                    t.rewind(before);
                    t.skip_spaces();
                    challenge.params[""] = std::string(t.token68());
                    continue;
                }
                t.rewind(before);  // the next challenge starts here
                break;
            }
            t.advance();  // '='
            t.skip_spaces();
            std::string value = t.peek() == '"' ? t.quoted_string() : std::string(t.token68());
            challenge.params[lowercase(name)] = std::move(value);
            t.skip_spaces();
            if (t.peek() == ',') {
                t.advance();
            } else {
                break;
            }
        }
        challenges.push_back(std::move(challenge));
    }
    return challenges;
}

}  // namespace karmor::oci
