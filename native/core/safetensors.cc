#include "core/safetensors.h"

#include <algorithm>
#include <numeric>

#include "core/error.h"
#include "core/file_reader.h"
#include "core/json.h"

namespace np {

size_t safetensors_dtype_size(const std::string& d) {
  static const std::pair<const char*, size_t> kSizes[] = {
      {"BOOL", 1},    {"U8", 1},      {"I8", 1},      {"F8_E5M2", 1}, {"F8_E4M3", 1}, {"F8_E8M0", 1},
      {"I16", 2},     {"U16", 2},     {"F16", 2},     {"BF16", 2},    {"I32", 4},     {"U32", 4},
      {"F32", 4},     {"I64", 8},     {"U64", 8},     {"F64", 8},     {"C64", 8},
  };
  for (const auto& s : kSizes)
    if (d == s.first) return s.second;
  return 0;
}

namespace {

[[noreturn]] void refuse(const std::string& path, const std::string& rule, const std::string& tensor = {}) {
  std::string message = path + ": ";
  if (!tensor.empty()) message += "tensor '" + tensor + "': ";
  throw Error(ErrorCode::Format, message + rule, path, tensor);
}

// Hostile shapes can have millions of dimensions; messages show only the start.
std::string shape_text(const std::vector<uint64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i == 8) {
      s += ", ... (" + std::to_string(shape.size()) + " dimensions)";
      break;
    }
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

std::string found_text(json::Reader& r) {
  json::Token t = r.peek();
  if (t == json::Token::Number) return r.read_number().text;
  return json::token_name(t);
}

// Reads one non-negative integer element of `field`; every other value is refused with
// the reason (negative, fraction or exponent, too large, not a number).
uint64_t read_index(json::Reader& r, const std::string& path, const std::string& tensor, const char* field,
                    uint64_t max) {
  if (r.peek() != json::Token::Number)
    refuse(path, std::string(field) + " must hold non-negative integers (found " + found_text(r) + ")", tensor);
  json::Number n = r.read_number();
  switch (n.kind) {
    case json::Number::Kind::Negative:
      refuse(path, std::string(field) + " must hold non-negative integers (found negative " + n.text + ")", tensor);
    case json::Number::Kind::Fraction:
      refuse(path, std::string(field) + " must hold non-negative integers (found non-integer " + n.text + ")", tensor);
    case json::Number::Kind::Overflow:
      refuse(path, std::string(field) + " value " + n.text + " overflows 64 bits", tensor);
    case json::Number::Kind::Integer:
      break;
  }
  if (n.value > max)
    refuse(path, std::string(field) + " value " + n.text + " is larger than 2^53-1 (cannot be exact in JavaScript)",
           tensor);
  return n.value;
}

void read_metadata(json::Reader& r, SafetensorsHeader* h) {
  if (r.peek() != json::Token::Object)
    refuse(h->path, std::string("__metadata__ must be an object of string to string (found ") +
                        json::token_name(r.peek()) + ")");
  h->has_metadata = true;
  r.begin_object();
  std::string key;
  while (r.next_member(&key)) {
    if (r.peek() != json::Token::String)
      refuse(h->path, "__metadata__ must be an object of string to string (value of '" + key + "' is " +
                          json::token_name(r.peek()) + ")");
    h->metadata.emplace_back(std::move(key), r.read_string());
  }
}

SafetensorsTensor read_entry(json::Reader& r, const std::string& path, std::string name) {
  SafetensorsTensor t;
  t.name = std::move(name);
  if (r.peek() != json::Token::Object)
    refuse(path, std::string("entry must be an object with dtype, shape and data_offsets (found ") +
                     json::token_name(r.peek()) + ")",
           t.name);
  bool has_dtype = false, has_shape = false, has_offsets = false;
  r.begin_object();
  std::string field;
  while (r.next_member(&field)) {
    if (field == "dtype") {
      has_dtype = true;
      if (r.peek() != json::Token::String)
        refuse(path, std::string("dtype must be a string (found ") + json::token_name(r.peek()) + ")", t.name);
      t.dtype = r.read_string();
      if (safetensors_dtype_size(t.dtype) == 0) refuse(path, "unknown dtype '" + t.dtype + "'", t.name);
    } else if (field == "shape") {
      has_shape = true;
      if (r.peek() != json::Token::Array)
        refuse(path, std::string("shape must be an array of non-negative integers (found ") +
                         json::token_name(r.peek()) + ")",
               t.name);
      r.begin_array();
      while (r.next_element()) t.shape.push_back(read_index(r, path, t.name, "shape", kMaxSafetensorsDim));
    } else if (field == "data_offsets") {
      has_offsets = true;
      if (r.peek() != json::Token::Array)
        refuse(path, std::string("data_offsets must be an array [begin, end] (found ") +
                         json::token_name(r.peek()) + ")",
               t.name);
      r.begin_array();
      uint64_t v[2] = {0, 0};
      size_t count = 0;
      while (r.next_element()) {
        if (count >= 2) refuse(path, "data_offsets must be [begin, end] (found more than 2 values)", t.name);
        v[count++] = read_index(r, path, t.name, "data_offsets", UINT64_MAX);
      }
      if (count != 2)
        refuse(path, "data_offsets must be [begin, end] (found " + std::to_string(count) + " values)", t.name);
      t.begin = v[0];
      t.end = v[1];
    } else {
      refuse(path, "unexpected field '" + field + "' (an entry holds only dtype, shape and data_offsets)", t.name);
    }
  }
  if (!has_dtype) refuse(path, "missing field 'dtype'", t.name);
  if (!has_shape) refuse(path, "missing field 'shape'", t.name);
  if (!has_offsets) refuse(path, "missing field 'data_offsets'", t.name);
  if (t.begin > t.end)
    refuse(path, "data_offsets begin " + std::to_string(t.begin) + " is after end " + std::to_string(t.end), t.name);

  // Multiplied in order, as the reference does, so [2^40, 2^40, 0] overflows rather than
  // being zero.
  uint64_t elements = 1;
  for (uint64_t d : t.shape) {
    if (d != 0 && elements > UINT64_MAX / d)
      refuse(path, "element count of shape " + shape_text(t.shape) + " overflows 64 bits", t.name);
    elements *= d;
  }
  uint64_t esize = safetensors_dtype_size(t.dtype);
  if (elements > UINT64_MAX / esize)
    refuse(path, "byte size of shape " + shape_text(t.shape) + " x " + t.dtype + " overflows 64 bits", t.name);
  uint64_t need = elements * esize;
  if (t.end - t.begin != need)
    refuse(path, "size mismatch: data_offsets [" + std::to_string(t.begin) + ", " + std::to_string(t.end) +
                     "] span " + std::to_string(t.end - t.begin) + " bytes but shape " + shape_text(t.shape) + " of " +
                     t.dtype + " needs " + std::to_string(need),
           t.name);
  return t;
}

[[noreturn]] void refuse_json(const std::string& path, const json::ParseError& e) {
  switch (e.kind()) {
    case json::ParseError::Kind::DuplicateKey:
      if (e.depth() == 1 && e.key() != "__metadata__")
        refuse(path, "duplicate tensor name (it appears twice in the header)", e.key());
      refuse(path, "header JSON has a duplicate key: " + std::string(e.what()));
    case json::ParseError::Kind::Utf8:
      refuse(path, "header is not valid UTF-8 (" + std::string(e.what()) + " of the header)");
    case json::ParseError::Kind::TooDeep:
    case json::ParseError::Kind::Syntax:
      break;
  }
  refuse(path, "header is not valid JSON: " + std::string(e.what()) + " of the header");
}

// Offsets must tile the data section exactly: sorted by begin, each tensor starts where the
// previous one ended, the first at 0, the last at the end of the file.
void check_layout(const SafetensorsHeader& h, uint64_t data_size) {
  const auto& ts = h.tensors;
  std::vector<size_t> order(ts.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (ts[a].begin != ts[b].begin) return ts[a].begin < ts[b].begin;
    if (ts[a].end != ts[b].end) return ts[a].end < ts[b].end;
    return a < b;
  });
  uint64_t expected = 0;
  const SafetensorsTensor* prev = nullptr;
  for (size_t i : order) {
    const SafetensorsTensor& t = ts[i];
    if (t.begin < expected)
      refuse(h.path,
             "overlapping data_offsets: [" + std::to_string(t.begin) + ", " + std::to_string(t.end) +
                 "] starts inside tensor '" + prev->name + "', which ends at " + std::to_string(expected),
             t.name);
    if (t.begin > expected) {
      if (!prev)
        refuse(h.path, "data does not start at offset 0: the first tensor begins at " + std::to_string(t.begin),
               t.name);
      refuse(h.path,
             "gap of " + std::to_string(t.begin - expected) + " bytes in data_offsets between tensor '" + prev->name +
                 "' (ends at " + std::to_string(expected) + ") and this tensor (begins at " +
                 std::to_string(t.begin) + ")",
             t.name);
    }
    expected = t.end;
    prev = &t;
  }
  if (expected > data_size)
    refuse(h.path, "truncated data: the tensors need " + std::to_string(expected) +
                       " bytes after the header but the file holds " + std::to_string(data_size));
  if (expected < data_size)
    refuse(h.path, std::to_string(data_size - expected) + " trailing bytes after the last tensor (data ends at " +
                       std::to_string(expected) + ", the file holds " + std::to_string(data_size) + ")");
}

}  // namespace

