#include "support/accept_faults.hpp"

#include <future>
#include <stdexcept>

namespace tlsbroker::test {

bool accept_faults::start(boost::asio::ip::tcp::acceptor& acceptor, const boost::asio::any_io_executor& socket_executor,
                          handler done) {
    arms_.fetch_add(1);
    if (drop_next_.exchange(false)) return false;
    if (lose_next_.exchange(false)) return true;
    acceptor.async_accept(socket_executor,
                          [self = shared_from_this(), done = std::move(done)](
                              const boost::system::error_code& ec, boost::asio::ip::tcp::socket socket) mutable {
                              auto result = ec;
                              if (!ec && self->fail_next_.load() > 0) {
                                  self->fail_next_.fetch_sub(1);
                                  result.assign(self->code_.load(), boost::system::system_category());
                                  boost::system::error_code ignored;
                                  socket.close(ignored);
                              }
                              done(result, std::move(socket));
                          });
    return true;
}

void wait_applied(const std::function<void(std::function<void()>)>& install) {
    auto applied = std::make_shared<std::promise<void>>();
    auto done = applied->get_future();
    install([applied] { applied->set_value(); });
    if (done.wait_for(std::chrono::seconds(5)) != std::future_status::ready)
        throw std::runtime_error("accept faults not applied within 5 s");
}

}  // namespace tlsbroker::test
