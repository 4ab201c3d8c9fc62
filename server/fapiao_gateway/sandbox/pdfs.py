"""The PDFs the sandbox serves at its invoices' pdf_url: small, valid (a page with one line
of text, a correct cross-reference table) and deterministic — the same media_id always gives
the same bytes, so a test can compare what the gateway archived with what was served."""


def invoice_pdf(media_id: str) -> bytes:
    """A one-page PDF naming `media_id` (ASCII-safe: anything else becomes "?")."""
    label = "".join(
        c if c.isascii() and c.isprintable() and c not in "()\\" else "?" for c in media_id
    )
    text = f"BT /F1 12 Tf 72 720 Td (Sandbox e-invoice {label}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text),
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)
