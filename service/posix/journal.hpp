// Logging under systemd: when stderr is the journal's stream (systemd sets $JOURNAL_STREAM
// to its "device:inode"), each line goes to stderr as "<N>message", N the syslog priority
// (error 3, warning 4, info 6, debug and trace 7), without a timestamp of our own: journald
// stamps every line and `journalctl -p warning` filters on N. Otherwise (a terminal, a file,
// a pipe) the console keeps its usual "date time [level] message" lines.
#pragma once

#include <boost/log/sinks/sink.hpp>
#include <boost/smart_ptr/shared_ptr.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/common/log.hpp"

namespace tlsbroker::service {

// True when `journal_stream` ("dev:ino", decimal) names the file with this device and inode.
bool journal_stream_matches(std::string_view journal_stream, std::uint64_t dev, std::uint64_t ino);

// True when $JOURNAL_STREAM names the file that stderr is.
bool stderr_is_journal();

int journal_priority(log::level l);

// "<N>message" (no newline).
std::string journal_line(log::level l, std::string_view message);

// A log sink (log::add_sink) writing journal_line() and a newline to `fd`, one write per line.
boost::shared_ptr<boost::log::sinks::sink> make_journal_sink(int fd = 2);

}  // namespace tlsbroker::service
