// What an install wrote into the config folder, so that a failed install takes it back: a
// retry with another LISTEN_PORT must not silently keep the first attempt's config. The
// MSI's write step records the files it created (DIR/.install-created); its rollback action
// deletes exactly those, its commit action deletes the record. Portable (unit-tested on Linux).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace tlsbroker::service {

inline constexpr const char* install_record_name = ".install-created";

// Records `created` (file names inside `dir`); an empty list removes a stale record, so a
// rollback never deletes files an earlier install made. "" or the problem.
std::string record_install(const std::filesystem::path& dir, const std::vector<std::string>& created);

// Rollback: deletes the recorded files and the record. Returns the names deleted.
std::vector<std::string> roll_back_install(const std::filesystem::path& dir);

// Commit: deletes the record, keeping the files.
void commit_install(const std::filesystem::path& dir);

}  // namespace tlsbroker::service
