// wampbox CLI — `register --exec CMD`: each invocation runs CMD through /bin/sh -c without
// blocking the session, with the call as JSON on standard input; its output is the answer.
//
// Standard input: {"procedure": URI, "args": [...], "kwargs": {...}} (the concrete procedure,
// also for pattern registrations; args and kwargs are [] and {} when the call had none).
// Standard output, read to its end once the command exits with status 0:
//   - nothing (only white space): the call's answer has no arguments;
//   - a JSON object with only the keys "args" (array or null) and/or "kwargs" (object or null):
//     those are the answer's arguments;
//   - any other JSON value: a JSON array is the positional arguments, anything else the single
//     positional argument.
// A non-zero exit (or death by a signal), output that is not JSON, or output above 16 MiB is
// answered with the WAMP error `wampbox.error.exec_failed`: args [message], kwargs
// {"exit_status": N (128+signal when killed), "stderr": the command's standard error (at most
// 4 KiB)}. An interrupted call (canceled, router timeout) sends the command SIGTERM.
#pragma once

#include <wampbox/session/session.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <functional>
#include <string>

namespace wampbox::cli {

/// The URI of the error an --exec command's failure is answered with.
inline constexpr const char* exec_failed_uri = "wampbox.error.exec_failed";

/// Answers `inv` through `answer` by running `command` as described above, then calls
/// `answered`. Returns at once; the work runs on `ex`.
void answer_by_command(const std::string& command, const invocation& inv, responder answer,
                       boost::asio::any_io_executor ex, std::function<void()> answered);

/// The answer a successful command's standard output stands for; throws `wamp_error`
/// (exec_failed_uri) when the output is not JSON or has the wrong shape.
call_result answer_from_output(const std::string& output);

}  // namespace wampbox::cli
