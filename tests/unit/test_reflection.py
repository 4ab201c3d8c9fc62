"""The reflection index answers every request kind from descriptors that keep their comments."""

import grpc
from fapiao.v1 import invoice_service_pb2
from fapiao_gateway.api.reflection import (
    SERVICE_NAMES,
    DescriptorIndex,
    ReflectionService,
    documented_contract,
)
from google.protobuf import descriptor_pb2
from grpc_reflection.v1alpha import reflection_pb2

SERVICE = invoice_service_pb2.DESCRIPTOR.services_by_name["InvoiceService"].full_name
SERVICE_FILE = "fapiao/v1/invoice_service.proto"
REFLECTION = ReflectionService(
    [SERVICE], DescriptorIndex.for_services([SERVICE, SERVICE_NAMES[1]], documented_contract())
)


def ask(**request: object) -> reflection_pb2.ServerReflectionResponse:
    return REFLECTION.answer(reflection_pb2.ServerReflectionRequest(**request))


def files(
    response: reflection_pb2.ServerReflectionResponse,
) -> list[descriptor_pb2.FileDescriptorProto]:
    return [
        descriptor_pb2.FileDescriptorProto.FromString(b)
        for b in response.file_descriptor_response.file_descriptor_proto
    ]


def test_a_file_comes_first_with_its_imports_and_the_contract_keeps_its_comments() -> None:
    answer = files(ask(file_by_filename=SERVICE_FILE))
    names = [f.name for f in answer]
    assert names[0] == SERVICE_FILE
    assert set(names) == {
        SERVICE_FILE,
        "fapiao/v1/invoice.proto",
        "fapiao/v1/import_watch.proto",
        "google/protobuf/timestamp.proto",
        "google/protobuf/duration.proto",
    }
    contract = [f for f in answer if f.name.startswith("fapiao/")]
    assert all(f.source_code_info.location for f in contract)
    comments = [loc.leading_comments for loc in contract[0].source_code_info.location]
    assert any("Moves several invoices" in c for c in comments)


def test_symbols_of_every_kind_resolve_to_their_file() -> None:
    for symbol in (
        SERVICE,
        f"{SERVICE}.UpdateStatusBatch",
        "fapiao.v1.InvoiceRef",
        "fapiao.v1.InvoiceRef.card_id",
        "fapiao.v1.InvoiceLookup.result",
        "fapiao.v1.ReimburseStatus",
        "fapiao.v1.REIMBURSE_STATUS_LOCK",
        "google.rpc.BadRequest.FieldViolation",
    ):
        answer = files(ask(file_containing_symbol=symbol))
        assert answer, symbol


def test_unknown_names_are_not_found_and_the_stream_goes_on() -> None:
    for request in (
        {"file_by_filename": "no/such.proto"},
        {"file_containing_symbol": "fapiao.v1.NoSuchThing"},
        {
            "file_containing_extension": reflection_pb2.ExtensionRequest(
                containing_type="fapiao.v1.InvoiceRef", extension_number=1000
            )
        },
        {"all_extension_numbers_of_type": "fapiao.v1.NoSuchThing"},
    ):
        answer = ask(**request)
        assert answer.error_response.error_code == grpc.StatusCode.NOT_FOUND.value[0], request


def test_extension_numbers_of_a_known_type_and_the_service_list() -> None:
    numbers = ask(all_extension_numbers_of_type="fapiao.v1.InvoiceRef")
    assert numbers.all_extension_numbers_response.base_type_name == "fapiao.v1.InvoiceRef"
    assert list(numbers.all_extension_numbers_response.extension_number) == []
    listed = ask(list_services="")
    assert [s.name for s in listed.list_services_response.service] == [SERVICE]
