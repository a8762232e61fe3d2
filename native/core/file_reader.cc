#include "core/file_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/error.h"

namespace np {

FileReader::FileReader(const std::string& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) throw Error(ErrorCode::Io, path + ": cannot open: " + std::strerror(errno), path);
  struct stat st;
  if (::fstat(fd_, &st) != 0) {
    int err = errno;
    close_fd();
    throw Error(ErrorCode::Io, path + ": cannot stat: " + std::strerror(err), path);
  }
  if (!S_ISREG(st.st_mode)) {
    close_fd();
    throw Error(ErrorCode::Io, path + ": not a regular file", path);
  }
  size_ = static_cast<uint64_t>(st.st_size);
#if defined(POSIX_FADV_SEQUENTIAL)
  ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
}

FileReader::~FileReader() { close_fd(); }

FileReader::FileReader(FileReader&& other) noexcept
    : path_(std::move(other.path_)), fd_(other.fd_), size_(other.size_) {
  other.fd_ = -1;
}

FileReader& FileReader::operator=(FileReader&& other) noexcept {
  if (this != &other) {
    close_fd();
    path_ = std::move(other.path_);
    fd_ = other.fd_;
    size_ = other.size_;
    other.fd_ = -1;
  }
  return *this;
}

void FileReader::close_fd() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void FileReader::read_at(uint64_t offset, void* buffer, size_t length) const {
  auto* out = static_cast<unsigned char*>(buffer);
  size_t done = 0;
  while (done < length) {
    ssize_t n = ::pread(fd_, out + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error(ErrorCode::Io, path_ + ": read failed at byte " + std::to_string(offset + done) + ": " +
                                     std::strerror(errno), path_);
    }
    if (n == 0) {
      throw Error(ErrorCode::Io, path_ + ": unexpected end of file at byte " + std::to_string(offset + done) +
                                     " (the file is shorter than its header says; was it truncated or changed?)",
                  path_);
    }
    done += static_cast<size_t>(n);
  }
}

}  // namespace np
