#include "config/cert_store.hpp"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cctype>
#include <memory>

namespace tlsbroker::config {

namespace {

std::string trim(const std::string& s) {
    const auto b = s.find_first_not_of(" \t");
    if (b == std::string::npos) return {};
    return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

std::string upper(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

bool iequal(const std::string& a, const std::string& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}

// The short name of an attribute type written as "CN", "cn", "commonName", "E", …; "" if unknown.
std::string attribute_type(const std::string& written) {
    const auto up = upper(written);
    if (up == "E" || up == "EMAIL") return LN_pkcs9_emailAddress;  // "emailAddress", its short name too
    int nid = OBJ_sn2nid(written.c_str());
    if (nid == NID_undef) nid = OBJ_sn2nid(up.c_str());
    if (nid == NID_undef) nid = OBJ_ln2nid(written.c_str());
    return nid == NID_undef ? std::string() : std::string(OBJ_nid2sn(nid));
}

bool to_unix(const ASN1_TIME* t, std::int64_t& out) {
    std::unique_ptr<ASN1_TIME, decltype(&ASN1_TIME_free)> epoch(ASN1_TIME_set(nullptr, 0), &ASN1_TIME_free);
    int days = 0, secs = 0;
    if (!epoch || ASN1_TIME_diff(&days, &secs, epoch.get(), t) != 1) return false;
    out = static_cast<std::int64_t>(days) * 86400 + secs;
    return true;
}

std::string one_line(const X509_NAME* name) {
    std::unique_ptr<BIO, decltype(&BIO_free)> out(BIO_new(BIO_s_mem()), &BIO_free);
    if (!out || X509_NAME_print_ex(out.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0) return {};
    char* data = nullptr;
    const long n = BIO_get_mem_data(out.get(), &data);
    return std::string(data, static_cast<std::size_t>(n));
}

}  // namespace

std::string store_reference::text() const {
    const auto where = location + "\\" + store;
    return thumbprint.empty() ? where + " subject=\"" + subject + "\"" : where + " thumbprint=" + thumbprint;
}

std::string normalize_thumbprint(const std::string& text, std::string& problem) {
    std::string out;
    for (const char c : text) {
        if (c == ' ' || c == ':') continue;
        if (!std::isxdigit(static_cast<unsigned char>(c))) {
            problem = "must be 40 hex digits (spaces and colons allowed); '" + std::string(1, c) + "' is not one";
            return {};
        }
        out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    if (out.size() != 40) {
        problem =
            "must be 40 hex digits (a SHA-1 thumbprint; spaces and colons allowed), got " + std::to_string(out.size());
        return {};
    }
    return out;
}

std::vector<std::pair<std::string, std::string>> parse_subject(const std::string& text, std::string& problem) {
    std::vector<std::pair<std::string, std::string>> out;
    std::size_t start = 0;
    while (start <= text.size()) {
        auto end = text.find(',', start);
        if (end == std::string::npos) end = text.size();
        const auto part = trim(text.substr(start, end - start));
        start = end + 1;
        const auto eq = part.find('=');
        const auto type = eq == std::string::npos ? std::string("CN") : attribute_type(trim(part.substr(0, eq)));
        const auto value = eq == std::string::npos ? part : trim(part.substr(eq + 1));
        if (part.empty() || value.empty()) {
            problem = "must be attribute=value pairs separated by commas (\"CN=site01.example\"), with no empty part";
            return {};
        }
        if (type.empty()) {
            problem = "unknown attribute type \"" + trim(part.substr(0, eq)) + "\" (use CN, O, OU, L, ST, C or E)";
            return {};
        }
        out.emplace_back(type, value);
    }
    return out;
}

void read_store_reference(json_object& parent, store_reference& out) {
    if (!parent.has("certificate_store")) return;
    auto o = parent.child("certificate_store");
    o.choice("location", out.location, {"LocalMachine", "CurrentUser"});
    o.text("store", out.store);
    if (out.store.empty() || out.store.find_first_of("\\/") != std::string::npos)
        o.error("store", "must name one store (\"My\", \"WebHosting\"), without a location or slash");
    std::string thumb, subject;
    o.text("thumbprint", thumb);
    o.text("subject", subject);
    const bool has_thumb = o.has("thumbprint"), has_subject = o.has("subject");
    if (has_thumb && has_subject)
        o.error("subject", "use either thumbprint or subject, not both");
    else if (!has_thumb && !has_subject && o.present())
        o.error("", "needs a thumbprint or a subject");
    std::string problem;
    if (has_thumb && !has_subject) {
        out.thumbprint = normalize_thumbprint(thumb, problem);
        if (!problem.empty()) o.error("thumbprint", problem);
    }
    if (has_subject && !has_thumb) {
        if (parse_subject(subject, problem).empty())
            o.error("subject", problem);
        else
            out.subject = trim(subject);
    }
    o.finish();
}

std::optional<store_candidate> candidate_from_der(const unsigned char* der, long size, bool has_key) {
    const unsigned char* p = der;
    x509_ptr x(d2i_X509(nullptr, &p, size));
    if (!x) return std::nullopt;
    store_candidate c;
    c.has_key = has_key;
    c.thumbprint = sha1_thumbprint(x.get());
    if (c.thumbprint.empty()) return std::nullopt;
    const X509_NAME* name = X509_get_subject_name(x.get());
    for (int i = 0; i < X509_NAME_entry_count(name); ++i) {
        const X509_NAME_ENTRY* e = X509_NAME_get_entry(name, i);
        unsigned char* utf8 = nullptr;
        const int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e));
        if (len < 0) continue;
        c.names.emplace_back(OBJ_nid2sn(OBJ_obj2nid(X509_NAME_ENTRY_get_object(e))),
                             std::string(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(len)));
        OPENSSL_free(utf8);
    }
    c.subject = one_line(name);
    if (!to_unix(X509_get0_notBefore(x.get()), c.not_before) || !to_unix(X509_get0_notAfter(x.get()), c.not_after))
        return std::nullopt;
    const bool has_eku = (X509_get_extension_flags(x.get()) & EXFLAG_XKUSAGE) != 0;
    c.server_auth = !has_eku || (X509_get_extended_key_usage(x.get()) & (XKU_SSL_SERVER | XKU_ANYEKU)) != 0;
    return c;
}

bool subject_matches(const store_candidate& c, const std::vector<std::pair<std::string, std::string>>& wanted) {
    for (const auto& [type, value] : wanted) {
        bool found = false;
        for (const auto& [t, v] : c.names) found = found || (t == type && iequal(v, value));
        if (!found) return false;
    }
    return !wanted.empty();
}

store_choice choose_certificate(const std::vector<store_candidate>& all, const store_reference& ref, std::int64_t now) {
    const auto where = ref.location + "\\" + ref.store;
    if (!ref.thumbprint.empty()) {
        for (std::size_t i = 0; i < all.size(); ++i) {
            const auto& c = all[i];
            if (c.thumbprint != ref.thumbprint) continue;
            const auto what = "certificate " + c.thumbprint + " (" + c.subject + ") in " + where;
            if (!c.has_key) return {std::nullopt, what + " has no private key"};
            if (!c.server_auth)
                return {std::nullopt, what + " may not serve TLS: its extended key usage lacks server authentication"};
            return {i, {}};
        }
        return {std::nullopt, "no certificate with thumbprint " + ref.thumbprint + " in " + where};
    }
    std::string problem;
    const auto wanted = parse_subject(ref.subject, problem);
    std::optional<std::size_t> valid, any;
    std::size_t matching = 0;
    for (std::size_t i = 0; i < all.size(); ++i) {
        const auto& c = all[i];
        if (!subject_matches(c, wanted)) continue;
        ++matching;
        if (!c.has_key || !c.server_auth) continue;
        if (!any || c.not_after > all[*any].not_after) any = i;
        if (c.not_before <= now && now < c.not_after && (!valid || c.not_after > all[*valid].not_after)) valid = i;
    }
    if (valid) return {valid, {}};
    if (any) return {any, {}};  // none valid now: served degraded, as an expired file is
    if (matching == 0) return {std::nullopt, "no certificate with subject \"" + ref.subject + "\" in " + where};
    return {std::nullopt, std::to_string(matching) + " certificate(s) with subject \"" + ref.subject + "\" in " +
                              where +
                              ", but none has both a private key and server authentication (or no extended "
                              "key usage)"};
}

std::vector<std::size_t> certificates_to_grant(const std::vector<store_candidate>& all, const store_reference& ref) {
    std::vector<std::size_t> out;
    std::string problem;
    const auto wanted = ref.thumbprint.empty() ? parse_subject(ref.subject, problem)
                                               : std::vector<std::pair<std::string, std::string>>{};
    for (std::size_t i = 0; i < all.size(); ++i) {
        const auto& c = all[i];
        if (!c.has_key) continue;
        if (ref.thumbprint.empty() ? subject_matches(c, wanted) && c.server_auth : c.thumbprint == ref.thumbprint)
            out.push_back(i);
    }
    return out;
}

}  // namespace tlsbroker::config
