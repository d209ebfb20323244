// src/mirrors: registries.conf and hosts.toml parsing, where they are read from, and the endpoints
// a reference's reads go to (SPEC §15), as tables of cases.
#include <gtest/gtest.h>

#include <map>

#include "mirrors/endpoints.hpp"
#include "mirrors/hosts_toml.hpp"
#include "mirrors/registries_conf.hpp"
#include "support/process.hpp"

namespace karmor::mirrors {
namespace {

using testing::TempDir;
using testing::write_text;

Getenv environment(std::map<std::string, std::string> variables) {
    auto shared = std::make_shared<std::map<std::string, std::string>>(std::move(variables));
    return [shared](const char* name) -> const char* {
        const auto found = shared->find(name);
        return found == shared->end() ? nullptr : found->second.c_str();
    };
}

Reference ref(const std::string& text) {
    auto parsed = Reference::parse(text);
    EXPECT_TRUE(parsed) << text;
    return *parsed;
}

TEST(RegistriesConf, ParsesRegistriesAndMirrors) {
    const auto parsed = parse_registries_conf(R"(
unqualified-search-registries = ["docker.io"]
short-name-mode = "enforcing"

[[registry]]
prefix = "registry.example.com/team"
location = "internal.example.com:5000/mirror/team/"
insecure = true

[[registry.mirror]]
location = "cache-a.example.com/team"
pull-from-mirror = "digest-only"

[[registry.mirror]]
location = "cache-b.example.com:8443/team"
insecure = true
pull-from-mirror = "tag-only"

[[registry]]
location = "quay.io"
blocked = true
mirror-by-digest-only = true

[aliases]
"fedora" = "registry.fedoraproject.org/fedora"
)",
                                              "/etc/containers/registries.conf", false);
    ASSERT_TRUE(parsed) << parsed.error().message;
    ASSERT_EQ(parsed->size(), 2u);
    const auto& team = (*parsed)[0];
    EXPECT_EQ(team.prefix, "registry.example.com/team");
    EXPECT_EQ(team.location, "internal.example.com:5000/mirror/team");  // the trailing '/' is dropped
    EXPECT_TRUE(team.insecure);
    EXPECT_FALSE(team.blocked);
    EXPECT_EQ(team.defined_at, "/etc/containers/registries.conf:5");
    ASSERT_EQ(team.mirrors.size(), 2u);
    EXPECT_EQ(team.mirrors[0].location, "cache-a.example.com/team");
    EXPECT_EQ(team.mirrors[0].pull_from, PullFromMirror::digest_only);
    EXPECT_FALSE(team.mirrors[0].insecure);
    EXPECT_EQ(team.mirrors[1].pull_from, PullFromMirror::tag_only);
    EXPECT_TRUE(team.mirrors[1].insecure);
    EXPECT_EQ(team.mirrors[1].defined_at, "/etc/containers/registries.conf:14");
    const auto& quay = (*parsed)[1];
    EXPECT_EQ(quay.prefix, "quay.io");  // the location, when no prefix is given
    EXPECT_TRUE(quay.blocked);
    EXPECT_TRUE(quay.mirror_by_digest_only);
}

TEST(RegistriesConf, RefusesWhatContainersImageRefuses) {
    struct Case {
        const char* name;
        const char* text;
        const char* message;  // part of the error
    };
    const Case cases[] = {
        {"syntax", "[[registry]]\nlocation = \"a.example.com\n", "registries.conf:2:"},
        {"scheme in location", "[[registry]]\nlocation = \"https://a.example.com\"\n", "has a URL scheme"},
        {"scheme in mirror",
         "[[registry]]\nlocation = \"a.example.com\"\n[[registry.mirror]]\nlocation = "
         "\"http://m.example.com\"\n",
         "registries.conf:4: location \"http://m.example.com\" has a URL scheme"},
        {"neither prefix nor location", "[[registry]]\ninsecure = true\n", "needs a prefix or a location"},
        {"no location without wildcard", "[[registry]]\nprefix = \"a.example.com\"\nlocation = \"\"\n",
         "without a location needs a prefix"},
        {"wildcard with a path", "[[registry]]\nprefix = \"*.example.com/team\"\n", "must have the form *.example.com"},
        {"wildcard in the middle", "[[registry]]\nprefix = \"a.*.example.com\"\nlocation = \"a.example.com\"\n", "'*'"},
        {"pull-from-mirror on a registry", "[[registry]]\nlocation = \"a.example.com\"\npull-from-mirror = \"all\"\n",
         "belongs to a [[registry.mirror]]"},
        {"unknown pull-from-mirror",
         "[[registry]]\nlocation = \"a.example.com\"\n[[registry.mirror]]\nlocation = \"m.example.com\"\n"
         "pull-from-mirror = \"sometimes\"\n",
         "is not one of all, digest-only, tag-only"},
        {"pull-from-mirror with mirror-by-digest-only",
         "[[registry]]\nlocation = \"a.example.com\"\nmirror-by-digest-only = true\n[[registry.mirror]]\n"
         "location = \"m.example.com\"\npull-from-mirror = \"all\"\n",
         "cannot be set when"},
        {"mirror without location",
         "[[registry]]\nlocation = \"a.example.com\"\n[[registry.mirror]]\ninsecure = true\n", "needs a location"},
        {"conflicting insecure",
         "[[registry]]\nprefix = \"a.example.com/x\"\nlocation = \"a.example.com\"\n[[registry]]\nprefix = "
         "\"a.example.com/y\"\nlocation = \"a.example.com\"\ninsecure = true\n",
         "is defined again with another `insecure`"},
        {"wrong type", "[[registry]]\nlocation = \"a.example.com\"\nblocked = \"yes\"\n",
         "registries.conf:3: blocked must be true or false"},
        {"registry as a table", "[registry]\nlocation = \"a.example.com\"\n", "written [[registry]]"},
        {"mixed versions", "[registries.search]\nregistries = [\"docker.io\"]\n[[registry]]\nlocation = \"a.b\"\n",
         "are mixed in one file"},
    };
    for (const auto& c : cases) {
        const auto parsed = parse_registries_conf(c.text, "registries.conf", false);
        ASSERT_FALSE(parsed) << c.name;
        EXPECT_NE(parsed.error().message.find(c.message), std::string::npos)
            << c.name << ": " << parsed.error().message;
        EXPECT_EQ(parsed.error().kind, ErrorKind::usage) << c.name;
        EXPECT_NE(parsed.error().hint.find("--no-mirrors"), std::string::npos) << c.name;
    }
}

// toml++ 3.3 reaches undefined behaviour on some non-ASCII characters (found by
// fuzz/mirror_config_fuzz.cpp): it is never given one. Non-ASCII text is read in comments; in a
// key or a string it is refused, and elsewhere it is TOML's error.
TEST(RegistriesConf, NonAsciiIsReadInCommentsOnly) {
    struct Case {
        std::string text;
        const char* error;  // part of the message; nullptr: readable
    };
    const char* const in_a_string = "registries.conf:3: a non-ASCII character (or a backtick) in a key or a string";
    const Case cases[] = {
        {"# Größe: \xEF\xBB\xBD\n[[registry]]\nlocation = \"a.example.com\" # café\n", nullptr},
        {"\xEF\xBB\xBF[[registry]]\nlocation = \"a.example.com\"\n", nullptr},  // a byte order mark
        {"[[registry]]\nlocation = \"a.example.com\"\n\"clé\" = 1\n", in_a_string},
        {"[[registry]]\nlocation = \"a.example.com\"\nx = 'valeur é'\n", in_a_string},
        {"[[registry]]\nlocation = \"a.example.com\"\nx = \"a\\\" \xC3\xA9\"\n", in_a_string},
        {"[[registry]]\nlocation = \"a.example.com\"\nes \xEF\xBB\xBD", "registries.conf:3:"},
        {"[[registry]]\nlocation = \"a.example.com\"\nblocked = true\xC3\xA9\n", "registries.conf:3:"},
        {"x = \"\"\"\\\xC3\xA9\"\"\"\n", "registries.conf:1:"},
        {"x = '''a''''' \xC3\xA9\n", "registries.conf:1:"},
    };
    for (const auto& c : cases) {
        const auto parsed = parse_registries_conf(c.text, "registries.conf", false);
        if (!c.error) {
            EXPECT_TRUE(parsed) << c.text << ": " << parsed.error().message;
            continue;
        }
        ASSERT_FALSE(parsed) << c.text;
        EXPECT_EQ(parsed.error().kind, ErrorKind::usage);
        EXPECT_NE(parsed.error().message.find(c.error), std::string::npos) << c.text << ": " << parsed.error().message;
    }
    const auto hosts =
        parse_hosts_toml("[host.\"https://m\xC3\xA9.example.com\"]\n", "/d", "/d/hosts.toml", "r.example.com");
    ASSERT_FALSE(hosts);
    EXPECT_NE(hosts.error().message.find("/d/hosts.toml:1: a non-ASCII character"), std::string::npos)
        << hosts.error().message;
}

TEST(RegistriesConf, ReadsVersionOneBlockAndInsecureLists) {
    const auto parsed = parse_registries_conf(
        "[registries.search]\nregistries = [\"docker.io\"]\n[registries.insecure]\nregistries = "
        "[\"old.example.com:5000\", \"both.example.com/\"]\n[registries.block]\nregistries = [\"both.example.com\"]\n",
        "v1.conf", false);
    ASSERT_TRUE(parsed) << parsed.error().message;
    ASSERT_EQ(parsed->size(), 2u);
    EXPECT_EQ((*parsed)[0].prefix, "both.example.com");
    EXPECT_TRUE((*parsed)[0].blocked);
    EXPECT_TRUE((*parsed)[0].insecure);
    EXPECT_EQ((*parsed)[1].location, "old.example.com:5000");
    EXPECT_TRUE((*parsed)[1].insecure);
    EXPECT_FALSE((*parsed)[1].blocked);
    const auto empty =
        parse_registries_conf("[registries.block]\nregistries = [\"a.example.com\", \"\"]\n", "v1.conf", false);
    ASSERT_FALSE(empty);
    EXPECT_NE(empty.error().message.find("v1.conf:2: an empty registry in [registries.block]"), std::string::npos)
        << empty.error().message;
    // Drop-ins take version 2 only.
    const auto drop_in =
        parse_registries_conf("[registries.block]\nregistries = [\"a.example.com\"]\n", "d.conf", true);
    ASSERT_FALSE(drop_in);
    EXPECT_NE(drop_in.error().message.find("version 2"), std::string::npos);
}

TEST(RegistriesConf, FirstTableOfAPrefixCounts) {
    const auto parsed =
        parse_registries_conf("[[registry]]\nprefix = \"a.example.com\"\nlocation = \"one.example.com\"\n"
                              "[[registry]]\nprefix = \"a.example.com\"\nlocation = \"two.example.com\"\n",
                              "registries.conf", false);
    ASSERT_TRUE(parsed);
    ASSERT_EQ(parsed->size(), 1u);
    EXPECT_EQ((*parsed)[0].location, "one.example.com");
}

TEST(RegistriesConf, PrefixMatchesWholeComponentsAndSubdomains) {
    struct Case {
        const char* name;
        const char* prefix;
        std::optional<std::size_t> match;
    };
    const Case cases[] = {
        {"registry.example.com/team/policies", "registry.example.com", 20},
        {"registry.example.com/team/policies", "registry.example.com/team", 25},
        {"registry.example.com/team/policies", "registry.example.com/team/policies", 34},
        {"registry.example.com/teams/policies", "registry.example.com/team", std::nullopt},
        {"registry.example.com.evil.net/team", "registry.example.com", std::nullopt},
        // As in containers/image (which warns not to rely on it): a host prefix covers its ports.
        {"registry.example.com:5000/team", "registry.example.com", 20},
        {"other.example.com/team", "registry.example.com", std::nullopt},
        {"a.example.com/team", "*.example.com", 13},
        {"b.a.example.com/team", "*.example.com", 15},
        {"a.example.com:5000/team", "*.example.com", 13},
        {"example.com/team", "*.example.com", std::nullopt},
        {"a.example.com.evil.net/team", "*.example.com", std::nullopt},
        {"evil.net/a.example.com/team", "*.example.com", std::nullopt},
    };
    for (const auto& c : cases) EXPECT_EQ(match_prefix(c.name, c.prefix), c.match) << c.name << " ~ " << c.prefix;
}

TEST(RegistriesConf, LongestPrefixWins) {
    RegistriesConf conf;
    conf.registries = {RegistryEntry{"*.example.com", "", false, false, false, {}, "f:1"},
                       RegistryEntry{"r.example.com", "r.example.com", false, false, false, {}, "f:2"},
                       RegistryEntry{"r.example.com/team", "r.example.com/team", false, false, false, {}, "f:3"}};
    EXPECT_EQ(find_registry(conf, "r.example.com/team/policies")->defined_at, "f:3");
    // *.example.com and r.example.com are as long: containers/image takes the first in sort
    // order, the wildcard, and karmor reads the node as the runtime does.
    EXPECT_EQ(find_registry(conf, "r.example.com/other")->defined_at, "f:1");
    EXPECT_EQ(find_registry(conf, "s.example.com/other")->defined_at, "f:1");
    conf.registries.push_back(
        RegistryEntry{"r.example.com/other", "r.example.com/other", false, false, false, {}, "f:4"});
    EXPECT_EQ(find_registry(conf, "r.example.com/other")->defined_at, "f:4");
    EXPECT_EQ(find_registry(conf, "docker.io/library/alpine"), nullptr);
}

TEST(RegistriesConf, FilesAreWhereTheContainersToolsReadThem) {
    TempDir home;
    const auto user = home.path() / ".config" / "containers";
    {
        const auto files = registries_conf_files("", environment({{"HOME", home.path().string()}}));
        EXPECT_EQ(files.main, "/etc/containers/registries.conf");
        EXPECT_FALSE(files.main_required);
        EXPECT_EQ(files.drop_in_directories, (std::vector<std::filesystem::path>{"/etc/containers/registries.conf.d",
                                                                                 user / "registries.conf.d"}));
    }
    write_text(user / "registries.conf", "");
    {
        const auto files = registries_conf_files("", environment({{"HOME", home.path().string()}}));
        EXPECT_EQ(files.main, user / "registries.conf");
        EXPECT_EQ(files.drop_in_directories, (std::vector<std::filesystem::path>{user / "registries.conf.d"}));
    }
    {
        const auto files = registries_conf_files(
            "", environment({{"HOME", home.path().string()}, {"CONTAINERS_REGISTRIES_CONF", "/srv/r.conf"}}));
        EXPECT_EQ(files.main, "/srv/r.conf");
        EXPECT_TRUE(files.main_required);
        EXPECT_EQ(files.drop_in_directories.size(), 2u);
    }
    EXPECT_EQ(registries_conf_files("/x.conf", environment({{"CONTAINERS_REGISTRIES_CONF", "/y.conf"}})).main,
              "/x.conf");
    EXPECT_EQ(registries_conf_files("", environment({{"REGISTRIES_CONFIG_PATH", "/z.conf"}})).main, "/z.conf");
}

TEST(RegistriesConf, DropInsReplaceByPrefixInNameOrder) {
    TempDir dir;
    write_text(dir / "main.conf", "[[registry]]\nprefix = \"a.example.com\"\nlocation = \"main.example.com\"\n"
                                  "[[registry]]\nlocation = \"b.example.com\"\n");
    write_text(dir / "d1" / "20-second.conf",
               "[[registry]]\nprefix = \"a.example.com\"\nlocation = \"second.example.com\"\n");
    write_text(dir / "d1" / "10-first.conf",
               "[[registry]]\nprefix = \"a.example.com\"\nlocation = \"first.example.com\"\n"
               "[[registry]]\nlocation = \"c.example.com\"\n");
    write_text(dir / "d1" / "30-ignored.toml",
               "[[registry]]\nprefix = \"a.example.com\"\nlocation = \"no.example.com\"\n");
    write_text(dir / "d1" / "sub.conf" / "x.conf", "not toml at all [");
    write_text(dir / "d2" / "99-user.conf", "[[registry]]\nlocation = \"b.example.com\"\nblocked = true\n");
    RegistriesConfFiles files{dir / "main.conf", true, {dir / "d1", dir / "missing", dir / "d2"}};
    const auto conf = load_registries_conf(files);
    ASSERT_TRUE(conf) << conf.error().message;
    EXPECT_EQ(conf->files.size(), 4u);
    const auto* a = find_registry(*conf, "a.example.com/x");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->location, "second.example.com");
    EXPECT_TRUE(find_registry(*conf, "b.example.com/x")->blocked);
    EXPECT_TRUE(find_registry(*conf, "c.example.com/x"));

