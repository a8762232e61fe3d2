#include "core/json.h"

#include <cstdio>

namespace np {
namespace json {

size_t utf8_sequence_length(const unsigned char* p, size_t available) {
  if (available == 0) return 0;
  unsigned char b0 = p[0];
  if (b0 < 0x80) return 1;
  // Second-byte ranges exclude overlong forms (E0, F0), UTF-16 surrogates (ED) and code
  // points above U+10FFFF (F4); C0, C1 and F5..FF never start a sequence.
  size_t n;
  unsigned char lo = 0x80, hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (available < n) return 0;
  if (p[1] < lo || p[1] > hi) return 0;
  for (size_t i = 2; i < n; ++i)
    if (p[i] < 0x80 || p[i] > 0xBF) return 0;
  return n;
}

size_t find_invalid_utf8(const char* data, size_t size) {
  const auto* p = reinterpret_cast<const unsigned char*>(data);
  size_t i = 0;
  while (i < size) {
    if (p[i] < 0x80) {
      ++i;
      continue;
    }
    size_t n = utf8_sequence_length(p + i, size - i);
    if (n == 0) return i;
    i += n;
  }
  return size;
}

const char* token_name(Token t) {
  switch (t) {
    case Token::Object: return "an object";
    case Token::Array: return "an array";
    case Token::String: return "a string";
    case Token::Number: return "a number";
    case Token::True:
    case Token::False: return "a boolean";
    case Token::Null: return "null";
  }
  return "a value";
}

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string describe_byte(unsigned char c) {
  if (c >= 0x20 && c < 0x7f) return std::string("'") + static_cast<char>(c) + "'";
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02X", c);
  return buf;
}

}  // namespace

Reader::Reader(const char* data, size_t size, int max_depth, bool check_duplicates)
    : data_(data), size_(size), max_depth_(max_depth), check_duplicates_(check_duplicates) {}

void Reader::fail(const std::string& message) const { fail_at(pos_, message); }

void Reader::fail_at(size_t pos, const std::string& message) const {
  throw ParseError(ParseError::Kind::Syntax, pos, message + " at byte " + std::to_string(pos));
}

void Reader::skip_whitespace() {
  while (pos_ < size_) {
    char c = data_[pos_];
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
    ++pos_;
  }
}

Token Reader::peek() {
  skip_whitespace();
  if (pos_ >= size_) fail("unexpected end of input, expected a value");
  char c = data_[pos_];
  switch (c) {
    case '{': return Token::Object;
    case '[': return Token::Array;
    case '"': return Token::String;
    case 't': return Token::True;
    case 'f': return Token::False;
    case 'n': return Token::Null;
    default:
      if (c == '-' || is_digit(c)) return Token::Number;
  }
  fail("unexpected " + describe_byte(static_cast<unsigned char>(c)) + ", expected a value");
}

void Reader::push(bool object) {
  if (static_cast<int>(frames_.size()) >= max_depth_)
    throw ParseError(ParseError::Kind::TooDeep, pos_,
                     "nesting deeper than " + std::to_string(max_depth_) + " levels at byte " + std::to_string(pos_));
  frames_.push_back(Frame{object, 0, {}});
}

void Reader::begin_object() {
  if (peek() != Token::Object) fail("expected an object");
  push(true);
  ++pos_;
}

void Reader::begin_array() {
  if (peek() != Token::Array) fail("expected an array");
  push(false);
  ++pos_;
}

bool Reader::next_member(std::string* key) {
  if (frames_.empty() || !frames_.back().object) fail("internal: next_member outside an object");
  Frame& f = frames_.back();
  skip_whitespace();
  if (pos_ >= size_) fail("unexpected end of input inside an object");
  if (data_[pos_] == '}') {
    ++pos_;
    frames_.pop_back();
    return false;
  }
  if (f.count > 0) {
    if (data_[pos_] != ',') fail("expected ',' or '}' in an object");
    ++pos_;
    skip_whitespace();
  }
  if (pos_ >= size_ || data_[pos_] != '"') fail("expected a string key");
  size_t key_pos = pos_;
  std::string k = read_string();
  // read_string cannot touch frames_, so `f` is still valid here.
  if (check_duplicates_ && !f.keys.insert(k).second)
    throw ParseError(ParseError::Kind::DuplicateKey, key_pos,
                     "duplicate key \"" + k + "\" at byte " + std::to_string(key_pos), k,
                     static_cast<int>(frames_.size()));
  skip_whitespace();
  if (pos_ >= size_ || data_[pos_] != ':') fail("expected ':' after an object key");
  ++pos_;
  ++f.count;
  if (key) *key = std::move(k);
  return true;
}

bool Reader::next_element() {
  if (frames_.empty() || frames_.back().object) fail("internal: next_element outside an array");
  Frame& f = frames_.back();
  skip_whitespace();
  if (pos_ >= size_) fail("unexpected end of input inside an array");
  if (data_[pos_] == ']') {
    ++pos_;
    frames_.pop_back();
    return false;
  }
  if (f.count > 0) {
    if (data_[pos_] != ',') fail("expected ',' or ']' in an array");
    ++pos_;
    skip_whitespace();
    if (pos_ < size_ && data_[pos_] == ']') fail("trailing comma in an array");
  }
  ++f.count;
  return true;
}

uint32_t Reader::read_hex4() {
  if (size_ - pos_ < 4) fail("truncated \\u escape");
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    char c = data_[pos_ + i];
    uint32_t d;
    if (c >= '0' && c <= '9') d = static_cast<uint32_t>(c - '0');
    else if (c >= 'a' && c <= 'f') d = static_cast<uint32_t>(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') d = static_cast<uint32_t>(c - 'A' + 10);
    else fail("invalid hex digit in \\u escape");
    v = v * 16 + d;
  }
  pos_ += 4;
  return v;
}

void Reader::append_utf8(std::string* out, uint32_t cp) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string Reader::read_string() {
  if (peek() != Token::String) fail("expected a string");
  ++pos_;
  std::string out;
  const auto* bytes = reinterpret_cast<const unsigned char*>(data_);
  for (;;) {
    if (pos_ >= size_) fail("unterminated string");
    unsigned char c = bytes[pos_];
    if (c == '"') {
      ++pos_;
      return out;
    }
    if (c < 0x20) fail("unescaped control character " + describe_byte(c) + " in a string");
    if (c >= 0x80) {
      size_t n = utf8_sequence_length(bytes + pos_, size_ - pos_);
      if (n == 0)
        throw ParseError(ParseError::Kind::Utf8, pos_, "invalid UTF-8 at byte " + std::to_string(pos_));
      out.append(data_ + pos_, n);
      pos_ += n;
      continue;
    }
    if (c != '\\') {
      out.push_back(static_cast<char>(c));
      ++pos_;
      continue;
    }
    size_t escape_pos = pos_;
    ++pos_;
    if (pos_ >= size_) fail("unterminated escape");
    char e = data_[pos_++];
    switch (e) {
      case '"': out.push_back('"'); break;
      case '\\': out.push_back('\\'); break;
      case '/': out.push_back('/'); break;
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      case 't': out.push_back('\t'); break;
      case 'u': {
        uint32_t cp = read_hex4();
        if (cp >= 0xDC00 && cp <= 0xDFFF) fail_at(escape_pos, "lone low surrogate in \\u escape");
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          // A high surrogate is only a character together with the low one right after it.
          if (size_ - pos_ < 2 || data_[pos_] != '\\' || data_[pos_ + 1] != 'u')
            fail_at(escape_pos, "lone high surrogate in \\u escape");
          pos_ += 2;
          uint32_t low = read_hex4();
          if (low < 0xDC00 || low > 0xDFFF) fail_at(escape_pos, "high surrogate not followed by a low surrogate");
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        }
        append_utf8(&out, cp);
        break;
      }
      default:
        fail_at(escape_pos, "invalid escape '\\" + std::string(1, e) + "'");
    }
  }
}

