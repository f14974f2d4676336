#include "services/validation/provinces.h"

#include <algorithm>
#include <iterator>

namespace eid::validation {
namespace {

// Decision 19/2025/QD-TTg. Sorted by code.
constexpr CurrentProvince kCurrent[] = {
    {"01", "Hà Nội", true},       {"04", "Cao Bằng", false},
    {"08", "Tuyên Quang", false}, {"11", "Điện Biên", false},
    {"12", "Lai Châu", false},    {"14", "Sơn La", false},
    {"15", "Lào Cai", false},     {"19", "Thái Nguyên", false},
    {"20", "Lạng Sơn", false},    {"22", "Quảng Ninh", false},
    {"24", "Bắc Ninh", false},    {"25", "Phú Thọ", false},
    {"31", "Hải Phòng", true},    {"33", "Hưng Yên", false},
    {"37", "Ninh Bình", false},   {"38", "Thanh Hóa", false},
    {"40", "Nghệ An", false},     {"42", "Hà Tĩnh", false},
    {"44", "Quảng Trị", false},   {"46", "Huế", true},
    {"48", "Đà Nẵng", true},      {"51", "Quảng Ngãi", false},
    {"52", "Gia Lai", false},     {"56", "Khánh Hòa", false},
    {"66", "Đắk Lắk", false},     {"68", "Lâm Đồng", false},
    {"75", "Đồng Nai", false},    {"79", "Hồ Chí Minh", true},
    {"80", "Tây Ninh", false},    {"82", "Đồng Tháp", false},
    {"86", "Vĩnh Long", false},   {"91", "An Giang", false},
    {"92", "Cần Thơ", true},      {"96", "Cà Mau", false},
};

// Circular 07/2016/TT-BCA, and the unit each became part of under Resolution
// 202/2025/QH15. Sorted by ID code.
constexpr Province kFormer[] = {
    {"001", "Hà Nội", "01"},
    {"002", "Hà Giang", "08"},
    {"004", "Cao Bằng", "04"},
    {"006", "Bắc Kạn", "19"},
    {"008", "Tuyên Quang", "08"},
    {"010", "Lào Cai", "15"},
    {"011", "Điện Biên", "11"},
    {"012", "Lai Châu", "12"},
    {"014", "Sơn La", "14"},
    {"015", "Yên Bái", "15"},
    {"017", "Hòa Bình", "25"},
    {"019", "Thái Nguyên", "19"},
    {"020", "Lạng Sơn", "20"},
    {"022", "Quảng Ninh", "22"},
    {"024", "Bắc Giang", "24"},
    {"025", "Phú Thọ", "25"},
    {"026", "Vĩnh Phúc", "25"},
    {"027", "Bắc Ninh", "24"},
    {"030", "Hải Dương", "31"},
    {"031", "Hải Phòng", "31"},
    {"033", "Hưng Yên", "33"},
    {"034", "Thái Bình", "33"},
    {"035", "Hà Nam", "37"},
    {"036", "Nam Định", "37"},
    {"037", "Ninh Bình", "37"},
    {"038", "Thanh Hóa", "38"},
    {"040", "Nghệ An", "40"},
    {"042", "Hà Tĩnh", "42"},
    {"044", "Quảng Bình", "44"},
    {"045", "Quảng Trị", "44"},
    {"046", "Thừa Thiên Huế", "46"},
    {"048", "Đà Nẵng", "48"},
    {"049", "Quảng Nam", "48"},
    {"051", "Quảng Ngãi", "51"},
    {"052", "Bình Định", "52"},
    {"054", "Phú Yên", "66"},
    {"056", "Khánh Hòa", "56"},
    {"058", "Ninh Thuận", "56"},
    {"060", "Bình Thuận", "68"},
    {"062", "Kon Tum", "51"},
    {"064", "Gia Lai", "52"},
    {"066", "Đắk Lắk", "66"},
    {"067", "Đắk Nông", "68"},
    {"068", "Lâm Đồng", "68"},
    {"070", "Bình Phước", "75"},
    {"072", "Tây Ninh", "80"},
    {"074", "Bình Dương", "79"},
    {"075", "Đồng Nai", "75"},
    {"077", "Bà Rịa - Vũng Tàu", "79"},
    {"079", "Hồ Chí Minh", "79"},
    {"080", "Long An", "80"},
    {"082", "Tiền Giang", "82"},
    {"083", "Bến Tre", "86"},
    {"084", "Trà Vinh", "86"},
    {"086", "Vĩnh Long", "86"},
    {"087", "Đồng Tháp", "82"},
    {"089", "An Giang", "91"},
    {"091", "Kiên Giang", "91"},
    {"092", "Cần Thơ", "92"},
    {"093", "Hậu Giang", "92"},
    {"094", "Sóc Trăng", "92"},
    {"095", "Bạc Liêu", "96"},
    {"096", "Cà Mau", "96"},
};

static_assert(std::size(kCurrent) == 34, "34 provinces since 1 July 2025");
static_assert(std::size(kFormer) == 63, "63 provinces before 1 July 2025");

}  // namespace

absl::Span<const Province> FormerProvinces() { return kFormer; }

absl::Span<const CurrentProvince> CurrentProvinces() { return kCurrent; }

const Province* FindProvinceByIdCode(absl::string_view code3) {
  const Province* end = std::end(kFormer);
  const Province* it = std::lower_bound(
      std::begin(kFormer), end, code3,
      [](const Province& p, absl::string_view c) { return p.id_code < c; });
  return it != end && it->id_code == code3 ? it : nullptr;
}

const CurrentProvince* FindCurrentProvince(absl::string_view code2) {
  const CurrentProvince* end = std::end(kCurrent);
  const CurrentProvince* it = std::lower_bound(
      std::begin(kCurrent), end, code2,
      [](const CurrentProvince& p, absl::string_view c) { return p.code < c; });
  return it != end && it->code == code2 ? it : nullptr;
}

const CurrentProvince* CurrentProvinceOf(absl::string_view code3) {
  const Province* former = FindProvinceByIdCode(code3);
  return former == nullptr ? nullptr
                           : FindCurrentProvince(former->current_code);
}

std::vector<const Province*> FormerProvincesOf(absl::string_view code2) {
  std::vector<const Province*> out;
  for (const Province& p : kFormer) {
    if (p.current_code == code2) out.push_back(&p);
  }
  return out;
}

}  // namespace eid::validation