    write_text(dir / "d2" / "50-broken.conf", "[[registry]]\nlocation = 5\n");
    const auto broken = load_registries_conf(files);
    ASSERT_FALSE(broken);
    EXPECT_NE(broken.error().message.find("50-broken.conf:2"), std::string::npos) << broken.error().message;

    RegistriesConfFiles missing{dir / "nope.conf", true, {}};
    const auto absent = load_registries_conf(missing);
    ASSERT_FALSE(absent);
    EXPECT_NE(absent.error().message.find("does not exist"), std::string::npos);
    missing.main_required = false;
    EXPECT_TRUE(load_registries_conf(missing));
}

TEST(RegistriesConf, BoundsWhatItReads) {
    TempDir dir;
    write_text(dir / "big.conf", std::string(max_registries_conf_bytes + 1, '#'));
    const auto big = load_registries_conf({dir / "big.conf", true, {}});
    ASSERT_FALSE(big);
    EXPECT_NE(big.error().message.find("more than"), std::string::npos) << big.error().message;

    std::string many;
    for (std::size_t i = 0; i <= max_mirrors_per_registry; ++i)
        many += "[[registry.mirror]]\nlocation = \"m.example.com\"\n";
    const auto mirrors = parse_registries_conf("[[registry]]\nlocation = \"a.example.com\"\n" + many, "m.conf", false);
    ASSERT_FALSE(mirrors);
    EXPECT_NE(mirrors.error().message.find("mirrors, more than"), std::string::npos);

    for (std::size_t i = 0; i <= max_drop_in_files; ++i)
        write_text(dir / "d" / (std::to_string(1000 + i) + ".conf"), "");
    const auto drop_ins = load_registries_conf({dir / "none.conf", false, {dir / "d"}});
    ASSERT_FALSE(drop_ins);
    EXPECT_NE(drop_ins.error().message.find("more than"), std::string::npos);
}

