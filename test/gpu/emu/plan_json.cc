#include "plan_json.h"

#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "core/json.h"

namespace np_emu {
namespace {

// A parsed JSON value (the plan is small: a tree is fine here).
struct Value {
  np::json::Token kind = np::json::Token::Null;
  double number = 0;
  std::string text;
  bool flag = false;
  std::map<std::string, Value> object;
  std::vector<Value> array;

  const Value& at(const std::string& key) const {
    auto it = object.find(key);
    if (it == object.end()) throw std::runtime_error("plan json: missing field '" + key + "'");
    return it->second;
  }
  const Value* find(const std::string& key) const {
    auto it = object.find(key);
    return it == object.end() || it->second.kind == np::json::Token::Null ? nullptr : &it->second;
  }
  double num(const std::string& key) const {
    const Value& v = at(key);
    if (v.kind != np::json::Token::Number) throw std::runtime_error("plan json: '" + key + "' is not a number");
    return v.number;
  }
  uint64_t u64(const std::string& key) const {
    const double d = num(key);
    if (!(d >= 0) || d != static_cast<double>(static_cast<uint64_t>(d)))
      throw std::runtime_error("plan json: '" + key + "' is not a non-negative integer");
    return static_cast<uint64_t>(d);
  }
  const std::string& str(const std::string& key) const {
    const Value& v = at(key);
    if (v.kind != np::json::Token::String) throw std::runtime_error("plan json: '" + key + "' is not a string");
    return v.text;
  }
};

Value parse(np::json::Reader& r) {
  Value v;
  v.kind = r.peek();
  switch (v.kind) {
    case np::json::Token::Object: {
      r.begin_object();
      std::string key;
      while (r.next_member(&key)) v.object[key] = parse(r);
      break;
    }
    case np::json::Token::Array:
      r.begin_array();
      while (r.next_element()) v.array.push_back(parse(r));
      break;
    case np::json::Token::String:
      v.text = r.read_string();
      break;
    case np::json::Token::Number:
      // strtod reads JSON.stringify's shortest round-trip digits back to the same double.
      v.number = std::strtod(r.read_number().text.c_str(), nullptr);
      break;
    case np::json::Token::True:
    case np::json::Token::False:
      v.flag = r.read_bool();
      break;
    case np::json::Token::Null:
      r.read_null();
      break;
  }
  return v;
}

np::DType dtype_of(const std::string& s) {
  np::DType t;
  if (!np::parse_scan_dtype(s, &t)) throw std::runtime_error("plan json: cannot scan dtype " + s);
  return t;
}

void source(const Value& v, uint32_t* file, uint64_t* offset, np::DType* dtype) {
  *file = static_cast<uint32_t>(v.u64("file"));
  *offset = v.u64("offset");
  if (dtype) *dtype = dtype_of(v.str("dtype"));
}

np::ScanMember member_of(const Value& m) {
  np::ScanMember mem;
  mem.file = static_cast<uint32_t>(m.u64("file"));
  mem.offset = m.u64("offset");
  if (const Value* p = m.find("packed")) {
    np::PackedRows& q = mem.packed;
    q.bits = static_cast<uint32_t>(p->u64("bits"));
    q.awq = p->find("awq") && p->at("awq").flag;
    q.zero_offset = static_cast<uint32_t>(p->u64("zeroOffset"));
    q.in = p->u64("in");
    q.out = p->u64("out");
    q.groups = p->u64("groups");
    q.group_size = p->u64("groupSize");
    source(p->at("zeros"), &q.zeros_file, &q.zeros_offset, nullptr);
    source(p->at("scales"), &q.scales_file, &q.scales_offset, &q.scales_dtype);
    if (const Value* g = p->find("gIdx")) {
      q.has_gidx = true;
      source(*g, &q.gidx_file, &q.gidx_offset, nullptr);
    }
    mem.dtype = np::DType::F32;  // the kernels see the unpacked floats
  } else if (const Value* l = m.find("lora")) {
    np::LoraRows& r = mem.lora;
    r.base = static_cast<uint32_t>(l->u64("base"));
    r.rank = static_cast<uint32_t>(l->u64("rank"));
    r.cols = l->u64("cols");
    r.scale = l->num("scale");
    source(l->at("a"), &r.a_file, &r.a_offset, &r.a_dtype);
    source(l->at("b"), &r.b_file, &r.b_offset, &r.b_dtype);
    mem.dtype = np::DType::F32;  // the kernels see the formed floats
  } else if (const Value* g = m.find("gguf")) {
    const std::string& type = m.str("dtype");
    mem.gguf.type = np::ggml_type_by_name(type);
    if (!mem.gguf.type || !mem.gguf.type->dequantizable) throw std::runtime_error("plan json: cannot scan ggml type " + type);
    mem.gguf.row_elems = g->u64("rowElems");
    mem.gguf.rows = g->u64("rows");
    mem.gguf.perm_heads = static_cast<uint32_t>(g->u64("permHeads"));
    mem.dtype = np::DType::F32;  // the kernels see the dequantized floats
  } else {
    mem.dtype = dtype_of(m.str("dtype"));
  }
  return mem;
}

}  // namespace

np::ScanPlan read_plan_json(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  np::json::Reader reader(text.data(), text.size());
  const Value root = parse(reader);
  reader.finish();
  np::ScanPlan plan;
  for (const Value& f : root.at("files").array) plan.files.push_back(f.text);
  for (const Value& g : root.at("groups").array) {
    np::ScanGroup group;
    group.name = g.str("name");
    group.count = g.u64("count");
    const Value& f = g.at("fake");
    group.fake.kind = static_cast<np::FakeInitKind>(f.u64("kind"));
    group.fake.a = f.num("a");
    group.fake.b = f.num("b");
    group.fake.key0 = static_cast<uint32_t>(f.u64("key0"));
    group.fake.key1 = static_cast<uint32_t>(f.u64("key1"));
    for (const Value& m : g.at("members").array) group.members.push_back(member_of(m));
    plan.groups.push_back(std::move(group));
  }
  if (const Value* t = root.find("threads")) plan.threads = static_cast<int>(t->number);
  if (const Value* c = root.find("chunkBytes")) plan.chunk_bytes = static_cast<size_t>(c->number);
  plan.isa = np::Isa::Scalar;  // the emulator is built with the portable kernel set only
  return plan;
}

}  // namespace np_emu
