// Reports over the activation core's real report index (RocksDB in a temp
// dir, fake clock): counts, the not-activated list and its CSV, scope,
// validation and audit.
#include "services/reports/reports.h"

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "services/activation/activation.h"
#include "services/activation/activation_testing.h"
#include "services/common/proto_time.h"
#include "services/common/status.h"

namespace eid::reports {
namespace {

using activation::ActivationHarness;

v1::PersonalDetails Person(const std::string& id_number, const std::string& phone,
                           const std::string& name, const std::string& province,
                           const std::string& district, const std::string& commune) {
  v1::PersonalDetails p;
  p.set_id_number(id_number);  // 0 = male born in the 1900s; year 90.
  p.set_phone(phone);
  p.set_full_name(name);
  p.mutable_date_of_birth()->set_year(1990);
  p.mutable_date_of_birth()->set_month(5);
  p.mutable_date_of_birth()->set_day(17);
  p.set_sex(v1::SEX_MALE);
  p.mutable_locality()->set_province_code(province);
  p.mutable_locality()->set_district_code(district);
  p.mutable_locality()->set_commune_code(commune);
  return p;
}

class ReportsTest : public ::testing::Test {
 protected:
  ReportsTest() : reports_(h_.kv(), index_, audit_, h_.clock()) {}

  std::string Register(const v1::PersonalDetails& person) {
    v1::RegisterLevel1Request r;
    r.set_request_id(absl::StrCat("reg-", person.id_number()));
    *r.mutable_person() = person;
    auto done = h_.core().RegisterLevel1(r);
    EXPECT_TRUE(done.ok()) << done.status();
    return done.ok() ? done->account().account_id() : "";
  }
  void Approve(const std::string& id) {
    h_.clock().Advance(absl::Minutes(1));  // Distinct approval times.
    v1::ApproveRegistrationRequest r;
    r.set_account_id(id);
    auto done = h_.core().ApproveRegistration(ActivationHarness::Internal(), r);
    EXPECT_TRUE(done.ok()) << done.status();
  }
  // Marks the account activated through the account store (the five steps
  // are activation's tests); the store updates the index in the same batch.
  void Activate(const std::string& id) {
    auto done = h_.accounts().Update(
        id, [&](const internal::AccountRecord&, internal::AccountRecord& after)
                -> absl::StatusOr<std::vector<v1::Mutation>> {
          after.mutable_account()->set_state(v1::ACCOUNT_STATE_ACTIVATED);
          after.set_ever_activated(true);
          *after.mutable_account()->mutable_activated_at() = ToProtoTime(h_.clock().Now());
          return std::vector<v1::Mutation>{};
        });
    ASSERT_TRUE(done.ok()) << done.status();
  }

  // Five accounts: Hà Nội 001 (three: one registered only, one approved,
  // one activated), Hà Nội 002 (approved), Lâm Đồng 672 (approved, a
  // member of a school class).
  void Seed() {
    ids_.push_back(Register(Person("001090000001", "0910000001", "Nguyễn Văn An", "01",
                                   "001", "00001")));
    ids_.push_back(Register(Person("001090000002", "0910000002", "Trần Văn Bình", "01",
                                   "001", "00004")));
    ids_.push_back(Register(Person("001090000003", "0910000003", "Lê Văn Cường", "01",
                                   "001", "00001")));
    ids_.push_back(Register(Person("001090000004", "0910000004", "Phạm Văn Dũng", "01",
                                   "002", "00040")));
    v1::PersonalDetails pupil =
        Person("068090000005", "0910000005", "Hoàng Văn Em", "68", "672", "24820");
    v1::OrgUnit& unit = *pupil.add_org_units();
    unit.set_kind(v1::ORG_UNIT_KIND_SCHOOL_CLASS);
    unit.set_code("THPT-LH/12A1");
    unit.set_parent_code("THPT-LH");
    ids_.push_back(Register(pupil));
    Approve(ids_[4]);  // Oldest approval.
    Approve(ids_[1]);
    Approve(ids_[2]);
    Approve(ids_[3]);
    Activate(ids_[2]);
  }

  static Viewer Internal() {
    Viewer v;
    v.internal = true;
    return v;
  }
  static Viewer Official(const std::string& province, const std::string& district) {
    Viewer v;
    v.account.set_account_id("official-1");
    v1::RoleGrant& grant = *v.account.add_roles();
    grant.set_role(v1::ROLE_REPORT_VIEWER);
    grant.mutable_locality_scope()->set_province_code(province);
    grant.mutable_locality_scope()->set_district_code(district);
    return v;
  }

