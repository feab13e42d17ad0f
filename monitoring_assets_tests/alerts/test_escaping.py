"""Data cannot command what renders it: Markdown in Dagster's metadata and descriptions, and
Slack's control characters, stay text."""

import re

from monitoring_assets.assets.common import markdown_table
from monitoring_assets.health.status import escape_markdown

HOSTILE = "![pixel](http://evil.example/p.png) [click](http://evil.example) <img src=x> a|b *bold* `code`"


def test_a_metadata_table_cell_cannot_render_an_image_a_link_html_or_a_new_column():
    table = markdown_table([{"feature": "plan", "unseen": HOSTILE}], ["feature", "unseen"]).value
    row = table.splitlines()[2]
    # Only the table's own separators remain unescaped: three of them for two cells.
    assert len(re.findall(r"(?<!\\)\|", row)) == 3
    cell = re.split(r"(?<!\\)\|", row)[2]
    assert re.findall(r"(?<!\\)[\[\]()!<>*`]", cell) == []
    assert "\\!\\[pixel\\]\\(http://evil.example/p.png\\)" in row


def test_escaping_keeps_the_text_readable_and_leaves_plain_values_alone():
    assert escape_markdown("sessions_per_week") == "sessions\\_per\\_week"  # renders as written
    assert escape_markdown("0.25") == "0.25" and escape_markdown("2026-11-17") == "2026-11-17"
    assert escape_markdown("two\nlines") == "two lines"
