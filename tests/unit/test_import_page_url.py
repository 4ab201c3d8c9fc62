"""The import page URL a QR code encodes keeps the page's own query exactly."""

import pytest
from fapiao_gateway.services.import_qr import page_url_for


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        (
            "https://r.example.com/import?src=qr&lang=&kiosk",
            "https://r.example.com/import?src=qr&lang=&kiosk&bizCode=B-1&appid=wx1",
        ),
        ("https://r.example.com/import", "https://r.example.com/import?bizCode=B-1&appid=wx1"),
        (
            "https://r.example.com/import?bizCode=OLD&x=%E5%8F%91+1&appid=wxold#top",
            "https://r.example.com/import?x=%E5%8F%91+1&bizCode=B-1&appid=wx1#top",
        ),
        (
            "https://r.example.com/import?a=1&&b=&c",
            "https://r.example.com/import?a=1&&b=&c&bizCode=B-1&appid=wx1",
        ),
    ],
)
def test_the_page_query_is_kept_byte_for_byte(page: str, expected: str) -> None:
    assert page_url_for(page, "B-1", "wx1") == expected


def test_the_added_values_are_encoded() -> None:
    url = page_url_for("https://r.example.com/i?k", "a b&c", "wx1")
    assert url == "https://r.example.com/i?k&bizCode=a+b%26c&appid=wx1"
