#include <wampbox/version.hpp>

// Compiled into the library, so these report the version libwampbox was built as, even when a
// program was compiled against the headers of another version.
namespace wampbox {

std::string_view version() noexcept { return WAMPBOX_VERSION_STRING; }
int version_major() noexcept { return WAMPBOX_VERSION_MAJOR; }
int version_minor() noexcept { return WAMPBOX_VERSION_MINOR; }
int version_patch() noexcept { return WAMPBOX_VERSION_PATCH; }

}  // namespace wampbox
