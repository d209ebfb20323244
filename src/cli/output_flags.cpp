#include "cli/output_flags.hpp"

namespace karmor::cli {

void OutputFlags::add_to(CLI::App& command, const std::string& json_description) {
    command.add_option("--output", format, "result format on stdout: text, or json (" + json_description + ")")
        ->check(CLI::IsMember({"text", "json"}));
    command.add_flag("-q,--quiet", quiet, "print only results and errors (no summary, progress or warnings)");
}

void OutputFlags::apply_to(Streams& io) const {
    io.errors_as_json = json();
    io.quiet = quiet;
}

std::string counted(std::size_t count, const std::string& singular, const std::string& plural) {
    return std::to_string(count) + " " + (count == 1 ? singular : plural.empty() ? singular + "s" : plural);
}

nlohmann::ordered_json policies_to_json(const std::vector<PolicySummary>& policies) {
    auto out = nlohmann::ordered_json::array();
    for (const auto& p : policies) {
        nlohmann::ordered_json entry = {{"kind", p.identity.kind}};
        if (!p.identity.namespace_name.empty()) entry["namespace"] = p.identity.namespace_name;
        entry["name"] = p.identity.name;
        entry["file"] = p.file;
        out.push_back(std::move(entry));
    }
    return out;
}

}  // namespace karmor::cli
