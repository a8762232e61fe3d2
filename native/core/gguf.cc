#include "core/gguf.h"

#include <algorithm>
#include <cstring>
#include <unordered_set>

#include "core/error.h"
#include "core/file_reader.h"

namespace np {

const char* gguf_value_type_name(GgufValueType t) {
  switch (t) {
    case GgufValueType::U8: return "u8";
    case GgufValueType::I8: return "i8";
    case GgufValueType::U16: return "u16";
    case GgufValueType::I16: return "i16";
    case GgufValueType::U32: return "u32";
    case GgufValueType::I32: return "i32";
    case GgufValueType::F32: return "f32";
    case GgufValueType::Bool: return "bool";
    case GgufValueType::String: return "string";
    case GgufValueType::Array: return "array";
    case GgufValueType::U64: return "u64";
    case GgufValueType::I64: return "i64";
    case GgufValueType::F64: return "f64";
  }
  return "?";
}

namespace {

[[noreturn]] void refuse(const std::string& path, const std::string& rule, const std::string& tensor = {}) {
  std::string message = path + ": ";
  if (!tensor.empty()) message += "tensor '" + tensor + "': ";
  throw Error(ErrorCode::Format, message + rule, path, tensor);
}

// Bytes a value of a fixed-size type takes; 0 for string and array.
uint64_t scalar_size(GgufValueType t) {
  switch (t) {
    case GgufValueType::U8: case GgufValueType::I8: case GgufValueType::Bool: return 1;
    case GgufValueType::U16: case GgufValueType::I16: return 2;
    case GgufValueType::U32: case GgufValueType::I32: case GgufValueType::F32: return 4;
    case GgufValueType::U64: case GgufValueType::I64: case GgufValueType::F64: return 8;
    default: return 0;
  }
}

// The fewest bytes one element of type t can take: what bounds an element count.
uint64_t min_size(GgufValueType t) {
  if (t == GgufValueType::String) return 8;                // the length
  if (t == GgufValueType::Array) return 12;                // element type + count
  return scalar_size(t);
}

// Sequential reads through a window, every one checked against the file size first, so a
// declared length never reaches an allocation before we know the bytes exist.
class Cursor {
 public:
  explicit Cursor(const FileReader& f) : f_(f) {}
  uint64_t pos() const { return pos_; }
  uint64_t left() const { return f_.size() - pos_; }
  const std::string& path() const { return f_.path(); }
  // Array elements still allowed to become values: nested small arrays could otherwise turn
  // a large file into millions of value objects.
  uint64_t value_budget = kGgufMaxKeptValues;

  void read(void* dst, uint64_t n, const std::string& what) {
    need(n, what);
    uint8_t* out = static_cast<uint8_t*>(dst);
    while (n > 0) {
      if (pos_ < buf_start_ || pos_ >= buf_start_ + buf_.size()) {
        if (n >= kWindow) {  // large strings go straight to their destination
          f_.read_at(pos_, out, n);
          pos_ += n;
          return;
        }
        buf_.resize(static_cast<size_t>(std::min<uint64_t>(kWindow, left())));
        f_.read_at(pos_, buf_.data(), buf_.size());
        buf_start_ = pos_;
      }
      uint64_t avail = buf_start_ + buf_.size() - pos_;
      uint64_t take = std::min(avail, n);
      std::memcpy(out, buf_.data() + (pos_ - buf_start_), take);
      out += take;
      pos_ += take;
      n -= take;
    }
  }
  void skip(uint64_t n, const std::string& what) {
    need(n, what);
    pos_ += n;
  }
  template <typename T>
  T get(const std::string& what) {
    T v;
    read(&v, sizeof v, what);  // GGUF is little-endian, as is every host we build for
    return v;
  }

