#pragma once
// Result<T>: a value or an errno, for hot paths where exceptions are not welcome.
// EAGAIN is not an error to callers of c10k: functions that can block report it as a state.

#include <cerrno>
#include <optional>
#include <utility>

namespace c10k::core {

/// An errno value wrapped so that it cannot be confused with a successful int result.
struct Errno {
    int code = 0;
};

/// The errno of the last failed call, as an Errno.
inline Errno last_errno() {
    return Errno{errno};
}

template <class T>
class [[nodiscard]] Result {
public:
    Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit on purpose, like expected
    Result(Errno error) : error_(error.code) {}    // NOLINT

    bool ok() const { return value_.has_value(); }
    explicit operator bool() const { return ok(); }
    /// errno of a failed result; 0 when ok().
    int error() const { return error_; }

    T& value() & { return *value_; }
    const T& value() const& { return *value_; }
    T&& value() && { return std::move(*value_); }
    T* operator->() { return &*value_; }
    const T* operator->() const { return &*value_; }
    T& operator*() { return *value_; }

private:
    std::optional<T> value_;
    int error_ = 0;
};

template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Errno error) : error_(error.code) {}  // NOLINT

    bool ok() const { return error_ == 0; }
    explicit operator bool() const { return ok(); }
    int error() const { return error_; }

private:
    int error_ = 0;
};

}  // namespace c10k::core
