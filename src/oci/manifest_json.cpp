#include "oci/manifest_json.hpp"

namespace karmor {

bool Manifest::is_index() const {
    return media_type == media_type::oci_index || media_type == media_type::docker_manifest_list;
}

}  // namespace karmor

namespace karmor::oci {
namespace {

using ordered = nlohmann::ordered_json;

Unexpected<Error> malformed(const std::string& where, const std::string& why) {
    return unexpected(Error(ErrorKind::validation, where + ": malformed manifest: " + why,
                            "the registry holds something that is not a valid OCI manifest"));
}

ordered annotations_to_json(const std::map<std::string, std::string>& annotations) {
    ordered out = ordered::object();
    for (const auto& [k, v] : annotations) out[k] = v;
    return out;
}

Result<std::map<std::string, std::string>> annotations_from_json(const nlohmann::json& value,
                                                                 const std::string& where) {
    std::map<std::string, std::string> out;
    if (!value.is_object()) return malformed(where, "annotations must be an object of strings");
    for (const auto& [k, v] : value.items()) {
        if (!v.is_string()) return malformed(where, "annotation \"" + k + "\" is not a string");
        out[k] = v.get<std::string>();
    }
    return out;
}

}  // namespace

ordered descriptor_to_json(const Descriptor& d) {
    ordered out = ordered::object();
    out["mediaType"] = d.media_type;
    out["digest"] = d.digest.str();
    out["size"] = d.size;
    if (!d.artifact_type.empty()) out["artifactType"] = d.artifact_type;
    if (d.platform_json) out["platform"] = ordered::parse(*d.platform_json);
    if (!d.annotations.empty()) out["annotations"] = annotations_to_json(d.annotations);
    return out;
}

Result<Descriptor> descriptor_from_json(const nlohmann::json& value, const std::string& where) {
    if (!value.is_object()) return malformed(where, "a descriptor is not an object");
    Descriptor d;
    const auto media_type = value.find("mediaType");
    if (media_type == value.end() || !media_type->is_string()) return malformed(where, "a descriptor has no mediaType");
    d.media_type = media_type->get<std::string>();
    const auto digest = value.find("digest");
    if (digest == value.end() || !digest->is_string()) return malformed(where, "a descriptor has no digest");
    auto parsed = Digest::parse(digest->get<std::string>());
    if (!parsed) return malformed(where, parsed.error().message);
    d.digest = *parsed;
    const auto size = value.find("size");
    if (size == value.end() || !size->is_number_integer() || size->get<std::int64_t>() < 0)
        return malformed(where, "a descriptor has no valid size");
    d.size = size->get<std::int64_t>();
    if (const auto at = value.find("artifactType"); at != value.end() && at->is_string())
        d.artifact_type = at->get<std::string>();
    if (const auto platform = value.find("platform"); platform != value.end()) d.platform_json = platform->dump();
    if (const auto ann = value.find("annotations"); ann != value.end() && !ann->is_null()) {
        auto annotations = annotations_from_json(*ann, where);
        if (!annotations) return unexpected(std::move(annotations).error());
        d.annotations = std::move(*annotations);
    }
    return d;
}

std::string serialize_manifest(const Manifest& m) {
    ordered out = ordered::object();
    out["schemaVersion"] = m.schema_version;
    out["mediaType"] = m.media_type;
    if (!m.artifact_type.empty()) out["artifactType"] = m.artifact_type;
    if (m.is_index()) {
        ordered list = ordered::array();
        for (const auto& d : m.manifests) list.push_back(descriptor_to_json(d));
        out["manifests"] = std::move(list);
    } else {
        if (m.config) out["config"] = descriptor_to_json(*m.config);
        ordered list = ordered::array();
        for (const auto& d : m.layers) list.push_back(descriptor_to_json(d));
        out["layers"] = std::move(list);
    }
    if (m.subject) out["subject"] = descriptor_to_json(*m.subject);
    if (!m.annotations.empty()) out["annotations"] = annotations_to_json(m.annotations);
    return out.dump();
}

Result<Manifest> parse_manifest(std::string_view bytes, const std::string& media_type_header,
                                const std::string& where) {
    const auto value = nlohmann::json::parse(bytes, nullptr, false);
    if (value.is_discarded() || !value.is_object()) return malformed(where, "not a JSON object");
    Manifest m;
    if (const auto sv = value.find("schemaVersion"); sv != value.end() && sv->is_number_integer())
        m.schema_version = sv->get<int>();
    if (m.schema_version != 2) return malformed(where, "schemaVersion is not 2");
    if (const auto mt = value.find("mediaType"); mt != value.end() && mt->is_string())
        m.media_type = mt->get<std::string>();
    if (m.media_type.empty()) {
        m.media_type = media_type_header.substr(0, media_type_header.find(';'));
        if (m.media_type.empty())
            m.media_type = value.contains("manifests") ? media_type::oci_index : media_type::oci_manifest;
    }
    if (const auto at = value.find("artifactType"); at != value.end() && at->is_string())
        m.artifact_type = at->get<std::string>();
    if (m.is_index()) {
        const auto list = value.find("manifests");
        if (list == value.end() || !list->is_array()) return malformed(where, "an index has no manifests list");
        for (const auto& entry : *list) {
            auto d = descriptor_from_json(entry, where);
            if (!d) return unexpected(std::move(d).error());
            m.manifests.push_back(std::move(*d));
        }
    } else {
        const auto config = value.find("config");
        if (config == value.end()) return malformed(where, "a manifest has no config");
        auto c = descriptor_from_json(*config, where);
        if (!c) return unexpected(std::move(c).error());
        m.config = std::move(*c);
        if (const auto layers = value.find("layers"); layers != value.end()) {
            if (!layers->is_array()) return malformed(where, "layers is not a list");
            for (const auto& entry : *layers) {
                auto d = descriptor_from_json(entry, where);
                if (!d) return unexpected(std::move(d).error());
                m.layers.push_back(std::move(*d));
            }
        }
    }
    if (const auto subject = value.find("subject"); subject != value.end() && !subject->is_null()) {
        auto s = descriptor_from_json(*subject, where);
        if (!s) return unexpected(std::move(s).error());
        m.subject = std::move(*s);
    }
    if (const auto ann = value.find("annotations"); ann != value.end() && !ann->is_null()) {
        auto annotations = annotations_from_json(*ann, where);
        if (!annotations) return unexpected(std::move(annotations).error());
        m.annotations = std::move(*annotations);
    }
    return m;
}

}  // namespace karmor::oci