  ActivationHarness h_;
  activation::ReportIndex index_{1, [](absl::string_view) { return 0u; }};
  activation::RecordingAuditSink audit_;
  Reports reports_;
  std::vector<std::string> ids_;
};

TEST_F(ReportsTest, CountsByProvinceWithTotalAndRate) {
  Seed();
  v1::CountAccountsRequest r;
  r.add_group_by(v1::REPORT_DIMENSION_PROVINCE);
  auto out = reports_.CountAccounts(Internal(), r);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->total().registered(), 5u);
  EXPECT_EQ(out->total().approved(), 4u);
  EXPECT_EQ(out->total().activated(), 1u);
  EXPECT_EQ(out->total().awaiting_activation(), 3u);
  EXPECT_DOUBLE_EQ(out->total().activation_rate(), 0.2);
  ASSERT_EQ(out->rows_size(), 2);
  EXPECT_EQ(out->rows(0).locality().province_code(), "01");
  EXPECT_EQ(out->rows(0).locality_name(), "Hà Nội");
  EXPECT_EQ(out->rows(0).registered(), 4u);
  EXPECT_DOUBLE_EQ(out->rows(0).activation_rate(), 0.25);
  EXPECT_EQ(out->rows(1).locality_name(), "Lâm Đồng");
  EXPECT_EQ(out->rows(1).awaiting_activation(), 1u);
  EXPECT_TRUE(out->next_page_token().empty());
  EXPECT_EQ(FromProtoTime(out->as_of()), h_.clock().Now());
}

TEST_F(ReportsTest, CountsByDistrictAndStateFollowStateChanges) {
  Seed();
  v1::CountAccountsRequest r;
  r.add_group_by(v1::REPORT_DIMENSION_DISTRICT);
  r.add_group_by(v1::REPORT_DIMENSION_STATE);
  r.mutable_filter()->mutable_locality()->set_province_code("01");
  auto out = reports_.CountAccounts(Internal(), r);
  ASSERT_TRUE(out.ok()) << out.status();
  // 001: REGISTERED 1, APPROVED 1, ACTIVATED 1; 002: APPROVED 1.
  ASSERT_EQ(out->rows_size(), 4);
  EXPECT_EQ(out->rows(0).locality().district_code(), "001");
  EXPECT_EQ(out->rows(0).state(), v1::ACCOUNT_STATE_REGISTERED);
  EXPECT_EQ(out->rows(2).state(), v1::ACCOUNT_STATE_ACTIVATED);
  EXPECT_EQ(out->rows(2).activated(), 1u);
  EXPECT_EQ(out->rows(3).locality().district_code(), "002");
  EXPECT_EQ(out->total().registered(), 4u);

  Activate(ids_[3]);
  out = reports_.CountAccounts(Internal(), r);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->total().activated(), 2u);
  EXPECT_EQ(out->rows(3).state(), v1::ACCOUNT_STATE_ACTIVATED);
}

TEST_F(ReportsTest, CountsPageThroughRowsWithTheTotalOnEachPage) {
  Seed();
  v1::CountAccountsRequest r;
  r.add_group_by(v1::REPORT_DIMENSION_COMMUNE);
  r.mutable_page()->set_page_size(2);
  std::vector<std::string> communes;
  for (int page = 0; page < 5; ++page) {
    auto out = reports_.CountAccounts(Internal(), r);
    ASSERT_TRUE(out.ok()) << out.status();
    EXPECT_EQ(out->total().registered(), 5u);
    for (const auto& row : out->rows()) communes.push_back(row.locality().commune_code());
    if (out->next_page_token().empty()) break;
    r.mutable_page()->set_page_token(out->next_page_token());
  }
  EXPECT_EQ(communes, (std::vector<std::string>{"00001", "00004", "00040", "24820"}));
  // The token is bound to its filters.
  r.add_group_by(v1::REPORT_DIMENSION_LEVEL);
  r.mutable_page()->set_page_token(
      reports_.CountAccounts(Internal(), [] {
        v1::CountAccountsRequest first;
        first.add_group_by(v1::REPORT_DIMENSION_COMMUNE);
        first.mutable_page()->set_page_size(1);
        return first;
      }())->next_page_token());
  EXPECT_EQ(ReasonOf(reports_.CountAccounts(Internal(), r).status()), "PAGE_TOKEN_INVALID");
  r.mutable_page()->set_page_token("not a token!");
  EXPECT_EQ(ReasonOf(reports_.CountAccounts(Internal(), r).status()), "PAGE_TOKEN_INVALID");
}

