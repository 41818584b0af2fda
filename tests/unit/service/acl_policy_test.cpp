// The security descriptors the Windows installer applies to %ProgramData%\tlsbroker, and the
// check the service makes at start (service/windows/acl_policy.*), on SDDL text.
#include "service/windows/acl_policy.hpp"

#include <gtest/gtest.h>

#include "service/windows/service_sid.hpp"

using namespace tlsbroker::service;

namespace {

const std::string svc = service_sid("tlsbroker");

acl::finding judge_text(const std::string& sddl, bool folder) {
    std::string error;
    const auto d = acl::parse_sddl(sddl, error);
    EXPECT_TRUE(d.has_value()) << error;
    return d ? acl::judge(*d, folder, svc) : acl::finding{};
}

}  // namespace

TEST(service_sid, matches_the_sids_windows_gives_known_services) {
    // Both as Windows shows them (`sc showsid TrustedInstaller`, `sc showsid MSSQLSERVER`).
    EXPECT_EQ(service_sid("TrustedInstaller"), acl::sids::trusted_installer);
    EXPECT_EQ(service_sid("trustedinstaller"), acl::sids::trusted_installer);  // case-insensitive
    EXPECT_EQ(service_sid("MSSQLSERVER"), "S-1-5-80-3880718306-3832830129-1677859214-2598158968-1052248003");
    EXPECT_EQ(svc.rfind("S-1-5-80-", 0), 0u);
    EXPECT_NE(svc, service_sid("tlsbroker2"));
}

TEST(acl_policy, folder_descriptor_is_protected_admin_owned_and_names_the_service) {
    const auto sddl = acl::sddl_for(acl::object_kind::folder, svc);
    EXPECT_EQ(sddl, "O:BAG:SYD:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1200a9;;;" + svc + ")(A;;0x2;;;" + svc +
                        ")(A;OIIO;0x1301bf;;;CO)");
    std::string error;
    const auto d = acl::parse_sddl(sddl, error);
    ASSERT_TRUE(d) << error;
    EXPECT_TRUE(d->dacl_protected);  // nothing inherited from ProgramData (Users: read, create)
    EXPECT_EQ(d->owner, acl::sids::administrators);
    ASSERT_EQ(d->aces.size(), 5u);
    EXPECT_EQ(d->aces[0].sid, acl::sids::system);
    EXPECT_EQ(d->aces[0].mask, acl::rights::file_all);
    EXPECT_EQ(d->aces[1].sid, acl::sids::administrators);
    EXPECT_EQ(d->aces[2].sid, svc);
    EXPECT_EQ(d->aces[2].mask, acl::rights::read_execute);
    EXPECT_TRUE(d->aces[4].inherit_only);
    const auto f = acl::judge(*d, true, svc);
    EXPECT_FALSE(f.refuse()) << f.describe();
    EXPECT_FALSE(f.warn()) << f.describe();
}

TEST(acl_policy, config_and_key_readable_by_the_service_only) {
    const auto sddl = acl::sddl_for(acl::object_kind::file, svc);
    EXPECT_EQ(sddl, "O:BAG:SYD:PAI(A;;FA;;;SY)(A;;FA;;;BA)(A;;0x1200a9;;;" + svc + ")");
    const auto f = judge_text(sddl, false);
    EXPECT_FALSE(f.refuse()) << f.describe();
    EXPECT_FALSE(f.warn()) << f.describe();
    EXPECT_EQ(f.describe(), "protected");
}

TEST(acl_policy, log_file_modifiable_by_the_service) {
    const auto sddl = acl::sddl_for(acl::object_kind::log_file, svc);
    EXPECT_EQ(sddl, "O:BAG:SYD:PAI(A;;FA;;;SY)(A;;FA;;;BA)(A;;0x1301bf;;;" + svc + ")");
    // The same descriptor on the config would let the service rewrite its own config: refused.
    const auto f = judge_text(sddl, false);
    EXPECT_TRUE(f.refuse());
    EXPECT_EQ(f.writers, std::vector<std::string>{svc});
}