TEST(RegistriesConf, ReadsThisMachinesOwnFiles) {
    // Debian's containers-common ships a registries.conf of comments and a drop-in of [aliases].
    if (!std::filesystem::exists("/etc/containers/registries.conf")) GTEST_SKIP() << "no /etc/containers here";
    const auto conf = load_registries_conf(registries_conf_files("", environment({})));
    EXPECT_TRUE(conf) << conf.error().message;
}

TEST(HostsToml, ParsesHostsInFileOrderThenTheServer) {
    const auto hosts = parse_hosts_toml(R"(
server = "https://registry.example.com"
ca = "/etc/ssl/registry-ca.pem"

[host."https://zz-first.example.com:5000"]
  capabilities = ["pull", "resolve"]
  ca = ["first-ca.pem", "/abs/second-ca.pem"]
  client = [["client.cert", "client.key"]]

[host."http://aa-second.example.com"]
  capabilities = ["pull"]
  skip_verify = true

[host."https://proxy.example.com/v2/cache/registry.example.com"]
  capabilities = ["pull", "resolve", "push"]
  override_path = true
  client = "both.pem"

[host."mirror.example.com/prefix"]
)",
                                        "/certs.d/registry.example.com", "/certs.d/registry.example.com/hosts.toml",
                                        "registry.example.com");
    ASSERT_TRUE(hosts) << hosts.error().message;
    ASSERT_EQ(hosts->size(), 5u);
    const auto& first = (*hosts)[0];
    EXPECT_EQ(first.host, "zz-first.example.com:5000");
    EXPECT_EQ(first.scheme, "https");
    EXPECT_EQ(first.path, "/v2");
    EXPECT_TRUE(first.pull && first.resolve);
    EXPECT_EQ(first.ca_files,
              (std::vector<std::filesystem::path>{"/certs.d/registry.example.com/first-ca.pem", "/abs/second-ca.pem"}));
    ASSERT_EQ(first.client_pairs.size(), 1u);
    EXPECT_EQ(first.client_pairs[0].second, "/certs.d/registry.example.com/client.key");
    EXPECT_EQ(first.defined_at, "/certs.d/registry.example.com/hosts.toml:5");
    const auto& second = (*hosts)[1];
    EXPECT_EQ(second.host, "aa-second.example.com");
    EXPECT_EQ(second.scheme, "http");
    EXPECT_TRUE(second.pull);
    EXPECT_FALSE(second.resolve);
    EXPECT_EQ(second.skip_verify, std::optional<bool>(true));
    const auto& proxy = (*hosts)[2];
    EXPECT_EQ(proxy.path, "/v2/cache/registry.example.com");
    EXPECT_EQ(proxy.client_pairs[0].second, std::filesystem::path());
    EXPECT_EQ((*hosts)[3].host, "mirror.example.com");
    EXPECT_EQ((*hosts)[3].path, "/prefix/v2");
    const auto& server = (*hosts)[4];
    EXPECT_TRUE(server.is_server);
    EXPECT_EQ(server.host, "registry.example.com");
    EXPECT_EQ(server.ca_files, (std::vector<std::filesystem::path>{"/etc/ssl/registry-ca.pem"}));
}

