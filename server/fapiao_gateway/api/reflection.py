"""Server reflection (grpc.reflection v1 and v1alpha) that keeps the contract's comments.

grpcio-reflection answers from the descriptor pool, whose descriptors carry no source info,
so `grpcurl describe` would show the contract without its documentation; and it cannot find
methods or fields by name (`describe fapiao.v1.InvoiceService.UpdateStatusBatch`). This one
answers from FileDescriptorProtos: the contract's as `buf build` wrote them, comments
included (fapiao/v1/descriptor_set.binpb, written by scripts/generate beside the generated
code), and the pool's for everything else a caller may need (health, reflection, the
google.rpc error details, the well-known types).

v1 and v1alpha are the same messages under two package names, so one handler serves both:
grpcurl asks v1alpha, buf curl asks v1.
"""

from collections.abc import AsyncIterator, Iterable
from importlib import resources
from typing import Any

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool
from grpc_reflection.v1alpha import reflection_pb2

#: The two names the same reflection service is asked under.
SERVICE_NAMES = ("grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection")
#: Files every answer can resolve beyond the services': the error details callers decode.
_ALWAYS = ("google/rpc/status.proto", "google/rpc/error_details.proto")
#: The contract with its comments, as scripts/generate writes it.
_DOCUMENTED = ("fapiao.v1", "descriptor_set.binpb")


def documented_contract() -> descriptor_pb2.FileDescriptorSet:
    """The contract's files with source info (comments), as committed with the generated code."""
    package, name = _DOCUMENTED
    data = resources.files(package).joinpath(name).read_bytes()
    return descriptor_pb2.FileDescriptorSet.FromString(data)


class DescriptorIndex:
    """Files by name and the file that declares each symbol, built once at start."""

    def __init__(self, files: Iterable[descriptor_pb2.FileDescriptorProto]) -> None:
        self.files: dict[str, descriptor_pb2.FileDescriptorProto] = {}
        self.symbols: dict[str, str] = {}
        self.extensions: dict[str, dict[int, str]] = {}
        for file in files:
            self.files[file.name] = file
            self._index(file)

    @classmethod
    def for_services(
        cls,
        services: Iterable[str],
        documented: descriptor_pb2.FileDescriptorSet,
        pool: descriptor_pool.DescriptorPool | None = None,
    ) -> "DescriptorIndex":
        """The services' files and their imports: documented ones first, else the pool's."""
        pool = pool or descriptor_pool.Default()
        chosen = {f.name: f for f in documented.file}
        roots = [pool.FindFileContainingSymbol(s).name for s in services] + list(_ALWAYS)
        pending = [name for name in roots if name not in chosen] + list(chosen)
        while pending:
            name = pending.pop()
            if name not in chosen:
                proto = descriptor_pb2.FileDescriptorProto()
                pool.FindFileByName(name).CopyToProto(proto)
                chosen[name] = proto
            pending += [d for d in chosen[name].dependency if d not in chosen]
        return cls(chosen.values())

    def _index(self, file: descriptor_pb2.FileDescriptorProto) -> None:
        prefix = f"{file.package}." if file.package else ""

        def add(name: str) -> None:
            self.symbols[name] = file.name

        def messages(scope: str, types: Iterable[descriptor_pb2.DescriptorProto]) -> None:
            for message in types:
                name = f"{scope}{message.name}"
                add(name)
                for field in message.field:
                    add(f"{name}.{field.name}")
                for oneof in message.oneof_decl:
                    add(f"{name}.{oneof.name}")
                enums(f"{name}.", message.enum_type)
                extensions(f"{name}.", message.extension)
                messages(f"{name}.", message.nested_type)

        def enums(scope: str, types: Iterable[descriptor_pb2.EnumDescriptorProto]) -> None:
            for enum in types:
                add(f"{scope}{enum.name}")
                for value in enum.value:  # enum values are scoped like their enum
                    add(f"{scope}{value.name}")

        def extensions(scope: str, fields: Iterable[descriptor_pb2.FieldDescriptorProto]) -> None:
            for field in fields:
                add(f"{scope}{field.name}")
                extendee = field.extendee.lstrip(".")
                self.extensions.setdefault(extendee, {})[field.number] = file.name

        messages(prefix, file.message_type)
        enums(prefix, file.enum_type)
        extensions(prefix, file.extension)
        for service in file.service:
            add(f"{prefix}{service.name}")
            for method in service.method:
                add(f"{prefix}{service.name}.{method.name}")

    def with_imports(self, name: str) -> list[bytes]:
        """The file first, then everything it imports, transitively, each once."""
        ordered: list[str] = []
        pending = [name]
        while pending:
            current = pending.pop(0)
            if current not in ordered and current in self.files:
                ordered.append(current)
                pending += list(self.files[current].dependency)
        return [self.files[n].SerializeToString() for n in ordered]


