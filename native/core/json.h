// A small strict JSON reader for safetensors headers, with no dependency.
//
// It is a pull reader rather than a tree builder: a hostile 100 MB header such as
// "[0,0,0,..." would cost gigabytes as a tree, while pulling lets the caller keep only what
// the schema allows. Strict where the format's reference (serde_json) is strict: UTF-8 is
// validated (no overlongs, surrogates or bytes above F4), \u escapes must pair surrogates,
// duplicate object keys are refused, nesting is capped so input cannot exhaust the stack,
// and integers are read exactly into uint64 with overflow detected.
#pragma once
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <unordered_set>
#include <vector>

namespace np {
namespace json {

class ParseError : public std::runtime_error {
 public:
  enum class Kind { Syntax, Utf8, DuplicateKey, TooDeep };
  // `depth` is the nesting level of the object holding a duplicate key (1 = the document's
  // top-level object), so callers can word errors by where they happened.
  ParseError(Kind kind, size_t position, const std::string& message, std::string key = {}, int depth = 0)
      : std::runtime_error(message), kind_(kind), position_(position), key_(std::move(key)), depth_(depth) {}
  Kind kind() const { return kind_; }
  size_t position() const { return position_; }
  const std::string& key() const { return key_; }
  int depth() const { return depth_; }

 private:
  Kind kind_;
  size_t position_;
  std::string key_;
  int depth_;
};

// Length of the well-formed UTF-8 sequence at p (1..4), or 0 if it is not one.
size_t utf8_sequence_length(const unsigned char* p, size_t available);

// Byte index of the first invalid UTF-8 sequence, or `size` when all of it is valid.
size_t find_invalid_utf8(const char* data, size_t size);

enum class Token { Object, Array, String, Number, True, False, Null };
const char* token_name(Token t);

struct Number {
  // Integer: digits only, fits in uint64. Negative: an integer with a minus sign.
  // Fraction: has a '.' or an exponent. Overflow: digits only, above 2^64-1.
  enum class Kind { Integer, Negative, Fraction, Overflow };
  Kind kind = Kind::Integer;
  uint64_t value = 0;  // valid when kind == Integer
  std::string text;    // the number as written
};

class Reader {
 public:
  static constexpr int kDefaultMaxDepth = 64;

  Reader(const char* data, size_t size, int max_depth = kDefaultMaxDepth, bool check_duplicates = true);

  // Kind of the next value (skipping whitespace); throws at end of input or on a byte that
  // cannot start a value.
  Token peek();
  size_t position() const { return pos_; }
  int depth() const { return static_cast<int>(frames_.size()); }

  void begin_object();
  // Moves to the next member of the innermost object and reads its key; false at '}'.
  bool next_member(std::string* key);
  void begin_array();
  // Moves to the next element of the innermost array; false at ']'.
  bool next_element();

  std::string read_string();
  Number read_number();
  bool read_bool();
  void read_null();
  // Reads and validates one value of any kind, keeping nothing.
  void skip_value();
  // Only whitespace may follow the document (safetensors pads headers with spaces).
  void finish();

 private:
  struct Frame {
    bool object;
    size_t count = 0;
    std::unordered_set<std::string> keys;
  };
  [[noreturn]] void fail(const std::string& message) const;
  [[noreturn]] void fail_at(size_t pos, const std::string& message) const;
  void skip_whitespace();
  void expect_literal(const char* word);
  void push(bool object);
  uint32_t read_hex4();
  void append_utf8(std::string* out, uint32_t code_point);

  const char* data_;
  size_t size_;
  size_t pos_ = 0;
  int max_depth_;
  bool check_duplicates_;
  std::vector<Frame> frames_;
};

// Validates a whole document: syntax, UTF-8 inside strings, duplicate keys, depth.
void validate(const char* data, size_t size, int max_depth = Reader::kDefaultMaxDepth);

}  // namespace json
}  // namespace np