TEST(HostsToml, ServerDefaultsToTheRegistry) {
    struct Case {
        const char* registry;
        const char* text;
        const char* host;
        const char* scheme;
        const char* path;
    };
    const Case cases[] = {
        {"docker.io", "[host.\"https://mirror.gcr.io\"]\n", "registry-1.docker.io", "https", "/v2"},
        {"registry.example.com:5000", "", "registry.example.com:5000", "https", "/v2"},
        {"registry.example.com", "server = \"http://127.0.0.1:5000\"\n", "127.0.0.1:5000", "http", "/v2"},
        {"registry.example.com", "server = \"registry.example.com/api/\"\n", "registry.example.com", "https",
         "/api/v2"},
        {"registry.example.com", "server = \"https://r.example.com/api\"\noverride_path = true\n", "r.example.com",
         "https", "/api"},
    };
    for (const auto& c : cases) {
        const auto hosts = parse_hosts_toml(c.text, "/d", "/d/hosts.toml", c.registry);
        ASSERT_TRUE(hosts) << c.text << ": " << hosts.error().message;
        const auto& server = hosts->back();
        EXPECT_TRUE(server.is_server);
        EXPECT_EQ(server.host, c.host) << c.text;
        EXPECT_EQ(server.scheme, c.scheme) << c.text;
        EXPECT_EQ(server.path, c.path) << c.text;
    }
}