TEST_F(ReportsTest, CountsByOrgUnitAndForOneUnit) {
  Seed();
  v1::CountAccountsRequest r;
  r.add_group_by(v1::REPORT_DIMENSION_ORG_UNIT);
  auto out = reports_.CountAccounts(Internal(), r);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->rows_size(), 1);
  EXPECT_EQ(out->rows(0).org_unit().code(), "THPT-LH/12A1");
  EXPECT_EQ(out->rows(0).approved(), 1u);
  EXPECT_EQ(out->total().registered(), 5u);  // Everyone, each once.
  v1::CountAccountsRequest unit;
  unit.mutable_filter()->mutable_org_unit()->set_kind(v1::ORG_UNIT_KIND_SCHOOL_CLASS);
  unit.mutable_filter()->mutable_org_unit()->set_code("THPT-LH/12A1");
  out = reports_.CountAccounts(Internal(), unit);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->total().registered(), 1u);
  EXPECT_EQ(out->rows_size(), 0);
}

TEST_F(ReportsTest, ListsNotActivatedOldestApprovalFirstInPages) {
  Seed();
  v1::ListNotActivatedRequest r;
  r.mutable_locality()->set_province_code("01");
  r.mutable_page()->set_page_size(1);
  auto first = reports_.ListNotActivated(Internal(), r);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->total_count(), 2u);
  ASSERT_EQ(first->rows_size(), 1);
  EXPECT_EQ(first->rows(0).account_id(), ids_[1]);
  EXPECT_EQ(first->rows(0).masked_id_number(), "001******002");
  EXPECT_EQ(first->rows(0).phone(), "+84910000002");
  // The first account is activated before the next page: nothing shifts.
  Activate(ids_[1]);
  r.mutable_page()->set_page_token(first->next_page_token());
  auto second = reports_.ListNotActivated(Internal(), r);
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_EQ(second->rows_size(), 1);
  EXPECT_EQ(second->rows(0).account_id(), ids_[3]);
  EXPECT_TRUE(second->next_page_token().empty());

  v1::ListNotActivatedRequest district;
  district.mutable_locality()->set_province_code("01");
  district.mutable_locality()->set_district_code("001");
  auto none = reports_.ListNotActivated(Internal(), district);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->total_count(), 0u);

  v1::ListNotActivatedRequest school;
  school.mutable_locality()->set_province_code("68");
  school.mutable_org_unit()->set_kind(v1::ORG_UNIT_KIND_SCHOOL);
  school.mutable_org_unit()->set_code("THPT-LH");  // The class's school.
  auto pupils = reports_.ListNotActivated(Internal(), school);
  ASSERT_TRUE(pupils.ok()) << pupils.status();
  ASSERT_EQ(pupils->rows_size(), 1);
  EXPECT_EQ(pupils->rows(0).full_name(), "Hoàng Văn Em");
}

TEST_F(ReportsTest, ExportsTheListAsCsv) {
  Seed();
  v1::ExportNotActivatedCsvRequest r;
  r.mutable_locality()->set_province_code("01");
  std::string csv;
  std::vector<v1::ExportNotActivatedCsvResponse> chunks;
  ASSERT_TRUE(reports_
                  .ExportNotActivatedCsv(Internal(), r,
                                         [&](const v1::ExportNotActivatedCsvResponse& c) {
                                           chunks.push_back(c);
                                           return true;
                                         })
                  .ok());
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_EQ(chunks[0].total_rows(), 2u);
  EXPECT_EQ(chunks[0].rows(), 2u);
  EXPECT_EQ(chunks[0].file_name(), "chua-kich-hoat_01.csv");
  EXPECT_EQ(chunks[0].csv_chunk(),
            "\xEF\xBB\xBF"
            "stt,masked_id_number,full_name,date_of_birth,phone,level,province,district,"
            "commune,approved_at\r\n"
            "1,001******002,Trần Văn Bình,17/05/1990,+84910000002,1,01,001,00004,"
            "2026-03-01T16:02:00+07:00\r\n"
            "2,001******004,Phạm Văn Dũng,17/05/1990,+84910000004,1,01,002,00040,"
            "2026-03-01T16:04:00+07:00\r\n");
  auto exported = audit_.WithAction("report.exported");
  ASSERT_EQ(exported.size(), 1u);
  EXPECT_EQ(exported[0].attributes().at("rows"), "2");
  EXPECT_EQ(exported[0].actor(), "service:internal");
}

