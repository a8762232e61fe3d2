// The open files of a scan, shared by its reader threads: each file is opened on first use
// and at most `capacity` stay open (least recently used closed first), so a scan over
// thousands of shards stays under the process's descriptor limit. A reader in use stays
// alive after eviction (shared_ptr) until its read returns.
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/file_reader.h"

namespace np {

class FileCache {
 public:
  // 256: well under the usual soft limit of 1024 descriptors, with room for the rest of Node.
  static constexpr size_t kDefaultCapacity = 256;

  // `paths` must outlive the cache.
  explicit FileCache(const std::vector<std::string>& paths, size_t capacity = kDefaultCapacity);
  FileCache(const FileCache&) = delete;
  FileCache& operator=(const FileCache&) = delete;

  // The reader of file `index` (opened now if needed: E_IO naming the file on failure).
  std::shared_ptr<FileReader> get(uint32_t index);

 private:
  void evict_one();

  const std::vector<std::string>& paths_;
  std::vector<std::shared_ptr<FileReader>> slots_;
  std::vector<uint64_t> last_use_;
  size_t capacity_;
  size_t open_ = 0;
  uint64_t tick_ = 0;
  std::mutex mutex_;
};

}  // namespace np
