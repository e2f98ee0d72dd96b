// The sandbox's seed data: Huế's agencies, report categories and sample citizen reports,
// inserted once when a database is created.
#pragma once

#include <vector>

#include "hues/models.h"

namespace hues::sandbox {

struct SeedAgency {
  const char* code;
  const char* name;
};

struct SeedReport {
  const char* category;
  const char* description;
  Location location;
  const char* status;
  int hours_ago;  // created this long before the database was seeded
  bool anonymous;
};

// The partner test key of docs/api-contract.md (only its SHA-256 is stored).
inline constexpr const char* kSeedApiKey = "hk_test_hue_s_sandbox_0001";

const std::vector<SeedAgency>& seed_agencies();
const std::vector<Category>& seed_categories();  // agency_name left empty: joined from agencies
const std::vector<SeedReport>& seed_reports();   // oldest first

}  // namespace hues::sandbox
