#include "napi/plan_convert.h"

#include <algorithm>

#include "napi/convert.h"

namespace np_napi {

np::FakeInitParams fake_from_js(const Napi::Object& fake, const std::string& tensor) {
  Napi::Env env = fake.Env();
  np::FakeInitParams p;
  int kind = static_cast<int>(get_number(fake, "kind"));
  if (kind < 0 || kind > 2) throw make_error(env, np::ErrorCode::InvalidArgument, "fake-init kind must be 0, 1 or 2", {}, tensor);
  p.kind = static_cast<np::FakeInitKind>(kind);
  p.a = get_number(fake, "a");
  p.b = get_number(fake, "b");
  p.key0 = static_cast<uint32_t>(get_u64(fake, "key0"));
  p.key1 = static_cast<uint32_t>(get_u64(fake, "key1"));
  return p;
}

np::Isa isa_from_js(const Napi::Value& v) {
  np::Isa isa = np::best_isa();
  if (v.IsString() && v.As<Napi::String>().Utf8Value() != "auto") {
    std::string name = v.As<Napi::String>().Utf8Value();
    if (!np::parse_isa(name, &isa) || !np::isa_supported(isa))
      throw make_error(v.Env(), np::ErrorCode::InvalidArgument, "isa '" + name + "' is unknown or not supported here");
  }
  return isa;
}

np::ScanPlan plan_from_js(const Napi::Object& js) {
  Napi::Env env = js.Env();
  np::ScanPlan plan;
  Napi::Array files = get_array(js, "files");
  for (uint32_t i = 0; i < files.Length(); ++i) {
    Napi::Value f = files.Get(i);
    if (!f.IsString()) throw make_error(env, np::ErrorCode::InvalidArgument, "plan.files must hold strings");
    plan.files.push_back(f.As<Napi::String>().Utf8Value());
  }
  Napi::Array groups = get_array(js, "groups");
  plan.groups.reserve(groups.Length());
  for (uint32_t gi = 0; gi < groups.Length(); ++gi) {
    Napi::Value gv = groups.Get(gi);
    if (!gv.IsObject()) throw make_error(env, np::ErrorCode::InvalidArgument, "plan.groups must hold objects");
    Napi::Object g = gv.As<Napi::Object>();
    np::ScanGroup group;
    group.name = get_string(g, "name");
    group.count = get_u64(g, "count");
    group.fake = fake_from_js(get_object(g, "fake"), group.name);
    Napi::Array members = get_array(g, "members");
    for (uint32_t mi = 0; mi < members.Length(); ++mi) {
      Napi::Value mv = members.Get(mi);
      if (!mv.IsObject()) throw make_error(env, np::ErrorCode::InvalidArgument, "group.members must hold objects");
      Napi::Object m = mv.As<Napi::Object>();
      np::ScanMember member;
      member.file = static_cast<uint32_t>(get_u64(m, "file"));
      member.offset = get_u64(m, "offset");
      std::string dtype = get_string(m, "dtype");
      if (!np::parse_scan_dtype(dtype, &member.dtype))
        throw make_error(env, np::ErrorCode::Dtype, "cannot scan dtype " + dtype, {}, group.name);
      group.members.push_back(member);
    }
    plan.groups.push_back(std::move(group));
  }
  plan.threads = static_cast<int>(get_number_or(js, "threads", 0));
  double chunk = get_number_or(js, "chunkBytes", 2.0 * 1024 * 1024);
  if (!(chunk >= 4096)) throw make_error(env, np::ErrorCode::InvalidArgument, "chunkBytes must be at least 4096");
  plan.chunk_bytes = static_cast<size_t>(chunk);
  plan.isa = isa_from_js(js.Get("isa"));
  Napi::Value mode = js.Get("mode");
  if (mode.IsString() && mode.As<Napi::String>().Utf8Value() == "readsum") plan.mode = np::ScanMode::ReadSum;
  return plan;
}

void set_scan_values(Napi::Env env, Napi::Object result, const np::ScanOutput& out) {
  Napi::Float64Array values = Napi::Float64Array::New(env, out.values.size());
  std::copy(out.values.begin(), out.values.end(), values.Data());
  Napi::Float64Array offsets = Napi::Float64Array::New(env, out.offsets.size());
  for (size_t i = 0; i < out.offsets.size(); ++i) offsets[i] = static_cast<double>(out.offsets[i]);
  result.Set("values", values);
  result.Set("offsets", offsets);
}

}  // namespace np_napi
