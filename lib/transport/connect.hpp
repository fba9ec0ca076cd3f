// wampbox — transport::connect with a reason for users (internal; the session uses it).
#pragma once

#include <wampbox/transport/transport.hpp>

#include <functional>
#include <memory>
#include <string>

namespace wampbox::transport::detail {

/// Handler of `connect_with_reason`: the error, a reason for users when the error code alone
/// does not say enough (empty otherwise), and the transport.
using detailed_connect_handler =
    std::function<void(boost::system::error_code, std::string, std::shared_ptr<transport>)>;

/// `transport::connect`, with a reason beside the error code: which TLS check failed and on
/// what certificate ("TLS certificate verification failed: hostname mismatch (certificate is
/// for localhost, not 127.0.0.1)"), which TLS file could not be used, what the TLS layer said.
void connect_with_reason(boost::asio::any_io_executor executor, transport_options options,
                         detailed_connect_handler handler,
                         boost::asio::cancellation_slot cancel = {});

}  // namespace wampbox::transport::detail