TEST(HostsToml, RefusesWhatContainerdRefuses) {
    struct Case {
        const char* text;
        const char* message;
    };
    const Case cases[] = {
        {"[host.\"https://m.example.com\"]\ncapabilities = [\"pull\", \"fetch\"]\n",
         "hosts.toml:2: unknown capability"},
        {"[host.\"ftp://m.example.com\"]\n", "neither http:// nor https://"},
        {"[host.\"https://m.example.com/a/../b\"]\n", "goes up"},
        {"server = \"https:w//r.example.com\"\n", "is not HOST[:PORT] with an optional path"},
        {"[host.\"https://m.example.com:port\"]\n", "is not HOST[:PORT]"},
        {"[host.\"https://[::1\"]\n", "is not HOST[:PORT]"},
        {"[host.\"https://m.example.com\"]\nskip_verify = \"yes\"\n", "skip_verify must be true or false"},
        {"[host.\"https://m.example.com\"]\nca = 5\n", "ca must be a file name or a list"},
        {"[host.\"https://m.example.com\"]\nclient = [[\"only-one\"]]\n", "[certificate, key] pairs"},
        {"server = 5\n", "server must be a URL string"},
        {"host = 5\n", "host must be tables"},
        {"server = \"https://r.example.com\n", "not valid TOML"},
    };
    for (const auto& c : cases) {
        const auto hosts = parse_hosts_toml(c.text, "/d", "/d/hosts.toml", "r.example.com");
        ASSERT_FALSE(hosts) << c.text;
        EXPECT_NE(hosts.error().message.find(c.message), std::string::npos) << c.text << ": " << hosts.error().message;
    }
    std::string many;
    for (std::size_t i = 0; i <= max_hosts; ++i) many += "[host.\"https://m" + std::to_string(i) + ".example.com\"]\n";
    EXPECT_FALSE(parse_hosts_toml(many, "/d", "/d/hosts.toml", "r.example.com"));
}

