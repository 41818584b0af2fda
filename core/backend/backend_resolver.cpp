#include "core/backend/backend_resolver.hpp"

#include <algorithm>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <cstdint>
#include <utility>

#include "core/common/log.hpp"

namespace tlsbroker::core {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

resolve_wait& resolve_wait::operator=(resolve_wait&& o) noexcept {
    if (this != &o) {
        cancel();
        resolver_ = std::move(o.resolver_);
        index_ = o.index_;
        token_ = std::exchange(o.token_, 0);
    }
    return *this;
}

void resolve_wait::cancel() noexcept {
    if (token_ == 0) return;
    if (auto r = resolver_.lock()) r->cancel_wait(index_, token_);
    token_ = 0;
}

backend_resolver::backend_resolver(std::string listener_name, const std::vector<config::backend_config>& backends,
                                   std::optional<counters> ctr, options opts)
    : listener_name_(std::move(listener_name)), ctr_(ctr), opts_(std::move(opts)), entries_(backends.size()) {
    for (std::size_t i = 0; i < backends.size(); ++i) {
        auto& e = entries_[i];
        const auto& a = backends[i].address;
        e.host = a.host;
        e.port = a.port;
        e.text = a.text;
        boost::system::error_code ec;
        const auto ip = asio::ip::make_address(a.host, ec);
        if (!ec) {
            e.literal = true;
            e.first_done = true;
            e.addresses.emplace_back(ip, a.port);
        }
    }
}

void backend_resolver::start(asio::io_context& ioc) {
    if (std::none_of(entries_.begin(), entries_.end(), [](const entry& e) { return !e.literal; })) return;
    if (running_.exchange(true)) return;
    strand_ = std::make_unique<asio::strand<asio::io_context::executor_type>>(asio::make_strand(ioc));
    if (!opts_.resolve) {
        opts_.resolve = [ex = *strand_](const std::string& host, std::uint16_t port, resolve_done done) {
            auto r = std::make_shared<tcp::resolver>(ex);
            r->async_resolve(host, std::to_string(port),
                             [r, done = std::move(done)](const boost::system::error_code& ec,
                                                         const tcp::resolver::results_type& results) {
                                 endpoints found;
                                 for (const auto& e : results) found.push_back(e.endpoint());
                                 done(ec, std::move(found));
                             });
        };
    }
    for (auto& e : entries_)
        if (!e.literal) e.timer = std::make_unique<asio::steady_timer>(*strand_);
    asio::dispatch(*strand_, [self = shared_from_this()] {
        for (std::size_t i = 0; i < self->entries_.size(); ++i)
            if (!self->entries_[i].literal) self->begin(i);
    });
}

void backend_resolver::stop() {
    if (!running_.exchange(false) || !strand_) return;
    asio::dispatch(*strand_, [self = shared_from_this()] {
        for (auto& e : self->entries_)
            if (e.timer) e.timer->cancel();
    });
}

void backend_resolver::begin(std::size_t i) {
    auto& e = entries_[i];
    {
        std::lock_guard lock(mutex_);
        if (e.in_flight || !running_) return;  // one lookup of a name at a time
        e.in_flight = true;
    }
    ++started_;
    auto done = [self = shared_from_this(), i](const boost::system::error_code& ec, endpoints found) {
        asio::dispatch(*self->strand_,
                       [self, i, ec, found = std::move(found)]() mutable { self->end(i, ec, std::move(found)); });
    };
    try {
        opts_.resolve(e.host, e.port, std::move(done));
    } catch (const std::exception& ex) {
        TB_LOG_ERROR("listener '", listener_name_, "' backend ", e.text, ": name lookup not started: ", ex.what());
        end(i, asio::error::no_memory, {});
    }
}

void backend_resolver::end(std::size_t i, const boost::system::error_code& ec, endpoints found) {
    auto& e = entries_[i];
    std::vector<waiter> woken;
    std::chrono::milliseconds next = opts_.refresh;
    {
        std::lock_guard lock(mutex_);
        e.in_flight = false;
        if (!ec && !found.empty()) {
            if (e.failures_in_row > 0)
                TB_LOG_INFO("listener '", listener_name_, "' backend ", e.text, ": name lookup works again (",
                            found.size(), " addresses)");
            e.addresses = std::move(found);
            e.failures_in_row = 0;
        } else {
            ++e.failures_in_row;
            if (ctr_) ctr_->add(counter::backend_resolve_failures);
            const auto why = ec ? ec.message() : std::string("no address");
            log::limited(
                log::level::warning, log::str(listener_name_, ":backend-resolve:", e.text),
                log::str("listener '", listener_name_, "' backend ", e.text, ": name lookup failed (", why, "); ",
                         e.addresses.empty()
                             ? std::string("no address known yet: connects fail over to "
                                           "the next backend")
                             : log::str("keeping the ", e.addresses.size(), " addresses of the last good lookup")));
            const auto shift = std::min<std::uint32_t>(e.failures_in_row - 1, 16);
            next = std::min(opts_.refresh, std::chrono::milliseconds(opts_.retry.count() * (std::int64_t{1} << shift)));
        }
        e.first_done = true;
        woken.swap(e.waiters);
    }
    for (auto& w : woken) asio::post(w.ex, std::move(w.fn));
    if (!running_ || !e.timer) return;
    e.timer->expires_after(next);
    e.timer->async_wait([self = shared_from_this(), i](const boost::system::error_code& err) {
        if (!err && self->running_) self->begin(i);
    });
}

backend_resolver::lookup backend_resolver::addresses(std::size_t i, const asio::any_io_executor& ex,
                                                     std::function<void()> on_ready) {
    lookup r;
    std::lock_guard lock(mutex_);
    auto& e = entries_[i];
    if (e.first_done) {
        r.ready = true;
        r.addresses = e.addresses;
        return r;
    }
    const auto token = next_token_++;
    e.waiters.push_back({token, ex, std::move(on_ready)});
    r.pending = resolve_wait(weak_from_this(), i, token);
    return r;
}

void backend_resolver::cancel_wait(std::size_t i, std::uint64_t token) noexcept {
    std::lock_guard lock(mutex_);
    auto& w = entries_[i].waiters;
    w.erase(std::remove_if(w.begin(), w.end(), [token](const waiter& x) { return x.token == token; }), w.end());
}

std::size_t backend_resolver::lookups_in_flight() const {
    std::lock_guard lock(mutex_);
    return static_cast<std::size_t>(
        std::count_if(entries_.begin(), entries_.end(), [](const entry& e) { return e.in_flight; }));
}

std::size_t backend_resolver::waiting() const {
    std::lock_guard lock(mutex_);
    std::size_t n = 0;
    for (const auto& e : entries_) n += e.waiters.size();
    return n;
}

}  // namespace tlsbroker::core
