// karmor oci save and load (SPEC §11): an OCI image layout as a tar file, for air gaps.
#include <nlohmann/json.hpp>

#include "cli/cli.hpp"
#include "karmor/moving.hpp"

namespace karmor::cli {
namespace {

struct SaveFlags {
    std::vector<std::string> references;
    std::string output;
    bool recursive = false;
    RemoteFlags remote;
};

struct LoadFlags {
    std::string input;
    std::string repository;
    std::string output = "text";
    RemoteFlags remote;
};

int run_save(const SaveFlags& flags, Streams& io) {
    SaveOptions options;
    options.output = flags.output;
    options.recursive = flags.recursive;
    std::string registry;
    for (const auto& text : flags.references) {
        auto reference = Reference::parse(text);
        if (!reference) return report_error(reference.error(), io);
        if (!registry.empty() && reference->registry() != registry)
            return report_error(Error(ErrorKind::usage, "save: every -i REF must be on the same registry",
                                      "save each registry's references into its own file"),
                                io);
        registry = reference->registry();
        options.references.push_back(std::move(*reference));
    }
    auto remote = flags.remote.resolve(io, registry);
    if (!remote) return report_error(remote.error(), io);
    options.remote = std::move(*remote);
    auto result = save_archive(options);
    if (!result) return report_error(result.error(), io);
    for (const auto& [tag, digest] : result->saved) io.out << digest.str() << (tag.empty() ? "" : "  " + tag) << "\n";
    io.err << "Saved " << result->saved.size() << " references to " << flags.output << " (" << result->archive_bytes
           << " bytes; " << result->stats.referrers << " referrers, " << result->stats.signature_tags
           << " signature tags)\n";
    for (const auto& missing : result->stats.missing)
        io.err << "Warning: listed as a referrer but missing: " << missing << "\n";
    return exit_ok;
}

int run_load(const LoadFlags& flags, Streams& io) {
    ArchiveLoadOptions options;
    options.input = flags.input;
    auto repository = Reference::parse(flags.repository);
    if (!repository) return report_error(repository.error(), io);
    options.repository = std::move(*repository);
    auto remote = flags.remote.resolve(io, options.repository.registry());
    if (!remote) return report_error(remote.error(), io);
    options.remote = std::move(*remote);
    auto result = load_archive(options);
    if (!result) return report_error(result.error(), io);
    const auto& s = result->stats;
    if (flags.output == "json") {
        nlohmann::ordered_json loaded = nlohmann::ordered_json::array();
        for (const auto& [tag, digest] : result->loaded) loaded.push_back({{"tag", tag}, {"digest", digest.str()}});
        nlohmann::ordered_json out = {
            {"repository", options.repository.registry() + "/" + options.repository.repository()},
            {"loaded", loaded},
            {"manifestsCopied", s.manifests_copied},
            {"blobsCopied", s.blobs_copied},
            {"referrers", s.referrers}};
        io.out << out.dump(2) << "\n";
        return exit_ok;
    }
    for (const auto& [tag, digest] : result->loaded) io.out << digest.str() << (tag.empty() ? "" : "  " + tag) << "\n";
    io.err << "Loaded " << flags.input << " into " << options.repository.registry() << "/"
           << options.repository.repository() << ": " << s.manifests_copied << " manifests, " << s.blobs_copied
           << " blobs sent (" << s.manifests_present << " manifests and " << s.blobs_present
           << " blobs already there)\n";
    return exit_ok;
}

}  // namespace

void add_save_command(CLI::App& oci, Action& action) {
    auto flags = std::make_shared<SaveFlags>();
    auto* cmd = oci.add_subcommand("save", "write artifacts (and with -r what is attached) to a tar of an OCI layout");
    cmd->add_option("-i,--image", flags->references,
                    "reference to save (repeatable), e.g. localhost:5000/team/policies:v3")
        ->required();
    cmd->add_option("-o,--output", flags->output, "the tar file to write (skopeo reads it as oci-archive:FILE)")
        ->required();
    cmd->add_flag("-r,--recursive", flags->recursive, "also the referrers and cosign's signature tags, recursively");
    flags->remote.add_to(*cmd);
    flags->remote.mirrors.add_to(*cmd);
    cmd->footer("\nExample:\n  karmor oci save -r -i registry.example.com/team/policies:v3 -o policies.tar\n");
    cmd->callback([flags, &action] { action = [flags](Streams& io) { return run_save(*flags, io); }; });
}

void add_load_command(CLI::App& oci, Action& action) {
    auto flags = std::make_shared<LoadFlags>();
    auto* cmd = oci.add_subcommand("load", "push everything a tar written by save holds into a repository");
    cmd->add_option("-i,--input", flags->input, "the tar file (karmor oci save, skopeo oci-archive:)")
        ->required()
        ->check(CLI::ExistingFile);
    cmd->add_option("--to", flags->repository, "repository to push into, e.g. mirror.internal/team/policies")
        ->required();
    cmd->add_option("--output", flags->output, "text or json")->check(CLI::IsMember({"text", "json"}));
    flags->remote.add_to(*cmd);
    cmd->footer("\nExample:\n  karmor oci load -i policies.tar --to mirror.internal/team/policies\n");
    cmd->callback([flags, &action] { action = [flags](Streams& io) { return run_load(*flags, io); }; });
}

}  // namespace karmor::cli
