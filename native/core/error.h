// Coded errors thrown by the native core. The napi layer turns them into JS errors with a
// `code` property; TypeScript maps codes to error classes that name the file and tensor.
#pragma once
#include <stdexcept>
#include <string>

namespace np {

enum class ErrorCode {
  InvalidArgument,  // E_INVALID_ARG: a caller passed something the API does not accept
  Io,               // E_IO: open/read failed, or a file shrank while being read
  Format,           // E_FORMAT: a file breaks the safetensors format
  Dtype,            // E_DTYPE: a tensor's dtype cannot be scanned
  Aborted,          // E_ABORTED: cancelled through AbortSignal
  NoCuda,           // E_NO_CUDA: CUDA asked for explicitly but not usable
  Cuda,             // E_CUDA: a CUDA call failed
  OutOfMemory,      // E_NOMEM: an allocation failed
  Internal,         // E_INTERNAL: a bug
};

inline const char* error_code_name(ErrorCode c) {
  switch (c) {
    case ErrorCode::InvalidArgument: return "E_INVALID_ARG";
    case ErrorCode::Io: return "E_IO";
    case ErrorCode::Format: return "E_FORMAT";
    case ErrorCode::Dtype: return "E_DTYPE";
    case ErrorCode::Aborted: return "E_ABORTED";
    case ErrorCode::NoCuda: return "E_NO_CUDA";
    case ErrorCode::Cuda: return "E_CUDA";
    case ErrorCode::OutOfMemory: return "E_NOMEM";
    case ErrorCode::Internal: return "E_INTERNAL";
  }
  return "E_INTERNAL";
}

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message, std::string file = {}, std::string tensor = {})
      : std::runtime_error(message), code_(code), file_(std::move(file)), tensor_(std::move(tensor)) {}
  ErrorCode code() const { return code_; }
  const std::string& file() const { return file_; }
  const std::string& tensor() const { return tensor_; }

 private:
  ErrorCode code_;
  std::string file_;
  std::string tensor_;
};

}  // namespace np