TEST(acl_policy, key_inheriting_programdata_is_readable_by_users) {
    // What a file in a folder created under ProgramData inherits (Users: read and execute).
    const auto f = judge_text("O:BAG:SYD:AI(A;ID;FA;;;SY)(A;ID;FA;;;BA)(A;ID;0x1200a9;;;BU)", false);
    EXPECT_FALSE(f.refuse()) << f.describe();
    EXPECT_TRUE(f.warn());
    EXPECT_EQ(f.describe(), "readable by S-1-5-32-545");
}

TEST(acl_policy, folder_planted_by_a_user_is_refused) {
    // A non-admin created the folder: they own it, and CREATOR OWNER gave them full control.
    const auto user = std::string("S-1-5-21-1004336348-1177238915-682003330-1001");
    const auto f = judge_text("O:" + user + "G:" + user + "D:AI(A;ID;FA;;;SY)(A;ID;FA;;;BA)(A;ID;FA;;;" + user +
                                  ")(A;OICIIOID;GA;;;CO)(A;OICIID;0x1200a9;;;BU)(A;CIID;DCLCRPCR;;;BU)",
                              true);
    EXPECT_TRUE(f.refuse());
    EXPECT_EQ(f.untrusted_owner, user);
    EXPECT_EQ(f.writers, std::vector<std::string>{user});  // Users may only add files: no way to replace one
    EXPECT_NE(f.describe().find("owned by " + user), std::string::npos);
}

TEST(acl_policy, each_way_to_change_a_file_is_refused) {
    for (const std::string rights : {"FA", "FW", "GA", "GW", "WD", "WO", "SD", "0x2", "0x4", "0x40000"}) {
        const auto f = judge_text("O:BAD:P(A;;FA;;;SY)(A;;" + rights + ";;;AU)", false);
        EXPECT_TRUE(f.refuse()) << rights;
        EXPECT_EQ(f.writers, std::vector<std::string>{"S-1-5-11"}) << rights;
    }
    // Reading alone is not a change.
    for (const std::string rights : {"FR", "FX", "0x1200a9", "GR", "RC"}) {
        const auto f = judge_text("O:BAD:P(A;;FA;;;SY)(A;;" + rights + ";;;WD)", false);
        EXPECT_FALSE(f.refuse()) << rights;
    }
}

TEST(acl_policy, null_dacl_and_untrusted_owner_are_refused) {
    EXPECT_TRUE(judge_text("O:BAG:SY", false).null_dacl);
    EXPECT_TRUE(judge_text("O:BAD:NO_ACCESS_CONTROL", false).refuse());
    const auto f = judge_text("O:BUD:P(A;;FA;;;SY)", false);
    EXPECT_TRUE(f.refuse());
    EXPECT_EQ(f.untrusted_owner, "S-1-5-32-545");
    // TrustedInstaller and SYSTEM are trusted owners.
    EXPECT_FALSE(judge_text(std::string("O:") + acl::sids::trusted_installer + "D:P(A;;FA;;;SY)", false).refuse());
    EXPECT_FALSE(judge_text("O:SYD:P(A;;FA;;;SY)", false).refuse());
}

TEST(acl_policy, adding_files_to_a_folder_is_allowed_replacing_them_is_not) {
    EXPECT_FALSE(judge_text("O:BAD:P(A;;0x1200a9;;;" + svc + ")(A;;0x6;;;" + svc + ")", true).refuse());
    EXPECT_FALSE(judge_text("O:BAD:P(A;CI;0x100116;;;BU)", true).refuse());  // ProgramData's "Users: create"
    EXPECT_FALSE(judge_text("O:BAD:P(A;;GW;;;AU)", true).refuse());
    for (const std::string rights : {"0x40", "SD", "WD", "WO", "GA", "FA"}) {
        EXPECT_TRUE(judge_text("O:BAD:P(A;;" + rights + ";;;" + svc + ")", true).refuse()) << rights;
        EXPECT_TRUE(judge_text("O:BAD:P(A;;" + rights + ";;;BU)", true).refuse()) << rights;
    }
    // On a file, write data is a change.
    EXPECT_TRUE(judge_text("O:BAD:P(A;;0x2;;;BU)", false).refuse());
}

