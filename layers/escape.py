"""Escaping of text that reaches the map.

Folium places tooltips and popups inside JavaScript template literals
(`` `...` ``) and the browser then parses them as HTML. Text from data (names,
user proposals) must therefore be safe in both places: HTML-escaped, and with
the three characters that are special inside a template literal (backtick,
``$`` which starts ``${...}``, backslash) replaced by HTML character references,
which the template literal leaves alone and the HTML parser turns back into the
characters.
"""
from __future__ import annotations

import html

_TEMPLATE_LITERAL = str.maketrans({"`": "&#96;", "$": "&#36;", "\\": "&#92;"})


def escape_map_text(s: object) -> str:
    """``s`` as text that is safe in folium tooltips/popups (HTML and JS template literals).

    ``None`` becomes ``""``; anything else is converted with ``str``. The
    result shows the original characters when rendered as HTML.

    >>> escape_map_text("${alert(1)}")
    '&#36;{alert(1)}'
    """
    if s is None:
        return ""
    return html.escape(str(s), quote=True).translate(_TEMPLATE_LITERAL)


_MARKDOWN_SPECIAL = set("\\`*_{}[]()#+-.!|<>~$:=")


def escape_markdown(s: object) -> str:
    """``s`` as literal text inside Streamlit markdown (no formatting, links, LaTeX or HTML).

    Every character that markdown, Streamlit's ``:colour[...]`` directives or
    ``$...$`` LaTeX could interpret is backslash-escaped; newlines are kept as
    hard line breaks.

    >>> escape_markdown("**bold** $x$")
    '\\\\*\\\\*bold\\\\*\\\\* \\\\$x\\\\$'
    """
    if s is None:
        return ""
    out = "".join("\\" + ch if ch in _MARKDOWN_SPECIAL else ch for ch in str(s))
    return out.replace("\r\n", "\n").replace("\n", "  \n")