Number Reader::read_number() {
  if (peek() != Token::Number) fail("expected a number");
  size_t start = pos_;
  Number n;
  bool negative = false;
  if (data_[pos_] == '-') {
    negative = true;
    ++pos_;
  }
  if (pos_ >= size_ || !is_digit(data_[pos_])) fail("expected a digit");
  bool overflow = false;
  uint64_t v = 0;
  if (data_[pos_] == '0') {
    ++pos_;
    if (pos_ < size_ && is_digit(data_[pos_])) fail("leading zero in a number");
  } else {
    while (pos_ < size_ && is_digit(data_[pos_])) {
      uint64_t d = static_cast<uint64_t>(data_[pos_] - '0');
      if (v > (UINT64_MAX - d) / 10) overflow = true;
      else v = v * 10 + d;
      ++pos_;
    }
  }
  bool fraction = false;
  if (pos_ < size_ && data_[pos_] == '.') {
    fraction = true;
    ++pos_;
    if (pos_ >= size_ || !is_digit(data_[pos_])) fail("expected a digit after '.'");
    while (pos_ < size_ && is_digit(data_[pos_])) ++pos_;
  }
  if (pos_ < size_ && (data_[pos_] == 'e' || data_[pos_] == 'E')) {
    fraction = true;
    ++pos_;
    if (pos_ < size_ && (data_[pos_] == '+' || data_[pos_] == '-')) ++pos_;
    if (pos_ >= size_ || !is_digit(data_[pos_])) fail("expected a digit in an exponent");
    while (pos_ < size_ && is_digit(data_[pos_])) ++pos_;
  }
  n.text.assign(data_ + start, pos_ - start);
  if (fraction) n.kind = Number::Kind::Fraction;
  else if (negative) n.kind = Number::Kind::Negative;
  else if (overflow) n.kind = Number::Kind::Overflow;
  else {
    n.kind = Number::Kind::Integer;
    n.value = v;
  }
  return n;
}

void Reader::expect_literal(const char* word) {
  size_t i = 0;
  for (; word[i]; ++i) {
    if (pos_ + i >= size_ || data_[pos_ + i] != word[i]) fail(std::string("invalid literal, expected '") + word + "'");
  }
  pos_ += i;
}

bool Reader::read_bool() {
  Token t = peek();
  if (t == Token::True) {
    expect_literal("true");
    return true;
  }
  if (t == Token::False) {
    expect_literal("false");
    return false;
  }
  fail("expected a boolean");
}

void Reader::read_null() {
  if (peek() != Token::Null) fail("expected null");
  expect_literal("null");
}

// Recursion is bounded by max_depth_ through push().
void Reader::skip_value() {
  switch (peek()) {
    case Token::Object:
      begin_object();
      while (next_member(nullptr)) skip_value();
      return;
    case Token::Array:
      begin_array();
      while (next_element()) skip_value();
      return;
    case Token::String: read_string(); return;
    case Token::Number: read_number(); return;
    case Token::True:
    case Token::False: read_bool(); return;
    case Token::Null: read_null(); return;
  }
}

void Reader::finish() {
  skip_whitespace();
  if (pos_ < size_)
    fail("unexpected " + describe_byte(static_cast<unsigned char>(data_[pos_])) + " after the end of the document");
}

void validate(const char* data, size_t size, int max_depth) {
  Reader r(data, size, max_depth, true);
  r.skip_value();
  r.finish();
}

}  // namespace json
}  // namespace np