TEST(acl_policy, inherit_only_and_deny_aces_do_not_grant) {
    EXPECT_FALSE(judge_text("O:BAD:P(A;;FA;;;SY)(A;OICIIO;FA;;;BU)(D;;FA;;;WD)", false).refuse());
}

TEST(acl_policy, malformed_sddl_is_an_error) {
    std::string error;
    EXPECT_FALSE(acl::parse_sddl("O:BAD:P(A;;FA;;", error));
    EXPECT_EQ(error, "unterminated ACE");
    EXPECT_FALSE(acl::parse_sddl("O:BAD:P(A;;ZZ;;;SY)", error));
    EXPECT_EQ(error, "unknown access rights \"ZZ\"");
    EXPECT_FALSE(acl::parse_sddl("O:BAD:P(A;;FA)", error));
}

TEST(acl_policy, service_sid_is_what_windows_shows_for_tlsbroker) {
    EXPECT_EQ(svc, "S-1-5-80-3389149322-156385897-3899048194-4045368500-1589726293");  // `sc showsid tlsbroker`
}

// %ProgramData%\tlsbroker may exist before the install, made by any user: the installer
// (SYSTEM) neither writes into nor sets ACLs on a junction, a symbolic link, or a folder
// someone else owns.
TEST(acl_policy, install_folder_that_is_a_link_or_owned_by_a_user_is_refused) {
    EXPECT_EQ(acl::refuse_install_folder({false, true, acl::sids::administrators}), "");
    EXPECT_EQ(acl::refuse_install_folder({false, true, acl::sids::system}), "");
    EXPECT_EQ(acl::refuse_install_folder({false, true, ""}), "");  // no owners here (Wine)
    EXPECT_EQ(acl::refuse_install_folder({true, true, acl::sids::administrators}), "is a junction or symbolic link");
    EXPECT_EQ(acl::refuse_install_folder({true, true, ""}), "is a junction or symbolic link");
    EXPECT_EQ(acl::refuse_install_folder({false, false, acl::sids::system}), "is not a folder");
    EXPECT_EQ(acl::refuse_install_folder({false, true, "S-1-5-21-1-2-3-1001"}),
              "is owned by S-1-5-21-1-2-3-1001, not by SYSTEM or Administrators");
    // Not even TrustedInstaller or the service itself: neither creates this folder.
    EXPECT_NE(acl::refuse_install_folder({false, true, acl::sids::trusted_installer}), "");
    EXPECT_NE(acl::refuse_install_folder({false, true, svc}), "");
}

TEST(acl_policy, reads_descriptors_as_windows_writes_them) {
    // GetNamedSecurityInfo + ConvertSecurityDescriptorToStringSecurityDescriptor on the
    // installed folder and key: aliases where a mask has one (DC = 0x2), ID on inherited ACEs.
    const auto folder = judge_text("O:BAG:SYD:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1200a9;;;" + svc +
                                       ")(A;;DC;;;" + svc + ")(A;OICIIO;0x1301bf;;;CO)",
                                   true);
    EXPECT_FALSE(folder.refuse()) << folder.describe();
    const auto key = judge_text("O:BAG:SYD:AI(A;ID;FA;;;SY)(A;ID;FA;;;BA)(A;ID;0x1200a9;;;" + svc + ")", false);
    EXPECT_FALSE(key.refuse()) << key.describe();
    EXPECT_FALSE(key.warn()) << key.describe();
    // The log, created by the service: it owns it, and may modify it (not a config or key).
    std::string error;
    const auto log = acl::parse_sddl("O:" + svc + "G:SYD:AI(A;ID;0x1301bf;;;" + svc + ")(A;ID;FA;;;SY)", error);
    ASSERT_TRUE(log) << error;
    EXPECT_EQ(log->owner, svc);
    EXPECT_EQ(log->aces[0].mask, acl::rights::modify);
}