SafetensorsHeader parse_safetensors_header(const std::string& path, const char* json_text, size_t json_size,
                                           uint64_t data_size) {
  SafetensorsHeader h;
  h.path = path;
  size_t bad = json::find_invalid_utf8(json_text, json_size);
  if (bad != json_size) refuse(path, "header is not valid UTF-8 (at byte " + std::to_string(bad) + " of the header)");
  try {
    // A full validating pass first, so malformed JSON is reported as such even when an
    // earlier entry would also break a schema rule.
    json::validate(json_text, json_size);
    json::Reader r(json_text, json_size, json::Reader::kDefaultMaxDepth, false);
    if (r.peek() != json::Token::Object)
      refuse(path, std::string("header is not a JSON object (found ") + json::token_name(r.peek()) + ")");
    r.begin_object();
    std::string key;
    while (r.next_member(&key)) {
      if (key == "__metadata__") read_metadata(r, &h);
      else h.tensors.push_back(read_entry(r, path, std::move(key)));
    }
    r.finish();
  } catch (const json::ParseError& e) {
    refuse_json(path, e);
  }
  check_layout(h, data_size);
  return h;
}

SafetensorsHeader read_safetensors_header(const std::string& path) {
  FileReader file(path);
  uint64_t size = file.size();
  if (size < 8)
    refuse(path, "file is " + std::to_string(size) + " bytes, too short for the 8-byte header length");
  unsigned char prefix[8];
  file.read_at(0, prefix, 8);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | prefix[i];
  if (n > kMaxSafetensorsHeaderBytes)
    refuse(path, "header length " + std::to_string(n) + " exceeds the limit of " +
                     std::to_string(kMaxSafetensorsHeaderBytes) + " bytes");
  if (n > size - 8)
    refuse(path, "header length " + std::to_string(n) + " runs past the end of the file (" + std::to_string(size) +
                     " bytes)");
  std::string text(static_cast<size_t>(n), '\0');
  if (n) file.read_at(8, &text[0], text.size());
  SafetensorsHeader h = parse_safetensors_header(path, text.data(), text.size(), size - 8 - n);
  h.file_size = size;
  h.header_size = n;
  h.data_start = 8 + n;
  return h;
}

}  // namespace np
