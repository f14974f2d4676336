#include "services/activation/argon2_memory.h"

#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // Linux 5.14; older glibc headers lack it.
#endif

// SYS_mmap takes its arguments as libc's mmap does only on 64-bit Linux
// (i386's is old_mmap); and with 64-bit file offsets on a 32-bit build,
// <sys/mman.h> would rename the mmap defined below to mmap64, leaving libc's
// in place.
#if !defined(__x86_64__) && !defined(__aarch64__)
#error "argon2_memory: 64-bit Linux (x86_64, aarch64) only"
#endif
#ifdef __USE_FILE_OFFSET64
#error "argon2_memory: mmap would be renamed mmap64"
#endif

namespace eid::activation {
namespace {

// The region lent to this thread, if any.
thread_local Argon2Memory* lent_here = nullptr;

void* KernelMmap(void* addr, size_t length, int prot, int flags, int fd, off_t offset) {
  return reinterpret_cast<void*>(syscall(SYS_mmap, addr, length, static_cast<long>(prot),
                                         static_cast<long>(flags), static_cast<long>(fd),
                                         offset));
}

int KernelMunmap(void* addr, size_t length) {
  return static_cast<int>(syscall(SYS_munmap, addr, length));
}

// A fresh region of `length` bytes on a 2 MiB boundary (x86_64's huge page),
// asked to be backed by huge pages: Argon2 reads blocks at random across its
// memory, and far fewer TLB entries cover it (a C loop: 133-139 hashes per
// CPU-second against 118-124 in 4 KiB pages). Where the kernel has them:
// transparent huge pages "madvise" or "always", memory not too fragmented;
// of 19 MiB, 18 can be huge pages. Elsewhere 4 KiB pages, as before.
// Populated once its pages are chosen, as MAP_POPULATE asked (best effort:
// Linux 5.14 and later; before, the first hash faults its pages in).
void* MapRegion(size_t length, int prot) {
  constexpr size_t kHuge = size_t{2} << 20;
  const size_t page = static_cast<size_t>(getpagesize());
  if (length > SIZE_MAX - kHuge - page) {  // Would wrap below; libc refuses it too.
    errno = ENOMEM;
    return MAP_FAILED;
  }
  length = (length + page - 1) / page * page;
  const size_t padded = length + kHuge;
  char* raw = static_cast<char*>(
      KernelMmap(nullptr, padded, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  if (raw == MAP_FAILED) return MAP_FAILED;
  char* start = reinterpret_cast<char*>(
      (reinterpret_cast<uintptr_t>(raw) + kHuge - 1) / kHuge * kHuge);
  if (start > raw) KernelMunmap(raw, start - raw);
  KernelMunmap(start + length, raw + padded - (start + length));  // At least a page.
  // Each best effort: the region works without them.
  madvise(start, length, MADV_HUGEPAGE);
  madvise(start, length, MADV_DONTDUMP);
  madvise(start, length, MADV_POPULATE_WRITE);
  return start;
}

// Exactly what libsodium's Argon2 asks for (libsodium 1.0.18: only Argon2
// and scrypt map with MAP_POPULATE; sodium_malloc and allocators such as
// jemalloc map without it, and must never be handed the region).
bool IsWorkMemoryRequest(void* addr, size_t length, int prot, int flags, int fd) {
  return addr == nullptr && length > 0 && fd == -1 && prot == (PROT_READ | PROT_WRITE) &&
         flags == (MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE);
}

}  // namespace

struct Argon2Memory::Hooks {
  static void* Map(void* addr, size_t length, int prot, int flags, int fd, off_t offset) {
    Argon2Memory* m = lent_here;
    if (m == nullptr || m->in_use_ || !IsWorkMemoryRequest(addr, length, prot, flags, fd)) {
      return KernelMmap(addr, length, prot, flags, fd, offset);
    }
    if (m->base_ != nullptr && length <= m->size_) {
      m->in_use_ = true;
      m->reuses_.fetch_add(1);
      return m->base_;
    }
    void* fresh = MapRegion(length, prot);
    if (fresh == MAP_FAILED) return fresh;  // The region, if any, stays.
    // One too small for this hash is traded for the one that fits.
    if (m->base_ != nullptr) KernelMunmap(m->base_, m->size_);
    m->base_ = fresh;
    m->size_ = length;
    m->in_use_ = true;
    m->kernel_mappings_.fetch_add(1);
    return fresh;
  }

  // The whole region is given back at once, whatever `length` says: only its
  // taker (libsodium, which unmaps what it mapped) ever unmaps it.
  static int Unmap(void* addr, size_t length) {
    Argon2Memory* m = lent_here;
    if (m != nullptr && m->in_use_ && addr == m->base_) {
      m->in_use_ = false;  // Kept for the next hash.
      return 0;
    }
    return KernelMunmap(addr, length);
  }

  // At the end of a Lend: a region still handed out was not given back by
  // whoever holds it, who may still use it. It is theirs now: forgotten,
  // never handed out again.
  static void EndLend(Argon2Memory* m) {
    if (m == nullptr || !m->in_use_) return;
    m->base_ = nullptr;
    m->size_ = 0;
    m->in_use_ = false;
  }
};

Argon2Memory::~Argon2Memory() {
  if (base_ != nullptr) KernelMunmap(base_, size_);
}

Argon2Memory::Lend::Lend(Argon2Memory* memory) : memory_(memory), previous_(lent_here) {
  lent_here = memory;
}

Argon2Memory::Lend::~Lend() {
  if (lent_here != memory_) std::abort();  // Lends ended out of order.
  Hooks::EndLend(memory_);
  lent_here = previous_;
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
