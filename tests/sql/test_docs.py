"""pipelines.docs: dbt's static docs, one self-contained HTML file."""

from __future__ import annotations

import re

from pipelines.docs import write_docs


def test_docs_are_one_self_contained_file(built_path, tmp_path):
    path = write_docs(tmp_path / "docs", built_path)
    assert path == tmp_path / "docs" / "evenergy-models.html"
    assert list(path.parent.iterdir()) == [path]
    html = path.read_text(encoding="utf-8")
    # the manifest (models, descriptions, lineage) and the catalog are inlined
    for name in ("int_dispatch_attempts", "daily_fleet_reporting", "is_provisional"):
        assert name in html, name
    # nothing fetched from a network: no external script, stylesheet or image
    assert not re.search(r"""<(script|link|img)[^>]+(src|href)=["']https?://""", html)
