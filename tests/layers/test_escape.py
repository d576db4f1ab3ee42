import re

import folium
import pytest

from layers.escape import escape_map_text


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("${alert(1)}", "&#36;{alert(1)}"),
        ("</script><script>alert(1)</script>", "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;"),
        ("`backtick`", "&#96;backtick&#96;"),
        ("a\\`b", "a&#92;&#96;b"),
        ("\"double\" and 'single'", "&quot;double&quot; and &#x27;single&#x27;"),
        ("R&D", "R&amp;D"),
        ("주교동 행정복지센터", "주교동 행정복지센터"),
        ("", ""),
        (None, ""),
        (12345, "12345"),
    ],
)
def test_escape_map_text(raw, expected):
    assert escape_map_text(raw) == expected


def test_result_has_no_character_special_to_html_or_template_literals():
    nasty = "<>&\"'`$\\ ${x} </script> \\u0060"
    out = escape_map_text(nasty)
    assert not re.search(r"[<>\"'`$\\]", out)
    assert "&" not in out.replace("&amp;", "").replace("&lt;", "").replace("&gt;", "").replace("&quot;", "").replace(
        "&#x27;", ""
    ).replace("&#96;", "").replace("&#36;", "").replace("&#92;", "")


def test_escaped_text_cannot_break_out_of_folium_tooltip_or_popup():
    payload = "${alert(1)}`);alert(2);(`</script><img src=x onerror=alert(3)>\\"
    m = folium.Map(tiles=None)
    folium.Marker([37.66, 126.83], tooltip=folium.Tooltip(escape_map_text(payload)), popup=folium.Popup(escape_map_text(payload))).add_to(m)
    html = m.get_root().render()
    assert "${alert(1)}" not in html
    assert "`);alert(2)" not in html
    assert "</script><img" not in html
    assert "<img src=x" not in html
    assert "&#36;{alert(1)}&#96;);alert(2);(&#96;&lt;/script&gt;&lt;img src=x onerror=alert(3)&gt;&#92;" in html


def test_escape_markdown_shows_text_literally():
    from streamlit.testing.v1 import AppTest

    from layers.escape import escape_markdown

    payload = "**bold** [link](http://x) <b>html</b> $x^2$ :red[colour] `code` # head\nline2"
    escaped = escape_markdown(payload)
    assert "**" not in escaped.replace("\\*", "") and "](" not in escaped.replace("\\]\\(", "")
    at = AppTest.from_string(f"import streamlit as st\nst.markdown({escaped!r})").run()
    md = at.markdown[0]
    assert md.value == escaped
    assert escape_markdown(None) == ""
