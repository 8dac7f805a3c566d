#pragma once
// Intrusive, non-atomic reference counting for objects owned by one event loop (cached file
// contents, open file descriptors shared by several in-flight responses). Loops share nothing,
// so the count needs no atomic instructions, and the object needs no separate control block.

#include <cstdint>
#include <utility>

namespace c10k::core {

/// Base class for objects held by RefPtr. Not thread-safe by design.
class RefCounted {
public:
    RefCounted() = default;
    RefCounted(const RefCounted&) = delete;
    RefCounted& operator=(const RefCounted&) = delete;
    virtual ~RefCounted() = default;

    void add_ref() { ++refs_; }
    void release() {
        if (--refs_ == 0) delete this;
    }
    std::uint32_t use_count() const { return refs_; }

private:
    std::uint32_t refs_ = 0;
};

template <class T>
class RefPtr {
public:
    RefPtr() = default;
    RefPtr(T* object) : object_(object) {  // NOLINT: adopting a fresh object reads naturally
        if (object_) object_->add_ref();
    }
    RefPtr(const RefPtr& other) : RefPtr(other.object_) {}
    RefPtr(RefPtr&& other) noexcept : object_(std::exchange(other.object_, nullptr)) {}
    RefPtr& operator=(RefPtr other) noexcept {
        std::swap(object_, other.object_);
        return *this;
    }
    ~RefPtr() {
        if (object_) object_->release();
    }

    T* get() const { return object_; }
    T* operator->() const { return object_; }
    T& operator*() const { return *object_; }
    explicit operator bool() const { return object_ != nullptr; }

private:
    T* object_ = nullptr;
};

template <class T, class... Args>
RefPtr<T> make_ref(Args&&... args) {
    return RefPtr<T>(new T(std::forward<Args>(args)...));
}

}  // namespace c10k::core
