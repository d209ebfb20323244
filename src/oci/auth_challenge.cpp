#include "oci/auth_challenge.hpp"

#include <cctype>

namespace karmor::oci {
namespace {

bool is_token_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
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

    void skip_list_separators() {
        skip_spaces();
        while (peek() == ',') {
            advance();
            skip_spaces();
        }
    }

    // A challenge's token68 (base64 and the like, possibly ending in '='), when what follows
    // the scheme is one: it is then followed by the end or a comma. Otherwise (realm="x")
    // consumes nothing.
    std::string token68_credentials() {
        const auto start = pos_;
        while (pos_ < text_.size() && (is_token_char(text_[pos_]) || text_[pos_] == '/')) ++pos_;
        if (pos_ == start) return {};
        while (pos_ < text_.size() && text_[pos_] == '=') ++pos_;
        const auto end = pos_;
        skip_spaces();
        if (done() || peek() == ',') return std::string(text_.substr(start, end - start));
        pos_ = start;
        return {};
    }

    // An unquoted parameter value: lenient, everything up to a comma or a space, so that
    // realm=https://auth.example.com/token (unquoted, seen in the wild) survives.
    std::string_view bare_value() {
        const auto start = pos_;
        while (pos_ < text_.size() && text_[pos_] != ',' && text_[pos_] != ' ' && text_[pos_] != '\t') ++pos_;
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
        t.skip_list_separators();
        if (t.done()) break;
        const auto scheme = t.token();
        if (scheme.empty()) {
            t.advance();  // skip a character we cannot read and resynchronize
            continue;
        }
        AuthChallenge challenge{lowercase(scheme), {}};
        t.skip_spaces();
        if (auto token68 = t.token68_credentials(); !token68.empty()) {
            // The token68 form ("Negotiate abc=="): kept as an unnamed parameter.
            challenge.params[""] = std::move(token68);
            challenges.push_back(std::move(challenge));
            continue;
        }
        // auth-params: name=value pairs separated by commas (empty list elements allowed),
        // until a token that is not followed by '=', which starts the next challenge.
        while (true) {
            const auto before = t.position();
            t.skip_list_separators();
            const auto name = t.token();
            t.skip_spaces();
            if (name.empty() || t.peek() != '=') {
                t.rewind(before);
                break;
            }
            t.advance();  // '='
            t.skip_spaces();
            std::string value = t.peek() == '"' ? t.quoted_string() : std::string(t.bare_value());
            challenge.params[lowercase(name)] = std::move(value);
            t.skip_spaces();
            if (t.peek() != ',') break;
        }
        challenges.push_back(std::move(challenge));
    }
    return challenges;
}

}  // namespace karmor::oci
