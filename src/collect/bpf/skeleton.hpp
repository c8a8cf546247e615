// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// RAII over a bpftool skeleton (bpftool 7.x emits C++ static wrappers T::open/load/destroy,
// as the kernel's BPF selftests use them). Destroying the skeleton detaches its links, closes
// its maps and unloads its programs, so nothing stays attached once the owner is gone.

#include <bpf/libbpf.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "core/result.hpp"

namespace vmtune::collect::bpf {

template <typename Skel>
class Skeleton {
 public:
  Skeleton() = default;
  Skeleton(const Skeleton&) = delete;
  Skeleton& operator=(const Skeleton&) = delete;
  Skeleton(Skeleton&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
  Skeleton& operator=(Skeleton&& o) noexcept {
    if (this != &o) {
      reset();
      s_ = std::exchange(o.s_, nullptr);
    }
    return *this;
  }
  ~Skeleton() { reset(); }

  /// Opens the embedded object (no kernel interaction yet). `name` is for messages.
  static core::Result<Skeleton> open(const std::string& name) {
    Skeleton sk;
    errno = 0;
    sk.s_ = Skel::open(nullptr);
    if (sk.s_ == nullptr) {
      const int err = errno != 0 ? errno : EINVAL;
      return core::make_error(core::ErrorKind::io_error, name + ".bpf.o",
                              std::string("open failed: ") + std::strerror(err));
    }
    return sk;
  }

  /// Loads every program whose autoload is on. Returns 0 or a negative errno.
  int load() noexcept { return Skel::load(s_); }

  Skel* get() const noexcept { return s_; }
  Skel* operator->() const noexcept { return s_; }
  struct bpf_object* object() const noexcept { return s_ != nullptr ? s_->obj : nullptr; }
  explicit operator bool() const noexcept { return s_ != nullptr; }

  void reset() noexcept {
    if (s_ != nullptr) Skel::destroy(s_);
    s_ = nullptr;
  }

 private:
  Skel* s_ = nullptr;
};

/// One attached program (bpf_link). Destroying it detaches the program.
class Link {
 public:
  explicit Link(struct bpf_link* link) noexcept : l_(link) {}
  Link(const Link&) = delete;
  Link& operator=(const Link&) = delete;
  Link(Link&& o) noexcept : l_(std::exchange(o.l_, nullptr)) {}
  Link& operator=(Link&& o) noexcept {
    if (this != &o) {
      if (l_ != nullptr) bpf_link__destroy(l_);
      l_ = std::exchange(o.l_, nullptr);
    }
    return *this;
  }
  ~Link() {
    if (l_ != nullptr) bpf_link__destroy(l_);
  }

 private:
  struct bpf_link* l_;
};

}  // namespace vmtune::collect::bpf