TEST(HostsToml, FindsTheDirectoryContainerdWouldUse) {
    TempDir dir;
    EXPECT_EQ(hosts_directory("", environment({})), "/etc/containerd/certs.d");
    EXPECT_EQ(hosts_directory("", environment({{"KARMOR_HOSTS_DIR", "/srv/hosts"}})), "/srv/hosts");
    EXPECT_EQ(hosts_directory("/flag", environment({{"KARMOR_HOSTS_DIR", "/srv/hosts"}})), "/flag");

    auto none = load_hosts_config(dir.path(), "r.example.com:5000");
    ASSERT_TRUE(none);
    EXPECT_FALSE(*none);

    write_text(dir / "_default" / "hosts.toml", "[host.\"https://default-mirror.example.com\"]\n");
    auto fallback = load_hosts_config(dir.path(), "r.example.com:5000");
    ASSERT_TRUE(fallback && *fallback);
    EXPECT_TRUE((*fallback)->is_default);
    EXPECT_EQ((*fallback)->hosts.front().host, "default-mirror.example.com");
    EXPECT_EQ((*fallback)->hosts.back().host, "r.example.com:5000");

    write_text(dir / "r.example.com:5000" / "hosts.toml", "[host.\"https://colon.example.com\"]\n");
    auto colon = load_hosts_config(dir.path(), "r.example.com:5000");
    ASSERT_TRUE(colon && *colon);
    EXPECT_FALSE((*colon)->is_default);
    EXPECT_EQ((*colon)->hosts.front().host, "colon.example.com");

    write_text(dir / "r.example.com_5000_" / "hosts.toml", "[host.\"https://underscore.example.com\"]\n");
    auto underscore = load_hosts_config(dir.path(), "r.example.com:5000");
    ASSERT_TRUE(underscore && *underscore);
    EXPECT_EQ((*underscore)->hosts.front().host, "underscore.example.com");

    // Without hosts.toml: Docker's certificate files, for the registry itself.
    write_text(dir / "certs.example.com" / "ca.crt", "PEM");
    write_text(dir / "certs.example.com" / "client.cert", "PEM");
    write_text(dir / "certs.example.com" / "client.key", "PEM");
    auto certificates = load_hosts_config(dir.path(), "certs.example.com");
    ASSERT_TRUE(certificates && *certificates) << certificates.error().message;
    ASSERT_EQ((*certificates)->hosts.size(), 1u);
    const auto& server = (*certificates)->hosts[0];
    EXPECT_TRUE(server.is_server);
    EXPECT_EQ(server.ca_files, (std::vector<std::filesystem::path>{dir / "certs.example.com" / "ca.crt"}));
    ASSERT_EQ(server.client_pairs.size(), 1u);
    EXPECT_EQ(server.client_pairs[0].second, dir / "certs.example.com" / "client.key");
}

