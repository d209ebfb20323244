// `karmor oci follow` (SPEC §10): keep DIR equal to what REF names, round after round.
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <random>

#include "cli/cli.hpp"
#include "cli/daemon_flags.hpp"
#include "cli/output_flags.hpp"
#include "cli/signature_flags.hpp"
#include "karmor/apply.hpp"
#include "karmor/follow.hpp"

extern char** environ;

namespace karmor::cli {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

struct FollowFlags {
    std::string reference;
    std::string output;
    std::string state_dir;
    std::string every = "5m";
    std::string semver;
    bool once = false;
    int keep = 1;
    std::string exec;
    bool skip_validation = false;
    VerifyKeyFlags verify;
    RemoteFlags remote;
    OutputFlags format;
    bool apply = false;  // SPEC §12: deliver each version to the KubeArmor daemon
    DaemonFlags daemon;
};

// 300ms, 30s, 5m, 1h, 1h30m.
Result<milliseconds> parse_duration(const std::string& text) {
    const auto bad = [&] {
        return unexpected(Error(ErrorKind::usage, "--every " + text + " is not a duration",
                                "write it like 30s, 5m, 1h or 1h30m (ms, s, m, h)"));
    };
    if (text.empty()) return bad();
    long long total = 0;
    std::size_t i = 0;
    while (i < text.size()) {
        std::size_t digits = i;
        while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
        if (digits == i || digits - i > 9) return bad();
        const long long value = std::stoll(text.substr(i, digits - i));
        std::size_t unit_end = digits;
        while (unit_end < text.size() && std::isalpha(static_cast<unsigned char>(text[unit_end]))) ++unit_end;
        const auto unit = text.substr(digits, unit_end - digits);
        if (unit == "ms")
            total += value;
        else if (unit == "s")
            total += value * 1000;
        else if (unit == "m")
            total += value * 60'000;
        else if (unit == "h")
            total += value * 3'600'000;
        else
            return bad();
        i = unit_end;
    }
    if (total <= 0) return bad();
    return milliseconds(total);
}

// Sleeps `duration` unless a signal asks to stop first. The handler writes to a pipe that poll()
// watches, so the wait ends at once whichever thread ran the handler, and a signal between the
// check of the flag and the wait still leaves its byte there. One wake-up per interval: waking
// every 10 ms cost more CPU per 5-minute interval than the round itself (issue 18).
bool sleep_unless_stopped(milliseconds duration) {
    const auto until = Clock::now() + duration;
    while (!interruption_flag().load()) {
        const auto left = std::chrono::duration_cast<milliseconds>(until - Clock::now()).count();
        if (left <= 0) return true;
        pollfd wake{interruption_fd(), POLLIN, 0};
        // poll's timeout is an int of milliseconds: wait in pieces of at most a day.
        const int timeout = static_cast<int>(std::min<long long>(left, 86'400'000));
        if (wake.fd < 0) {
            ::poll(nullptr, 0, std::min(timeout, 100));  // no pipe (could not be made): look again soon
        } else {
            ::poll(&wake, 1, timeout);
        }
    }
    return false;
}

std::string join(const std::vector<PolicyIdentity>& identities, const char* separator) {
    std::string out;
    for (const auto& identity : identities) {
        if (!out.empty()) out += separator;
        out += identity.str();
    }
    return out;
}

nlohmann::ordered_json identities_json(const std::vector<PolicyIdentity>& identities) {
    auto out = nlohmann::ordered_json::array();
    for (const auto& identity : identities) out.push_back(identity.str());
    return out;
}

// --exec: `sh -c CMD` with the change in its environment; its failure is reported, not fatal.
void run_exec(const std::string& command, const FollowRound& round, const std::string& directory, Streams& io) {
    std::vector<std::string> variables = {"KARMOR_DIGEST=" + round.digest.str(),
                                          "KARMOR_REFERENCE=" + round.location,
                                          "KARMOR_DIR=" + directory,
                                          "KARMOR_ADDED=" + join(round.changes.added, " "),
                                          "KARMOR_REMOVED=" + join(round.changes.removed, " "),
                                          "KARMOR_CHANGED=" + join(round.changes.changed, " ")};
    std::vector<char*> envp;
    for (char** e = environ; *e; ++e)
        if (std::strncmp(*e, "KARMOR_", 7) != 0) envp.push_back(*e);
    for (auto& v : variables) envp.push_back(v.data());
    envp.push_back(nullptr);
    std::string sh = "sh", dash_c = "-c", cmd = command;
    char* argv[] = {sh.data(), dash_c.data(), cmd.data(), nullptr};
    io.out.flush();
    pid_t pid = -1;
    if (const int rc = posix_spawn(&pid, "/bin/sh", nullptr, nullptr, argv, envp.data()); rc != 0) {
        io.err << "Warning: --exec could not start /bin/sh: " << std::strerror(rc) << "\n";
        return;
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
    io.err << "Warning: --exec command failed ("
           << (WIFEXITED(status) ? "exit code " + std::to_string(WEXITSTATUS(status))
                                 : "signal " + std::to_string(WTERMSIG(status)))
           << ") after switching to " << round.digest.str() << "; following goes on\n";
}

void report_change(const FollowRound& round, const FollowFlags& flags, Streams& io) {
    if (flags.format.json()) {
        const nlohmann::ordered_json line = {{"reference", round.location},
                                             {"digest", round.digest.str()},
                                             {"directory", flags.output},
                                             {"added", identities_json(round.changes.added)},
                                             {"removed", identities_json(round.changes.removed)},
                                             {"changed", identities_json(round.changes.changed)}};
        io.out << line.dump() << "\n";
    } else {
        const auto list = [](const std::vector<PolicyIdentity>& ids) {
            return ids.empty() ? std::string("-") : join(ids, ",");
        };
        io.out << round.digest.str() << " added=" << list(round.changes.added)
               << " removed=" << list(round.changes.removed) << " changed=" << list(round.changes.changed) << "\n";
    }
    io.out.flush();
}

// --apply: the version DIR now points to, delivered to the daemon (only what the applied set lacks).
int apply_round(const FollowRound& round, const DeliveryOptions& delivery, const FollowFlags& flags, Streams& io) {
    auto report = apply_policy_directory(round.version_directory, round.digest, round.location, delivery);
    if (!report) return report_error(report.error(), io);
    return report_delivery(*report, flags.format, false, io, /*one_line=*/true);
}

int run_follow(const FollowFlags& flags, Streams& io) {
    FollowOptions options;
    if (auto parsed = Reference::parse(flags.reference); !parsed)
        return report_error(parsed.error(), io);
    else
        options.reference = std::move(*parsed);
    options.directory = flags.output;
    options.state_directory = flags.state_dir;
    options.keep = flags.keep;
    options.semver = flags.semver;
    options.load.skip_validation = flags.skip_validation;
    if (flags.keep < 0)
        return report_error(Error(ErrorKind::usage, "--keep must be 0 or more", "pass --keep 1 to keep one rollback"),
                            io);
    auto every = parse_duration(flags.every);
    if (!every) return report_error(every.error(), io);
    auto verify = flags.verify.resolve();
    if (!verify) return report_error(verify.error(), io);
    options.verify = std::move(*verify);
    if (flags.skip_validation) io.err << "Warning: --skip-validation: followed policies are not validated\n";

    std::optional<DeliveryOptions> delivery;
    if (flags.apply) {
        auto resolved = flags.daemon.resolve();
        if (!resolved) return report_error(resolved.error(), io);
        delivery = std::move(*resolved);
    }
    // The digest this process delivered completely: rounds that keep it send nothing. The first
    // round delivers whatever the applied set lacks (an earlier run may have been cut short).
    std::string delivered;

    std::mt19937_64 random{std::random_device{}()};
    int failures = 0;
    while (true) {
        // Credentials are read anew each round: tokens expire and helpers rotate them.
        Result<FollowRound> round = [&]() -> Result<FollowRound> {
            auto remote = flags.remote.resolve(io, options.reference.registry());
            if (!remote) return unexpected(std::move(remote).error());
            options.remote = std::move(*remote);
            return follow_once(options);
        }();
        int code = exit_ok;
        if (round) {
            bool delivered_all = true;
            if (round->changed) {
                report_change(*round, flags, io);
                if (!flags.exec.empty()) run_exec(flags.exec, *round, flags.output, io);
            }
            if (delivery && (round->changed || round->digest.str() != delivered)) {
                code = apply_round(*round, *delivery, flags, io);
                if (code == exit_ok)
                    delivered = round->digest.str();
                else if (code == exit_interrupted)
                    return flags.once ? code : exit_ok;
                else
                    delivered_all = false;  // refused or unreachable: tried again with backoff
            }
            failures = delivered_all ? 0 : failures + 1;
            if (flags.once) return code;
        } else {
            if (round.error().kind == ErrorKind::cancelled) return flags.once ? exit_interrupted : exit_ok;
            code = report_error(round.error(), io);
            if (flags.once) return code;
            ++failures;
        }
        // Jitter (±10%) keeps many followers from asking the registry at the same instant;
        // after a failure, back off from 1 s, doubling, never beyond the interval.
        auto wait = *every;
        if (failures > 0) wait = std::min(wait, milliseconds(1000LL << std::min(failures - 1, 20)));
        const auto spread = wait.count() / 10;
        if (spread > 0) wait += milliseconds(std::uniform_int_distribution<long long>(-spread, spread)(random));
        if (failures > 0)
            io.err << "Retrying in " << static_cast<double>(wait.count()) / 1000.0 << " s; "
                   << (round ? "the daemon gets what it lacks then" : flags.output + " is unchanged") << "\n";
        if (!sleep_unless_stopped(wait)) return exit_ok;
    }
}

}  // namespace

void add_follow_command(CLI::App& oci, Action& action) {
    auto flags = std::make_shared<FollowFlags>();
    auto* cmd = oci.add_subcommand("follow", "keep a directory equal to a tag's (or an image's attached) policies, "
                                             "switching it atomically on each change");
    cmd->add_option("-i,--image", flags->reference, "reference to follow: a tag, or an image with policies attached")
        ->required();
    cmd->add_option("-o,--output-dir,-d,--directory", flags->output,
                    "DIR: made a symlink to DIR.versions/<digest>/, switched atomically")
        ->required();
    cmd->add_option("--every", flags->every, "time between rounds, with ±10% jitter (e.g. 30s, 5m, 1h)")
        ->capture_default_str();
    cmd->add_flag("--once", flags->once, "one round, then exit (cron, CI)");
    cmd->add_option("--state-dir", flags->state_dir, "where the last applied digest is kept (default: DIR.versions)");
    cmd->add_option("--semver", flags->semver,
                    "follow the highest tag in this version range, e.g. '>=1.4 <2' (pre-releases only when the "
                    "range names one); REF's tag is not used");
    cmd->add_option("--keep", flags->keep, "previous versions kept in DIR.versions for rollback")
        ->capture_default_str();
    cmd->add_option("--exec", flags->exec,
                    "run `sh -c CMD` after each change, with KARMOR_DIGEST, KARMOR_ADDED, KARMOR_REMOVED, "
                    "KARMOR_CHANGED in its environment");
    cmd->add_flag("--skip-validation", flags->skip_validation, "apply policies without schema validation (warns)");
    flags->verify.add_to(*cmd, "apply a version");
    cmd->add_flag("--apply", flags->apply,
                  "also deliver each version to the KubeArmor daemon over gRPC, as `karmor oci apply` does "
                  "(--grpc, --tls-*, --state, --prune)");
    flags->daemon.add_to(*cmd);
    flags->remote.add_to(*cmd);
    flags->remote.mirrors.add_to(*cmd);
    flags->format.add_to(*cmd);
    cmd->footer("\nExamples:\n"
                "  karmor oci follow -i registry.example.com/team/policies:prod -o /etc/kubearmor/policies\n"
                "  karmor oci follow -i localhost:5000/policies:v1 -o policies --once --output json\n"
                "  karmor oci follow -i REF -o DIR --every 1m --exec 'kubectl apply -f DIR'\n"
                "  karmor oci follow -i REF -o /var/lib/karmor/policies --apply --prune\n");
    cmd->callback([flags, &action] { action = [flags](Streams& io) { return run_follow(*flags, io); }; });
}

}  // namespace karmor::cli
