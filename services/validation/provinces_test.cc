#include "services/validation/provinces.h"

#include <set>
#include <string>

#include "gtest/gtest.h"

namespace eid::validation {
namespace {

TEST(ProvincesTest, FormerListHas63UniqueThreeDigitCodesInOrder) {
  const auto former = FormerProvinces();
  ASSERT_EQ(former.size(), 63u);
  std::set<absl::string_view> codes, names;
  for (size_t i = 0; i < former.size(); ++i) {
    const Province& p = former[i];
    EXPECT_EQ(p.id_code.size(), 3u) << p.id_code;
    EXPECT_EQ(p.id_code[0], '0') << p.id_code;
    if (i > 0) {
      EXPECT_LT(former[i - 1].id_code, p.id_code);
    }
    codes.insert(p.id_code);
    names.insert(p.name);
  }
  EXPECT_EQ(codes.size(), 63u);
  EXPECT_EQ(names.size(), 63u);
}

TEST(ProvincesTest, CurrentListHas34UniqueTwoDigitCodesInOrder) {
  const auto current = CurrentProvinces();
  ASSERT_EQ(current.size(), 34u);
  std::set<absl::string_view> names;
  int cities = 0;
  for (size_t i = 0; i < current.size(); ++i) {
    EXPECT_EQ(current[i].code.size(), 2u);
    if (i > 0) {
      EXPECT_LT(current[i - 1].code, current[i].code);
    }
    names.insert(current[i].name);
    cities += current[i].is_city;
  }
  EXPECT_EQ(names.size(), 34u);
  EXPECT_EQ(cities, 6);  // Hà Nội, Huế, Hải Phòng, Đà Nẵng, HCM, Cần Thơ.
}

TEST(ProvincesTest, EveryFormerProvinceMapsToACurrentOneAndEveryCurrentHasOne) {
  std::set<absl::string_view> reached;
  for (const Province& p : FormerProvinces()) {
    const CurrentProvince* c = CurrentProvinceOf(p.id_code);
    ASSERT_NE(c, nullptr) << p.id_code;
    EXPECT_EQ(c->code, p.current_code);
    reached.insert(c->code);
  }
  EXPECT_EQ(reached.size(), 34u);
}

TEST(ProvincesTest, ElevenProvincesAreUnchangedAndKeepTheirCode) {
  int unchanged = 0;
  for (const CurrentProvince& c : CurrentProvinces()) {
    const auto former = FormerProvincesOf(c.code);
    ASSERT_FALSE(former.empty()) << c.code;
    // The new unit takes the code of one of the units merged into it.
    bool code_of_a_member = false;
    for (const Province* p : former) {
      code_of_a_member |= p->id_code.substr(1) == c.code;
    }
    EXPECT_TRUE(code_of_a_member) << c.code;
    if (former.size() == 1) ++unchanged;
  }
  EXPECT_EQ(unchanged, 11);
}

struct MergeCase {
  const char* id_code;
  const char* former_name;
  const char* current_code;
  const char* current_name;
};

class ProvinceMergeTest : public testing::TestWithParam<MergeCase> {};

TEST_P(ProvinceMergeTest, MapsToTheResolution202Province) {
  const MergeCase& c = GetParam();
  const Province* p = FindProvinceByIdCode(c.id_code);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->name, c.former_name);
  const CurrentProvince* now = CurrentProvinceOf(c.id_code);
  ASSERT_NE(now, nullptr);
  EXPECT_EQ(now->code, c.current_code);
  EXPECT_EQ(now->name, c.current_name);
}

INSTANTIATE_TEST_SUITE_P(
    Merger2025, ProvinceMergeTest,
    testing::Values(MergeCase{"001", "Hà Nội", "01", "Hà Nội"},
                    MergeCase{"002", "Hà Giang", "08", "Tuyên Quang"},
                    MergeCase{"004", "Cao Bằng", "04", "Cao Bằng"},
                    MergeCase{"006", "Bắc Kạn", "19", "Thái Nguyên"},
                    MergeCase{"015", "Yên Bái", "15", "Lào Cai"},
                    MergeCase{"010", "Lào Cai", "15", "Lào Cai"},
                    MergeCase{"017", "Hòa Bình", "25", "Phú Thọ"},
                    MergeCase{"026", "Vĩnh Phúc", "25", "Phú Thọ"},
                    MergeCase{"027", "Bắc Ninh", "24", "Bắc Ninh"},
                    MergeCase{"030", "Hải Dương", "31", "Hải Phòng"},
                    MergeCase{"034", "Thái Bình", "33", "Hưng Yên"},
                    MergeCase{"035", "Hà Nam", "37", "Ninh Bình"},
                    MergeCase{"036", "Nam Định", "37", "Ninh Bình"},
                    MergeCase{"044", "Quảng Bình", "44", "Quảng Trị"},
                    MergeCase{"045", "Quảng Trị", "44", "Quảng Trị"},
                    MergeCase{"046", "Thừa Thiên Huế", "46", "Huế"},
                    MergeCase{"049", "Quảng Nam", "48", "Đà Nẵng"},
                    MergeCase{"062", "Kon Tum", "51", "Quảng Ngãi"},
                    MergeCase{"064", "Gia Lai", "52", "Gia Lai"},
                    MergeCase{"052", "Bình Định", "52", "Gia Lai"},
                    MergeCase{"058", "Ninh Thuận", "56", "Khánh Hòa"},
                    MergeCase{"054", "Phú Yên", "66", "Đắk Lắk"},
                    MergeCase{"060", "Bình Thuận", "68", "Lâm Đồng"},
                    MergeCase{"067", "Đắk Nông", "68", "Lâm Đồng"},
                    MergeCase{"070", "Bình Phước", "75", "Đồng Nai"},
                    MergeCase{"074", "Bình Dương", "79", "Hồ Chí Minh"},
                    MergeCase{"077", "Bà Rịa - Vũng Tàu", "79", "Hồ Chí Minh"},
                    MergeCase{"072", "Tây Ninh", "80", "Tây Ninh"},
                    MergeCase{"080", "Long An", "80", "Tây Ninh"},
                    MergeCase{"087", "Đồng Tháp", "82", "Đồng Tháp"},
                    MergeCase{"082", "Tiền Giang", "82", "Đồng Tháp"},
                    MergeCase{"083", "Bến Tre", "86", "Vĩnh Long"},
                    MergeCase{"084", "Trà Vinh", "86", "Vĩnh Long"},
                    MergeCase{"089", "An Giang", "91", "An Giang"},
                    MergeCase{"091", "Kiên Giang", "91", "An Giang"},
                    MergeCase{"093", "Hậu Giang", "92", "Cần Thơ"},
                    MergeCase{"094", "Sóc Trăng", "92", "Cần Thơ"},
                    MergeCase{"095", "Bạc Liêu", "96", "Cà Mau"},
                    MergeCase{"096", "Cà Mau", "96", "Cà Mau"}));

TEST(ProvincesTest, ThreeWayMergersListAllTheirMembers) {
  auto names = [](absl::string_view code2) {
    std::set<std::string> out;
    for (const Province* p : FormerProvincesOf(code2)) {
      out.insert(std::string(p->name));
    }
    return out;
  };
  EXPECT_EQ(names("79"), (std::set<std::string>{"Hồ Chí Minh", "Bình Dương",
                                                "Bà Rịa - Vũng Tàu"}));
  EXPECT_EQ(names("37"),
            (std::set<std::string>{"Ninh Bình", "Hà Nam", "Nam Định"}));
  EXPECT_EQ(names("92"),
            (std::set<std::string>{"Cần Thơ", "Hậu Giang", "Sóc Trăng"}));
  EXPECT_TRUE(FormerProvincesOf("02").empty());  // Hà Giang's code is gone.
}

TEST(ProvincesTest, UnknownCodesAreNotFound) {
  for (absl::string_view code :
       {"000", "003", "099", "097", "100", "01", "0010", "", "0a1", "01 "}) {
    EXPECT_EQ(FindProvinceByIdCode(code), nullptr) << code;
    EXPECT_EQ(CurrentProvinceOf(code), nullptr) << code;
  }
  EXPECT_EQ(FindCurrentProvince("02"), nullptr);
  EXPECT_EQ(FindCurrentProvince("001"), nullptr);
  ASSERT_NE(FindCurrentProvince("46"), nullptr);
  EXPECT_EQ(FindCurrentProvince("46")->name, "Huế");
}

}  // namespace
}  // namespace eid::validation
