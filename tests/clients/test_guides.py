"""Each language's guide shows its example exactly as the live tests run it."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = {
    "python": "clients/python/examples/read_and_lock.py",
    "typescript": "clients/typescript/examples/read-and-lock.ts",
    "go": "clients/go/examples/readandlock/main.go",
    "java": "clients/java/src/examples/java/io/github/fapiaogateway/examples/ReadAndLock.java",
}


@pytest.mark.parametrize("language", sorted(EXAMPLES))
def test_the_guide_shows_the_tested_example(language: str) -> None:
    guide = (ROOT / "docs" / "clients" / f"{language}.md").read_text()
    example = (ROOT / EXAMPLES[language]).read_text()
    assert f"\n{example}```\n" in guide, f"docs/clients/{language}.md: paste {EXAMPLES[language]}"
    assert EXAMPLES[language] in guide


def test_every_client_has_a_guide() -> None:
    assert {p.stem for p in (ROOT / "docs" / "clients").glob("*.md")} == set(EXAMPLES)
    assert {p.name for p in (ROOT / "clients").iterdir() if p.is_dir()} == set(EXAMPLES)
