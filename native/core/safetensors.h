// Reads and validates the header of a safetensors file:
//   [u64 little-endian N][N bytes of UTF-8 JSON, space padded][data section]
// Only the header is read (pread); the data section is checked against the header's
// offsets by size alone. Everything the format forbids is refused with E_FORMAT naming the
// file, the broken rule and, where there is one, the tensor.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace np {

// The reference implementation's limit (100,000,000 bytes, not MiB), so any file it writes we read
// and anything it refuses as too large we refuse too.
constexpr uint64_t kMaxSafetensorsHeaderBytes = 100ull * 1000 * 1000;

// Dimensions above 2^53-1 cannot be held exactly by a JavaScript number. A tensor with
// elements has every dimension <= its byte size <= the file size, so only zero-size
// tensors can carry such dimensions, and we refuse them rather than round them.
constexpr uint64_t kMaxSafetensorsDim = (1ull << 53) - 1;

struct SafetensorsTensor {
  std::string name;
  std::string dtype;
  std::vector<uint64_t> shape;
  // Relative to the start of the data section, as in the file.
  uint64_t begin = 0;
  uint64_t end = 0;
};

struct SafetensorsHeader {
  std::string path;
  uint64_t file_size = 0;
  uint64_t header_size = 0;
  uint64_t data_start = 0;  // 8 + header_size
  bool has_metadata = false;
  std::vector<std::pair<std::string, std::string>> metadata;  // in file order
  std::vector<SafetensorsTensor> tensors;                     // in header order
};

// Bytes per element of a dtype the format defines; 0 for an unknown name.
size_t safetensors_dtype_size(const std::string& dtype);

// Validates `json` (the header bytes) against a data section of `data_size` bytes.
// `path` only names the file in errors; split out of read_safetensors_header for testing
// hostile headers without files.
SafetensorsHeader parse_safetensors_header(const std::string& path, const char* json, size_t json_size,
                                           uint64_t data_size);

SafetensorsHeader read_safetensors_header(const std::string& path);

}  // namespace np
