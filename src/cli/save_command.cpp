// karmor oci save and load (SPEC §11): an OCI image layout as a tar file, for air gaps.
#include <nlohmann/json.hpp>

#include <iostream>

#include "cli/cli.hpp"
#include "cli/output_flags.hpp"
#include "karmor/moving.hpp"
#include "util/json_text.hpp"

namespace karmor::cli {
namespace {

struct SaveFlags {
    std::vector<std::string> positional;
    std::vector<std::string> images;
    std::string file;  // -o/--output-file; - is stdout
    bool force = false;
    bool recursive = false;
    OutputFlags output;
    RemoteFlags remote;
};

struct LoadFlags {
    std::string input;
    std::string repository;
    bool force = false;
    OutputFlags output;
    RemoteFlags remote;
};

// What the user wrote after the repository's last `/`: a tag, a digest, or neither.
bool names_tag(const std::string& text) {
    const auto last_slash = text.rfind('/');
    const auto tail = last_slash == std::string::npos ? text : text.substr(last_slash + 1);
    return tail.substr(0, tail.find('@')).find(':') != std::string::npos;
}

int run_save(const SaveFlags& flags, Streams& io) {
    flags.output.apply_to(io);
    SaveOptions options;
    options.recursive = flags.recursive;
    options.force = flags.force;
    const bool to_stdout = flags.file == "-";
    if (to_stdout) {
        if (flags.output.json())
            return report_error(Error(ErrorKind::usage, "-o - and --output json both want stdout",
                                      "write the archive to a file, or drop --output json"),
                                io);
        if (io.out_is_terminal)
            return report_error(Error(ErrorKind::usage, "-o - would write a tar to the terminal",
                                      "redirect it: karmor oci save REF -o - > FILE.tar, or pipe it on"),
                                io);
        options.output_stream = &io.out;
    } else {
        options.output = flags.file;
    }
    std::vector<std::string> texts = flags.positional;
    texts.insert(texts.end(), flags.images.begin(), flags.images.end());
    if (texts.empty())
        return report_error(
            Error(ErrorKind::usage, "no reference given", "name what to save: karmor oci save REF [REF …] -o FILE.tar"),
            io);
    std::string registry;
    for (const auto& text : texts) {
        Reference reference;
        std::optional<LayoutReference> layout;
        if (auto parsed = parse_target(text, false, reference, layout); !parsed)
            return report_error(parsed.error(), io);
        if (!registry.empty() && reference.registry() != registry)
            return report_error(Error(ErrorKind::usage, "save: every REF must be on the same registry",
                                      "save each registry's references into its own file"),
                                io);
        registry = reference.registry();
        options.references.push_back(std::move(reference));
    }
    auto remote = flags.remote.resolve(io, registry);
    if (!remote) return report_error(remote.error(), io);
    options.remote = std::move(*remote);
    auto result = save_archive(options);
    if (!result) return report_error(result.error(), io);
    if (flags.output.json()) {
        nlohmann::ordered_json saved = nlohmann::ordered_json::array();
        for (const auto& [tag, digest] : result->saved) saved.push_back({{"tag", tag}, {"digest", digest.str()}});
        nlohmann::ordered_json out = {{"file", flags.file},
                                      {"saved", saved},
                                      {"bytes", result->archive_bytes},
                                      {"referrers", result->stats.referrers},
                                      {"signatureTags", result->stats.signature_tags}};
        io.out << util::dump_json(out, 2) << "\n";
    } else if (!to_stdout) {
        for (const auto& [tag, digest] : result->saved)
            io.out << digest.str() << (tag.empty() ? "" : "  " + tag) << "\n";
    }
    if (flags.output.summary())
        io.err << "Saved " << counted(result->saved.size(), "reference") << " to "
               << (to_stdout ? std::string("standard output") : flags.file) << " ("
               << counted(static_cast<std::size_t>(result->archive_bytes), "byte") << "; "
               << counted(static_cast<std::size_t>(result->stats.referrers), "referrer") << ", "
               << counted(static_cast<std::size_t>(result->stats.signature_tags), "signature tag") << ")\n";
    for (const auto& missing : result->stats.missing) io.warn("listed as a referrer but missing: " + missing);
    return exit_ok;
}

int run_load(const LoadFlags& flags, Streams& io) {
    flags.output.apply_to(io);
    ArchiveLoadOptions options;
    options.input = flags.input;
    options.force = flags.force;
    std::optional<LayoutReference> no_layout;
    if (auto parsed = parse_target(flags.repository, false, options.repository, no_layout); !parsed)
        return report_error(parsed.error(), io);
    if (options.repository.digest())
        return report_error(Error(ErrorKind::usage, "--to " + flags.repository + " names a digest",
                                  "load keeps the archive's digests: give --to REPO or --to REPO:TAG"),
                            io);
    if (names_tag(flags.repository)) options.tag = options.repository.tag();
    auto remote = flags.remote.resolve(io, options.repository.registry());
    if (!remote) return report_error(remote.error(), io);
    options.remote = std::move(*remote);
    auto result = load_archive(options);
    if (!result) return report_error(result.error(), io);
    const auto& s = result->stats;
    const std::string repository = options.repository.registry() + "/" + options.repository.repository();
    if (flags.output.json()) {
        nlohmann::ordered_json loaded = nlohmann::ordered_json::array();
        for (const auto& [tag, digest] : result->loaded) {
            nlohmann::ordered_json entry = {{"tag", tag}, {"digest", digest.str()}};
            if (const auto was = result->replaced.find(tag); !tag.empty() && was != result->replaced.end())
                entry["replaced"] = was->second.str();
            loaded.push_back(std::move(entry));
        }
        nlohmann::ordered_json out = {{"repository", repository},
                                      {"loaded", loaded},
                                      {"manifestsCopied", s.manifests_copied},
                                      {"blobsCopied", s.blobs_copied},
                                      {"referrers", s.referrers}};
        io.out << util::dump_json(out, 2) << "\n";
        return exit_ok;
    }
    for (const auto& [tag, digest] : result->loaded)
        io.out << digest.str() << (tag.empty() ? "" : "  " + repository + ":" + tag) << "\n";
    if (flags.output.summary()) {
        io.err << "Loaded " << flags.input << " into " << repository << ": "
               << counted(static_cast<std::size_t>(s.manifests_copied), "manifest") << ", "
               << counted(static_cast<std::size_t>(s.blobs_copied), "blob") << " sent ("
               << counted(static_cast<std::size_t>(s.manifests_present), "manifest") << " and "
               << counted(static_cast<std::size_t>(s.blobs_present), "blob") << " already there)\n";
        for (const auto& [tag, digest] : result->replaced)
            io.err << "Moved the tag " << repository << ":" << tag << " from " << digest.str() << "\n";
    }
    return exit_ok;
}

}  // namespace

void add_save_command(CLI::App& oci, Action& action) {
    auto flags = std::make_shared<SaveFlags>();
    auto* cmd = oci.add_subcommand("save", "write artifacts (and with -r what is attached) to a tar of an OCI layout");
    cmd->add_option("REF", flags->positional, "references to save, e.g. localhost:5000/team/policies:v3");
    cmd->add_option("-i,--image", flags->images, "REF, as a flag (repeatable)");
    cmd->add_option("-o,--output-file", flags->file,
                    "the tar file to write (skopeo reads it as oci-archive:FILE); - writes it to stdout")
        ->required()
        ->check(non_empty_path());
    cmd->add_flag("--force", flags->force, "replace the file when it exists");
    cmd->add_flag("-r,--recursive", flags->recursive, "also the referrers and cosign's signature tags, recursively");
    flags->output.add_to(*cmd, "the file, what was saved and counts");
    flags->remote.add_to(*cmd);
    flags->remote.mirrors.add_to(*cmd);
    cmd->footer(
        "\nExamples:\n"
        "  karmor oci save -r registry.example.com/team/policies:v3 -o policies.tar\n"
        "  karmor oci save registry.example.com/team/policies:v3 -o - | ssh airgap karmor oci load -i /dev/stdin "
        "--to mirror.internal/team/policies\n");
    cmd->callback([flags, &action] { action = [flags](Streams& io) { return run_save(*flags, io); }; });
}

void add_load_command(CLI::App& oci, Action& action) {
    auto flags = std::make_shared<LoadFlags>();
    auto* cmd = oci.add_subcommand("load", "push everything a tar written by save holds into a repository");
    cmd->add_option("-i,--input", flags->input, "the tar file (karmor oci save, skopeo oci-archive:)")
        ->required()
        ->check(existing_file());
    cmd->add_option("--to", flags->repository,
                    "repository to push into, e.g. mirror.internal/team/policies; REPO:TAG puts the archive's one "
                    "manifest under TAG")
        ->required();
    cmd->add_flag("--force", flags->force,
                  "move a tag that holds something other than KubeArmor policies (an image, a chart, …)");
    flags->output.add_to(*cmd, "the repository, what was loaded and counts");
    flags->remote.add_to(*cmd);
    cmd->footer("\nExamples:\n"
                "  karmor oci load -i policies.tar --to mirror.internal/team/policies\n"
                "  karmor oci load -i policies.tar --to mirror.internal/team/policies:v9\n");
    cmd->callback([flags, &action] { action = [flags](Streams& io) { return run_load(*flags, io); }; });
}

}  // namespace karmor::cli
