"""The end-of-run summary: files read, statements, skipped inputs by reason, language disagreements."""

from __future__ import annotations

from collections import Counter
from typing import Any

from .statement import Problem, Statement

LANG_DISAGREEMENT = "language disagreement"
OTHER_LANGUAGE = "other language"
DATE_AHEAD = "date in the future"
WIDE_EXTRACTION = "wide extraction"


def category(reason: str) -> str:
    """The reason without its details: "invalid JSON: Expecting value" → "invalid JSON"."""
    return reason.split(":", 1)[0].strip()


class Summary:
    """Counts what a run made of its inputs. add() takes InputFile, Statement or Problem items."""

    def __init__(self) -> None:
        self.statements = 0
        self.languages: Counter[str] = Counter()
        self.skipped: Counter[str] = Counter()
        self.warnings: Counter[str] = Counter()
        self.disagreements: Counter[str] = Counter()  # "declared→detected"
        self.other_languages: Counter[str] = Counter()
        # Files are counted as sets of paths, so that a file with several file-level problems (or a problem
        # and an input for the same path) is one file, read or skipped: found = read + skipped, always.
        self._found: set[str] = set()
        self._skipped_files: set[str] = set()

    @property
    def files(self) -> int:
        return len(self._found)

    @property
    def files_skipped(self) -> int:
        return len(self._skipped_files)

    @property
    def files_read(self) -> int:
        return len(self._found - self._skipped_files)

    def add(self, item: Any) -> None:
        if isinstance(item, Statement):
            self.statements += 1
            self.languages[item.lang] += 1
            if item.lang not in ("fr", "en"):
                self.other_languages[item.lang or "unknown"] += 1
            if item.declared_lang and item.declared_lang != item.lang:
                self.disagreements[f"{item.declared_lang}→{item.lang}"] += 1
        elif isinstance(item, Problem):
            if item.kind == "skipped":
                self.skipped[category(item.reason)] += 1
                if item.line is None and item.offset is None:  # the whole file (or folder) was skipped
                    self._found.add(item.path)
                    self._skipped_files.add(item.path)
            else:
                self.warnings[category(item.reason)] += 1
        elif hasattr(item, "kind") and hasattr(item, "root"):  # an InputFile
            self._found.add(str(item.path))

    def lines(self) -> list[str]:
        langs = ", ".join(f"{lang} {n}" for lang, n in self.languages.most_common())
        out = [
            f"files: {self.files} found, {self.files_read} read, "
            f"{self.files_skipped} skipped",
            f"statements: {self.statements}" + (f" ({langs})" if langs else ""),
        ]
        skipped = sum(self.skipped.values())
        out.append(
            f"skipped: {skipped}"
            + ("".join(f"\n  {n:6d}  {reason}" for reason, n in self.skipped.most_common()))
        )
        out.append(
            f"language disagreements: {sum(self.disagreements.values())}"
            + "".join(f"\n  {n:6d}  declared {pair}" for pair, n in self.disagreements.most_common())
        )
        out.append(
            f"other languages (neither fr nor en): {sum(self.other_languages.values())}"
            + "".join(f"\n  {n:6d}  {lang}" for lang, n in self.other_languages.most_common())
        )
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "files_read": self.files_read,
            "files_skipped": self.files_skipped,
            "statements": self.statements,
            "languages": dict(self.languages),
            "skipped": dict(self.skipped),
            "warnings": dict(self.warnings),
            "language_disagreements": sum(self.disagreements.values()),
            "disagreements": dict(self.disagreements),
            "other_languages": dict(self.other_languages),
        }
