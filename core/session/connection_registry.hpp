// The live sessions of one endpoint, by weak reference (the connection manager of the Asio
// HTTP server example): sessions add themselves when they start and remove themselves when
// they close; drain closes whatever is still registered. It owns no session: a session is
// owned by its pending operations. Kept across reloads with the endpoint's admission.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace tlsbroker::core {

class session;
enum class close_reason;

class connection_registry {
public:
    void add(const std::shared_ptr<session>& s);
    void remove(const session* s) noexcept;
    std::size_t size() const;
    // Closes every registered session (each on its own strand), counted as `why`.
    std::size_t abort_all(close_reason why);

private:
    mutable std::mutex mutex_;
    std::unordered_map<const session*, std::weak_ptr<session>> sessions_;
};

}  // namespace tlsbroker::core
