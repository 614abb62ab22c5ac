"""The report as Markdown: for a mail body, a wiki, or reading in the terminal."""

from __future__ import annotations

from fieldkit.report.layout import Document


def render(doc: Document) -> str:
    out = [f"# {doc.title}", ""]
    out += [f"**{doc.company[0]}**  ", *(f"{line}  " for line in doc.company[1:])] \
        if doc.company else []
    out += [""] + [f"- **{label}:** {value}" for label, value in doc.facts]
    for section in doc.sections:
        out += ["", f"## {section.title}", ""]
        out += [_escape(line) for line in section.lines]
        if section.table:
            t = section.table
            out.append("| " + " | ".join(t.headers) + " |")
            out.append("|" + "---|" * len(t.headers))
            out += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in t.rows]
        if section.notes:
            out += [""] + [f"*{note}*" for note in section.notes]
    if doc.signed:
        out += [""] + [f"**{line}**  " for line in doc.signed]
    out += ["", *(f"______________________________  \n{label}  \n" for label in doc.signature),
            "", f"<sub>{doc.footer}</sub>", ""]
    return "\n".join(out)


def _escape(line: str) -> str:
    stripped = line.lstrip()
    return ("\\" + line) if stripped[:1] in ("#", "-", "*", "|", ">") else line


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", "<br>")
