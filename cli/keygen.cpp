#include "commands.hpp"

namespace wampbox::cli {

int run_keygen(std::ostream&) { return exit_failure; }

}  // namespace wampbox::cli
