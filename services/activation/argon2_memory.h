// Argon2Memory: the memory an Argon2id hash works in, kept mapped from one
// hash to the next.
//
// libsodium maps a fresh region for every hash (19 MiB, MAP_POPULATE) and
// unmaps it afterwards, so the kernel allocates, zeroes and frees 4,864
// pages per hash: about a quarter of the hash's CPU (here, 80 hashes per
// CPU-second as libsodium ships against 108 in memory kept mapped).
// libsodium cannot be handed memory, so this library defines mmap and munmap
// for the process (the first definition the dynamic linker finds, before
// libc's). While a thread holds a Lend, the one mapping libsodium's Argon2
// asks for on that thread (anonymous, private, read-write, MAP_POPULATE, no
// address) is answered with the lent region, mapped at its first use, or
// mapped anew if the request is larger (the region keeps the largest size
// asked for); its unmapping keeps it. Every other call, on any thread, goes
// straight to the kernel.
//
// Owning the region also lets it be asked for huge pages (MADV_HUGEPAGE, on
// a 2 MiB boundary): Argon2 reads blocks at random across its memory, and
// far fewer TLB entries cover it in 2 MiB pages (a C loop, on another day:
// 133-139 hashes per CPU-second against 118-124 in kept 4 KiB pages). Where
// the kernel has none to give, the region has 4 KiB pages.
//
// Argon2 writes every block before it reads it, so what a previous hash left
// in the region changes nothing (the tests check the hashes are the same).
// Nothing wipes the region, as libsodium never wiped its own (it only
// unmapped it, leaving the pages to the kernel): it holds the last hash's
// final-pass blocks until the next hash overwrites them. It is left out of
// core dumps. Reading them needs the process's memory, which holds the
// pepper and the passcodes in flight anyway.
//
// One region serves one hash at a time: HashGate hands one to each slot.
#ifndef EID_SERVICES_ACTIVATION_ARGON2_MEMORY_H_
#define EID_SERVICES_ACTIVATION_ARGON2_MEMORY_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace eid::activation {

class Argon2Memory {
 public:
  Argon2Memory() = default;
  Argon2Memory(const Argon2Memory&) = delete;
  Argon2Memory& operator=(const Argon2Memory&) = delete;
  ~Argon2Memory();

  // While alive, this thread's Argon2 mapping is answered from `memory`
  // (nothing if null); the Lend before it, if any, applies again after it.
  // Destroyed on the thread that made it, innermost first (the process
  // aborts otherwise: a wrong region lent on would be shared by two hashes).
  class Lend {
   public:
    explicit Lend(Argon2Memory* memory);
    Lend(const Lend&) = delete;
    Lend& operator=(const Lend&) = delete;
    ~Lend();

   private:
    Argon2Memory* const memory_;
    Argon2Memory* const previous_;
  };

  // Times the kernel mapped a region for this memory (1 once it has served;
  // more if a larger one was asked for, or one was not given back), and
  // mappings answered without the kernel.
  int kernel_mappings() const { return kernel_mappings_.load(); }
  int64_t reuses() const { return reuses_.load(); }

  // What this library's mmap and munmap call (argon2_memory.cc); nothing
  // else should.
  struct Hooks;

 private:

  void* base_ = nullptr;
  size_t size_ = 0;
  bool in_use_ = false;
  std::atomic<int> kernel_mappings_{0};
  std::atomic<int64_t> reuses_{0};
};

}  // namespace eid::activation

#endif  // EID_SERVICES_ACTIVATION_ARGON2_MEMORY_H_
