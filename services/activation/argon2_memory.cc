#include "services/activation/argon2_memory.h"

#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace eid::activation {
namespace {

// The region lent to this thread, if any.
thread_local Argon2Memory* lent_here = nullptr;

void* KernelMmap(void* addr, size_t length, int prot, int flags, int fd, off_t offset) {
  return reinterpret_cast<void*>(syscall(SYS_mmap, addr, length, prot, flags, fd, offset));
}

int KernelMunmap(void* addr, size_t length) {
  return static_cast<int>(syscall(SYS_munmap, addr, length));
}

// What libsodium's Argon2 asks for, and nothing else: a private anonymous
// read-write mapping anywhere (MAP_POPULATE allowed).
bool IsWorkMemoryRequest(void* addr, int prot, int flags, int fd) {
  const int allowed = MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE | MAP_NORESERVE;
  return addr == nullptr && fd == -1 && prot == (PROT_READ | PROT_WRITE) &&
         (flags & (MAP_PRIVATE | MAP_ANONYMOUS)) == (MAP_PRIVATE | MAP_ANONYMOUS) &&
         (flags & ~allowed) == 0;
}

}  // namespace

struct Argon2Memory::Hooks {
  static void* Map(void* addr, size_t length, int prot, int flags, int fd, off_t offset) {
    Argon2Memory* m = lent_here;
    if (m == nullptr || m->in_use_ || !IsWorkMemoryRequest(addr, prot, flags, fd)) {
      return KernelMmap(addr, length, prot, flags, fd, offset);
    }
    if (m->base_ != nullptr && length <= m->size_) {
      m->in_use_ = true;
      m->reuses_.fetch_add(1);
      return m->base_;
    }
    if (m->base_ != nullptr) {  // Too small for this hash: trade it for one that fits.
      KernelMunmap(m->base_, m->size_);
      m->base_ = nullptr;
    }
    void* fresh = KernelMmap(nullptr, length, prot, flags, -1, 0);
    if (fresh == MAP_FAILED) return fresh;
    madvise(fresh, length, MADV_DONTDUMP);
    m->base_ = fresh;
    m->size_ = length;
    m->in_use_ = true;
    m->kernel_mappings_.fetch_add(1);
    return fresh;
  }

  static int Unmap(void* addr, size_t length) {
    Argon2Memory* m = lent_here;
    if (m != nullptr && m->in_use_ && addr == m->base_) {
      m->in_use_ = false;  // Kept for the next hash.
      return 0;
    }
    return KernelMunmap(addr, length);
  }
};

Argon2Memory::~Argon2Memory() {
  if (base_ != nullptr) KernelMunmap(base_, size_);
}

Argon2Memory::Lend::Lend(Argon2Memory* memory) { lent_here = memory; }

Argon2Memory::Lend::~Lend() {
  // libsodium always unmaps; if it had not, its region is free all the same.
  if (lent_here != nullptr) lent_here->in_use_ = false;
  lent_here = nullptr;
}

}  // namespace eid::activation

// The process's mmap and munmap (they take the place of libc's: see the
// header). Anything not an Argon2 mapping under a Lend is passed on as is.
extern "C" void* mmap(void* addr, size_t length, int prot, int flags, int fd,
                      off_t offset) noexcept {
  return eid::activation::Argon2Memory::Hooks::Map(addr, length, prot, flags, fd, offset);
}

extern "C" int munmap(void* addr, size_t length) noexcept {
  return eid::activation::Argon2Memory::Hooks::Unmap(addr, length);
}
