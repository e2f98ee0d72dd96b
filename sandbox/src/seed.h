// The sandbox's seed data: Huế's agencies, report categories and sample citizen reports,
// inserted once when a database is created.
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include "hues/models.h"

namespace hues::sandbox {

struct SeedAgency {
  const char* code;
  const char* name;  // name_vi; also each category's agency_name
  const char* name_en;
  const char* kind;   // AgencyKind
  const char* phone;  // "" when none is published
  const char* ward;   // ward committees only, else nullptr
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

// The people and OAuth clients of docs/identity-contract.md.
struct SeedPerson {
  const char* username;
  const char* name;
  const char* phone;
  const char* role;  // citizen | ioc | agency
  int level;
  const char* agency_code;  // agency staff only
  const char* ward;
};

struct SeedClient {
  const char* id;
  const char* secret;  // nullptr: a public client
  bool native;         // RFC 8252 loopback redirects may use any port
  const char* grants;  // space-separated, like scopes
  const char* scopes;
  const char* redirect_uris;
  const char* id_token_alg;
};

inline constexpr const char* kSeedPassword = "HueS-demo-2025";
// The password_hash of a seeded person until their first sign-in: their password is the
// documented kSeedPassword, so the real PBKDF2 hash (600,000 iterations, own salt) is made
// then instead of at seed time, which would cost every fresh sandbox five of them.
inline constexpr const char* kSeedPasswordHash = "seed$";
inline constexpr const char* kAdminKey = "hadm_test_sandbox_0001";

const std::vector<SeedPerson>& seed_people();
const std::vector<SeedClient>& seed_clients();
const std::vector<SeedAgency>& seed_agencies();
const std::vector<Category>& seed_categories();  // agency_name left empty: joined from agencies
const std::vector<SeedReport>& seed_reports();   // oldest first

// A seeded report's life (issue 8): each step as the timeline records it, its actor a seeded
// person's username (agency_code: where an `assigned` step sent it).
struct SeedStep {
  const char* status;
  const char* role;  // ActorRole
  std::string actor, note, agency_code;
  std::vector<std::string> attachments;
  std::time_t at;
};
struct SeedStory {
  std::string id, category, description;
  Location location;
  std::string reporter;  // a seeded citizen's username
  bool anonymous = false, is_private = false;
  std::time_t created_at = 0;
  std::vector<SeedStep> steps;  // steps[0] is the submission; each later one a transition_rules() step
  std::optional<std::string> duplicate_of;
  bool satisfied = false;  // when the last step is `rated`
};
// About 300 stories from a fixed PRNG seed, over the 60 days before now: the same texts,
// places, paths and gaps on every run; every step lies before now.
std::vector<SeedStory> seed_stories(std::time_t now);

}  // namespace hues::sandbox