class ReflectionService:
    """Answers ServerReflectionInfo streams from a DescriptorIndex."""

    def __init__(self, services: Iterable[str], index: DescriptorIndex) -> None:
        self._services = sorted(services)
        self._index = index

    def answer(self, request: Any) -> Any:
        """One response for one request (reflection_pb2 messages; v1 has the same wire form)."""
        kind = request.WhichOneof("message_request")
        index = self._index
        if kind == "list_services":
            listed = [reflection_pb2.ServiceResponse(name=n) for n in self._services]
            return reflection_pb2.ServerReflectionResponse(
                original_request=request,
                list_services_response=reflection_pb2.ListServiceResponse(service=listed),
            )
        file: str | None = None
        if kind == "file_by_filename":
            file = request.file_by_filename if request.file_by_filename in index.files else None
        elif kind == "file_containing_symbol":
            file = index.symbols.get(request.file_containing_symbol.lstrip("."))
        elif kind == "file_containing_extension":
            wanted = request.file_containing_extension
            file = index.extensions.get(wanted.containing_type, {}).get(wanted.extension_number)
        elif kind == "all_extension_numbers_of_type":
            base = request.all_extension_numbers_of_type
            if base in index.symbols:
                numbers = sorted(index.extensions.get(base, {}))
                return reflection_pb2.ServerReflectionResponse(
                    original_request=request,
                    all_extension_numbers_response=reflection_pb2.ExtensionNumberResponse(
                        base_type_name=base, extension_number=numbers
                    ),
                )
        if file is None:
            return self._error(request, grpc.StatusCode.NOT_FOUND, f"not found: {kind}")
        return reflection_pb2.ServerReflectionResponse(
            original_request=request,
            file_descriptor_response=reflection_pb2.FileDescriptorResponse(
                file_descriptor_proto=index.with_imports(file)
            ),
        )

    @staticmethod
    def _error(request: Any, code: grpc.StatusCode, message: str) -> Any:
        return reflection_pb2.ServerReflectionResponse(
            original_request=request,
            error_response=reflection_pb2.ErrorResponse(
                error_code=code.value[0], error_message=message
            ),
        )

    async def info(
        self, requests: AsyncIterator[Any], _: "grpc.aio.ServicerContext[Any, Any]"
    ) -> Any:
        async for request in requests:
            yield self.answer(request)

    def handlers(self) -> "list[grpc.GenericRpcHandler[Any, Any]]":
        """One generic handler per reflection version, for server.add_generic_rpc_handlers."""
        method = grpc.stream_stream_rpc_method_handler(
            self.info,
            request_deserializer=reflection_pb2.ServerReflectionRequest.FromString,
            response_serializer=reflection_pb2.ServerReflectionResponse.SerializeToString,
        )
        return [
            grpc.method_handlers_generic_handler(name, {"ServerReflectionInfo": method})
            for name in SERVICE_NAMES
        ]


def reflection_handlers(services: Iterable[str]) -> "list[grpc.GenericRpcHandler[Any, Any]]":
    """Reflection for `services` (plus itself), answering with the contract's comments."""
    listed = [*services, SERVICE_NAMES[1]]
    index = DescriptorIndex.for_services(listed, documented_contract())
    return ReflectionService(listed, index).handlers()
