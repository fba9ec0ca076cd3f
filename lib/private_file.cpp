#include "private_file.hpp"

#include <wampbox/error.hpp>

#include <sodium.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace wampbox::detail {

std::string read_private_file(const std::filesystem::path& path, const std::string& what,
                              bool owner_only) {
  const std::string name = path.string();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    throw error(boost::system::error_code(errno, boost::system::system_category()),
                "cannot open " + what + " " + name);
  }
  struct fd_closer {
    int fd;
    ~fd_closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    throw error(boost::system::error_code(errno, boost::system::system_category()),
                "cannot stat " + what + " " + name);
  }
  if (!S_ISREG(st.st_mode)) throw error(errc::invalid_key, name + ": not a regular file");
  // fstat on the open descriptor: the mode checked is the mode of the file actually read.
  if (owner_only && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    throw error(make_error_code(boost::system::errc::permission_denied),
                what + " " + name + " has mode " + mode +
                    " and is accessible by group or others; run `chmod 600 " + name +
                    "` (or skip the permission check explicitly)");
  }
  std::string text(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::read(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      sodium_memzero(text.data(), text.size());
      throw error(boost::system::error_code(err, boost::system::system_category()),
                  "cannot read " + what + " " + name);
    }
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  text.resize(done);
  return text;
}

}  // namespace wampbox::detail
