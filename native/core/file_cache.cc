#include "core/file_cache.h"

namespace np {

FileCache::FileCache(const std::vector<std::string>& paths, size_t capacity)
    : paths_(paths), slots_(paths.size()), last_use_(paths.size(), 0), capacity_(capacity) {}

std::shared_ptr<FileReader> FileCache::get(uint32_t index) {
  std::lock_guard<std::mutex> lock(mutex_);
  last_use_[index] = ++tick_;
  if (slots_[index]) return slots_[index];
  if (open_ >= capacity_) evict_one();
  slots_[index] = std::make_shared<FileReader>(paths_[index]);
  ++open_;
  return slots_[index];
}

void FileCache::evict_one() {
  size_t victim = slots_.size();
  for (size_t i = 0; i < slots_.size(); ++i)
    if (slots_[i] && (victim == slots_.size() || last_use_[i] < last_use_[victim])) victim = i;
  if (victim < slots_.size()) {
    slots_[victim].reset();  // readers still using it keep it alive
    --open_;
  }
}

}  // namespace np