// One line per endpoint: HOST/REPOSITORY, then t (answers tags) and d (serves digests), u for the
// upstream, r when the command's own flags and credentials apply.
std::vector<std::string> summary(const ReadPlan& plan) {
    std::vector<std::string> lines;
    for (const auto& e : plan.endpoints)
        lines.push_back(e.describe() + " " + (e.answers_tags ? "t" : "") + (e.serves_digests ? "d" : "") +
                        (e.is_upstream ? "u" : "") + (e.is_reference_registry ? "r" : ""));
    return lines;
}

struct Node {
    TempDir dir;
    Getenv env;
    MirrorOptions options;
    explicit Node(const std::string& registries_conf) {
        write_text(dir / "registries.conf", registries_conf);
        env = environment({{"HOME", (dir / "home").string()}});
        options.enabled = true;
        options.registries_conf = (dir / "registries.conf").string();
        options.hosts_dir = (dir / "certs.d").string();
    }
    Result<ReadPlan> plan(const std::string& reference) const { return plan_reads(ref(reference), options, env); }
};

const char* const fleet_conf = R"(
[[registry]]
prefix = "registry.example.com/team"
location = "registry.example.com/team"

[[registry.mirror]]
location = "all.example.com/cache/team"

[[registry.mirror]]
location = "digests.example.com/team"
pull-from-mirror = "digest-only"

[[registry.mirror]]
location = "tags.example.com:5000/team"
pull-from-mirror = "tag-only"
insecure = true

[[registry]]
prefix = "remapped.example.com"
location = "internal.example.com:8443/remapped"

[[registry]]
location = "only-digests.example.com"
mirror-by-digest-only = true

[[registry.mirror]]
location = "m.example.com"

[[registry]]
prefix = "*.wild.example.com"

[[registry.mirror]]
location = "wild-cache.example.com"

[[registry]]
location = "blocked.example.com"
blocked = true
)";

TEST(ReadPlan, EndpointsInOrderWithWhatEachMayAnswer) {
    const Node node(fleet_conf);
    struct Case {
        std::string reference;
        std::vector<std::string> endpoints;
    };
    const std::string digest = "@sha256:" + std::string(64, 'a');
    const Case cases[] = {
        {"registry.example.com/team/policies:v1",
         {"all.example.com/cache/team/policies td", "digests.example.com/team/policies d",
          "tags.example.com:5000/team/policies td", "registry.example.com/team/policies tdur"}},
        // A reference by digest skips tag-only mirrors.
        {"registry.example.com/team/policies" + digest,
         {"all.example.com/cache/team/policies td", "digests.example.com/team/policies d",
          "registry.example.com/team/policies tdur"}},
        {"remapped.example.com/a/b:v1", {"internal.example.com:8443/remapped/a/b tdu"}},
        {"only-digests.example.com/x:v1", {"m.example.com/x d", "only-digests.example.com/x tdur"}},
        {"a.b.wild.example.com/x:v1", {"wild-cache.example.com/x td", "a.b.wild.example.com/x tdur"}},
        {"registry.example.com/other:v1", {"registry.example.com/other tdur"}},
        {"elsewhere.example.com/x:v1", {"elsewhere.example.com/x tdur"}},
    };
    for (const auto& c : cases) {
        const auto plan = node.plan(c.reference);
        ASSERT_TRUE(plan) << c.reference << ": " << plan.error().message;
        EXPECT_EQ(summary(*plan), c.endpoints) << c.reference;
    }
    const auto plan = node.plan("registry.example.com/team/policies:v1");
    EXPECT_TRUE(plan->uses_configuration());
    EXPECT_EQ(plan->source, (node.dir / "registries.conf").string());
    EXPECT_TRUE(plan->endpoints[2].skip_verify && plan->endpoints[2].plain_http_fallback);
    EXPECT_FALSE(plan->endpoints[0].skip_verify);
    EXPECT_EQ(plan->endpoints[0].configured_at, (node.dir / "registries.conf").string() + ":6");
    EXPECT_FALSE(node.plan("elsewhere.example.com/x:v1")->uses_configuration());
}