 private:
  void need(uint64_t n, const std::string& what) const {
    if (n > left())
      refuse(path(), "truncated: " + what + " needs " + std::to_string(n) + " bytes at offset " +
                         std::to_string(pos_) + " but the file is " + std::to_string(f_.size()) + " bytes");
  }
  static constexpr uint64_t kWindow = 1 << 20;
  const FileReader& f_;
  uint64_t pos_ = 0;
  std::vector<uint8_t> buf_;
  uint64_t buf_start_ = 0;
};

uint64_t read_len(Cursor& c, const std::string& what, uint64_t cap) {
  uint64_t n = c.get<uint64_t>(what + " length");
  if (n > cap)
    refuse(c.path(), what + " length " + std::to_string(n) + " exceeds the limit of " + std::to_string(cap) + " bytes");
  if (n > c.left())
    refuse(c.path(), what + " length " + std::to_string(n) + " runs past the end of the file (" +
                         std::to_string(c.left()) + " bytes left at offset " + std::to_string(c.pos()) + ")");
  return n;
}

std::string read_string(Cursor& c, const std::string& what, uint64_t cap) {
  uint64_t n = read_len(c, what, cap);
  std::string s(static_cast<size_t>(n), '\0');
  c.read(&s[0], n, what);
  return s;
}

GgufValueType read_type(Cursor& c, const std::string& what) {
  uint32_t t = c.get<uint32_t>(what);
  if (t > static_cast<uint32_t>(GgufValueType::F64))
    refuse(c.path(), what + " " + std::to_string(t) + " is not a GGUF value type (0..12)");
  return static_cast<GgufValueType>(t);
}

void read_value(Cursor& c, GgufValue* v, const std::string& key, uint32_t depth, bool keep);

// An array: element type, count, elements. Kept as values only when small and wanted.
// `depth` is its nesting level: 1 for an array that is a key's value.
void read_array(Cursor& c, GgufValue* v, const std::string& key, uint32_t depth, bool keep) {
  if (depth > kGgufMaxArrayDepth)
    refuse(c.path(), "key '" + key + "': arrays nested deeper than " + std::to_string(kGgufMaxArrayDepth) + " levels");
  v->elem_type = read_type(c, "key '" + key + "': array element type");
  v->count = c.get<uint64_t>("key '" + key + "': array count");
  const uint64_t per = min_size(v->elem_type);
  if (v->count > c.left() / per)
    refuse(c.path(), "key '" + key + "': array of " + std::to_string(v->count) + " " +
                         gguf_value_type_name(v->elem_type) + " elements cannot fit in the " +
                         std::to_string(c.left()) + " bytes left");
  // Fixed-size elements that are not kept are skipped in one step (a 150k-token score array).
  const uint64_t fixed = scalar_size(v->elem_type);
  v->materialised = keep && v->count <= kGgufMaxArrayValues && v->count <= c.value_budget;
  if (v->materialised) c.value_budget -= v->count;
  if (!v->materialised && fixed) {
    c.skip(v->count * fixed, "key '" + key + "': array data");
    return;
  }
  if (v->materialised) v->items.resize(static_cast<size_t>(v->count));
  GgufValue scratch;
  for (uint64_t i = 0; i < v->count; ++i) {
    GgufValue* e = v->materialised ? &v->items[static_cast<size_t>(i)] : &scratch;
    e->type = v->elem_type;
    read_value(c, e, key, depth, v->materialised);
  }
}

void read_value(Cursor& c, GgufValue* v, const std::string& key, uint32_t depth, bool keep) {
  const std::string what = "key '" + key + "': value";
  switch (v->type) {
    case GgufValueType::U8: v->u = c.get<uint8_t>(what); break;
    case GgufValueType::I8: v->i = c.get<int8_t>(what); break;
    case GgufValueType::U16: v->u = c.get<uint16_t>(what); break;
    case GgufValueType::I16: v->i = c.get<int16_t>(what); break;
    case GgufValueType::U32: v->u = c.get<uint32_t>(what); break;
    case GgufValueType::I32: v->i = c.get<int32_t>(what); break;
    case GgufValueType::F32: v->f = c.get<float>(what); break;
    case GgufValueType::U64: v->u = c.get<uint64_t>(what); break;
    case GgufValueType::I64: v->i = c.get<int64_t>(what); break;
    case GgufValueType::F64: v->f = c.get<double>(what); break;
    case GgufValueType::Bool: {
      uint8_t b = c.get<uint8_t>(what);
      if (b > 1) refuse(c.path(), what + ": bool must be 0 or 1 (found " + std::to_string(b) + ")");
      v->u = b;
      break;
    }
    case GgufValueType::String:
      if (keep) {
        v->s = read_string(c, what + " string", kGgufMaxStringBytes);
      } else {
        c.skip(read_len(c, what + " string", kGgufMaxStringBytes), what + " string");
      }
      break;
    case GgufValueType::Array: read_array(c, v, key, depth + 1, keep); break;
  }
}

uint64_t align_up(uint64_t x, uint64_t a) { return x % a == 0 ? x : x + (a - x % a); }

void read_tensor_info(Cursor& c, GgufTensor* t, uint64_t index) {
  t->name = read_string(c, "tensor name", kGgufMaxNameBytes);
  const std::string& p = c.path();
  if (t->name.empty()) refuse(p, "tensor " + std::to_string(index) + " has an empty name");
  uint32_t n_dims = c.get<uint32_t>("tensor '" + t->name + "': n_dims");
  if (n_dims < 1 || n_dims > kGgufMaxDims)
    refuse(p, "n_dims " + std::to_string(n_dims) + " is outside 1.." + std::to_string(kGgufMaxDims), t->name);
  t->ne.resize(n_dims);
  for (uint32_t d = 0; d < n_dims; ++d) t->ne[d] = c.get<uint64_t>("tensor '" + t->name + "': dimensions");
  uint32_t type = c.get<uint32_t>("tensor '" + t->name + "': type");
  t->offset = c.get<uint64_t>("tensor '" + t->name + "': offset");  // relative until validated
  t->type = ggml_type_info(type);
  if (!t->type) refuse(p, "unknown ggml type " + std::to_string(type), t->name);
}

// Sizes and placement of one tensor, relative offsets still; turned absolute by the caller.
void check_tensor(const std::string& p, GgufTensor* t, uint32_t alignment, uint64_t data_size) {
  const uint64_t kMaxSafe = (1ull << 53) - 1;  // every count must be exact in JavaScript
  uint64_t elements = 1;
  for (size_t d = 0; d < t->ne.size(); ++d) {
    if (t->ne[d] == 0) refuse(p, "dimension " + std::to_string(d) + " is 0 (each must be at least 1)", t->name);
    if (t->ne[d] > kMaxSafe / elements)
      refuse(p, "element count overflows (dimensions too large)", t->name);
    elements *= t->ne[d];
  }
  if (t->ne[0] % t->type->block_elems != 0)
    refuse(p, "row length " + std::to_string(t->ne[0]) + " is not a multiple of " + t->type->name + "'s block size " +
                  std::to_string(t->type->block_elems),
           t->name);
  const uint64_t blocks = elements / t->type->block_elems;
  if (blocks > kMaxSafe / t->type->block_bytes) refuse(p, "byte size overflows", t->name);
  t->elements = elements;
  t->bytes = blocks * t->type->block_bytes;
  if (t->offset % alignment != 0)
    refuse(p, "offset " + std::to_string(t->offset) + " is not a multiple of the alignment " + std::to_string(alignment),
           t->name);
  if (t->offset > data_size || t->bytes > data_size - t->offset)
    refuse(p, "data [" + std::to_string(t->offset) + ", +" + std::to_string(t->bytes) +
                  ") runs past the end of the data section (" + std::to_string(data_size) + " bytes)",
           t->name);
}

}  // namespace

GgufHeader read_gguf_header(const std::string& path) {
  FileReader f(path);
  GgufHeader h;
  h.path = path;
  h.file_size = f.size();
  Cursor c(f);

  char magic[4];
  c.read(magic, 4, "magic");
  if (std::memcmp(magic, "GGUF", 4) != 0) refuse(path, "not a GGUF file (magic is not \"GGUF\")");
  h.version = c.get<uint32_t>("version");
  if (h.version == 1) refuse(path, "GGUF version 1 is not supported (it predates 64-bit counts; only versions 2 and 3 are)");
  if (h.version == 0x02000000u || h.version == 0x03000000u)
    refuse(path, "big-endian GGUF is not supported");
  if (h.version != 2 && h.version != 3)
    refuse(path, "unsupported GGUF version " + std::to_string(h.version) + " (supported: 2, 3)");

  const uint64_t n_tensors = c.get<uint64_t>("tensor count");
  const uint64_t n_kv = c.get<uint64_t>("key-value count");
  // A tensor info takes at least 32 bytes (name length, n_dims, one dimension, type, offset),
  // a key-value at least 13 (key length, value type, one byte of value).
  if (n_tensors > kGgufMaxTensors || n_tensors > c.left() / 32)
    refuse(path, "tensor count " + std::to_string(n_tensors) + " is more than the file can hold (limit " +
                     std::to_string(std::min<uint64_t>(kGgufMaxTensors, c.left() / 32)) + ")");
  if (n_kv > kGgufMaxKvs || n_kv > c.left() / 13)
    refuse(path, "key-value count " + std::to_string(n_kv) + " is more than the file can hold (limit " +
                     std::to_string(std::min<uint64_t>(kGgufMaxKvs, c.left() / 13)) + ")");

  std::unordered_set<std::string> keys;
  h.kvs.reserve(static_cast<size_t>(n_kv));
  for (uint64_t i = 0; i < n_kv; ++i) {
    GgufKv kv;
    kv.key = read_string(c, "key", kGgufMaxKeyBytes);
    if (!keys.insert(kv.key).second) refuse(path, "duplicate key '" + kv.key + "'");
    kv.value.type = read_type(c, "key '" + kv.key + "': value type");
    read_value(c, &kv.value, kv.key, 0, true);
    if (kv.key == "general.alignment") {
      if (kv.value.type != GgufValueType::U32)
        refuse(path, std::string("general.alignment must be a u32 (found ") + gguf_value_type_name(kv.value.type) + ")");
      if (kv.value.u == 0 || (kv.value.u & (kv.value.u - 1)) != 0)
        refuse(path, "general.alignment " + std::to_string(kv.value.u) + " is not a nonzero power of two");
      h.alignment = static_cast<uint32_t>(kv.value.u);
    }
    h.kvs.push_back(std::move(kv));
  }

  std::unordered_set<std::string> names;
  h.tensors.resize(static_cast<size_t>(n_tensors));
  for (size_t i = 0; i < h.tensors.size(); ++i) {
    GgufTensor& t = h.tensors[i];
    read_tensor_info(c, &t, i);
    if (!names.insert(t.name).second) refuse(path, "duplicate tensor name", t.name);
  }

  h.data_offset = align_up(c.pos(), h.alignment);
  if (!h.tensors.empty() && h.data_offset > h.file_size)
    refuse(path, "truncated: the data section starts at offset " + std::to_string(h.data_offset) +
                     " but the file is " + std::to_string(h.file_size) + " bytes");
  const uint64_t data_size = h.data_offset <= h.file_size ? h.file_size - h.data_offset : 0;
  for (auto& t : h.tensors) check_tensor(path, &t, h.alignment, data_size);

  std::vector<const GgufTensor*> by_offset;
  for (const auto& t : h.tensors) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(),
            [](const GgufTensor* a, const GgufTensor* b) { return a->offset < b->offset; });
  for (size_t i = 1; i < by_offset.size(); ++i)
    if (by_offset[i - 1]->offset + by_offset[i - 1]->bytes > by_offset[i]->offset)
      refuse(path, "data overlaps tensor '" + by_offset[i - 1]->name + "'", by_offset[i]->name);

  for (auto& t : h.tensors) t.offset += h.data_offset;
  return h;
}

}  // namespace np
