// A few hundred seeded reports with full timelines (issue 8), generated from a fixed PRNG
// seed so that every fresh sandbox holds the same stories, placed in time relative to the
// moment it was seeded.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <type_traits>

#include "seed.h"

namespace hues::sandbox {
namespace {

// splitmix64: small, fast, and the same sequence on every platform (std:: distributions
// are not specified bit for bit).
class Prng {
 public:
  explicit Prng(std::uint64_t seed) : s_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  int below(int n) { return static_cast<int>(next() % static_cast<std::uint64_t>(n)); }
  double unit() { return static_cast<double>(next() >> 11) / 9007199254740992.0; }  // [0, 1)
  bool chance(double p) { return unit() < p; }
  std::int64_t between(std::int64_t lo, std::int64_t hi) {  // [lo, hi]
    return lo + static_cast<std::int64_t>(next() % static_cast<std::uint64_t>(hi - lo + 1));
  }
  template <typename T>
  const T& pick(const std::vector<T>& v) { return v[static_cast<std::size_t>(below(static_cast<int>(v.size())))]; }

 private:
  std::uint64_t s_;
};

struct Place {
  const char* where;    // as a sentence says it: "đường Lê Lợi, đoạn trước trường Quốc Học"
  const char* address;  // the report's address
  const char* ward;
  double lat, lon;
  bool flood_spot;  // PRODUCT.md's flood hot spots
};

const std::vector<Place>& places() {
  static const std::vector<Place> p = {
      {"đường Lê Lợi, đoạn trước trường Quốc Học", "Đường Lê Lợi, trước trường Quốc Học", "Vĩnh Ninh", 16.4630, 107.5900, false},
      {"đầu cầu Trường Tiền phía đường Lê Lợi", "Đường Lê Lợi, đầu cầu Trường Tiền", "Vĩnh Ninh", 16.4665, 107.5905, true},
      {"cổng chợ Đông Ba phía đường Trần Hưng Đạo", "Chợ Đông Ba, đường Trần Hưng Đạo", "Đông Ba", 16.4726, 107.5885, false},
      {"đường Trần Hưng Đạo, gần bến xe Nguyễn Hoàng", "Đường Trần Hưng Đạo", "Đông Ba", 16.4712, 107.5869, false},
      {"đường Hùng Vương, gần ngã sáu Hùng Vương", "Đường Hùng Vương", "Phú Nhuận", 16.4607, 107.5960, false},
      {"kiệt 12 đường Bà Triệu", "Kiệt 12 Bà Triệu", "Xuân Phú", 16.4615, 107.6040, false},
      {"đường Tố Hữu, đoạn trước Trung tâm Hành chính công", "Đường Tố Hữu", "Xuân Phú", 16.4560, 107.6120, false},
      {"đường Võ Nguyên Giáp, gần cầu vượt", "Đường Võ Nguyên Giáp", "Xuân Phú", 16.4520, 107.6170, false},
      {"đường Lý Thái Tổ, gần Bến xe phía Bắc", "Đường Lý Thái Tổ, Bến xe phía Bắc", "Hương Sơ", 16.4785, 107.5545, false},
      {"đường Lê Duẩn, gần cửa Thượng Tứ", "Đường Lê Duẩn, cửa Thượng Tứ", "Thuận Lộc", 16.4698, 107.5786, false},
      {"đường Đinh Tiên Hoàng, trong Kinh thành", "Đường Đinh Tiên Hoàng", "Thuận Lộc", 16.4720, 107.5800, false},
      {"đường Nguyễn Trãi, gần chợ Tây Lộc", "Đường Nguyễn Trãi", "Tây Lộc", 16.4760, 107.5700, false},
      {"đường Bùi Thị Xuân, chân cầu Dã Viên", "Đường Bùi Thị Xuân, cầu Dã Viên", "Vĩnh Ninh", 16.4605, 107.5700, false},
      {"đường Nguyễn Huệ, đoạn gần Đại học Huế", "Đường Nguyễn Huệ", "Vĩnh Ninh", 16.4620, 107.5860, false},
      {"đường Lê Hồng Phong", "Đường Lê Hồng Phong", "Phú Nhuận", 16.4625, 107.5870, false},
      {"đường Đống Đa, trước trường tiểu học", "Đường Đống Đa", "Phú Nhuận", 16.4600, 107.5920, false},
      {"đường Hà Nội, gần Đại học Sư phạm", "Đường Hà Nội", "Phú Nhuận", 16.4630, 107.5930, false},
      {"đường An Dương Vương, trước Bến xe phía Nam", "Đường An Dương Vương, Bến xe phía Nam", "An Cựu", 16.4421, 107.6015,
       false},
      {"đường Hùng Vương, gần cầu An Cựu", "Đường Hùng Vương, cầu An Cựu", "An Cựu", 16.4565, 107.6000, true},
      {"đường Phan Đình Phùng, đoạn gần trường Hai Bà Trưng", "Đường Phan Đình Phùng", "Vĩnh Ninh", 16.4610, 107.5830,
       true},
      {"đường Phan Chu Trinh", "Đường Phan Chu Trinh", "An Cựu", 16.4580, 107.5950, false},
      {"khu vực Đập Đá", "Đập Đá, đường Nguyễn Sinh Cung", "Vỹ Dạ", 16.4720, 107.5990, true},
      {"đường Nguyễn Sinh Cung, gần chùa Diệu Đế", "Đường Nguyễn Sinh Cung", "Vỹ Dạ", 16.4700, 107.6050, false},
      {"đường Phạm Văn Đồng", "Đường Phạm Văn Đồng", "Vỹ Dạ", 16.4750, 107.6150, false},
      {"phố đi bộ Bến Nghé", "Đường Bến Nghé", "Phú Hội", 16.4680, 107.5960, false},
      {"đường Chu Văn An, khu phố Tây", "Đường Chu Văn An", "Phú Hội", 16.4685, 107.5945, false},
      {"đường Chi Lăng, gần cầu Gia Hội", "Đường Chi Lăng, cầu Gia Hội", "Gia Hội", 16.4745, 107.5902, false},
      {"đường Kim Long, gần chợ Kim Long", "Đường Kim Long", "Kim Long", 16.4640, 107.5560, false},
      {"đường Lê Ngô Cát, gần lăng Tự Đức", "Đường Lê Ngô Cát, lăng Tự Đức", "Thủy Xuân", 16.4326, 107.5658, false},
      {"cầu Phú Xuân", "Cầu Phú Xuân", "Vĩnh Ninh", 16.4650, 107.5800, false},
      {"đường ven biển gần chợ Thuận An", "Chợ Thuận An", "Thuận An", 16.5640, 107.6250, false},
  };
  return p;
}

struct CategoryText {
  const char* code;
  int weight;
  std::vector<const char*> descriptions;  // "%s": the place
  std::vector<const char*> answers;
};

const std::vector<CategoryText>& texts() {
  static const std::vector<CategoryText> t = {
      {"street_light", 16,
       {"Đèn đường hỏng trên %s, cả đoạn tối om mấy đêm nay.",
        "Đèn đường hỏng ở %s, đèn chập chờn lúc sáng lúc tắt.",
        "Cả dãy đèn chiếu sáng ở %s không sáng, người đi đường rất khó quan sát.",
        "Đèn đường ở %s sáng cả ban ngày, rất lãng phí điện.",
        "Đèn đường hỏng gần %s, buổi tối học sinh đi học về rất nguy hiểm."},
       {"Đã thay bóng đèn và sửa tủ điện chiếu sáng, đèn đã sáng trở lại.",
        "Đã kiểm tra, thay bộ điều khiển chiếu sáng; đèn hoạt động bình thường."}},
      {"road_damage", 12,
       {"Mặt đường ở %s có ổ gà lớn, nhiều xe máy suýt té ngã.",
        "Hố ga trên %s bị mất nắp, rất nguy hiểm cho người đi đường.",
        "Mặt đường ở %s bị sụt lún sau đợt thi công cống, chưa được hoàn trả.",
        "Mặt đường ở %s nứt toác, xe tải qua lại làm hư hỏng thêm."},
       {"Đã vá ổ gà và hoàn trả mặt đường bằng bê tông nhựa.", "Đã lắp nắp hố ga mới, rào chắn đã được tháo dỡ."}},
      {"waste_collection", 14,
       {"Rác sinh hoạt tồn đọng nhiều ngày ở %s, bốc mùi hôi thối.",
        "Có người đổ trộm xà bần ở %s, lấn ra gần nửa lòng đường.",
        "Thùng rác ở %s đầy tràn, chưa thấy xe thu gom.",
        "Rác cồng kềnh (nệm, tủ cũ) bỏ trên vỉa hè ở %s cả tuần nay."},
       {"Đã bố trí xe thu gom, dọn sạch rác tồn đọng trong ngày.",
        "Đã thu dọn xà bần, phối hợp phường xử lý đối tượng đổ trộm."}},
      {"flooding", 8,
       {"Mưa lớn, nước ngập sâu khoảng 40 cm ở %s, xe máy chết máy hàng loạt.",
        "Cống thoát nước ở %s bị tắc, nước ngập lênh láng sau cơn mưa.",
        "Đoạn %s ngập nặng mỗi khi mưa to, nước tràn vào nhà dân."},
       {"Đã nạo vét cống thoát nước, nước đã rút hết.", "Đã bố trí máy bơm tiêu nước và khơi thông hố thu."}},
      {"fallen_tree", 6,
       {"Cây xanh gãy cành lớn ở %s, cành cây chắn một phần đường.",
        "Cây bàng ở %s nghiêng hẳn ra đường, có nguy cơ ngã đổ khi có gió lớn.",
        "Sau cơn giông, một cây phượng bật gốc ở %s, cần cưa dọn gấp."},
       {"Đã cưa dọn cành gãy, thông đường trong buổi sáng.", "Đã cắt tỉa tán và chằng chống cây nghiêng."}},
      {"water_supply", 8,
       {"Mất nước từ sáng nay ở khu dân cư %s, chưa có thông báo.", "Nước máy ở %s đục ngầu, có mùi lạ.",
        "Vỡ ống nước ở %s, nước chảy tràn ra mặt đường.",
        "Nước yếu kéo dài mấy ngày ở %s, tầng hai không có nước dùng."},
       {"Đã khắc phục sự cố đường ống, cấp nước trở lại bình thường.", "Đã súc xả đường ống, nước đạt chuẩn trở lại."}},
      {"power_outage", 7,
       {"Mất điện cả khu phố ở %s từ chiều, chưa có thông báo cắt điện.",
        "Dây điện bị đứt, buông thõng xuống vỉa hè ở %s, rất nguy hiểm.", "Trụ điện ở %s nghiêng sau mưa bão, có nguy cơ đổ.",
        "Tủ điện ở %s tóe lửa lúc tối, người dân rất lo lắng."},
       {"Đã khắc phục sự cố, cấp điện trở lại cho khách hàng.", "Đã thay dây dẫn và dựng lại trụ điện an toàn."}},
      {"traffic_violation", 9,
       {"Ô tô đỗ dàn hàng ở %s, gây ùn tắc giờ cao điểm.", "Nhiều xe máy đi ngược chiều ở %s vào giờ tan tầm.",
        "Xe tải chở vật liệu quá tải chạy trên %s vào giờ cấm.", "Xe khách dừng đón trả khách sai quy định ở %s."},
       {"Công an đã kiểm tra, lập biên bản xử phạt các phương tiện vi phạm.",
        "Đã tăng cường tuần tra, xử lý vi phạm trong giờ cao điểm."}},
      {"urban_order", 10,
       {"Hàng quán lấn chiếm hết vỉa hè ở %s, người đi bộ phải xuống lòng đường.",
        "Quán nhậu bày bàn ghế tràn ra lòng đường ở %s, mở nhạc lớn sau 22 giờ.",
        "Vật liệu xây dựng tập kết trái phép trên vỉa hè ở %s."},
       {"Phường đã lập biên bản vi phạm hành chính, yêu cầu tháo dỡ, trả lại vỉa hè.",
        "Tổ trật tự đô thị đã nhắc nhở, các hộ kinh doanh cam kết không tái phạm."}},
      {"noise", 6,
       {"Karaoke ồn ào sau 23 giờ ở khu dân cư %s.", "Công trình ở %s thi công ban đêm, tiếng máy khoan rất ồn.",
        "Loa quảng cáo của cửa hàng ở %s mở rất to cả ngày."},
       {"Công an phường đã kiểm tra, lập biên bản cơ sở gây ồn.", "Đã yêu cầu chủ công trình dừng thi công sau 22 giờ."}},
      {"air_pollution", 4,
       {"Có người đốt rác gây khói mù mịt ở %s.", "Xe chở đất ở %s không che chắn, bụi mù mịt.",
        "Mùi hôi nồng nặc từ cơ sở sản xuất gần %s."},
       {"Đã kiểm tra, xử phạt cơ sở đốt rác và yêu cầu cam kết không tái phạm.",
        "Đã yêu cầu đơn vị vận chuyển che chắn, rửa xe trước khi ra đường."}},
  };
  return t;
}

// Staff of each agency the seeded reports reach (seed_people()).
const char* staff_of(const std::string& agency) {
  static const std::vector<std::pair<const char*, const char*>> staff = {
      {"QLDT_HUE", "qldt.staff"},       {"HEPCO", "hepco.staff"},           {"CVCX_HUE", "cvcx.staff"},
      {"SGTVT_TTH", "sgtvt.staff"},     {"HUEWACO", "huewaco.staff"},       {"PC_TTH", "pc.staff"},
      {"CA_HUE", "ca.hue.staff"},       {"UBND_PHUONG", "phuong.staff"},    {"STNMT_TTH", "stnmt.staff"},
      {"SXD_TTH", "sxd.staff"},         {"UBND_PHU_HOI", "phuhoi.staff"},   {"UBND_DONG_BA", "dongba.staff"},
      {"UBND_VINH_NINH", "vinhninh.staff"}, {"UBND_VY_DA", "vyda.staff"},
  };
  for (const auto& [code, user] : staff)
    if (agency == code) return user;
  return "qldt.staff";
}

// Where an agency sends a report that is not its own (a transfer request).
const char* transfer_target(const std::string& agency) {
  if (agency == "SGTVT_TTH") return "QLDT_HUE";  // city streets are the city's, not the province's
  if (agency == "QLDT_HUE") return "PC_TTH";
  if (agency == "HEPCO") return "UBND_PHUONG";
  if (agency == "CA_HUE") return "UBND_PHUONG";
  if (agency == "STNMT_TTH") return "HEPCO";
  if (agency == "HUEWACO") return "SXD_TTH";
  return "QLDT_HUE";
}

const char* ward_committee(const std::string& ward) {
  if (ward == "Phú Hội") return "UBND_PHU_HOI";
  if (ward == "Đông Ba") return "UBND_DONG_BA";
  if (ward == "Vĩnh Ninh") return "UBND_VINH_NINH";
  if (ward == "Vỹ Dạ") return "UBND_VY_DA";
  return "UBND_PHUONG";
}

std::string agency_name(const std::string& code) {
  for (const auto& a : seed_agencies())
    if (code == a.code) return a.name;
  return code;
}

}  // namespace

std::vector<SeedStory> seed_stories(std::time_t now) {
  Prng rng(0x4875655302025ull);  // "HueS" 2025
  const std::vector<const char*> citizens = {"nguyen.van.an",  "tran.thi.binh", "pham.minh.khoa", "le.thi.lan",
                                             "hoang.quoc.bao", "nguyen.thi.mai", "tran.van.duc", "vo.thi.thu"};
  const std::vector<const char*> ioc = {"le.ioc", "tran.ioc"};
  const std::vector<const char*> receive_notes = {"", "Đã tiếp nhận, đang xác minh thông tin.", "Tiếp nhận phản ánh.",
                                                  "Đã tiếp nhận, chuyển đơn vị liên quan."};
  const std::vector<const char*> reject_reasons = {
      "Phản ánh không đủ thông tin để xác minh, đề nghị gửi lại kèm hình ảnh và vị trí cụ thể.",
      "Nội dung là tranh chấp dân sự, không thuộc phạm vi tiếp nhận của Hue-S.",
      "Hình ảnh không đúng với nội dung phản ánh."};
  const std::vector<const char*> accept_notes = {"", "Đã phân công tổ kỹ thuật kiểm tra hiện trường.",
                                                 "Đơn vị đã nhận, đang bố trí lực lượng xử lý."};
  const std::vector<const char*> return_reasons = {"Đề nghị bổ sung hình ảnh hiện trường sau khi khắc phục.",
                                                   "Đề nghị bổ sung biên bản vi phạm hành chính đã lập.",
                                                   "Câu trả lời chưa nêu rõ thời gian hoàn thành, đề nghị bổ sung."};
  const std::vector<const char*> decline_reasons = {
      "Theo phân cấp quản lý, nội dung này thuộc trách nhiệm của đơn vị; đề nghị tiếp tục xử lý.",
      "Vị trí nằm trong phạm vi đơn vị quản lý, đề nghị xử lý dứt điểm."};
  const std::vector<const char*> approve_notes = {"", "Công khai kết quả xử lý.", "Kết quả đạt yêu cầu, công khai."};
  const std::vector<const char*> happy = {"Xử lý nhanh, cảm ơn!", "Đã sửa xong, rất hài lòng.",
                                          "Cảm ơn các anh chị đã xử lý kịp thời.", ""};
  const std::vector<const char*> unhappy = {"Xử lý chậm, phải chờ quá lâu.", "Chỉ khắc phục tạm thời, vài hôm lại hỏng.",
                                            "Câu trả lời chưa đúng với thực tế."};
  // The state each story aims for (later steps that would lie in the future are dropped).
  const std::vector<std::pair<const char*, int>> targets = {
      {"submitted", 5}, {"received", 5},   {"rejected", 6},           {"duplicate", 4},  {"assigned", 7},
      {"in_progress", 12}, {"transfer_requested", 3}, {"responded", 7}, {"returned", 4}, {"resolved", 19},
      {"rated", 28}};
  int target_total = 0, category_total = 0;
  for (const auto& [_, w] : targets) target_total += w;
  for (const auto& c : texts()) category_total += c.weight;
  auto weighted = [&](auto& list, int total) -> decltype(list.front()) {
    int x = rng.below(total);
    for (auto& e : list) {
      const int w = [&] {
        if constexpr (std::is_same_v<std::decay_t<decltype(e)>, CategoryText>) return e.weight;
        else return e.second;
      }();
      if (x < w) return e;
      x -= w;
    }
    return list.back();
  };

  std::vector<SeedStory> out;
  constexpr int kStories = 300;
  out.reserve(kStories);
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
  // Spread over the past 60 days, denser lately; generated oldest first, so that a duplicate's
  // original is always older than it.
  std::vector<double> ages(kStories);
  for (auto& a : ages) a = std::pow(rng.unit(), 1.4);
  std::sort(ages.rbegin(), ages.rend());
  for (int n = 0; n < kStories; ++n) {
    SeedStory s;
    s.id = "rpt_";
    for (int i = 0; i < 20; ++i) s.id.push_back(kAlphabet[rng.next() & 31]);
    const CategoryText& cat = weighted(texts(), category_total);
    const Category* category = nullptr;
    for (const auto& c : seed_categories())
      if (c.code == cat.code) category = &c;
    const std::int64_t sla = category->sla_hours * 3600;
    s.category = cat.code;
    const Place* place = &rng.pick(places());
    if (s.category == "flooding" && rng.chance(0.6)) {
      std::vector<const Place*> spots;
      for (const auto& p : places())
        if (p.flood_spot) spots.push_back(&p);
      place = spots[static_cast<std::size_t>(rng.below(static_cast<int>(spots.size())))];
    }
    char text[512];
    std::snprintf(text, sizeof text, rng.pick(cat.descriptions), place->where);
    s.description = text;
    s.location.lat = std::round((place->lat + (rng.unit() - 0.5) * 0.0016) * 1e6) / 1e6;
    s.location.lon = std::round((place->lon + (rng.unit() - 0.5) * 0.0016) * 1e6) / 1e6;
    s.location.address = place->address;
    s.location.ward = place->ward;
    s.reporter = rng.pick(citizens);
    s.anonymous = rng.chance(0.15);
    s.is_private = rng.chance(0.05);
    std::string target = weighted(targets, target_total).first;
    // Most older stories are closed by now.
    const double age = ages[static_cast<std::size_t>(n)];
    const bool closed = target == "rated" || target == "resolved" || target == "rejected" || target == "duplicate";
    if (!closed && age * 60 > 7 && rng.chance(0.75)) target = rng.chance(0.6) ? "rated" : "resolved";
    std::time_t t = now - static_cast<std::time_t>(1800 + age * 60 * 86400);
    s.created_at = t;
    std::string agency = category->agency_code;
    const std::string home = s.category == "urban_order" ? ward_committee(s.location.ward) : agency;

    std::vector<SeedStep> steps;
    auto add = [&](const char* status, const char* role, std::string actor, std::string note, std::int64_t after_s,
                   std::string to_agency = {}, std::vector<std::string> attachments = {}) {
      t += static_cast<std::time_t>(after_s);
      steps.push_back({status, role, std::move(actor), std::move(note), std::move(to_agency), std::move(attachments), t});
    };
    add("submitted", "citizen", s.reporter, "", 0);
    auto minutes = [&](int lo, int hi) { return rng.between(lo * 60, hi * 60); };
    auto build = [&] {
      if (target == "submitted") return;
      if (target == "rejected" && rng.chance(0.4)) {
        add("rejected", "ioc", rng.pick(ioc), rng.pick(reject_reasons), minutes(20, 600));
        return;
      }
      add("received", "ioc", rng.pick(ioc), rng.pick(receive_notes), minutes(5, 300));
      if (target == "received") return;
      if (target == "rejected") {
        add("rejected", "ioc", rng.pick(ioc), rng.pick(reject_reasons), minutes(20, 600));
        return;
      }
      if (target == "duplicate") {
        for (auto it = out.rbegin(); it != out.rend(); ++it) {
          if (it->category == s.category && it->steps.back().status != std::string("duplicate")) {
            s.duplicate_of = it->id;
            add("duplicate", "ioc", rng.pick(ioc), "Trùng với phản ánh đã tiếp nhận trước đó về cùng vị trí.",
                minutes(10, 240));
            return;
          }
        }
        add("rejected", "ioc", rng.pick(ioc), rng.pick(reject_reasons), minutes(20, 600));
        return;
      }
      agency = home;
      add("assigned", "ioc", rng.pick(ioc), "Chuyển " + agency_name(agency) + " xử lý theo thẩm quyền.", minutes(10, 360),
          agency);
      bool in_progress = false;
      if (target == "transfer_requested" || (target != "assigned" && rng.chance(0.1))) {
        const std::string other = transfer_target(agency);
        add("transfer_requested", "agency", staff_of(agency),
            "Nội dung không thuộc thẩm quyền của đơn vị, đề nghị chuyển " + agency_name(other) + ".", minutes(60, 1440));
        if (target == "transfer_requested") return;
        if (rng.chance(0.5)) {
          agency = other;
          add("assigned", "ioc", rng.pick(ioc), "Đồng ý chuyển " + agency_name(agency) + " xử lý.", minutes(30, 600),
              agency);
        } else {
          add("in_progress", "ioc", rng.pick(ioc), rng.pick(decline_reasons), minutes(30, 600));
          in_progress = true;
        }
      }
      if (target == "assigned") return;
      if (!in_progress) add("in_progress", "agency", staff_of(agency), rng.pick(accept_notes), minutes(30, 1440));
      if (target == "in_progress") return;
      // The answer, sometimes after the deadline.
      const std::int64_t spent = static_cast<std::int64_t>(static_cast<double>(sla) * (0.1 + rng.unit() * 1.4));
      std::vector<std::string> photos;
      if (rng.chance(0.4)) photos.push_back("med_anh_" + s.id.substr(4, 8));
      add("responded", "agency", staff_of(agency), rng.pick(cat.answers), std::max<std::int64_t>(spent, 600), {},
          photos);
      if (target == "responded") return;
      const bool sent_back = target == "returned" || rng.chance(0.2);
      if (sent_back) {
        add("returned", "ioc", rng.pick(ioc), rng.pick(return_reasons), minutes(30, 720));
        if (target == "returned") return;
        add("responded", "agency", staff_of(agency), "Bổ sung hồ sơ theo yêu cầu của IOC, gửi kèm tài liệu.",
            minutes(60, 2880), {}, {"med_bo_sung_" + s.id.substr(4, 8)});
      }
      add("resolved", "ioc", rng.pick(ioc), rng.pick(approve_notes), minutes(20, 720));
      if (target == "resolved") return;
      const bool satisfied = rng.chance(0.85);
      add("rated", "citizen", s.reporter, satisfied ? rng.pick(happy) : rng.pick(unhappy), minutes(60, 4320));
      s.satisfied = satisfied;
    };
    build();
    // Steps that would lie in the future have not happened yet.
    while (steps.size() > 1 && steps.back().at > now - 60) steps.pop_back();
    if (steps.back().status != std::string("duplicate")) s.duplicate_of.reset();
    if (steps.back().status != std::string("rated")) s.satisfied = false;
    s.steps = std::move(steps);
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace hues::sandbox