TEST(ReadPlan, BlockedRegistriesAreRefusedForReadsAndWrites) {
    const Node node(fleet_conf);
    const auto plan = node.plan("blocked.example.com/team/policies:v1");
    ASSERT_FALSE(plan);
    EXPECT_EQ(plan.error().kind, ErrorKind::auth);
    EXPECT_NE(plan.error().message.find("blocked.example.com/team/policies is blocked by"), std::string::npos)
        << plan.error().message;
    const auto write = check_not_blocked(ref("blocked.example.com/team/policies:v1"), node.options, node.env);
    ASSERT_FALSE(write);
    EXPECT_NE(write.error().message.find("blocked = true"), std::string::npos);
    EXPECT_TRUE(check_not_blocked(ref("registry.example.com/team/policies:v1"), node.options, node.env));
    // --no-mirrors reads no configuration at all.
    auto off = node.options;
    off.enabled = false;
    EXPECT_TRUE(plan_reads(ref("blocked.example.com/team/policies:v1"), off, node.env));
    EXPECT_TRUE(check_not_blocked(ref("blocked.example.com/team/policies:v1"), off, node.env));
}

TEST(ReadPlan, HostsTomlOfTheRegistryWinsThenRegistriesConfThenDefault) {
    Node node(fleet_conf);
    write_text(node.dir / "certs.d" / "registry.example.com" / "ca.pem", "-----BEGIN CERTIFICATE-----\n");
    write_text(node.dir / "certs.d" / "registry.example.com" / "hosts.toml", R"(
server = "https://registry.example.com"

[host."http://cache.local:5000"]
  capabilities = ["pull", "resolve"]

[host."https://pull-only.local"]
  capabilities = ["pull"]
  ca = "ca.pem"
  client = ["cert.pem", "key.pem"]

[host."https://push-only.local"]
  capabilities = ["push"]

[host."https://proxy.local/v2/registry.example.com"]
  override_path = true
)");
    write_text(node.dir / "certs.d" / "_default" / "hosts.toml", "[host.\"https://default.local\"]\n");
    const auto plan = node.plan("registry.example.com/team/policies:v1");
    ASSERT_TRUE(plan) << plan.error().message;
    EXPECT_EQ(summary(*plan),
              (std::vector<std::string>{"cache.local:5000/team/policies td", "pull-only.local/team/policies d",
                                        "proxy.local/team/policies (API root /v2/registry.example.com) td",
                                        "registry.example.com/team/policies tdur"}));
    EXPECT_EQ(plan->source, (node.dir / "certs.d" / "registry.example.com" / "hosts.toml").string());
    EXPECT_TRUE(plan->endpoints[0].plain_http);
    EXPECT_EQ(plan->endpoints[0].namespace_query, "registry.example.com");
    EXPECT_EQ(plan->endpoints[1].ca_pem, "-----BEGIN CERTIFICATE-----\n\n");
    EXPECT_EQ(plan->endpoints[1].client_certificate, node.dir / "certs.d" / "registry.example.com" / "cert.pem");
    EXPECT_EQ(plan->endpoints[3].namespace_query, "");

    // registries.conf names remapped.example.com: it wins over _default.
    EXPECT_EQ(summary(*node.plan("remapped.example.com/a:v1")),
              (std::vector<std::string>{"internal.example.com:8443/remapped/a tdu"}));
    // Nothing else names unnamed.example.com: _default does.
    EXPECT_EQ(summary(*node.plan("unnamed.example.com/a:v1")),
              (std::vector<std::string>{"default.local/a td", "unnamed.example.com/a tdur"}));
    // registries.conf's blocked holds whichever gives the endpoints.
    write_text(node.dir / "certs.d" / "blocked.example.com" / "hosts.toml", "");
    EXPECT_FALSE(node.plan("blocked.example.com/a:v1"));

    // A CA file that is not there is the configuration's error.
    write_text(node.dir / "certs.d" / "missing.example.com" / "hosts.toml",
               "[host.\"https://m.local\"]\nca = \"nope.pem\"\n");
    const auto missing = node.plan("missing.example.com/a:v1");
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.error().message.find("nope.pem does not exist"), std::string::npos) << missing.error().message;
}

TEST(ReadPlan, LocationsMustNameAHost) {
    const Node node("[[registry]]\nprefix = \"registry.example.com/team\"\nlocation = \"nohost/team\"\n");
    const auto plan = node.plan("registry.example.com/team/policies:v1");
    ASSERT_FALSE(plan);
    EXPECT_NE(plan.error().message.find("\"nohost/team/policies\", which is not HOST[:PORT]/REPOSITORY"),
              std::string::npos)
        << plan.error().message;
}

TEST(ReadPlan, DockerHubIsReadAsContainersToolsNameIt) {
    const Node node("[[registry]]\nprefix = \"docker.io/library\"\nlocation = \"docker.io/library\"\n"
                    "[[registry.mirror]]\nlocation = \"mirror.gcr.io/library\"\n");
    EXPECT_EQ(summary(*node.plan("alpine")),
              (std::vector<std::string>{"mirror.gcr.io/library/alpine td", "docker.io/library/alpine tdur"}));
}

}  // namespace
}  // namespace karmor::mirrors
