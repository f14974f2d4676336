"""One repository rule that turns Debian's pkg-config files into cc_library targets.

Each target carries the link flags and preprocessor defines pkg-config prints,
so every flag for a system library lives here and nowhere else. Headers come
from /usr/include, which the compiler searches already.
"""

# target name -> (pkg-config modules, extra linker flags pkg-config omits)
_LIBS = {
    "absl": ([
        "absl_base",
        "absl_flags",
        "absl_flags_parse",
        "absl_flags_usage",
        "absl_hash",
        "absl_raw_hash_set",
        "absl_random_random",
        "absl_status",
        "absl_statusor",
        "absl_str_format_internal",
        "absl_strings",
        "absl_synchronization",
        "absl_time",
        "absl_cord",
    ], []),
    "benchmark": (["benchmark"], []),
    # Debian's libcivetweb-dev ships no pkg-config file.
    "civetweb": ([], ["-lcivetweb"]),
    "benchmark_main": (["benchmark"], ["-lbenchmark_main"]),
    "gmock": (["gmock"], []),
    "grpc": (["grpc++", "grpc"], ["-lgrpc++_reflection"]),
    "gtest": (["gtest", "gmock"], []),
    "gtest_main": (["gtest", "gmock", "gtest_main"], []),
    "openssl": (["openssl"], []),
    "prometheus": (["prometheus-cpp-pull", "prometheus-cpp-core"], []),
    "protobuf": (["protobuf"], []),
    "qrencode": (["libqrencode"], []),
    # RocksDB from its static archive (see _STATIC): its hot paths reach the
    # thread-local perf context on every key comparison, and from a shared
    # library each access is a __tls_get_addr call (8% of the audit log's
    # CPU); linked into the executable it is a plain %fs-relative load.
    "rocksdb": (["rocksdb"], []),
    "sodium": (["libsodium"], []),
    "zlib": (["zlib"], []),
}

# library flag pkg-config prints -> the static archive and the shared
# libraries that archive needs (what librocksdb.so lists as NEEDED).
_STATIC = {
    "-lrocksdb": [
        "-l:librocksdb.a",
        "-lgflags",
        "-lsnappy",
        "-lz",
        "-lbz2",
        "-llz4",
        "-lzstd",
        "-lpthread",
    ],
}

def _pkg_config(rctx, flag, modules):
    if not modules:
        return []
    result = rctx.execute(["pkg-config", flag] + modules)
    if result.return_code != 0:
        fail("pkg-config %s %s failed (run tools/bootstrap): %s" % (
            flag,
            " ".join(modules),
            result.stderr,
        ))
    return result.stdout.strip().split(" ")

def _system_libs_impl(rctx):
    lines = ['package(default_visibility = ["//visibility:public"])', ""]
    for name in sorted(_LIBS.keys()):
        modules, extra = _LIBS[name]
        libs = []
        for f in _pkg_config(rctx, "--libs", modules):
            if f:
                libs += _STATIC.get(f, [f])
        libs += extra
        defines = [
            f[2:]
            for f in _pkg_config(rctx, "--cflags", modules)
            if f.startswith("-D")
        ]
        lines.append("cc_library(")
        lines.append('    name = "%s",' % name)
        lines.append("    linkopts = %s," % repr(libs))
        lines.append("    defines = %s," % repr(depset(defines).to_list()))
        lines.append(")")
        lines.append("")
    rctx.file("WORKSPACE", 'workspace(name = "%s")\n' % rctx.name)
    rctx.file("BUILD", "\n".join(lines))

system_libs = repository_rule(
    implementation = _system_libs_impl,
    local = True,
    doc = "cc_library targets for Debian's system libraries, from pkg-config.",
)
