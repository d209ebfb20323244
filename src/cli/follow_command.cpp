// `karmor oci follow` (SPEC §10): keep DIR equal to what REF names, round after round.
#include <poll.h>

#include <chrono>
#include <optional>
#include <random>
#include <utility>

#include "cli/cli.hpp"
#include "cli/daemon_flags.hpp"
#include "cli/kube_flags.hpp"
#include "cli/output_flags.hpp"
#include "cli/signature_flags.hpp"
#include "follow/hook.hpp"
#include "karmor/apply.hpp"
#include "karmor/follow.hpp"
#include "util/duration.hpp"
#include "util/json_text.hpp"

namespace karmor::cli {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// A stop while --exec runs: SIGTERM to its process group, SIGKILL this long after.
constexpr milliseconds hook_grace{1000};

struct FollowFlags {
    TargetFlags target;
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
    KubeFlags kube;  // SPEC §14: --apply --kube delivers into the cluster instead
};

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

// --exec: `sh -c CMD` after a change, with the change in its environment (follow/hook.hpp). An
// error of kind `hook` when it fails or cannot start, `cancelled` when a stop came first or
// while it ran (it was then ended).
Result<void> run_exec(const std::string& command, const FollowRound& round, const std::string& directory, Streams& io) {
    const auto where = directory + " holds " + round.location;
    if (interruption_flag().load())
        return unexpected(Error(ErrorKind::cancelled, "Stopping before --exec: it was not run; " + where));
    follow::HookRequest hook;
    hook.command = command;
    hook.environment = {"KARMOR_DIGEST=" + round.digest.str(),
                        "KARMOR_REFERENCE=" + round.location,
                        "KARMOR_DIR=" + directory,
                        "KARMOR_ADDED=" + join(round.changes.added, " "),
                        "KARMOR_REMOVED=" + join(round.changes.removed, " "),
                        "KARMOR_CHANGED=" + join(round.changes.changed, " ")};
    hook.stop = &interruption_flag();
    hook.stop_fd = interruption_fd();
    hook.grace = hook_grace;
    // Its stdout is our stderr: what is already written must come first.
    io.out.flush();
    io.err.flush();
    auto outcome = follow::run_hook(hook);
    if (!outcome) {
        auto error = std::move(outcome).error();
        error.kind = ErrorKind::hook;
        error.message += " after the switch; " + where;
        return unexpected(std::move(error));
    }
    if (outcome->stopped)
        return unexpected(
            Error(ErrorKind::cancelled, std::string("Stopped the --exec command (SIGTERM to its process group") +
                                            (outcome->killed ? ", SIGKILL 1 s later" : "") + "); " + where));
    if (outcome->succeeded()) return {};
    const auto how = outcome->signal != 0 ? "killed by signal " + std::to_string(outcome->signal)
                                          : "exit code " + std::to_string(outcome->exit_code);
    return unexpected(Error(ErrorKind::hook, "the --exec command failed (" + how + ") after the switch; " + where,
                            "a later round runs it again only after the next change: fix it, then run it by hand "
                            "for this version"));
}

nlohmann::ordered_json round_json(const char* event, const FollowRound& round, const FollowFlags& flags) {
    return {{"event", event},
            {"reference", round.location},
            {"digest", round.digest.str()},
            {"directory", flags.output},
            {"added", identities_json(round.changes.added)},
            {"removed", identities_json(round.changes.removed)},
            {"changed", identities_json(round.changes.changed)}};
}

void report_change(const FollowRound& round, const FollowFlags& flags, Streams& io) {
    if (flags.format.json()) {
        io.out << util::dump_json(round_json("changed", round, flags)) << "\n";
    } else {
        const auto list = [](const std::vector<PolicyIdentity>& ids) {
            return ids.empty() ? std::string("-") : join(ids, ",");
        };
        io.out << round.digest.str() << " added=" << list(round.changes.added)
               << " removed=" << list(round.changes.removed) << " changed=" << list(round.changes.changed) << "\n";
    }
    io.out.flush();
}

// `--once` that found nothing new says so (the loop stays quiet between changes).
void report_unchanged(const FollowRound& round, const FollowFlags& flags, Streams& io) {
    if (flags.format.json()) {
        io.out << util::dump_json(round_json("unchanged", round, flags)) << "\n";
        io.out.flush();
    } else if (!flags.format.quiet) {
        io.err << flags.output << " is up to date at " << round.digest.str() << " (" << round.location << ")\n";
    }
}

// --apply: the version DIR now points to, delivered to the daemon (only what the applied set lacks).
int apply_round(const FollowRound& round, const DeliveryOptions& delivery, const FollowFlags& flags, Streams& io) {
    auto report = apply_policy_directory(round.version_directory, round.digest, round.location, delivery);
    if (!report) return report_error(report.error(), io);
    return report_delivery(*report, flags.format, false, io, /*one_line=*/true);
}

// A report of an error that does not end follow (a round retried later): on stderr only, so
// that stdout stays one JSON line per change.
void report_on_stderr_only(const Error& error, Streams& io) {
    const bool json = std::exchange(io.errors_as_json, false);
    report_error(error, io);
    io.errors_as_json = json;
}

int run_follow(const FollowFlags& flags, Streams& io) {
    // A failure that ends follow (a bad flag, a held directory, any failure of --once) is one
    // JSON document on stdout with --output json, as for every command.
    flags.format.apply_to(io);
    FollowOptions options;
    std::optional<LayoutReference> no_layout;  // follow takes registry references only
    if (auto target = flags.target.resolve(options.reference, no_layout); !target)
        return report_error(target.error(), io);
    options.directory = flags.output;
    options.state_directory = flags.state_dir;
    options.keep = flags.keep;
    options.semver = flags.semver;
    options.load.skip_validation = flags.skip_validation;
    if (flags.keep < 0)
        return report_error(Error(ErrorKind::usage, "--keep must be 0 or more", "pass --keep 1 to keep one rollback"),
                            io);
    auto every = util::parse_duration(flags.every, "--every");
    if (!every) return report_error(every.error(), io);
    auto verify = flags.verify.resolve();
    if (!verify) return report_error(verify.error(), io);
    options.verify = std::move(*verify);
    std::optional<DeliveryOptions> delivery;
    std::optional<KubeDeliveryOptions> kube;
    if (flags.kube.kube && !flags.apply)
        return report_error(Error(ErrorKind::usage, "--kube goes with --apply", "add --apply"), io);
    if (flags.apply && flags.kube.kube) {
        auto resolved = flags.kube.resolve(flags.daemon, io, {});
        if (!resolved) return report_error(resolved.error(), io);
        kube = std::move(*resolved);
    } else if (flags.apply) {
        auto resolved = flags.daemon.resolve();
        if (!resolved) return report_error(resolved.error(), io);
        delivery = std::move(*resolved);
    }
    // The connection flags (--timeout, TLS files) are checked now; the credentials each round.
    if (auto connection = flags.remote.resolve_connection(io); !connection) return report_error(connection.error(), io);
    // Held from here to the exit: a second follower of DIR stops here, naming this one.
    auto lock = lock_follow_directory(options);
    if (!lock) return report_error(lock.error(), io);
    if (flags.skip_validation) io.err << "Warning: --skip-validation: followed policies are not validated\n";
    const auto stopped = [&] { return flags.once ? exit_interrupted : exit_ok; };

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
            return follow_once(options, *lock);
        }();
        int code = exit_ok;
        if (round) {
            bool delivered_all = true;
            std::optional<Error> hook_failure;
            if (round->changed) {
                report_change(*round, flags, io);
                if (auto hook = flags.exec.empty() ? Result<void>() : run_exec(flags.exec, *round, flags.output, io);
                    !hook) {
                    if (hook.error().kind == ErrorKind::cancelled) {
                        io.err << hook.error().message << "\n";
                        return stopped();
                    }
                    if (flags.once)
                        hook_failure = std::move(hook).error();  // reported after --apply's delivery
                    else
                        io.err << "Warning: " << hook.error().message << "; following goes on\n";
                }
            } else if (flags.once) {
                report_unchanged(*round, flags, io);
            }
            if ((delivery || kube) && (round->changed || round->digest.str() != delivered)) {
                if (!flags.once) io.errors_as_json = false;
                code = kube ? apply_directory_to_cluster(round->version_directory, round->digest, round->location,
                                                         options.reference, *kube, flags.format, io)
                            : apply_round(*round, *delivery, flags, io);
                io.errors_as_json = flags.format.json();
                if (code == exit_ok)
                    delivered = round->digest.str();
                else if (code == exit_interrupted)
                    return stopped();
                else
                    delivered_all = false;  // refused or unreachable: tried again with backoff
            }
            failures = delivered_all ? 0 : failures + 1;
            if (flags.once) {
                if (!hook_failure) return code;
                if (code == exit_ok) return report_error(*hook_failure, io);
                report_on_stderr_only(*hook_failure, io);  // the delivery's failure was the document
                return code;
            }
        } else {
            if (round.error().kind == ErrorKind::cancelled) return stopped();
            // A usage error (a bad flag) is the same next round: it ends follow.
            if (flags.once || round.error().kind == ErrorKind::usage) return report_error(round.error(), io);
            report_on_stderr_only(round.error(), io);
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
    flags->target.add_to(*cmd, "reference to follow: a tag, or an image with policies attached",
                         /*with_layout=*/false);
    cmd->add_option("-o,--output-dir,-d,--directory", flags->output,
                    "DIR: made a symlink to DIR.versions/<digest>/, switched atomically")
        ->required()
        ->check(non_empty_path());
    cmd->add_option("--every", flags->every, "time between rounds, with ±10% jitter (e.g. 30s, 5m, 1h)")
        ->capture_default_str();
    cmd->add_flag("--once", flags->once, "one round, then exit (cron, CI)");
    cmd->add_option("--state-dir", flags->state_dir, "where the last applied digest is kept (default: DIR.versions)")
        ->check(non_empty_path());
    cmd->add_option("--semver", flags->semver,
                    "follow the highest tag in this version range, e.g. '>=1.4 <2' (pre-releases only when the "
                    "range names one); REF's tag is not used");
    cmd->add_option("--keep", flags->keep, "previous versions kept in DIR.versions for rollback")
        ->capture_default_str();
    cmd->add_option("--exec", flags->exec,
                    "run `sh -c CMD` after each change, with the change in its environment (below); its stdout "
                    "goes to stderr; with --once its failure exits 10");
    cmd->add_flag("--skip-validation", flags->skip_validation, "apply policies without schema validation (warns)");
    flags->verify.add_to(*cmd, "apply a version");
    cmd->add_flag("--apply", flags->apply,
                  "also deliver each version to the KubeArmor daemon over gRPC, as `karmor oci apply` does "
                  "(--grpc, --tls-*, --state, --prune)");
    flags->daemon.add_to(*cmd);
    flags->kube.add_to(*cmd);
    flags->remote.add_to(*cmd);
    flags->remote.mirrors.add_to(*cmd);
    flags->format.add_to(*cmd);
    cmd->footer("\nThe --exec command runs in its own process group, stdin /dev/null, stdout sent to stderr, with:\n"
                "  KARMOR_REFERENCE  what DIR holds now, REPO:TAG@DIGEST (the tag followed: with --semver the\n"
                "                    chosen version's, for an image's attachment the image's)\n"
                "  KARMOR_DIGEST     the digest of the artifact DIR holds now\n"
                "  KARMOR_DIR        DIR, as given to -o\n"
                "  KARMOR_ADDED, KARMOR_REMOVED, KARMOR_CHANGED  policies by identity (KIND/NAMESPACE/NAME),\n"
                "                    space-separated\n"
                "SIGINT/SIGTERM stop it too (SIGTERM to its group, SIGKILL 1 s later). One follow per DIR: a\n"
                "second one exits at once (7), naming the first. --once exits with the round's code (README,\n"
                "Exit codes), 10 when --exec failed after the switch; the loop exits 0 when stopped.\n"
                "\nExamples:\n"
                "  karmor oci follow -i registry.example.com/team/policies:prod -o /etc/kubearmor/policies\n"
                "  karmor oci follow -i localhost:5000/policies:v1 -o policies --once --output json\n"
                "  karmor oci follow -i REF -o DIR --every 1m --exec 'kubectl apply -f \"$KARMOR_DIR\"'\n"
                "  karmor oci follow -i REF -o /var/lib/karmor/policies --apply --prune\n");
    cmd->callback([flags, &action] { action = [flags](Streams& io) { return run_follow(*flags, io); }; });
}

}  // namespace karmor::cli