TEST_F(ReportsTest, OfficialsSeeOnlyTheirScope) {
  Seed();
  const Viewer lam_ha = Official("68", "672");
  v1::CountAccountsRequest all;
  auto mine = reports_.CountAccounts(lam_ha, all);  // Narrowed to 68/672.
  ASSERT_TRUE(mine.ok()) << mine.status();
  EXPECT_EQ(mine->total().registered(), 1u);
  v1::CountAccountsRequest hanoi;
  hanoi.mutable_filter()->mutable_locality()->set_province_code("01");
  EXPECT_EQ(ReasonOf(reports_.CountAccounts(lam_ha, hanoi).status()), "SCOPE_EXCEEDED");
  v1::ListNotActivatedRequest province;
  province.mutable_locality()->set_province_code("68");  // Wider than 672.
  EXPECT_EQ(ReasonOf(reports_.ListNotActivated(lam_ha, province).status()),
            "SCOPE_EXCEEDED");
  Viewer citizen;
  citizen.account.set_account_id("citizen-1");
  EXPECT_EQ(ReasonOf(reports_.CountAccounts(citizen, all).status()), "ROLE_REQUIRED");

  auto viewed = audit_.WithAction("report.viewed");
  ASSERT_EQ(viewed.size(), 4u);
  EXPECT_EQ(viewed[0].outcome(), v1::AUDIT_OUTCOME_SUCCESS);
  EXPECT_EQ(viewed[0].attributes().at("locality"), "68/672");
  EXPECT_EQ(viewed[1].outcome(), v1::AUDIT_OUTCOME_REJECTED);
  EXPECT_EQ(viewed[1].reason(), "SCOPE_EXCEEDED");
  EXPECT_EQ(viewed[3].actor(), "account:citizen-1");
}

TEST_F(ReportsTest, RejectsBadFieldsWithStableReasons) {
  Seed();
  auto count_reason = [&](const std::function<void(v1::CountAccountsRequest&)>& edit) {
    v1::CountAccountsRequest r;
    edit(r);
    return ReasonOf(reports_.CountAccounts(Internal(), r).status());
  };
  EXPECT_EQ(count_reason([](auto& r) {
              r.add_group_by(v1::REPORT_DIMENSION_LEVEL);
              r.add_group_by(v1::REPORT_DIMENSION_LEVEL);
            }),
            "FIELD_INVALID");
  EXPECT_EQ(count_reason([](auto& r) { r.add_group_by(v1::REPORT_DIMENSION_UNSPECIFIED); }),
            "FIELD_INVALID");
  EXPECT_EQ(count_reason([](auto& r) { r.add_group_by(static_cast<v1::ReportDimension>(99)); }),
            "FIELD_INVALID");
  EXPECT_EQ(count_reason([](auto& r) {
              r.mutable_filter()->mutable_locality()->set_province_code("02");
            }),
            "LOCALITY_UNKNOWN");  // Hà Giang is no longer a province.
  EXPECT_EQ(count_reason([](auto& r) {
              r.mutable_filter()->mutable_locality()->set_district_code("001");
            }),
            "LOCALITY_UNKNOWN");
  EXPECT_EQ(count_reason([](auto& r) {
              r.mutable_filter()->mutable_locality()->set_province_code("01");
              r.mutable_filter()->mutable_locality()->set_district_code("1");
            }),
            "LOCALITY_UNKNOWN");
  EXPECT_EQ(count_reason([](auto& r) { r.mutable_filter()->mutable_org_unit()->set_code("x"); }),
            "ORG_UNIT_INVALID");
  EXPECT_EQ(count_reason([](auto& r) {
              r.mutable_filter()->set_org_unit_kind(static_cast<v1::OrgUnitKind>(42));
            }),
            "ORG_UNIT_INVALID");
  EXPECT_EQ(count_reason([](auto& r) {
              r.mutable_filter()->set_level(static_cast<v1::AccountLevel>(3));
            }),
            "FIELD_INVALID");
  EXPECT_EQ(count_reason([](auto& r) { r.mutable_page()->set_page_size(-1); }),
            "FIELD_INVALID");

  v1::ListNotActivatedRequest list;
  EXPECT_EQ(ReasonOf(reports_.ListNotActivated(Internal(), list).status()), "FIELD_REQUIRED");
  v1::ExportNotActivatedCsvRequest csv;
  csv.mutable_locality()->set_province_code("99");
  bool wrote = false;
  EXPECT_EQ(ReasonOf(reports_
                         .ExportNotActivatedCsv(Internal(), csv,
                                                [&](const auto&) { return wrote = true; })),
            "LOCALITY_UNKNOWN");
  EXPECT_FALSE(wrote);
}

}  // namespace
}  // namespace eid::reports
