#include "seed.h"

namespace hues::sandbox {
namespace {

CategoryAttribute attr(const char* code, const char* datatype, bool required, const char* description,
                       std::int64_t order, std::vector<AttributeValue> values = {}) {
  return CategoryAttribute{code, datatype, required, description, order, std::move(values)};
}

Category category(const char* code, const char* name_vi, const char* name_en, const char* group,
                  const char* description, const char* agency, std::int64_t sla_hours,
                  std::vector<CategoryAttribute> attributes) {
  return Category{code, name_vi, name_en, group, description, agency, "", sla_hours, std::move(attributes)};
}

}  // namespace

const std::vector<SeedPerson>& seed_people() {
  static const std::vector<SeedPerson> people = {
      {"nguyen.van.an", "Nguyễn Văn An", "+84905000001", "citizen", 2, "", "Phú Hội"},
      {"tran.thi.binh", "Trần Thị Bình", "+84905000002", "citizen", 1, "", "Vỹ Dạ"},
      {"le.ioc", "Lê Minh Châu", "+84905000003", "ioc", 2, "IOC", ""},
      {"hepco.staff", "Phạm Thị Dung", "+84905000004", "agency", 2, "HEPCO", ""},
      {"qldt.staff", "Hoàng Văn Em", "+84905000005", "agency", 2, "QLDT_HUE", ""},
      // Issue 8: a second IOC operator, and staff of the police and of a ward committee (the
      // seed's story: a public-order report answered by the ward).
      {"tran.ioc", "Trần Thị Giang", "+84905000006", "ioc", 2, "IOC", ""},
      {"ca.hue.staff", "Võ Văn Hải", "+84905000007", "agency", 2, "CA_HUE", ""},
      {"dongba.staff", "Ngô Thị Hương", "+84905000008", "agency", 2, "UBND_DONG_BA", ""},
      // The seeded reports' citizens, and staff of every agency they reach (schema v8).
      {"pham.minh.khoa", "Phạm Minh Khoa", "+84905000009", "citizen", 2, "", "Gia Hội"},
      {"le.thi.lan", "Lê Thị Lan", "+84905000010", "citizen", 1, "", "Thuận Lộc"},
      {"hoang.quoc.bao", "Hoàng Quốc Bảo", "+84905000011", "citizen", 2, "", "An Cựu"},
      {"nguyen.thi.mai", "Nguyễn Thị Mai", "+84905000012", "citizen", 1, "", "Kim Long"},
      {"tran.van.duc", "Trần Văn Đức", "+84905000013", "citizen", 2, "", "Xuân Phú"},
      {"vo.thi.thu", "Võ Thị Thu", "+84905000014", "citizen", 2, "", "Vĩnh Ninh"},
      {"cvcx.staff", "Đặng Văn Khánh", "+84905000015", "agency", 2, "CVCX_HUE", ""},
      {"sgtvt.staff", "Bùi Thị Liên", "+84905000016", "agency", 2, "SGTVT_TTH", ""},
      {"huewaco.staff", "Lương Văn Minh", "+84905000017", "agency", 2, "HUEWACO", ""},
      {"pc.staff", "Trương Thị Nga", "+84905000018", "agency", 2, "PC_TTH", ""},
      {"stnmt.staff", "Phan Văn Phúc", "+84905000019", "agency", 2, "STNMT_TTH", ""},
      {"sxd.staff", "Cao Thị Quỳnh", "+84905000020", "agency", 2, "SXD_TTH", ""},
      {"phuong.staff", "Mai Văn Sang", "+84905000021", "agency", 2, "UBND_PHUONG", ""},
      {"phuhoi.staff", "Đỗ Thị Tuyết", "+84905000022", "agency", 2, "UBND_PHU_HOI", ""},
      {"vinhninh.staff", "Huỳnh Văn Út", "+84905000023", "agency", 2, "UBND_VINH_NINH", ""},
      {"vyda.staff", "Lâm Thị Vân", "+84905000024", "agency", 2, "UBND_VY_DA", ""},
      // Several people per body: a third IOC operator and a second member of staff per agency.
      {"nguyen.ioc", "Nguyễn Thị Hạnh", "+84905000025", "ioc", 2, "IOC", ""},
      {"qldt.staff2", "Tôn Thất Bình", "+84905000026", "agency", 2, "QLDT_HUE", ""},
      {"hepco.staff2", "Nguyễn Thị Cúc", "+84905000027", "agency", 2, "HEPCO", ""},
      {"cvcx.staff2", "Lê Văn Dũng", "+84905000028", "agency", 2, "CVCX_HUE", ""},
      {"sgtvt.staff2", "Trần Thị Hoa", "+84905000029", "agency", 2, "SGTVT_TTH", ""},
      {"huewaco.staff2", "Phạm Văn Kiên", "+84905000030", "agency", 2, "HUEWACO", ""},
      {"pc.staff2", "Hồ Thị Lệ", "+84905000031", "agency", 2, "PC_TTH", ""},
      {"ca.hue.staff2", "Đinh Văn Mạnh", "+84905000032", "agency", 2, "CA_HUE", ""},
      {"phuong.staff2", "Vũ Thị Ngọc", "+84905000033", "agency", 2, "UBND_PHUONG", ""},
      {"stnmt.staff2", "Dương Văn Phong", "+84905000034", "agency", 2, "STNMT_TTH", ""},
      {"sxd.staff2", "Tạ Thị Quế", "+84905000035", "agency", 2, "SXD_TTH", ""},
      {"phuhoi.staff2", "Châu Văn Rạng", "+84905000036", "agency", 2, "UBND_PHU_HOI", ""},
      {"dongba.staff2", "Kiều Thị Sen", "+84905000037", "agency", 2, "UBND_DONG_BA", ""},
      {"vinhninh.staff2", "Lý Văn Tâm", "+84905000038", "agency", 2, "UBND_VINH_NINH", ""},
      {"vyda.staff2", "Mạc Thị Uyên", "+84905000039", "agency", 2, "UBND_VY_DA", ""},
  };
  return people;
}

const std::vector<SeedClient>& seed_clients() {
  static const std::vector<SeedClient> clients = {
      {"hues-demo-app", nullptr, true, "authorization_code refresh_token",
       "openid profile phone offline_access reports:read reports:write",
       "http://127.0.0.1/callback vn.hues.demo:/oauth2redirect", "RS256"},
      {"hues-cli", nullptr, false, "urn:ietf:params:oauth:grant-type:device_code refresh_token",
       "openid profile offline_access reports:read reports:write", "", "RS256"},
      {"hues-taxi-backend", "taxi-secret-2025", false, "client_credentials", "reports:read reports:write", "", "RS256"},
      {"huewaco-backend", "huewaco-secret-2025", false, "client_credentials", "reports:read", "", "RS256"},
      {"hues-web-portal", "portal-secret-2025", false, "authorization_code refresh_token", "openid profile reports:read",
       "https://portal.example/callback", "ES256"},
  };
  return clients;
}

const std::vector<SeedAgency>& seed_agencies() {
  // Codes are the ones the categories route to. Only published hotlines are filled in.
  static const std::vector<SeedAgency> agencies = {
      {"QLDT_HUE", "Phòng Quản lý đô thị thành phố Huế", "Huế City Urban Management Division", "department", "", nullptr},
      {"HEPCO", "Công ty CP Môi trường và Công trình đô thị Huế (HEPCO)",
       "Huế Urban Environment and Public Works JSC (HEPCO)", "utility", "", nullptr},
      {"CVCX_HUE", "Trung tâm Công viên cây xanh Huế", "Huế Parks and Greenery Centre", "utility", "", nullptr},
      {"SGTVT_TTH", "Sở Giao thông vận tải Thừa Thiên Huế", "Thừa Thiên Huế Department of Transport", "department", "",
       nullptr},
      {"HUEWACO", "Công ty CP Cấp nước Thừa Thiên Huế (HUEWACO)", "Thừa Thiên Huế Water Supply JSC (HUEWACO)", "utility",
       "", nullptr},
      {"PC_TTH", "Công ty Điện lực Thừa Thiên Huế", "Thừa Thiên Huế Power Company", "utility", "1900 1909", nullptr},
      {"CA_HUE", "Công an thành phố Huế", "Huế City Police", "police", "113", nullptr},
      {"UBND_PHUONG", "Ủy ban nhân dân phường nơi xảy ra sự việc", "People's Committee of the ward concerned", "ward",
       "", nullptr},
      {"STNMT_TTH", "Sở Tài nguyên và Môi trường Thừa Thiên Huế",
       "Thừa Thiên Huế Department of Natural Resources and Environment", "department", "", nullptr},
      // Added with /v1/agencies (schema v5).
      {"IOC", "Trung tâm Giám sát, điều hành đô thị thông minh tỉnh Thừa Thiên Huế",
       "Huế Smart City Monitoring and Operation Centre (IOC)", "ioc", "1022", nullptr},
      {"SXD_TTH", "Sở Xây dựng Thừa Thiên Huế", "Thừa Thiên Huế Department of Construction", "department", "", nullptr},
      {"UBND_PHU_HOI", "Ủy ban nhân dân phường Phú Hội", "Phú Hội Ward People's Committee", "ward", "", "Phú Hội"},
      {"UBND_DONG_BA", "Ủy ban nhân dân phường Đông Ba", "Đông Ba Ward People's Committee", "ward", "", "Đông Ba"},
      {"UBND_VINH_NINH", "Ủy ban nhân dân phường Vĩnh Ninh", "Vĩnh Ninh Ward People's Committee", "ward", "",
       "Vĩnh Ninh"},
      {"UBND_VY_DA", "Ủy ban nhân dân phường Vỹ Dạ", "Vỹ Dạ Ward People's Committee", "ward", "", "Vỹ Dạ"},
  };
  return agencies;
}

const std::vector<Category>& seed_categories() {
  static const std::vector<Category> categories = {
      category("street_light", "Đèn chiếu sáng công cộng hỏng", "Broken street light", "infrastructure",
               "Đèn đường không sáng, chập chờn hoặc sáng ban ngày.", "QLDT_HUE", 48,
               {attr("pole_number", "string", false, "Số hiệu cột đèn (nếu thấy)", 1),
                attr("light_state", "singlevaluelist", true, "Tình trạng đèn", 2,
                     {{"off", "Không sáng"}, {"flickering", "Chập chờn"}, {"on_daytime", "Sáng ban ngày"}})}),
      category("waste_collection", "Rác thải chưa được thu gom", "Uncollected waste", "environment",
               "Rác sinh hoạt, xà bần hoặc rác cồng kềnh tồn đọng trên đường, vỉa hè.", "HEPCO", 24,
               {attr("waste_type", "multivaluelist", true, "Loại rác", 1,
                     {{"household", "Rác sinh hoạt"}, {"construction", "Xà bần, phế thải xây dựng"},
                      {"bulky", "Rác cồng kềnh"}, {"hazardous", "Chất thải nguy hại"}}),
                attr("volume_m3", "number", false, "Khối lượng ước tính (m³)", 2)}),
      category("flooding", "Ngập úng đường phố", "Street flooding", "disaster",
               "Nước ngập trên đường, cống thoát nước bị tắc.", "QLDT_HUE", 6,
               {attr("water_depth_cm", "number", true, "Độ sâu nước ước tính (cm)", 1),
                attr("observed_at", "datetime", false, "Thời điểm quan sát", 2)}),
      category("road_damage", "Hư hỏng mặt đường, hố ga", "Road damage", "traffic",
               "Ổ gà, sụt lún, nứt mặt đường hoặc mất nắp hố ga.", "SGTVT_TTH", 72,
               {attr("damage_type", "singlevaluelist", true, "Loại hư hỏng", 1,
                     {{"pothole", "Ổ gà"}, {"subsidence", "Sụt lún"}, {"crack", "Nứt mặt đường"},
                      {"manhole_cover", "Mất, vỡ nắp hố ga"}}),
                attr("size_m2", "number", false, "Diện tích hư hỏng ước tính (m²)", 2)}),
      category("fallen_tree", "Cây xanh gãy đổ, nguy hiểm", "Fallen or dangerous tree", "environment",
               "Cây xanh gãy cành, bật gốc hoặc nghiêng có nguy cơ ngã đổ.", "CVCX_HUE", 12,
               {attr("blocking_road", "singlevaluelist", true, "Có cản trở giao thông không", 1,
                     {{"yes", "Có"}, {"no", "Không"}}),
                attr("tree_species", "string", false, "Loài cây (nếu biết)", 2)}),
      category("water_supply", "Sự cố cấp nước", "Water supply problem", "utilities",
               "Mất nước, nước yếu, nước đục hoặc vỡ đường ống.", "HUEWACO", 24,
               {attr("customer_code", "string", false, "Mã khách hàng HUEWACO", 1),
                attr("issue", "singlevaluelist", true, "Loại sự cố", 2,
                     {{"no_water", "Mất nước"}, {"low_pressure", "Nước yếu"}, {"dirty_water", "Nước đục, có mùi"},
                      {"pipe_burst", "Vỡ đường ống"}})}),
      category("power_outage", "Sự cố điện", "Power outage or electrical hazard", "utilities",
               "Mất điện, đứt dây điện, trụ điện nghiêng hoặc chập cháy.", "PC_TTH", 8,
               {attr("customer_code", "string", false, "Mã khách hàng điện (PE...)", 1),
                attr("issue", "singlevaluelist", true, "Loại sự cố", 2,
                     {{"outage", "Mất điện"}, {"broken_wire", "Đứt dây điện"}, {"sparking", "Chập cháy, tóe lửa"},
                      {"leaning_pole", "Trụ điện nghiêng"}}),
                attr("started_at", "datetime", false, "Bắt đầu từ lúc", 3)}),
      category("traffic_violation", "Vi phạm trật tự an toàn giao thông", "Traffic violation", "traffic",
               "Đỗ xe sai quy định, đi ngược chiều, vượt đèn đỏ, chở quá tải.", "CA_HUE", 72,
               {attr("plate_number", "string", false, "Biển kiểm soát", 1),
                attr("violation", "multivaluelist", true, "Hành vi vi phạm", 2,
                     {{"illegal_parking", "Đỗ xe sai quy định"}, {"wrong_way", "Đi ngược chiều"},
                      {"red_light", "Vượt đèn đỏ"}, {"sidewalk_riding", "Chạy xe trên vỉa hè"},
                      {"overloading", "Chở quá tải"}}),
                attr("occurred_at", "datetime", true, "Thời điểm vi phạm", 3)}),
      category("urban_order", "Trật tự đô thị, lấn chiếm vỉa hè", "Public order and sidewalk encroachment",
               "public_order", "Buôn bán, để vật dụng, xây dựng lấn chiếm vỉa hè, lòng đường.", "UBND_PHUONG", 48,
               {attr("details", "text", false, "Mô tả thêm", 1)}),
      category("noise", "Ô nhiễm tiếng ồn", "Noise pollution", "environment",
               "Tiếng ồn kéo dài từ karaoke, công trình, cơ sở kinh doanh.", "CA_HUE", 24,
               {attr("noise_source", "singlevaluelist", true, "Nguồn gây ồn", 1,
                     {{"karaoke", "Karaoke"}, {"construction", "Công trình xây dựng"},
                      {"business", "Cơ sở kinh doanh"}, {"vehicles", "Phương tiện giao thông"}}),
                attr("late_night", "singlevaluelist", false, "Sau 22 giờ", 2, {{"yes", "Có"}, {"no", "Không"}})}),
      category("air_pollution", "Ô nhiễm không khí, đốt rác", "Air pollution or open burning", "environment",
               "Khói bụi, đốt rác, đốt rơm rạ hoặc mùi hôi từ cơ sở sản xuất.", "STNMT_TTH", 48,
               {attr("source", "string", false, "Nguồn gây ô nhiễm", 1)}),
  };
  return categories;
}

const std::vector<SeedReport>& seed_reports() {
  // Six reports lie within 500 m of Đông Ba market (16.4726, 107.5885); the rest are farther.
  static const std::vector<SeedReport> reports = {
      {"road_damage", "Mặt đường đoạn gần lăng Tự Đức bị sụt lún, xe máy đi lại rất nguy hiểm.",
       {16.4335, 107.5668, "Đường Lê Ngô Cát, gần lăng Tự Đức", "Thủy Xuân"}, "resolved", 330, false},
      {"flooding", "Ngập sâu khoảng 40 cm ở đầu cầu Trường Tiền phía đường Lê Lợi sau mưa lớn.",
       {16.4665, 107.5905, "Đường Lê Lợi, đầu cầu Trường Tiền", "Vĩnh Ninh"}, "resolved", 300, false},
      {"flooding", "Đường Phan Đình Phùng ngập nước, cống thoát nước bị rác làm tắc.",
       {16.4610, 107.5830, "Đường Phan Đình Phùng", "Vĩnh Ninh"}, "responded", 280, false},
      {"street_light", "Đèn trên cầu Phú Xuân tắt cả dãy từ tối hôm qua.",
       {16.4650, 107.5800, "Cầu Phú Xuân", "Vĩnh Ninh"}, "in_progress", 250, false},
      {"traffic_violation", "Xe khách dừng đón trả khách sai quy định trước Bến xe phía Nam.",
       {16.4421, 107.6015, "Đường An Dương Vương, Bến xe phía Nam", "An Cựu"}, "assigned", 220, true},
      {"water_supply", "Nước máy đục, có mùi lạ từ sáng nay ở kiệt 12 đường Bà Triệu.",
       {16.4615, 107.6040, "Kiệt 12 Bà Triệu", "Xuân Phú"}, "resolved", 200, false},
      {"fallen_tree", "Cây phượng gãy cành lớn trên đường Lê Duẩn, gần cửa Thượng Tứ vào Đại Nội.",
       {16.4698, 107.5786, "Đường Lê Duẩn, gần Đại Nội", "Thuận Lộc"}, "rated", 190, false},
      {"power_outage", "Mất điện cả khu phố trên đường Hùng Vương từ 14 giờ, chưa có thông báo.",
       {16.4607, 107.5960, "Đường Hùng Vương", "Phú Nhuận"}, "resolved", 170, false},
      {"street_light", "Đèn đường hỏng trước chợ Đông Ba, đường Trần Hưng Đạo",
       {16.4722, 107.5880, "Đường Trần Hưng Đạo, trước chợ Đông Ba", "Đông Ba"}, "in_progress", 150, false},
      {"waste_collection", "Rác tồn đọng ba ngày ở cổng sau chợ Đông Ba, bốc mùi hôi.",
       {16.4731, 107.5893, "Cổng sau chợ Đông Ba", "Đông Ba"}, "assigned", 130, false},
      {"street_light", "Đèn trang trí trên đường Tố Hữu không sáng, đoạn trước Trung tâm Hành chính công.",
       {16.4560, 107.6120, "Đường Tố Hữu", "Xuân Phú"}, "received", 120, false},
      {"urban_order", "Hàng quán lấn chiếm hết vỉa hè đường Trần Hưng Đạo, người đi bộ phải xuống lòng đường.",
       {16.4708, 107.5905, "Đường Trần Hưng Đạo", "Phú Hòa"}, "received", 100, true},
      {"traffic_violation", "Xe tải chở quá tải chạy trên đường Lý Thái Tổ vào giờ cấm.",
       {16.4780, 107.5560, "Đường Lý Thái Tổ", "Hương Sơ"}, "submitted", 90, true},
      {"road_damage", "Hố ga mất nắp trên đường Trần Hưng Đạo gần bến xe Nguyễn Hoàng.",
       {16.4712, 107.5869, "Đường Trần Hưng Đạo", "Phú Hòa"}, "assigned", 80, false},
      {"waste_collection", "Xà bần đổ trộm dưới chân cầu Dã Viên, phía đường Bùi Thị Xuân.",
       {16.4605, 107.5700, "Đường Bùi Thị Xuân, chân cầu Dã Viên", "Phường Đúc"}, "submitted", 70, false},
      {"noise", "Karaoke ồn ào sau 23 giờ ở khu dân cư đường Lê Hồng Phong.",
       {16.4625, 107.5870, "Đường Lê Hồng Phong", "Phú Nhuận"}, "received", 60, true},
      {"flooding", "Nước ngập ở Đập Đá, xe máy chết máy hàng loạt.",
       {16.4720, 107.5990, "Đập Đá", "Vỹ Dạ"}, "in_progress", 48, false},
      {"noise", "Công trình xây dựng gần cầu Gia Hội thi công ban đêm gây ồn.",
       {16.4745, 107.5902, "Đường Chi Lăng, gần cầu Gia Hội", "Gia Hội"}, "submitted", 36, false},
      {"urban_order", "Quầy hàng lấn chiếm lòng đường Đống Đa trước trường học.",
       {16.4600, 107.5920, "Đường Đống Đa", "Phú Nhuận"}, "submitted", 30, false},
      {"water_supply", "Vỡ ống nước trên đường Phan Chu Trinh, nước chảy tràn ra đường.",
       {16.4580, 107.5950, "Đường Phan Chu Trinh", "Phước Vĩnh"}, "received", 20, false},
      {"fallen_tree", "Cây bàng nghiêng sát dây điện ở đường Kim Long, nguy cơ ngã đổ khi có gió lớn.",
       {16.4640, 107.5560, "Đường Kim Long", "Kim Long"}, "submitted", 12, false},
      {"air_pollution", "Đốt rác thải gây khói mù mịt trên đường Võ Nguyên Giáp.",
       {16.4520, 107.6170, "Đường Võ Nguyên Giáp", "Xuân Phú"}, "submitted", 8, false},
      {"waste_collection", "Thùng rác đầy tràn trước chợ Đông Ba phía đường Huỳnh Thúc Kháng.",
       {16.4740, 107.5870, "Đường Huỳnh Thúc Kháng", "Đông Ba"}, "submitted", 3, false},
  };
  return reports;
}

}  // namespace hues::sandbox
