#include "service/windows/install_record.hpp"

#include <fstream>

namespace tlsbroker::service {

namespace fs = std::filesystem;

std::string record_install(const fs::path& dir, const std::vector<std::string>& created) {
    const auto record = dir / install_record_name;
    std::error_code ec;
    fs::remove(record, ec);
    if (created.empty()) return {};
    std::ofstream out(record);
    for (const auto& name : created)
        if (name.find('/') == std::string::npos && name.find('\\') == std::string::npos) out << name << '\n';
    out.close();
    if (!out) return "cannot write " + record.string();
    return {};
}

std::vector<std::string> roll_back_install(const fs::path& dir) {
    std::vector<std::string> removed;
    const auto record = dir / install_record_name;
    std::ifstream in(record);
    std::string name;
    while (std::getline(in, name)) {
        if (name.empty() || name.find('/') != std::string::npos || name.find('\\') != std::string::npos ||
            name == "." || name == "..")
            continue;
        std::error_code ec;
        if (fs::remove(dir / name, ec)) removed.push_back(name);
    }
    in.close();
    std::error_code ec;
    fs::remove(record, ec);
    return removed;
}

void commit_install(const fs::path& dir) {
    std::error_code ec;
    fs::remove(dir / install_record_name, ec);
}

}  // namespace tlsbroker::service
