// Positional reads of a file into caller-owned buffers. The scan streams fixed-size chunks
// through a few buffers, so anonymous memory stays bounded whatever the model size; the
// kernel's page cache and readahead do the rest (posix_fadvise SEQUENTIAL).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace np {

class FileReader {
 public:
  FileReader() = default;
  explicit FileReader(const std::string& path);
  ~FileReader();
  FileReader(const FileReader&) = delete;
  FileReader& operator=(const FileReader&) = delete;
  FileReader(FileReader&& other) noexcept;
  FileReader& operator=(FileReader&& other) noexcept;

  const std::string& path() const { return path_; }
  uint64_t size() const { return size_; }
  // Reads exactly `length` bytes at `offset`; throws E_IO (naming the file) on a short read,
  // which is what happens when a file is truncated while it is being scanned.
  void read_at(uint64_t offset, void* buffer, size_t length) const;

 private:
  void close_fd();
  std::string path_;
  int fd_ = -1;
  uint64_t size_ = 0;
};

}  // namespace np
