"""The report as one self-contained HTML page (print it from a browser, or mail it)."""

from __future__ import annotations

from html import escape

from fieldkit.report.layout import Document

STYLE = ("body{font-family:'DejaVu Sans',Arial,sans-serif;font-size:10pt;max-width:48em;"
         "margin:2em auto;color:#111}h1{font-size:16pt}h2{font-size:12pt;border-bottom:1px "
         "solid #999;margin-top:1.4em}table{border-collapse:collapse;width:100%}th,td{border:"
         "1px solid #bbb;padding:3px 5px;text-align:left;vertical-align:top}.note{font-size:"
         "9pt;color:#444}.sign{margin-top:3em}.sign div{display:inline-block;width:30%;margin-"
         "right:3%;border-top:1px solid #000;padding-top:3px}.company{float:right;text-align:"
         "right}@page{margin:15mm}")


def render(doc: Document, lang: str = "en") -> str:
    out = [f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8">',
           f"<title>{escape(doc.title)}</title><style>{STYLE}</style></head><body>"]
    if doc.company:
        out.append('<div class="company">' + "<br>".join(
            f"<b>{escape(x)}</b>" if i == 0 else escape(x) for i, x in enumerate(doc.company))
                   + "</div>")
    out.append(f"<h1>{escape(doc.title)}</h1><table>")
    out += [f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in doc.facts]
    out.append("</table>")
    for section in doc.sections:
        out.append(f"<h2>{escape(section.title)}</h2>")
        out += [f"<p>{escape(line)}</p>" for line in section.lines]
        if section.table:
            t = section.table
            out.append("<table><tr>" + "".join(f"<th>{escape(h)}</th>" for h in t.headers)
                       + "</tr>")
            out += ["<tr>" + "".join(f"<td>{_multi(c)}</td>" for c in row) + "</tr>"
                    for row in t.rows]
            out.append("</table>")
        out += [f'<p class="note">{escape(n)}</p>' for n in section.notes]
    out += [f"<p><b>{escape(line)}</b></p>" for line in doc.signed]
    out.append('<div class="sign">' + "".join(f"<div>{escape(x)}</div>" for x in doc.signature)
               + "</div>")
    out.append(f'<p class="note">{escape(doc.footer)}</p></body></html>\n')
    return "\n".join(out)


def _multi(text: str) -> str:
    return "<br>".join(escape(line) for line in text.split("\n"))
