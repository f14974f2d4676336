"""cc_grpc_proto: one .proto file -> a C++ library with its messages and gRPC stubs.

Runs Debian's protoc with grpc_cpp_plugin. Generated headers are included by
their path under protos/, e.g. #include "eid/v1/storage.grpc.pb.h".
"""

def cc_grpc_proto(name, src, deps = [], visibility = None):
    """Declares `name` (cc_library) and `name_files` (the .proto and its imports).

    Args:
      name: name of the cc_library.
      src: the .proto file, relative to this package.
      deps: other cc_grpc_proto targets whose .proto files `src` imports.
      visibility: visibility of the library.
    """
    base = src[:-len(".proto")]
    outs = [base + ext for ext in [".pb.h", ".pb.cc", ".grpc.pb.h", ".grpc.pb.cc"]]
    native.filegroup(
        name = name + "_files",
        srcs = [src] + [d + "_files" for d in deps],
        visibility = visibility,
    )
    native.genrule(
        name = name + "_gen",
        srcs = [src, name + "_files"],
        outs = outs,
        cmd = " ".join([
            "protoc",
            "-I" + (native.package_name() or "."),
            "-I/usr/include",
            "--cpp_out=$(GENDIR)/" + native.package_name(),
            "--grpc_out=$(GENDIR)/" + native.package_name(),
            "--plugin=protoc-gen-grpc=/usr/bin/grpc_cpp_plugin",
            "$(location %s)" % src,
        ]),
    )
    native.cc_library(
        name = name,
        srcs = [base + ".pb.cc", base + ".grpc.pb.cc"],
        hdrs = [base + ".pb.h", base + ".grpc.pb.h"],
        strip_include_prefix = "/" + native.package_name(),
        deps = deps + ["@system//:grpc", "@system//:protobuf"],
        visibility = visibility,
    )
